"""Several ``rlsp train`` runs side by side, iteration by iteration, from their ``metrics.jsonl``.

For each run (``NAME=DIR``, ``DIR`` holding the run's ``metrics.jsonl``) it tabulates, per
iteration, sampled-batch correctness, the policy's entropy, mean response tokens, the exploration
channel's mean and within-batch spread, the within-group response diversity (mean trigram
distance, logged even at weight 0) and the held-out greedy accuracy where the run evaluated
(``--eval-every``), and plots the same over iterations. It reads what the runs logged; it trains
nothing. Use it to see whether a setting keeps the responses varied (diversity, exploration
spread) as correctness rises, the thing the exploration bar of the main job checks.

``charts/entropy`` is the entropy of the distribution the loss is computed on: with
``tempered_logprobs`` on, the tempered one, so entropies of runs with the option on and off are not
comparable; ``reward/diversity`` is.

Writes ``benchmarks/results/<prefix>.json``, ``.md`` and ``.png``; copies each run's
``metrics.jsonl`` beside them (``<prefix>_<NAME>_metrics.jsonl``) so the numbers stay checkable.

examples:
  python benchmarks/compare_runs.py off=runs/a on=runs/b --results-prefix tempered_vs_not
  python benchmarks/compare_runs.py base=runs/train-cpu-smollm2-rlsp --note "one seed" \\
      --results-prefix quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

COLUMNS = [  # (metrics key, header, digits)
    ("reward/correctness", "correctness", 3),
    ("charts/entropy", "entropy", 3),
    ("charts/response_len", "tokens", 1),
    ("reward/exploration", "exploration", 3),
    ("reward/exploration_std", "exploration std", 4),
    ("reward/diversity", "diversity", 3),
    ("eval/accuracy", "held-out", 3),
]


def read_run(spec: str) -> tuple[str, list[dict[str, Any]], Path]:
    """``NAME=DIR`` -> (name, the metrics rows, the metrics file); ``SystemExit`` on bad input."""
    if "=" not in spec:
        raise SystemExit(f"compare_runs: expected NAME=DIR, got {spec!r}")
    name, d = spec.split("=", 1)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):  # the name becomes part of a file name
        raise SystemExit(f"compare_runs: run name {name!r} must be letters, digits, _ . or -")
    path = Path(d) / "metrics.jsonl"
    if not path.is_file():
        raise SystemExit(f"compare_runs: no metrics.jsonl in {d!r} (for run {name!r})")
    from rlsp_agents.metrics import MetricsFileError, read_metrics

    try:
        rows = read_metrics(path)  # skips a torn last line, refuses a damaged one elsewhere
    except MetricsFileError as e:
        raise SystemExit(f"compare_runs: {e}") from None
    if not rows:
        raise SystemExit(f"compare_runs: {path} is empty")
    return name, rows, path


def _fmt(v: Any, digits: int) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """First/last values, the iterations whose exploration did not vary, the held-out marks."""
    div = [r.get("reward/diversity") for r in rows]
    spread = [r.get("reward/exploration_std") for r in rows]
    return {
        "iterations": len(rows),
        "diversity_first": div[0],
        "diversity_last": div[-1],
        "diversity_min": min((d for d in div if d is not None), default=None),
        "exploration_constant_iterations": [
            r["step"] for r, s in zip(rows, spread) if s is not None and s <= 1e-6
        ],
        "held_out": {r["step"]: r["eval/accuracy"] for r in rows if "eval/accuracy" in r},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("examples:") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("runs", nargs="+", help="NAME=DIR, DIR holding metrics.jsonl")
    ap.add_argument("--results-prefix", default="compare_runs")
    ap.add_argument("--note", default="", help="a line for the report (how the runs were made)")
    args = ap.parse_args(argv)
    runs = [read_run(s) for s in args.runs]
    names = [n for n, _, _ in runs]
    if len(set(names)) != len(names):
        raise SystemExit(f"compare_runs: run names repeat: {names}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/compare_runs.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "note": args.note,
        "runs": {},
    }
    md = [f"# rlsp train runs side by side ({out['date']})", "", f"Command: `{out['command']}`", ""]
    if args.note:
        md += [args.note, ""]
    for name, rows, path in runs:
        copy = RESULTS / f"{args.results_prefix}_{name}_metrics.jsonl"
        shutil.copyfile(path, copy)
        s = summary(rows)
        out["runs"][name] = {"source": str(path), "copy": copy.name, **s}
        md += [f"## {name} (`{copy.name}`)", ""]
        md += ["| iteration | " + " | ".join(h for _, h, _ in COLUMNS) + " |"]
        md += ["|---" * (len(COLUMNS) + 1) + "|"]
        for r in rows:
            cells = [_fmt(r.get(k), d) for k, _, d in COLUMNS]
            md += [f"| {r.get('step', '')} | " + " | ".join(cells) + " |"]
        const = s["exploration_constant_iterations"]
        md += [
            "",
            f"Diversity {_fmt(s['diversity_first'], 3)} -> {_fmt(s['diversity_last'], 3)} "
            f"(min {_fmt(s['diversity_min'], 3)}); exploration constant in "
            f"{len(const)} of {s['iterations']} iterations{': ' + str(const) if const else ''}; "
            "held-out greedy accuracy "
            + (
                ", ".join(f"{k}: {100 * v:.1f}%" for k, v in s["held_out"].items())
                or "not measured"
            ),
            "",
        ]
    (RESULTS / f"{args.results_prefix}.json").write_text(json.dumps(out, indent=2) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [c for c in COLUMNS if c[0] != "reward/exploration"]
    fig, axes = plt.subplots(2, 3, figsize=(14, 7))
    for ax, (key, header, _) in zip(axes.flat, keys):
        for name, rows, _ in runs:
            pts = [(r["step"], r[key]) for r in rows if key in r and "step" in r]
            if pts:
                ax.plot(*zip(*pts), marker="o", ms=3, label=name)
        ax.set_title(header)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
    axes.flat[0].legend()
    fig.tight_layout()
    fig.savefig(RESULTS / f"{args.results_prefix}.png", dpi=110)
    plt.close(fig)
    md += [f"Plot: `{args.results_prefix}.png`", ""]
    (RESULTS / f"{args.results_prefix}.md").write_text("\n".join(md))
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
