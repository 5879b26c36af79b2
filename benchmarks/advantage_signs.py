"""Do the critic modes' token advantages point the way the rewards do?

``rlsp train``'s critic modes (``decoupled``, ``rlsp``) compute per-token advantages with GAE from
value heads, then scale each channel over the batch's tokens. This benchmark runs the trainer's own
:func:`rlsp_agents.train.compute_advantages` on batches shaped like the main job's (64 responses,
8 per problem, 96-token budget, a given share correct) under four settings, with the value heads
where a CPU run leaves them (they get one update per iteration: at their start):

- ``whiten, heads 0, lam 0.95``: the trainer before this change (PPO's usual whitening);
- ``whiten, heads 0, lam 1``;
- ``rms, heads at batch mean, lam 0.95``;
- ``rms, heads at batch mean, lam 1``: the ``cpu-smollm2-rlsp`` preset now.

Per setting and batch accuracy it reports the share of a correct response's tokens whose
correctness advantage is negative (pushed down although the response was right), the share of a
wrong response's tokens pushed up, and the mean advantage of the first 20 tokens of correct
responses; the plot shows the mean advantage by position. The batches are synthetic: correctness
is drawn with the given probability, correct responses are 75-95 tokens long and 70% of wrong ones
run to the 96-token budget (the main job's run 6 had 59.5% of its greedy responses cut off); they
are not recorded batches. Runs in seconds, no model.

Writes ``benchmarks/results/<prefix>.json``, ``.md`` and ``.png`` (prefix ``advantage_signs``).

examples:
  python benchmarks/advantage_signs.py
  python benchmarks/advantage_signs.py --accuracies 0.2,0.5,0.8 --seeds 20 --results-prefix quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

SETTINGS = {
    "whiten, heads 0, lam 0.95 (before)": {"adv_norm": "whiten", "init": "zero", "lam": 0.95},
    "whiten, heads 0, lam 1": {"adv_norm": "whiten", "init": "zero", "lam": 1.0},
    "rms, heads at batch mean, lam 0.95": {"adv_norm": "rms", "init": "batch-mean", "lam": 0.95},
    "rms, heads at batch mean, lam 1 (preset now)": {
        "adv_norm": "rms",
        "init": "batch-mean",
        "lam": 1.0,
    },
}


def _batch(p: float, seed: int, n: int, k: int, budget: int) -> list[Any]:
    import numpy as np

    from rlsp_agents.rollouts import Rollout

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        ok = bool(rng.random() < p)
        if ok:
            length = int(rng.integers(75, 96))
        else:
            length = budget if rng.random() < 0.7 else int(rng.integers(70, 90))
        rows.append(
            Rollout(
                i // k, [1], [2] * length, "", "stop", length, {"correctness": float(ok)}, 0.0, ok
            )
        )
    return rows


def measure(p: float, setting: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from rlsp_agents.config import TrainConfig
    from rlsp_agents.critic import ValueHeads
    from rlsp_agents.train import OldPolicy, channel_scores, compute_advantages, init_value_baseline

    ch = ["correctness"]
    neg_correct, pos_wrong, open_correct, tok_correct, tok_wrong = 0.0, 0.0, [], 0.0, 0.0
    by_pos = torch.zeros(args.budget)
    by_pos_n = torch.zeros(args.budget)
    for seed in range(args.seeds):
        rows = _batch(p, seed, args.rollout, args.group, args.budget)
        if not any(r.correct for r in rows) or all(r.correct for r in rows):
            continue
        cfg = TrainConfig(
            advantage="decoupled",
            samples_per_prompt=args.group,
            lam=setting["lam"],
            adv_norm=setting["adv_norm"],
        )
        value = torch.zeros(1)
        if setting["init"] == "batch-mean":
            heads = ValueHeads(8, ch, width=4)
            value = init_value_baseline(heads, channel_scores(cfg, rows, ch))
        old = OldPolicy(
            logprobs=[torch.zeros(len(r.response_ids)) for r in rows],
            values=[value.expand(len(r.response_ids), 1).clone() for r in rows],
            ref_logprobs=[None] * len(rows),
        )
        adv, _, _ = compute_advantages(cfg, rows, old, ch, {"correctness": 1.0})
        for i, r in enumerate(rows):
            a = adv[i, : len(r.response_ids)]
            if r.correct:
                neg_correct += float((a < 0).sum())
                tok_correct += a.numel()
                open_correct.append(float(a[:20].mean()))
                by_pos[: a.numel()] += a
                by_pos_n[: a.numel()] += 1
            else:
                pos_wrong += float((a > 0).sum())
                tok_wrong += a.numel()
    curve = (by_pos / by_pos_n.clamp(min=1)).tolist()
    return {
        "accuracy": p,
        "correct_tokens_pushed_down": neg_correct / max(tok_correct, 1.0),
        "wrong_tokens_pushed_up": pos_wrong / max(tok_wrong, 1.0),
        "correct_opening_mean_advantage": sum(open_correct) / max(len(open_correct), 1),
        "correct_mean_advantage_by_position": curve,
    }


def _plot(results: dict[str, list[dict]], args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.2))
    mid = min(args.accuracies, key=lambda x: abs(x - 0.5))
    for name, rows in results.items():
        a1.plot(
            [r["accuracy"] for r in rows],
            [100 * r["correct_tokens_pushed_down"] for r in rows],
            marker="o",
            label=name,
        )
        row = next(r for r in rows if r["accuracy"] == mid)
        a2.plot(row["correct_mean_advantage_by_position"], label=name)
    a1.set_xlabel("share of the batch correct")
    a1.set_ylabel("% of correct-response tokens < 0")
    a1.set_title("correct responses pushed down")
    a1.grid(alpha=0.3)
    a2.axhline(0, color="black", lw=0.8)
    a2.set_xlabel("response token position")
    a2.set_ylabel("mean correctness advantage (correct responses)")
    a2.set_title(f"by position, batch {mid:.0%} correct")
    a2.grid(alpha=0.3)
    a2.legend(fontsize=7)
    fig.suptitle(
        "critic-mode advantages with value heads at their start (synthetic 64-response batches)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("examples:") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--accuracies", default="0.1,0.2,0.35,0.5,0.65,0.8,0.9")
    ap.add_argument("--seeds", type=int, default=50, help="batches per point (default 50)")
    ap.add_argument("--rollout", type=int, default=64, help="responses per batch (default 64)")
    ap.add_argument("--group", type=int, default=8, help="responses per problem (default 8)")
    ap.add_argument("--budget", type=int, default=96, help="max_new_tokens (default 96)")
    ap.add_argument("--results-prefix", default="advantage_signs")
    args = ap.parse_args(argv)
    try:
        args.accuracies = [float(x) for x in args.accuracies.split(",")]
    except ValueError:
        ap.error(f"--accuracies must be comma-separated numbers, got {args.accuracies!r}")
    if not all(0 < p < 1 for p in args.accuracies) or args.seeds < 1 or args.budget < 76:
        ap.error("accuracies must be in (0, 1), --seeds >= 1, --budget >= 76")
    if args.rollout < 2 or args.group < 1 or args.rollout % args.group:
        ap.error("--rollout must be a multiple of --group, and >= 2")

    from tqdm.auto import tqdm

    results: dict[str, list[dict]] = {}
    with tqdm(total=len(SETTINGS) * len(args.accuracies), desc="settings x accuracies") as bar:
        for name, setting in SETTINGS.items():
            results[name] = []
            for p in args.accuracies:
                results[name].append(measure(p, setting, args))
                bar.update()

    RESULTS.mkdir(parents=True, exist_ok=True)
    prefix = RESULTS / args.results_prefix
    png = prefix.with_suffix(".png")
    _plot(results, args, png)
    cmd = "python benchmarks/advantage_signs.py" + "".join(f" {a}" for a in (argv or sys.argv[1:]))
    record = {
        "command": cmd,
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version()},
        "args": vars(args),
        "settings": SETTINGS,
        "results": results,
        "plot": png.name,
    }
    prefix.with_suffix(".json").write_text(json.dumps(record, indent=1))
    lines = [
        "# Critic-mode advantages with value heads at their start",
        "",
        f"`{cmd}` ({record['finished_utc']}); synthetic batches of {args.rollout} responses, "
        f"{args.group} per problem, {args.budget}-token budget, {args.seeds} batches per point "
        "(see the script's docstring). Plot: `" + png.name + "`.",
        "",
        "Share of a **correct** response's tokens with a negative correctness advantage "
        "(mean advantage of its first 20 tokens in brackets):",
        "",
        "| setting | " + " | ".join(f"{p:.0%} correct" for p in args.accuracies) + " |",
        "|---|" + "---|" * len(args.accuracies),
    ]
    for name, rows in results.items():
        cells = [
            f"{100 * r['correct_tokens_pushed_down']:.0f}% ({r['correct_opening_mean_advantage']:+.2f})"
            for r in rows
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Share of a **wrong** response's tokens with a positive correctness advantage:",
        "",
        "| setting | " + " | ".join(f"{p:.0%}" for p in args.accuracies) + " |",
        "|---|" + "---|" * len(args.accuracies),
    ]
    for name, rows in results.items():
        cells = [f"{100 * r['wrong_tokens_pushed_up']:.0f}%" for r in rows]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    prefix.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwrote {prefix}.json, .md, .png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
