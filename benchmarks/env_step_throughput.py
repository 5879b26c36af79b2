"""Batched step throughput of the rlsp environments on real MATH-500 responses, and where the time goes.

Responses: each MATH-500 problem's worked ``solution`` (a correct, realistic response) and a
perturbed wrong copy (its final boxed answer changed), served in alternation. For each vector
size N and each verification set-up, the script runs ``gym.make_vec("rlsp/MATH500-v0",
num_envs=N)`` until ``--steps`` env steps are done, answering every prompt with the response for
the problem it shows, and reports env steps per second. A second pass times the parts of a step
(verification, the other reward channels, info batching and autoreset).

Usage:
    python benchmarks/env_step_throughput.py                       # full run (a few minutes)
    python benchmarks/env_step_throughput.py --steps 200 --sizes 1 8 --quick
    python benchmarks/env_step_throughput.py --help

Writes ``benchmarks/results/env_step_throughput.{json,md,png}``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def _perturb(solution: str, gold: str) -> str:
    """The solution with its last boxed answer replaced by a wrong one."""
    wrong = None
    m = re.search(r"-?\d+", gold)
    if m:
        n = int(m.group(0))
        wrong = gold[: m.start()] + str(n + 1 if n != -1 else 2) + gold[m.end() :]
    if wrong is None or wrong == gold:
        wrong = gold + "+1"
    i = solution.rfind("\\boxed")
    if i < 0:
        return solution + f"\n\\boxed{{{wrong}}}"
    return solution[:i] + f"\\boxed{{{wrong}}}" + "."


def _responses() -> dict[str, list[str]]:
    import rlsp_env

    out = {}
    for p in rlsp_env.make_problems("rlsp/MATH500-v0"):
        out[p.id] = [p.solution or f"\\boxed{{{p.answer}}}", _perturb(p.solution or "", p.answer)]
    return out


def _workers_cpu_s(envs: Any) -> float:
    """CPU seconds used so far by the vector env's verifier worker processes (Linux /proc)."""
    pool = getattr(envs.unwrapped, "_pool", None)
    if pool is None:
        return 0.0
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for w in pool._workers:
        try:
            fields = Path(f"/proc/{w.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def run_config(
    n: int, workers: int | None, steps: int, responses: dict[str, list[str]], mode: str
) -> dict[str, Any]:
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode

    import rlsp_env  # noqa: F401

    kwargs: dict[str, Any] = {"reward_weights": "rlsp-length", "verifier_timeout_s": 5.0}
    if mode == "rlsp":
        envs = gym.make_vec("rlsp/MATH500-v0", num_envs=n, verifier_workers=workers, **kwargs)
    else:  # Gymnasium's own SyncVectorEnv around single envs: verification one by one
        envs = gym.make_vec(
            "rlsp/MATH500-v0",
            num_envs=n,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
            **kwargs,
        )
    obs, info = envs.reset(seed=0)
    ids = list(info["problem_id"])
    done_steps, correct = 0, 0
    # warm-up step (starts the verifier workers; not timed)
    acts = [responses[i][0] for i in ids]
    obs, r, te, tr, info = envs.step(acts)
    ids = list(info["problem_id"])
    t0 = time.perf_counter()
    c0 = time.process_time() + _workers_cpu_s(envs)
    while done_steps < steps:
        # alternate correct solutions and perturbed wrong copies across the batch
        acts = [responses[pid][(done_steps + j) % 2] for j, pid in enumerate(ids)]
        obs, r, te, tr, info = envs.step(acts)
        done_steps += n
        final = info.get("final_info", info)
        correct += int(sum(final["rewards"]["correctness"]))
        ids = list(info["problem_id"])
    dt = time.perf_counter() - t0
    cpu = time.process_time() + _workers_cpu_s(envs) - c0
    envs.close()
    return {
        "cpu_ms_per_step": 1000 * cpu / done_steps,
        "num_envs": n,
        "mode": mode,
        "verifier_workers": workers,
        "env_steps": done_steps,
        "seconds": dt,
        "steps_per_s": done_steps / dt,
        "accuracy": correct / done_steps,
    }


def breakdown(
    n: int, workers: int, steps: int, responses: dict[str, list[str]]
) -> dict[str, float]:
    """Seconds spent per part of the vector step, by wrapping the env's own methods."""
    import gymnasium as gym

    import rlsp_env  # noqa: F401
    from rlsp_env import scoring as S
    from rlsp_env import vector as V

    spent: dict[str, float] = defaultdict(float)

    def timed(obj: Any, name: str, label: str) -> Any:
        orig = getattr(obj, name)

        def wrapper(*a: Any, **k: Any) -> Any:
            t = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                spent[label] += time.perf_counter() - t

        setattr(obj, name, wrapper)
        return orig

    saved = [
        (S, "_verify", timed(S, "_verify", "verification")),
        (V, "score_batch", timed(V, "score_batch", "other channels (score_batch)")),
        (V.MathVectorEnv, "_reset_group", timed(V.MathVectorEnv, "_reset_group", "autoreset")),
        (V.MathVectorEnv, "_add_info", timed(V.MathVectorEnv, "_add_info", "info batching")),
    ]
    try:
        envs = gym.make_vec(
            "rlsp/MATH500-v0", num_envs=n, verifier_workers=workers, reward_weights="rlsp-length"
        )
        _, info = envs.reset(seed=1)
        envs.step([responses[i][0] for i in info["problem_id"]])
        spent.clear()
        _, info = envs.reset(seed=2)
        t0 = time.perf_counter()
        done = 0
        while done < steps:
            acts = [responses[i][(done + j) % 2] for j, i in enumerate(info["problem_id"])]
            _, _, _, _, info = envs.step(acts)
            done += n
        total = time.perf_counter() - t0
        envs.close()
    finally:
        for obj, name, orig in saved:
            setattr(obj, name, orig)
    # _add_info also runs inside reset; verification runs inside score_batch (subtracted below);
    # the wrapped parts do not overlap otherwise
    out = {k: v for k, v in spent.items()}
    out["other channels (score_batch)"] -= out.get("verification", 0.0)
    out["rest (actions, record_step)"] = max(0.0, total - sum(out.values()))
    out["total"] = total
    out["env_steps"] = done
    return out


def component_costs(responses: dict[str, list[str]], limit: int) -> dict[str, float]:
    """Mean microseconds per response of each channel function, in this process."""
    import rlsp_env
    from rlsp_env import rewards as R
    from rlsp_env.text import behaviour_counts, effective_length, reasoning_text
    from rlsp_verifiers import verify

    probs = {p.id: p for p in rlsp_env.make_problems("rlsp/MATH500-v0")}
    items = [
        (responses[pid][k], probs[pid].answer) for pid in list(responses)[:limit] for k in (0, 1)
    ]
    out = {}
    for label, fn in [
        ("verify (in-process)", lambda r, g: verify(r, g, timeout_s=5.0)),
        ("exploration: effective_length", lambda r, g: effective_length(reasoning_text(r))),
        ("behaviour counts", lambda r, g: behaviour_counts(r)),
        ("format", lambda r, g: R.format_reward(r)),
    ]:
        t = time.perf_counter()
        for r, g in items:
            fn(r, g)
        out[label] = (time.perf_counter() - t) / len(items) * 1e6
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: python benchmarks/env_step_throughput.py --steps 400 --sizes 1 4 16 64",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--steps", type=int, default=1000, help="env steps per configuration")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16, 64], help="num_envs values")
    ap.add_argument(
        "--workers", type=int, nargs="+", default=[0, 2], help="verifier_workers values"
    )
    ap.add_argument("--repeats", type=int, default=3, help="runs per configuration (median kept)")
    ap.add_argument("--quick", action="store_true", help="skip the SyncVectorEnv comparison")
    ap.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    args = ap.parse_args(argv)
    if not os.environ.get("RLSP_DATA_DIR"):
        print("set RLSP_DATA_DIR to the shared data folder (MATH-500 is needed)", file=sys.stderr)
        return 2
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover

        def tqdm(x, **k):  # type: ignore[no-redef]
            return x

    responses = _responses()
    configs = [(n, w, "rlsp") for n in args.sizes for w in args.workers if not (n == 1 and w > 0)]
    if not args.quick:
        configs += [(n, None, "sync") for n in args.sizes if n > 1][:2]
    rows = []
    for n, w, mode in tqdm(configs, desc="configurations"):
        runs = [run_config(n, w, args.steps, responses, mode) for _ in range(args.repeats)]
        rates = sorted(r["steps_per_s"] for r in runs)
        row = dict(runs[0])
        row["steps_per_s"] = rates[len(rates) // 2]  # median: the machine is shared
        row["steps_per_s_runs"] = rates
        cpus = sorted(r["cpu_ms_per_step"] for r in runs)
        row["cpu_ms_per_step"] = cpus[len(cpus) // 2]
        rows.append(row)
        print(json.dumps(rows[-1]), flush=True)
    big = max(args.sizes)
    parts = breakdown(big, max(args.workers), args.steps, responses)
    parts_inproc = breakdown(big, 0, args.steps, responses)
    comps = component_costs(responses, 100)
    result = {
        "command": "python benchmarks/env_step_throughput.py " + " ".join(argv or sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_1m_at_end": os.getloadavg()[0],
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "throughput": rows,
        "breakdown_seconds": {
            f"num_envs={big}, workers={max(args.workers)}": parts,
            f"num_envs={big}, workers=0": parts_inproc,
        },
        "component_us_per_response": comps,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "env_step_throughput.json").write_text(json.dumps(result, indent=2) + "\n")
    md = [
        "# rlsp_env batched step throughput (MATH-500 worked solutions + perturbed wrong copies)",
        "",
        f"Command: `{result['command']}`. Machine: {os.cpu_count()} CPUs shared with other jobs "
        f"(1-minute load average at the end: {result['machine']['loadavg_1m_at_end']:.1f}), so "
        "wall-clock rates are noisy; the CPU time per step (this process plus the verifier "
        "workers) is the load-independent cost.",
        "",
        f"| vectorization | num_envs | verifier workers | env steps/s (median of {args.repeats}) "
        "| all runs | CPU ms per env step (all processes) | accuracy of responses |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        vec = "MathVectorEnv (batched)" if r["mode"] == "rlsp" else "Gymnasium SyncVectorEnv"
        w = "-" if r["verifier_workers"] is None else r["verifier_workers"]
        runs_txt = ", ".join(f"{x:.0f}" for x in r["steps_per_s_runs"])
        md.append(
            f"| {vec} | {r['num_envs']} | {w} | {r['steps_per_s']:.0f} | {runs_txt} "
            f"| {r['cpu_ms_per_step']:.2f} | {r['accuracy']:.2f} |"
        )
    md += ["", "## Where the time goes (seconds over the run)", ""]
    for label, p in result["breakdown_seconds"].items():
        md.append(f"**{label}** ({p['env_steps']} env steps, {p['total']:.2f} s):")
        md.append("")
        for k, v in p.items():
            if k not in ("total", "env_steps"):
                md.append(f"- {k}: {v:.3f} s ({100 * v / p['total']:.0f}%)")
        md.append("")
    md += ["## Per-response cost of each part, in this process (microseconds)", ""]
    md += [f"- {k}: {v:.0f} us" for k, v in comps.items()]
    (args.out / "env_step_throughput.md").write_text("\n".join(md) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for (mode, w), style in [
        (("rlsp", 0), "o-"),
        (("rlsp", max(args.workers)), "s-"),
        (("sync", None), "^--"),
    ]:
        pts = [
            (r["num_envs"], r["steps_per_s"])
            for r in rows
            if r["mode"] == mode and r["verifier_workers"] == w
        ]
        if mode == "rlsp" and w and w > 0:
            pts = [
                (1, r["steps_per_s"]) for r in rows if r["num_envs"] == 1 and r["mode"] == "rlsp"
            ] + pts
        if pts:
            label = f"MathVectorEnv, {w} verifier workers" if mode == "rlsp" else "SyncVectorEnv"
            ax1.plot(*zip(*sorted(pts)), style, label=label)
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("num_envs")
    ax1.set_ylabel("env steps / s")
    ax1.set_title("MATH-500 step throughput")
    ax1.legend()
    labels = list(result["breakdown_seconds"])
    keys = [k for k in parts if k not in ("total", "env_steps")]
    bottom = [0.0] * len(labels)
    for k in keys:
        vals = [result["breakdown_seconds"][lab].get(k, 0.0) for lab in labels]
        ax2.bar(labels, vals, bottom=bottom, label=k)
        bottom = [b + v for b, v in zip(bottom, vals)]
    ax2.set_ylabel("seconds")
    ax2.set_title(f"where the time goes ({args.steps} env steps)")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out / "env_step_throughput.png", dpi=110)
    print((args.out / "env_step_throughput.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
