"""Where a PPO iteration's time goes, with and without shared prompts, on the main job's settings.

Runs ``rlsp train`` (the ``cpu-smollm2-rlsp`` preset: decoupled advantages, 8 prompts x 8
samples, 96 new tokens, vLLM sampler) twice from the same model with the same seed: once with
``share_prompts=False`` (every (prompt, response) row padded and run through the decoder) and
once with ``share_prompts=True`` (each prompt run once, its 8 responses on its key/value cache;
:func:`rlsp_agents.batching.forward`). The first iteration of both runs samples the same
rollouts from the same weights, so its losses must agree (the check that sharing changes the
cost, not the update); later iterations diverge by floating-point noise.

Reports per run the mean seconds per phase (sample, verify, advantage = the no-grad pass for old
values, train = forward + backward + optimizer step, sync), the decoder positions computed per
update, and the first iteration's policy and value losses.

Writes ``benchmarks/results/<prefix>.json``, ``<prefix>.md`` and ``<prefix>.png`` (prefix
``train_step_speed``).

examples:
  python benchmarks/train_step_speed.py                                   # 5 iterations each (~10 min)
  python benchmarks/train_step_speed.py --model runs/ablation/shared-sft/final --steps 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
PHASES = ("sample", "verify", "advantage", "train", "sync")


def _say(msg: str) -> None:
    print(f"[train-speed] {msg}", file=sys.stderr, flush=True)


def run_one(args: argparse.Namespace, share: bool, out: Path) -> dict[str, Any]:
    import dataclasses

    from rlsp_agents.presets import get_preset
    from rlsp_agents.train import train

    cfg = dataclasses.replace(
        get_preset("cpu-smollm2-rlsp"),
        model=args.model,
        total_steps=args.steps,
        share_prompts=share,
        seed=args.seed,
        out=str(out),
        checkpoint_every=0,
        save_final=False,
        plots=False,
        log_samples=0,
        threads=args.threads,
    )
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    train(cfg, on_step=lambda info: rows.append(dict(info["metrics"])))
    wall = time.perf_counter() - t0
    return {
        "share_prompts": share,
        "wall_s": wall,
        "iterations": len(rows),
        "mean_s": {p: sum(r[f"time/{p}"] for r in rows) / len(rows) for p in PHASES},
        "mean_step_s": sum(r["time/step"] for r in rows) / len(rows),
        "mean_decoder_positions": sum(r["charts/decoder_positions"] for r in rows) / len(rows),
        "mean_tokens_per_s": sum(r["charts/tokens_per_s"] for r in rows) / len(rows),
        "first": {
            k: rows[0][k]
            for k in ("losses/policy", "losses/value", "charts/response_len", "charts/accuracy")
            if k in rows[0]
        },
    }


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.2))
    labels = [f"share_prompts={r['share_prompts']}" for r in runs]
    left = [0.0] * len(runs)
    for p in PHASES:
        vals = [r["mean_s"][p] for r in runs]
        ax.barh(labels, vals, left=left, label=p)
        left = [a + b for a, b in zip(left, vals)]
    ax.set_xlabel("mean seconds per PPO iteration")
    ax.set_title("cpu-smollm2-rlsp, 64 responses per iteration, 2-core CPU")
    ax.legend(ncol=5, fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("examples:") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--model", default="smollm2-135m", help="start model (name or directory)")
    ap.add_argument("--steps", type=int, default=5, help="PPO iterations per run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--results-prefix", default="train_step_speed")
    args = ap.parse_args(argv)
    if args.steps < 1:
        ap.error("--steps must be >= 1")

    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    load_start = [round(x, 2) for x in os.getloadavg()]
    runs = []
    with tempfile.TemporaryDirectory(prefix="rlsp-train-speed-") as tmp:
        for share in (False, True):
            _say(f"share_prompts={share}: {args.steps} iterations")
            runs.append(run_one(args, share, Path(tmp) / f"share-{share}"))
    off, on = runs
    speedup = {
        "train": off["mean_s"]["train"] / max(on["mean_s"]["train"], 1e-9),
        "advantage": off["mean_s"]["advantage"] / max(on["mean_s"]["advantage"], 1e-9),
        "step": off["mean_step_s"] / max(on["mean_step_s"], 1e-9),
    }
    result = {
        "command": "python benchmarks/train_step_speed.py " + " ".join(argv or sys.argv[1:]),
        "started_utc": started,
        "args": vars(args),
        "load_start": load_start,
        "load_end": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
        "speedup": speedup,
    }
    RESULTS.mkdir(exist_ok=True)
    prefix = args.results_prefix
    (RESULTS / f"{prefix}.json").write_text(json.dumps(result, indent=2))
    plot(runs, RESULTS / f"{prefix}.png")
    lines = [
        f"# PPO iteration time, with and without shared prompts ({started})",
        "",
        f"Command: `{result['command'].strip()}`",
        "",
        "| share_prompts | " + " | ".join(PHASES) + " | step | decoder positions / update "
        "| first-iteration policy loss | first-iteration value loss |",
        "|---" * (len(PHASES) + 5) + "|",
    ]
    for r in runs:
        first = r["first"]
        lines.append(
            f"| {r['share_prompts']} | "
            + " | ".join(f"{r['mean_s'][p]:.1f}" for p in PHASES)
            + f" | {r['mean_step_s']:.1f} | {r['mean_decoder_positions']:.0f}"
            + f" | {first.get('losses/policy', float('nan')):.5f}"
            + f" | {first.get('losses/value', float('nan')):.5f} |"
        )
    lines += [
        "",
        f"Speed-up with shared prompts: train x{speedup['train']:.2f}, advantage (old-value pass)"
        f" x{speedup['advantage']:.2f}, whole iteration x{speedup['step']:.2f}.",
        "",
        f"Mean of {args.steps} iterations each; machine load average at start {load_start}, "
        f"end {result['load_end']} (2 cores; a loaded machine inflates every timing).",
        "",
        f"![phases]({prefix}.png)",
    ]
    (RESULTS / f"{prefix}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
