"""Load test of ``rlsp serve`` on loopback: N concurrent clients for a fixed time.

Starts the real server in a subprocess, then for each client count runs that many concurrent
OpenRLHF-style clients (``POST /get_reward``, prompt + response as the query, one rollout per
request as OpenRLHF sends them, or ``--batch`` rollouts) for ``--seconds``. Every answer is
compared with a direct ``rlsp_env.rewards.score`` call on the same response: a request that fails,
times out or returns anything different counts as lost or wrong. Reports requests/s, items/s,
p50/p99 latency; writes JSON, Markdown and a PNG under ``benchmarks/results/``.

    python benchmarks/server_load.py                       # the committed results
    python benchmarks/server_load.py --clients 1 8 32 --seconds 20 --workers 2

The clients run on the same machine as the server (and share its cores): the numbers are a lower
bound for a server with cores of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cases(env_id: str, n: int, weights: Any) -> list[dict[str, Any]]:
    """Prompt/response/gold triples of several kinds, with the directly computed expected answer."""
    from rlsp_env import rewards
    from rlsp_env.integrations.trl import prompt_rows

    rows = prompt_rows(env_id, n)
    cases = []
    for i, row in enumerate(rows):
        prompt = (
            f"<|im_start|>user\n{row['prompt'][-1]['content']}<|im_end|>\n<|im_start|>assistant\n"
        )
        gold = row["gold"]
        kind = i % 5
        if kind == 0:
            response = f"Let me work it out step by step. The result is {gold}. \\boxed{{{gold}}}"
        elif kind == 1:
            response = "Wait, let me re-check. I think the answer is \\boxed{7}."
        elif kind == 2:
            response = f"The answer is {gold}."  # no box
        elif kind == 3:
            steps = " ".join(f"Step {k}: we add the digits of column {k}." for k in range(40))
            response = f"{steps} Let me verify by substituting back. \\boxed{{{gold}}}"
        else:
            response = "\\boxed{\\frac{1}{0}} hmm"
        direct = rewards.score(response, gold, weights=weights)
        cases.append(
            {
                "query": prompt + response + "<|im_end|>",
                "prompt": prompt,
                "label": gold,
                "reward": direct.reward,
                "score": 1.0 if direct.verdict.correct else 0.0,
                "channels": dict(direct.rewards),
            }
        )
    return cases


def _check(answer: dict[str, Any], batch: list[dict[str, Any]]) -> bool:
    if set(answer) != {"rewards", "scores", "extra_logs"}:
        return False
    if len(answer["rewards"]) != len(batch) or len(answer["scores"]) != len(batch):
        return False
    for i, case in enumerate(batch):
        if (
            abs(answer["rewards"][i] - case["reward"]) > 1e-9
            or answer["scores"][i] != case["score"]
        ):
            return False
        for channel, value in case["channels"].items():
            if abs(answer["extra_logs"][channel][i] - value) > 1e-9:
                return False
        if answer["extra_logs"]["timed_out"][i] != 0.0:
            return False
    return True


async def _client(
    url: str, cases: list[dict[str, Any]], offset: int, batch: int, stop_at: float, stats: dict
) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        i = offset
        while time.perf_counter() < stop_at:
            chosen = [cases[(i + k) % len(cases)] for k in range(batch)]
            i += batch
            body = {
                "query": [c["query"] for c in chosen],
                "prompts": [c["prompt"] for c in chosen],
                "labels": [c["label"] for c in chosen],
            }
            t0 = time.perf_counter()
            try:
                r = await client.post(url, json=body)
                ok_status = r.status_code == 200
                answer = r.json() if ok_status else None
            except (httpx.HTTPError, ValueError):
                stats["lost"] += 1
                continue
            stats["latency"].append(time.perf_counter() - t0)
            if not ok_status:
                stats["lost"] += 1
            elif not _check(answer, chosen):
                stats["wrong"] += 1
            else:
                stats["ok"] += 1
                stats["items"] += batch


async def _run_level(url: str, cases: list, clients: int, seconds: float, batch: int) -> dict:
    stats: dict[str, Any] = {"ok": 0, "wrong": 0, "lost": 0, "items": 0, "latency": []}
    start = time.perf_counter()
    stop_at = start + seconds
    await asyncio.gather(
        *(_client(url, cases, k * 7, batch, stop_at, stats) for k in range(clients))
    )
    elapsed = time.perf_counter() - start
    lat = sorted(stats["latency"])

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    return {
        "clients": clients,
        "batch": batch,
        "seconds": round(elapsed, 3),
        "requests": len(lat),
        "ok": stats["ok"],
        "wrong": stats["wrong"],
        "lost": stats["lost"],
        "requests_per_s": round(len(lat) / elapsed, 2),
        "items_per_s": round(stats["items"] / elapsed, 2),
        "latency_ms_p50": round(pct(0.50), 2),
        "latency_ms_p99": round(pct(0.99), 2),
        "latency_ms_mean": round(statistics.fmean(lat) * 1000, 2) if lat else float("nan"),
        "latencies_ms": [round(x * 1000, 3) for x in stats["latency"]],
    }


def _plot(results: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    xs = [r["clients"] for r in results]
    ax1.plot(xs, [r["requests_per_s"] for r in results], "o-", label="requests/s")
    ax1.plot(xs, [r["items_per_s"] for r in results], "s--", label="items/s")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("concurrent clients")
    ax1.set_ylabel("throughput")
    ax1.set_title("throughput")
    ax1.legend()
    ax1.grid(alpha=0.3)
    ax2.plot(xs, [r["latency_ms_p50"] for r in results], "o-", label="p50")
    ax2.plot(xs, [r["latency_ms_p99"] for r in results], "s--", label="p99")
    ax2.set_xscale("log", base=2)
    ax2.set_yscale("log")
    ax2.set_xlabel("concurrent clients")
    ax2.set_ylabel("latency (ms)")
    ax2.set_title("latency")
    ax2.legend()
    ax2.grid(alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="example:\n  python benchmarks/server_load.py --clients 1 4 16 --seconds 10",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", default="rlsp/Arithmetic-v0")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--seconds", type=float, default=10.0, help="per client count")
    parser.add_argument("--batch", type=int, default=1, help="rollouts per request")
    parser.add_argument("--workers", type=int, default=2, help="server scoring processes")
    parser.add_argument("--cases", type=int, default=50, help="distinct responses cycled")
    parser.add_argument("--out", default=str(OUT / "server_load"), help="output path stem")
    args = parser.parse_args(argv)
    if any(c < 1 for c in args.clients) or args.seconds <= 0 or args.batch < 1:
        parser.error("--clients, --seconds and --batch must be positive")

    from tqdm import tqdm

    from rlsp_env.integrations.scoring import env_default_weights

    weights = env_default_weights(args.env)
    load_before = os.getloadavg()
    cases = _cases(args.env, args.cases, weights)
    port = _free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="rlsp-serve-bench-", suffix=".log", delete=False)
    cmd = [
        sys.executable, "-m", "rlsp_env.server", "--env", args.env, "--port", str(port),
        "--workers", str(args.workers),
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"server failed to start:\n{log.read()[-3000:]}")
            time.sleep(0.2)
        for clients in tqdm(args.clients, desc="client counts"):
            res = asyncio.run(
                _run_level(base + "/get_reward", cases, clients, args.seconds, args.batch)
            )
            results.append(res)
            tqdm.write(
                f"clients={clients:>3} req/s={res['requests_per_s']:>8} "
                f"p50={res['latency_ms_p50']}ms p99={res['latency_ms_p99']}ms "
                f"ok={res['ok']} wrong={res['wrong']} lost={res['lost']}"
            )
        metrics = httpx.get(base + "/metrics", timeout=10).text
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)

    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"
    summary = {
        "command": " ".join(["python benchmarks/server_load.py", *(argv or sys.argv[1:])]),
        "env": args.env,
        "weights": weights,
        "server_workers": args.workers,
        "batch": args.batch,
        "seconds_per_level": args.seconds,
        "machine": machine,
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        # the machine's 1-minute load average before and after (other jobs share the cores)
        "load_avg_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "total_lost": sum(r["lost"] for r in results),
        "total_wrong": sum(r["wrong"] for r in results),
        "server_timeouts": next(
            (
                ln.split()[1]
                for ln in metrics.splitlines()
                if ln.startswith("rlsp_item_timeouts_total ")
            ),
            None,
        ),
        "levels": [{k: v for k, v in r.items() if k != "latencies_ms"} for r in results],
    }
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Reward server load test (loopback)",
        "",
        f"`{summary['command']}` on {machine}, {summary['date_utc']} UTC, 1-minute load "
        f"average {summary['load_avg_1m'][0]} before / {summary['load_avg_1m'][1]} after "
        "(other jobs shared the cores). "
        f"Server: `rlsp serve --env {args.env} --workers {args.workers}`; clients share the "
        f"machine. Each request: OpenRLHF's `/get_reward` with {args.batch} rollout(s); every "
        "answer compared with a direct `rlsp_env.rewards.score` call.",
        "",
        "| clients | requests | req/s | items/s | p50 ms | p99 ms | ok | wrong | lost |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['clients']} | {r['requests']} | {r['requests_per_s']} | {r['items_per_s']} | "
            f"{r['latency_ms_p50']} | {r['latency_ms_p99']} | {r['ok']} | {r['wrong']} | {r['lost']} |"
        )
    lines += [
        "",
        f"Lost: **{summary['total_lost']}**, wrong: **{summary['total_wrong']}**, "
        f"item timeouts on the server: {summary['server_timeouts']}.",
        "",
        f"![throughput and latency]({stem.with_suffix('.png').name})",
        "",
    ]
    stem.with_suffix(".md").write_text("\n".join(lines))
    _plot(results, stem.with_suffix(".png"), f"rlsp serve, {args.env}, {machine}")
    print(stem.with_suffix(".md").read_text())
    return 1 if summary["total_lost"] or summary["total_wrong"] else 0


if __name__ == "__main__":
    sys.exit(main())
