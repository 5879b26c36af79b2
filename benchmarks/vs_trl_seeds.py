"""Several ``vs_trl_grpo.py`` runs (one per seed) read together: the TRL bar across seeds.

One run of ``benchmarks/vs_trl_grpo.py`` is one seed per side, and on 200 held-out problems a
single mark's standard error is ~3.5 points: one run cannot tell a real time-to-accuracy gap from
noise. This script trains nothing; it reads the JSON reports of several such runs (made with
different ``--seed``, the same start checkpoint, task and budget) and reports, per seed and over
all of them:

- TRL's final held-out accuracy and the training wall-clock each side needs to reach it (the
  issue's bar: rlsp in <= 1/3 of TRL's time), with the ratio;
- each side's accuracy at equal training time (the last mark of each side at or before the
  shorter side's final mark), the gap and its mean over seeds;
- each side's mean seconds per step.

It refuses reports that do not hold both sides or that differ in start checkpoint, task, budget or
evaluation size (they would not be seeds of one comparison), naming the field.

Writes ``benchmarks/results/<prefix>.json``, ``.md`` and ``.png`` (every seed's two curves).

examples:
  python benchmarks/vs_trl_seeds.py benchmarks/results/vs_trl_s1.json \\
      benchmarks/results/vs_trl_s2.json --results-prefix vs_trl_seeds
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
from pathlib import Path
from typing import Any

if str(Path(__file__).resolve().parent) not in sys.path:  # run as a script or loaded by path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from vs_trl_grpo import time_to  # noqa: E402  (the one definition of the bar's reading)

RESULTS = Path(__file__).resolve().parent / "results"
SAME = ("sft_checkpoint", "env_id", "difficulty", "max_new_tokens", "budget_s", "eval_n")
SIDES = ("rlsp", "trl")


def _fail(msg: str) -> SystemExit:
    return SystemExit(f"vs_trl_seeds: {msg}")


def read_report(path: str) -> dict[str, Any]:
    """One ``vs_trl_grpo.py`` JSON report; ``SystemExit`` with a message on bad input."""
    p = Path(path)
    if not p.is_file():
        raise _fail(f"{path!r} is not a file")
    try:
        rep = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise _fail(f"{path} is not JSON ({e})") from None
    if not isinstance(rep, dict) or not isinstance(rep.get("args"), dict):
        raise _fail(f"{path} is not a vs_trl_grpo.py report (no 'args')")
    for side in SIDES:
        marks = rep[side].get("marks") if isinstance(rep.get(side), dict) else None
        if not marks:
            raise _fail(f"{path} has no {side} marks (was it run with --only?)")
        for m in marks:
            if not isinstance(m, dict) or not {"train_s", "accuracy"} <= m.keys():
                raise _fail(f"{path}: a {side} mark lacks train_s/accuracy: {m!r}")
    rep["_path"] = str(p)
    return rep


def accuracy_at(marks: list[dict[str, Any]], t: float) -> float:
    """Accuracy of the last mark at or before training time ``t`` (the first mark if none)."""
    best = marks[0]
    for m in marks:
        if m["train_s"] <= t + 1e-9:
            best = m
    return float(best["accuracy"])


def per_seed(rep: dict[str, Any]) -> dict[str, Any]:
    """The bar's numbers for one report."""
    r, t = rep["rlsp"]["marks"], rep["trl"]["marks"]
    target = float(t[-1]["accuracy"])
    t_trl, t_rlsp = time_to(t, target), time_to(r, target)
    ratio = t_rlsp / t_trl if (t_rlsp is not None and t_trl) else None
    equal_t = min(float(r[-1]["train_s"]), float(t[-1]["train_s"]))
    acc = {"rlsp": accuracy_at(r, equal_t), "trl": accuracy_at(t, equal_t)}
    return {
        "seed": rep["args"].get("seed"),
        "report": rep["_path"],
        "trl_final": target,
        "rlsp_final": float(r[-1]["accuracy"]),
        "start": float(t[0]["accuracy"]),
        "trl_s": t_trl,
        "rlsp_s": t_rlsp,
        "ratio": ratio,
        "passes": ratio is not None and ratio <= 1 / 3,
        "equal_time_s": equal_t,
        "rlsp_at_equal_time": acc["rlsp"],
        "trl_at_equal_time": acc["trl"],
        "gap_at_equal_time": acc["rlsp"] - acc["trl"],
        "s_per_step": {
            s: rep[s]["train_seconds"] / max(1, rep[s]["steps"]) for s in SIDES if "steps" in rep[s]
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("examples:") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("reports", nargs="+", help="vs_trl_grpo.py JSON reports, one per seed")
    ap.add_argument("--results-prefix", default="vs_trl_seeds")
    args = ap.parse_args(argv)
    reps = [read_report(p) for p in args.reports]
    first = reps[0]["args"]
    for rep in reps[1:]:
        for key in SAME:
            if rep["args"].get(key) != first.get(key):
                raise _fail(
                    f"{rep['_path']} differs from {reps[0]['_path']} in {key} "
                    f"({rep['args'].get(key)!r} vs {first.get(key)!r}): not seeds of one comparison"
                )
    seeds = [rep["args"].get("seed") for rep in reps]
    if len(set(seeds)) != len(seeds):
        raise _fail(f"seeds repeat: {seeds}")

    rows = [per_seed(rep) for rep in reps]
    ratios = [x["ratio"] for x in rows]
    gaps = [x["gap_at_equal_time"] for x in rows]
    # a seed where rlsp never reaches TRL's final counts as worse than any finite ratio
    median_ratio = statistics.median([float("inf") if q is None else q for q in ratios])
    out = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/vs_trl_seeds.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "settings": {k: first.get(k) for k in SAME},
        "seeds": rows,
        "seeds_passing": sum(x["passes"] for x in rows),
        "median_ratio": None if median_ratio == float("inf") else median_ratio,
        "mean_gap_at_equal_time": statistics.fmean(gaps),
        "bar_passes_in_every_seed": all(x["passes"] for x in rows),
    }

    def pct(v: float | None) -> str:
        return "" if v is None else f"{100 * v:.1f}%"

    def ratio_s(v: float | None) -> str:
        return "" if v is None else f"{v:.2f}"

    def secs(v: float | None) -> str:
        return "never" if v is None else f"{v:.0f}"

    s = out["settings"]
    md = [
        f"# rlsp vs TRL GRPOTrainer over {len(rows)} seeds ({out['date']})",
        "",
        f"Command: `{out['command']}`",
        "",
        f"Each seed is one `benchmarks/vs_trl_grpo.py` run: task `{s['env_id']}` difficulty "
        f"{s['difficulty']}, {s['max_new_tokens']} new tokens, {s['eval_n']} held-out problems "
        f"(greedy, literal), from `{s['sft_checkpoint']}`, {s['budget_s']:.0f} s of training "
        "per side.",
        "",
        "| seed | start | TRL final | rlsp final | TRL s to TRL final | rlsp s to it | ratio "
        "| bar (<= 1/3) | equal time s | rlsp there | TRL there | gap | s/step rlsp | s/step TRL |",
        "|---" * 14 + "|",
    ]
    for x in rows:
        sp = x["s_per_step"]
        md.append(
            f"| {x['seed']} | {pct(x['start'])} | {pct(x['trl_final'])} | {pct(x['rlsp_final'])} "
            f"| {secs(x['trl_s'])} | {secs(x['rlsp_s'])} "
            f"| {ratio_s(x['ratio'])} "
            f"| {'PASS' if x['passes'] else 'FAIL'} | {x['equal_time_s']:.0f} "
            f"| {pct(x['rlsp_at_equal_time'])} | {pct(x['trl_at_equal_time'])} "
            f"| {100 * x['gap_at_equal_time']:+.1f} | {sp.get('rlsp', 0):.0f} "
            f"| {sp.get('trl', 0):.0f} |"
        )
    mr = out["median_ratio"]
    md += [
        "",
        f"Bar passes in {out['seeds_passing']} of {len(rows)} seeds; median ratio "
        f"{'never (rlsp did not reach TRL final in most seeds)' if mr is None else ratio_s(mr)}; "
        f"mean accuracy gap at equal training time (rlsp - TRL) "
        f"{100 * out['mean_gap_at_equal_time']:+.1f} points.",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.results_prefix}.json").write_text(json.dumps(out, indent=2) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = {"rlsp": "tab:blue", "trl": "tab:orange"}
    styles = ("-", "--", ":", "-.")
    for j, (rep, x) in enumerate(zip(reps, rows)):
        for side in SIDES:
            ms = rep[side]["marks"]
            ax.plot(
                [m["train_s"] for m in ms],
                [100 * m["accuracy"] for m in ms],
                marker="o",
                ms=3,
                color=colours[side],
                linestyle=styles[j % len(styles)],
                alpha=0.8,
                label=f"{side} seed {x['seed']}",
            )
    ax.set_xlabel("training wall-clock (s), evaluation excluded")
    ax.set_ylabel("held-out literal accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(RESULTS / f"{args.results_prefix}.png", dpi=110)
    plt.close(fig)
    md += [f"Plot: `{args.results_prefix}.png`", ""]
    (RESULTS / f"{args.results_prefix}.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
