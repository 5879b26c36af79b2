"""How much of a checkpoint's held-out accuracy is the response budget: the same checkpoints,
greedy, on the same held-out problems, at several ``max_new_tokens``.

The main job samples 96 new tokens, but the worked solutions its SFT stage teaches are a median
100 tokens long (``docs/rlsp_results.md``): an SFT model that writes the taught format is cut off
before its box. This benchmark measures that directly: per checkpoint and budget, held-out literal
accuracy (:func:`rlsp_agents.evaluate.literal_form`), the verifier's accuracy, the share of
responses cut off by the budget, and the mean response length.

Writes ``benchmarks/results/<prefix>.json``, ``<prefix>.md`` and ``<prefix>.png`` (prefix
``budget_probe``).

examples:
  python benchmarks/budget_probe.py --model sft=runs/demo/sft/final --model ppo=runs/demo/ppo/final
  python benchmarks/budget_probe.py --model sft=runs/demo/sft/final --budgets 64,96,128,192 \\
      --eval-n 50 --results-prefix budget_probe_quick
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _say(msg: str) -> None:
    print(f"[budget-probe] {msg}", file=sys.stderr, flush=True)


def probe(label: str, model: str, budgets: list[int], args: argparse.Namespace) -> list[dict]:
    from rlsp_agents.evaluate import evaluate, literal_accuracy
    from rlsp_agents.sampler import make_sampler

    rows = []
    with make_sampler("vllm", model, seed=args.seed, max_model_len=max(budgets) + 1024) as s:
        for b in budgets:
            res = evaluate(
                args.env_id,
                model,
                limit=args.eval_n,
                sampler=s,
                temperature=0.0,
                max_new_tokens=b,
                env_kwargs={"split": "test", "difficulty": args.difficulty},
                seed=args.seed,
                progress=True,
            )
            row = {
                "label": label,
                "model": model,
                "max_new_tokens": b,
                "literal_accuracy": literal_accuracy(res.records),
                "verifier_accuracy": float(res.accuracy),
                "truncated_rate": float(res.truncated_rate),
                "mean_response_tokens": float(res.mean_response_tokens),
                "problems": int(res.num_problems),
            }
            rows.append(row)
            _say(
                f"{label} at {b} tokens: literal {100 * row['literal_accuracy']:.1f}%, "
                f"cut off {100 * row['truncated_rate']:.0f}%, {row['mean_response_tokens']:.0f} tokens"
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="budget_probe.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("examples:") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="LABEL=DIR",
        help="a checkpoint to probe, with its label (repeatable)",
    )
    ap.add_argument("--budgets", default="96,128,192", help="comma-separated max_new_tokens")
    ap.add_argument("--env-id", default="rlsp/Arithmetic-v0")
    ap.add_argument("--difficulty", type=int, default=1)
    ap.add_argument("--eval-n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/budget-probe", help="where the engine log goes")
    ap.add_argument("--results-prefix", default="budget_probe")
    args = ap.parse_args(argv)
    models = []
    for spec in args.model:
        label, sep, path = spec.partition("=")
        if not sep or not label or not path:
            ap.error(f"--model wants LABEL=DIR, got {spec!r}")
        if not Path(path).is_dir():
            ap.error(f"--model {label}: no checkpoint directory at {path}")
        models.append((label, path))
    try:
        budgets = sorted({int(x) for x in args.budgets.split(",") if x.strip()})
    except ValueError:
        ap.error(f"--budgets wants comma-separated integers, got {args.budgets!r}")
    if not budgets or min(budgets) < 1 or args.eval_n < 1:
        ap.error("--budgets must be positive integers and --eval-n >= 1")

    from rlsp_agents.sampler import engine_logs_to  # vLLM's INFO lines go to a file, not here

    RESULTS.mkdir(parents=True, exist_ok=True)
    log = Path(args.out) / "engine.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    _say(f"engine logs -> {log}")
    rows: list[dict[str, Any]] = []
    with engine_logs_to(log):
        for label, path in models:
            rows += probe(label, path, budgets, args)
    report = {
        "command": "python benchmarks/budget_probe.py "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_end": list(os.getloadavg()),
        "args": vars(args),
        "rows": rows,
    }
    prefix = RESULTS / args.results_prefix
    prefix.with_suffix(".json").write_text(json.dumps(report, indent=2))
    md = [
        f"# Held-out accuracy against the response budget ({report['finished_utc']})",
        "",
        f"Command: `{report['command']}`",
        "",
        f"`{args.env_id}` difficulty {args.difficulty}, {args.eval_n} held-out problems, greedy.",
        "",
        "| checkpoint | max new tokens | literal accuracy | verifier accuracy | cut off by the budget | mean response tokens |",
        "|---|---|---|---|---|---|",
        *[
            f"| {r['label']} | {r['max_new_tokens']} | {100 * r['literal_accuracy']:.1f}% | "
            f"{100 * r['verifier_accuracy']:.1f}% | {100 * r['truncated_rate']:.0f}% | "
            f"{r['mean_response_tokens']:.1f} |"
            for r in rows
        ],
    ]
    prefix.with_suffix(".md").write_text("\n".join(md) + "\n")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for label, _ in models:
        pts = [r for r in rows if r["label"] == label]
        ax.plot(
            [r["max_new_tokens"] for r in pts],
            [100 * r["literal_accuracy"] for r in pts],
            marker="o",
            label=label,
        )
    ax.set_xlabel("max new tokens")
    ax.set_ylabel("held-out literal accuracy (%)")
    ax.set_title(f"{args.env_id} d{args.difficulty}: accuracy against the response budget")
    ax.legend()
    fig.tight_layout()
    fig.savefig(prefix.with_suffix(".png"), dpi=120)
    plt.close(fig)
    print(prefix.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
