"""Measures the main job (``rlsp demo``) against its bars and records the results.

The main job: SFT on worked solutions, then RLSP (PPO with decoupled advantages over correctness,
format and exploration, exploration annealed as correctness rises) on the demo's task
(``rlsp/WordProblem-v0`` difficulty 2 by default: two-step word problems; ``docs/rlsp_results.md``
says why this one), SmolLM2-135M-Instruct, 2-core CPU. Bars:

- training (SFT + PPO wall-clock, set-up and evaluation excluded) within 20 minutes raises
  held-out **literal** accuracy (greedy) by >= 15 points absolute;
- the PPO stage alone adds >= 5 points over the checkpoint it starts from;
- literal accuracy equals the verifier's at every stage (no answer accepted that does not state
  the gold number: ``rlsp_agents.evaluate.literal_form``);
- the exploration channel's within-batch standard deviation is > 0 in every PPO iteration.

Also recorded: the mean time split of a PPO iteration (sample / verify / advantage / train /
sync), vLLM vs transformers sampling throughput on the same prompts in the same run, each channel's
within-batch spread per iteration, and the machine's load average sampled every 30 s (the machines
are shared; a loaded machine inflates every timing).

Writes ``benchmarks/results/train_demo.json``, ``train_demo.md``, ``train_demo_before_after.png``
and ``train_demo_ppo_*.png``.

    python benchmarks/train_demo_bench.py                 # the full main job (~30 min idle)
    python benchmarks/train_demo_bench.py --eval-n 50 --ppo-steps 2 --out runs/bench-quick \\
        --results-prefix train_demo_quick                 # a quick check
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sys
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _sample_load(stop: threading.Event, samples: list[dict[str, float]], t0: float) -> None:
    while not stop.wait(30.0):
        one, five, fifteen = os.getloadavg()
        samples.append({"t_s": round(time.perf_counter() - t0, 1), "load1": one, "load5": five})


def main(argv: list[str] | None = None) -> int:
    import tyro

    from rlsp_agents.demo import DemoConfig, markdown_report, run_demo

    args = list(sys.argv[1:] if argv is None else argv)
    prefix = "train_demo"
    if "--results-prefix" in args:
        i = args.index("--results-prefix")
        prefix = args[i + 1]
        del args[i : i + 2]
    default = DemoConfig(out="runs/bench-demo")
    cfg = tyro.cli(DemoConfig, default=default, args=args, prog="train_demo_bench.py")
    samples: list[dict[str, float]] = []
    stop = threading.Event()
    t0 = time.perf_counter()
    watcher = threading.Thread(target=_sample_load, args=(stop, samples, t0), daemon=True)
    watcher.start()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        report = run_demo(cfg)
    finally:
        stop.set()
    RESULTS.mkdir(parents=True, exist_ok=True)
    report["benchmark"] = {
        "command": "python benchmarks/train_demo_bench.py " + " ".join(args),
        "started_utc": started,
        "finished_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "load_samples": samples,
        "gpu": "not measured: no GPU machine was available to this session",
    }
    (RESULTS / f"{prefix}.json").write_text(json.dumps(report, indent=2, default=str))
    loads = [s["load1"] for s in samples] or [0.0]
    md = [
        f"# Main job benchmark ({report['benchmark']['finished_utc']})",
        "",
        f"Command: `{report['benchmark']['command']}`",
        "",
        markdown_report(report),
        f"Load average (1 min) during the run: min {min(loads):.1f}, mean {sum(loads) / len(loads):.1f}, "
        f"max {max(loads):.1f} on {os.cpu_count()} cores.",
        "",
        "Bars: " + ", ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in report["bars"].items()),
        "",
        "Within-batch spread of the reward channels per PPO iteration "
        f"(`{Path(report['config']['out']) / 'ppo' / 'channel_spread.jsonl'}`):",
        "",
        "| iteration | correctness mean | correctness std | exploration mean | exploration std | format mean |",
        "|---|---|---|---|---|---|",
        *[
            f"| {r['step']} | {r.get('correctness_mean', 0):.3f} | {r.get('correctness_std', 0):.3f} | "
            f"{r.get('exploration_mean', 0):.3f} | {r.get('exploration_std', 0):.3f} | "
            f"{r.get('format_mean', 0):.3f} |"
            for r in report.get("ppo", {}).get("channel_spread", [])
        ],
        "",
        "GPU throughput of a PPO step: not measured (no GPU machine in this session).",
    ]
    (RESULTS / f"{prefix}.md").write_text("\n".join(md) + "\n")
    shutil.copy(report["plot"], RESULTS / f"{prefix}_before_after.png")
    for p in report.get("ppo", {}).get("plots", []):
        shutil.copy(p, RESULTS / f"{prefix}_ppo_{Path(p).name}")
    print((RESULTS / f"{prefix}.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
