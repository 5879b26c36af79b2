"""Load and fault test of ``rlsp serve`` on loopback: throughput, latency, and hostile traffic.

Starts the real server in a subprocess on 127.0.0.1 and runs, each bounded in time and count:

* ``load``: 1, 8 and 64 concurrent OpenRLHF-style clients (``POST /get_reward``, one rollout
  per request, as OpenRLHF's ``SingleTurnAgentExecutor`` sends them) for ``--seconds`` each;
* ``dos5``: the same with every 20th request (5%) a DoS payload: alternately an item that holds
  a verifier worker for ``--dos-s`` seconds of CPU (the worker's test hook
  ``__rlsp_test_spin__:s``, a stand-in for a verifier payload that finishes just inside its
  deadline) and real hostile inputs (thousands of boxes, 300 nested fractions, 400 KB of text);
* ``slow_batch``: one client's request of 8 slow items in flight while another client sends
  one-item requests (with ``--express-workers 0`` too, to show what the reserved worker buys);
* ``kill``: 8 clients with 4 rollouts per request while scoring workers are killed with SIGKILL;
* ``abort``: 8 clients while 50 others abort mid-body and 10 go away while their items wait;
* ``slowloris``: 8 clients while 50 connections trickle header lines, 10 stop mid-body and 5
  never send a byte (with the server's default deadlines: the time until each is dropped).

Every rollout carries an id: its response holds ``a`` "Wait," ``b`` "Let me verify." and ``c``
"Alternatively," phrases (``id = 100a + 10b + c``), and the answer's ``backtracking``,
``verification`` and ``alternatives`` channels must give the id back; its reward, score and every
channel must also equal a direct :func:`rlsp_env.scoring.score_batch` call with the server's
own reward spec (:func:`rlsp_env.server.server_spec`). For each scenario: responses
lost (no 200 answer), mismatched (wrong id or values), 5xx answers, and the latency of
``GET /healthz`` polled throughout. Writes JSON, Markdown and a PNG under ``benchmarks/results/``.

    nice -n 10 python benchmarks/server_load.py                 # the committed results
    python benchmarks/server_load.py --seconds 5 --only load dos5

Clients and server share the machine's cores (and, here, other people's jobs): the numbers are a
lower bound for a server with cores of its own. Loopback only; nothing else is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results"
IDS = 200  # distinct rollout ids (more than the clients ever in flight at once)
SCENARIOS = ("load", "dos5", "slow_batch", "kill", "abort", "slowloris")


#: the verifier worker's test hook (``RLSP_VERIFIERS_TEST_HOOKS=1``, set for the server started
#: here): a response starting with it burns that many seconds of CPU in its worker, then is
#: verified as usual
SPIN = "__rlsp_test_spin__:"


# ---------------------------------------------------------------------------------------------
# Rollouts with ids, and their expected answers


def _prompt(k: int) -> str:
    return (
        f"<|im_start|>user\nWhat is {k} + 10? Put the answer in \\boxed{{}}.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def _response(i: int) -> str:
    a, b, c = i // 100, (i // 10) % 10, i % 10
    phrases = ["Wait, hold on."] * a + ["Let me verify."] * b + ["Alternatively, recount."] * c
    body = " ".join(f"Step {k + 1}: {p}" for k, p in enumerate(phrases))
    kind, gold = i % 4, i + 10
    if kind == 0:
        return f"{body} {i} + 10 = {gold}. \\boxed{{{gold}}}"
    if kind == 1:
        return f"{body} I get \\boxed{{{gold + 1}}}."
    if kind == 2:
        return f"{body} The result is {gold}."  # no box
    steps = " ".join(f"Column {k}: carry the digit." for k in range(40))
    return f"{body} {steps} \\boxed{{{gold}}}"


def _dos_payloads(dos_s: float) -> list[str]:
    return [
        f"{SPIN}{dos_s} so the answer is \\boxed{{7}}",
        "\\boxed{1} " * 5000 + "\\boxed{7}",
        "\\boxed{" + "\\frac{1}{" * 300 + "2" + "}" * 300 + "}",
        "word " * 80_000 + "\\boxed{7}",
    ]


def _expected(spec: Any, dos_s: float) -> tuple[list[dict], list[dict]]:
    """Direct scores of every rollout id and every DoS payload (the answers to check against)."""
    from rlsp_env.scoring import score_batch

    def score(response: str, gold: str) -> Any:
        return score_batch([response], [gold], None, spec, inline=True)[0]

    cases = []
    for i in range(IDS):
        response, gold = _response(i), str(i + 10)
        direct = score(response, gold)
        ids = (direct.rewards["backtracking"], direct.rewards["verification"])
        ids += (direct.rewards["alternatives"],)
        assert ids == (i // 100, (i // 10) % 10, i % 10), (i, ids)  # the id survives scoring
        cases.append(_case(_prompt(i), response, gold, direct, i))
    dos = [_case(_prompt(7), r, "7", score(r, "7"), None) for r in _dos_payloads(dos_s)]
    return cases, dos


def _case(prompt: str, response: str, gold: str, direct: Any, rid: int | None) -> dict:
    return {
        "id": rid,
        "query": prompt + response + "<|im_end|>",
        "prompt": prompt,
        "label": gold,
        "reward": direct.reward,
        "score": 1.0 if direct.verdict.correct else 0.0,
        "channels": dict(direct.rewards),
    }


def _matches(answer: Any, batch: list[dict]) -> bool:
    if not isinstance(answer, dict) or set(answer) != {"rewards", "scores", "extra_logs"}:
        return False
    logs = answer["extra_logs"]
    if len(answer["rewards"]) != len(batch) or len(answer["scores"]) != len(batch):
        return False
    for i, case in enumerate(batch):
        if case["id"] is not None:
            rid = case["id"]
            got = (logs["backtracking"][i], logs["verification"][i], logs["alternatives"][i])
            if got != (rid // 100, (rid // 10) % 10, rid % 10):
                return False
        if (
            abs(answer["rewards"][i] - case["reward"]) > 1e-9
            or answer["scores"][i] != case["score"]
        ):
            return False
        if any(abs(logs[c][i] - v) > 1e-9 for c, v in case["channels"].items()):
            return False
        if logs["timed_out"][i] != 0.0:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# The server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _server(args: argparse.Namespace, *extra: str):
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["RLSP_VERIFIERS_TEST_HOOKS"] = "1"  # the slow items (SPIN) of the DoS mix
    log = tempfile.NamedTemporaryFile("w+", prefix="rlsp-serve-bench-", suffix=".log", delete=False)
    cmd = [
        sys.executable, "-m", "rlsp_env.server", "--env", args.env, "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(args.workers), "--timeout-s", str(args.timeout_s),
        *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
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
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.seek(0)
        text = log.read()
        log.close()
        os.unlink(log.name)
        if "Traceback" in text:
            print(f"server log had a traceback:\n{text[-3000:]}", file=sys.stderr)


def _workers(pid: int) -> list[int]:
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if ppid == pid and b"rlsp_verifiers._worker" in (d / "cmdline").read_bytes():
                    found.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
    return found


def _metric(text: str, prefix: str) -> float:
    return sum(float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines() if ln.startswith(prefix))


# ---------------------------------------------------------------------------------------------
# Traffic


class Stats:
    def __init__(self) -> None:
        self.latency: list[float] = []
        self.ok = self.mismatched = self.lost = self.server_errors = self.too_many = 0
        self.dos = self.dos_ok = 0
        self.health: list[float] = []


async def _client(
    client: httpx.AsyncClient, base: str, cases: list, dos: list, k: int, batch: int,
    stop: float, st: Stats, dos_every: int,
) -> None:  # fmt: skip
    async with client:
        n = 0
        while time.perf_counter() < stop:
            n += 1
            is_dos = dos_every and (k * 7 + n) % dos_every == 0
            if is_dos:
                chosen = [dos[(k + n) % len(dos)]]
            else:
                chosen = [cases[(k * 37 + n * batch + j) % len(cases)] for j in range(batch)]
            body = {
                "query": [c["query"] for c in chosen],
                "prompts": [c["prompt"] for c in chosen],
                "labels": [c["label"] for c in chosen],
            }
            t0 = time.perf_counter()
            try:
                r = await client.post(base + "/get_reward", json=body)
                answer = r.json() if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                st.lost += 1
                continue
            took = time.perf_counter() - t0
            if r.status_code >= 500:
                st.server_errors += 1
            if r.status_code == 429:
                st.too_many += 1
            if is_dos:
                st.dos += 1
                if r.status_code != 200:
                    st.lost += 1
                elif _matches(answer, chosen):
                    st.dos_ok += 1
                else:
                    st.mismatched += 1
                continue
            st.latency.append(took)
            if r.status_code != 200:
                st.lost += 1
            elif _matches(answer, chosen):
                st.ok += 1
            else:
                st.mismatched += 1


#: /healthz is polled from a process of its own: polled from the benchmark's event loop, the
#: answer would also wait for the 64 simulated clients' callbacks, which is not the server's delay.
PROBER = """
import sys, time, httpx
with httpx.Client(timeout=5) as c:
    while True:
        t0 = time.perf_counter()
        try:
            ok = c.get(sys.argv[1] + "/healthz").status_code == 200
        except httpx.HTTPError:
            ok = False
        print(time.perf_counter() - t0 if ok else 5.0, flush=True)
        time.sleep(0.25)
"""


class _Prober:
    """Polls ``/healthz`` every 0.25 s in a child process; :meth:`stop` gives the latencies."""

    def __init__(self, base: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", PROBER, base], stdout=subprocess.PIPE, text=True
        )

    def stop(self) -> list[float]:
        self.proc.terminate()
        out, _ = self.proc.communicate(timeout=30)
        return [float(x) for x in out.split()]


async def _health(base: str, stop: float, st: Stats) -> None:
    prober = _Prober(base)
    try:
        await asyncio.sleep(max(0.0, stop - time.perf_counter()))
    finally:
        st.health.extend(prober.stop())


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 1) if xs else float("nan")


def _row(name: str, clients: int, seconds: float, st: Stats, **extra: Any) -> dict:
    return {
        "scenario": name,
        "clients": clients,
        "seconds": round(seconds, 2),
        "requests": len(st.latency) + st.dos,
        "requests_per_s": round((len(st.latency) + st.dos) / seconds, 2),
        "latency_ms_p50": _pct(st.latency, 0.50),
        "latency_ms_p99": _pct(st.latency, 0.99),
        "latency_ms_mean": round(statistics.fmean(st.latency) * 1000, 1) if st.latency else None,
        "ok": st.ok,
        "dos_requests": st.dos,
        "lost": st.lost,
        "mismatched": st.mismatched,
        "http_5xx": st.server_errors,
        "http_429": st.too_many,
        "healthz_ms_p99": _pct(st.health, 0.99),
        "healthz_ms_max": _pct(st.health, 1.0),
        **extra,
    }


async def _traffic(
    base: str, cases: list, dos: list, clients: int, seconds: float, *, batch: int = 1,
    dos_every: int = 0, side: Any = None,
) -> tuple[Stats, float, Any]:  # fmt: skip
    st = Stats()
    # one HTTP client per simulated rollout worker, made before the clock starts (making one
    # costs ~50 ms of CPU: timed, it showed up as every worker's first request being slow)
    pool = [httpx.AsyncClient(timeout=180) for _ in range(clients)]
    start = time.perf_counter()
    stop = start + seconds
    tasks = [
        _client(c, base, cases, dos, k, batch, stop, st, dos_every) for k, c in enumerate(pool)
    ]
    tasks.append(_health(base, stop, st))
    side_task = asyncio.ensure_future(side(stop)) if side else None
    await asyncio.gather(*tasks)
    side_result = await side_task if side_task else None
    return st, time.perf_counter() - start, side_result


# ---------------------------------------------------------------------------------------------
# Hostile connections


async def _abort_mid_body(base: str, n: int, spacing_s: float) -> None:
    host, port = base.removeprefix("http://").split(":")
    for _ in range(n):
        _, w = await asyncio.open_connection(host, int(port))
        w.write(
            b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n" + b"{" * 500
        )
        await w.drain()
        await asyncio.sleep(0.05)
        w.close()
        await asyncio.sleep(spacing_s)


async def _abort_while_scoring(base: str, n: int, dos_s: float) -> None:
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"query": [f"{SPIN}{dos_s} \\boxed{{1}}"] * 3, "labels": ["1"] * 3}).encode()
    for _ in range(n):
        _, w = await asyncio.open_connection(host, int(port))
        w.write(
            b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        await w.drain()
        await asyncio.sleep(0.3)
        w.close()
        await asyncio.sleep(0.3)


async def _held_open(base: str, kind: str, limit_s: float) -> float:
    """Seconds until the server drops a connection that misbehaves as ``kind`` (``limit_s`` cap)."""
    host, port = base.removeprefix("http://").split(":")
    r, w = await asyncio.open_connection(host, int(port))
    t0 = time.perf_counter()
    if kind == "half_body":
        w.write(b'POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"query')
    elif kind == "trickle":
        w.write(b"POST /get_reward HTTP/1.1\r\nHost: x\r\n")
    await w.drain()

    async def trickle() -> None:
        while True:
            await asyncio.sleep(1.0)
            w.write(b"X-Slow: y\r\n")
            await w.drain()

    feeder = asyncio.ensure_future(trickle()) if kind == "trickle" else None
    try:
        while time.perf_counter() - t0 < limit_s:
            chunk = await asyncio.wait_for(r.read(4096), limit_s)
            if not chunk:
                break
    except (TimeoutError, ConnectionError, OSError):
        pass
    finally:
        if feeder:
            feeder.cancel()
        w.close()
    return time.perf_counter() - t0


async def _slowloris(base: str, limit_s: float) -> dict:
    kinds = ["trickle"] * 50 + ["half_body"] * 10 + ["silent"] * 5
    times = await asyncio.gather(*(_held_open(base, k, limit_s) for k in kinds))
    out: dict[str, Any] = {}
    for kind in ("trickle", "half_body", "silent"):
        ts = [t for k, t in zip(kinds, times) if k == kind]
        out[f"{kind}_dropped_after_s_max"] = round(max(ts), 2)
        out[f"{kind}_held_to_the_cap"] = sum(t >= limit_s - 0.05 for t in ts)
    return out


# ---------------------------------------------------------------------------------------------
# Scenarios


def run_load(base: str, args: Any, cases: list, dos: list, *, dos_every: int) -> list[dict]:
    name = "dos5" if dos_every else "load"
    rows = []
    for clients in args.clients:
        st, secs, _ = asyncio.run(
            _traffic(base, cases, dos, clients, args.seconds, dos_every=dos_every)
        )
        rows.append(_row(name, clients, secs, st))
        _say(rows[-1])
    return rows


def run_slow_batch(base: str, args: Any, cases: list, dos: list, label: str) -> dict:
    async def go() -> tuple[Stats, float, float]:
        st = Stats()
        slow = [f"{SPIN}{args.dos_s} so \\boxed{{7}}"] * 8
        body = {"query": slow, "labels": ["7"] * 8}
        t_start = time.perf_counter()
        async with httpx.AsyncClient(timeout=180) as client:
            batch = asyncio.ensure_future(client.post(base + "/get_reward", json=body))
            await asyncio.sleep(0.5)
            health = asyncio.ensure_future(_health(base, t_start + 4 * args.dos_s, st))
            n = 0
            while not batch.done():
                case = cases[n % len(cases)]
                n += 1
                payload = {"query": [case["query"]], "prompts": [case["prompt"]]}
                payload["labels"] = [case["label"]]
                t0 = time.perf_counter()
                r = await client.post(base + "/get_reward", json=payload)
                if batch.done():  # finished after the batch: not "beside" it
                    break
                st.latency.append(time.perf_counter() - t0)
                ok = r.status_code == 200 and _matches(r.json(), [case])
                st.ok += ok
                st.mismatched += r.status_code == 200 and not ok
                st.lost += r.status_code != 200
                st.server_errors += r.status_code >= 500
                await asyncio.sleep(0.2)
            rb = await batch
            if rb.status_code != 200 or rb.json()["scores"] != [1.0] * 8:
                st.lost += 1
            st.server_errors += rb.status_code >= 500
            batch_s = time.perf_counter() - t_start
            await health
        return st, time.perf_counter() - t_start, batch_s

    st, secs, batch_s = asyncio.run(go())
    row = _row("slow_batch", 2, secs, st, express=label, slow_batch_s=round(batch_s, 2))
    row["one_item_ms_max"] = _pct(st.latency, 1.0)
    _say(row)
    return row


def run_kill(base: str, proc: Any, args: Any, cases: list, dos: list) -> dict:
    killed: list[int] = []
    duration = max(args.seconds, 8.0)

    async def killer(stop: float) -> None:
        start = stop - duration
        for at in (0.25, 0.55):  # two workers, a quarter and a half of the way in
            await asyncio.sleep(max(0.0, start + at * duration - time.perf_counter()))
            pids = _workers(proc.pid)
            if pids:
                victim = random.Random(len(killed)).choice(pids)
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

    before = httpx.get(base + "/metrics").text
    st, secs, _ = asyncio.run(_traffic(base, cases, dos, 8, duration, batch=4, side=killer))
    after = httpx.get(base + "/metrics").text
    retries = _metric(after, "rlsp_item_retries_total") - _metric(before, "rlsp_item_retries_total")
    row = _row("kill", 8, secs, st, batch=4, workers_killed=len(killed), items_retried=retries)
    _say(row)
    return row


def run_abort(base: str, args: Any, cases: list, dos: list) -> dict:
    async def side(stop: float) -> None:
        await asyncio.gather(
            _abort_mid_body(base, 50, args.seconds / 60),
            _abort_while_scoring(base, 10, args.dos_s),
        )

    before = httpx.get(base + "/metrics").text
    st, secs, _ = asyncio.run(_traffic(base, cases, dos, 8, args.seconds, side=side))
    time.sleep(1.0)
    after = httpx.get(base + "/metrics").text
    phase = 'rlsp_client_aborts_total{path="/get_reward",phase='
    row = _row(
        "abort", 8, secs, st,
        aborted_mid_body=_metric(after, phase + '"body"') - _metric(before, phase + '"body"'),
        aborted_while_scoring=_metric(after, phase + '"scoring"')
        - _metric(before, phase + '"scoring"'),
    )  # fmt: skip
    _say(row)
    return row


def run_slowloris(base: str, args: Any, cases: list, dos: list) -> dict:
    limit = 45.0
    result: dict[str, Any] = {}

    async def side(stop: float) -> None:
        result.update(await _slowloris(base, limit))

    before = httpx.get(base + "/metrics").text
    # the traffic runs as long as the slowest misbehaving connection could be held (the cap)
    st, secs, _ = asyncio.run(_traffic(base, cases, dos, 8, 36.0, side=side))
    after = httpx.get(base + "/metrics").text
    drops = _metric(after, "rlsp_connections_dropped_total") - _metric(
        before, "rlsp_connections_dropped_total"
    )
    row = _row("slowloris", 8, secs, st, connections_dropped=drops, **result)
    _say(row)
    return row


def _say(row: dict) -> None:
    from tqdm import tqdm

    tqdm.write(
        f"{row['scenario']:>10} clients={row['clients']:>3} req/s={row['requests_per_s']:>7} "
        f"p50={row['latency_ms_p50']}ms p99={row['latency_ms_p99']}ms lost={row['lost']} "
        f"mismatched={row['mismatched']} 5xx={row['http_5xx']} healthz_p99={row['healthz_ms_p99']}ms"
    )


# ---------------------------------------------------------------------------------------------
# Report


def _plot(rows: list[dict], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax1, ax2, ax3, ax4 = axes.ravel()
    for name, style in (("load", "o-"), ("dos5", "s--")):
        rs = [r for r in rows if r["scenario"] == name]
        if not rs:
            continue
        xs = [r["clients"] for r in rs]
        ax1.plot(xs, [r["requests_per_s"] for r in rs], style, label=name)
        ax2.plot(xs, [r["latency_ms_p50"] for r in rs], style, label=f"{name} p50")
        ax2.plot(xs, [r["latency_ms_p99"] for r in rs], style, alpha=0.5, label=f"{name} p99")
    for ax, ylabel, t in ((ax1, "requests/s", "throughput"), (ax2, "latency (ms)", "latency")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel(ylabel)
        ax.set_title(t)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax2.set_yscale("log")
    labels = [
        f"{r['scenario']}\n"
        + (f"express={r['express']}" if "express" in r else f"{r['clients']} cl.")
        for r in rows
    ]
    ax3.bar(range(len(rows)), [r["healthz_ms_p99"] for r in rows], color="tab:green")
    ax3.axhline(1000, color="red", ls="--", lw=1, label="bar: 1 s")
    ax3.set_xticks(range(len(rows)), labels, fontsize=7, rotation=60)
    ax3.set_ylabel("/healthz p99 (ms)")
    ax3.set_yscale("log")
    ax3.set_title("/healthz p99 in every scenario (label: clients or express)")
    ax3.legend(fontsize=8)
    sb = [r for r in rows if r["scenario"] == "slow_batch"]
    names = [f"one-item p99\nexpress={r['express']}" for r in sb]
    vals = [r["latency_ms_p99"] / 1000 for r in sb]
    sl = next((r for r in rows if r["scenario"] == "slowloris"), None)
    if sl:
        for k in ("trickle", "half_body", "silent"):
            names.append(f"{k} held (s)")
            vals.append(sl[f"{k}_dropped_after_s_max"])
    ax4.bar(range(len(vals)), vals, color="tab:orange")
    ax4.axhline(2, color="red", ls="--", lw=1, label="bar: one item < 2 s")
    ax4.axhline(30, color="purple", ls=":", lw=1, label="bar: dropped < 30 s")
    ax4.set_xticks(range(len(vals)), names, fontsize=7)
    ax4.set_ylabel("seconds")
    ax4.set_yscale("log")
    ax4.set_title("beside a slow batch; slow clients held open")
    ax4.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(summary: dict, stem: Path) -> str:
    rows = summary["rows"]
    lines = [
        "# Reward server under load and hostile traffic (loopback)",
        "",
        f"`{summary['command']}` on {summary['machine']}, {summary['date_utc']} UTC, 1-minute "
        f"load average {summary['load_avg_1m'][0]} before / {summary['load_avg_1m'][1]} after "
        f"(other jobs shared the cores). Server: `rlsp serve --env {summary['env']} --workers "
        f"{summary['server_workers']} --timeout-s {summary['timeout_s']}` (+1 express worker, "
        "default HTTP deadlines); clients on the same machine. Total run time "
        f"{summary['total_s']} s.",
        "",
        "| scenario | clients | requests | req/s | p50 ms | p99 ms | lost | mismatched | 5xx "
        "| /healthz p99 ms | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        notes = {
            "dos5": lambda r: f"{r['dos_requests']} DoS requests, all answered",
            "slow_batch": lambda r: (
                f"express workers: {r['express']}; one-item max "
                f"{r['one_item_ms_max']} ms; the 8-item slow batch took {r['slow_batch_s']} s"
            ),
            "kill": lambda r: (
                f"{r['workers_killed']} workers SIGKILLed, {r['items_retried']:.0f} "
                "items retried, 4 rollouts/request"
            ),
            "abort": lambda r: (
                f"{r['aborted_mid_body']:.0f} aborted mid-body, "
                f"{r['aborted_while_scoring']:.0f} while scoring (counted, not 5xx)"
            ),
            "slowloris": lambda r: (
                f"dropped after at most {r['trickle_dropped_after_s_max']} s "
                f"(trickling headers), {r['half_body_dropped_after_s_max']} s (half body), "
                f"{r['silent_dropped_after_s_max']} s (silent); {r['connections_dropped']:.0f} drops"
            ),
        }.get(r["scenario"], lambda r: "")(r)
        lines.append(
            f"| {r['scenario']} | {r['clients']} | {r['requests']} | {r['requests_per_s']} | "
            f"{r['latency_ms_p50']} | {r['latency_ms_p99']} | {r['lost']} | {r['mismatched']} | "
            f"{r['http_5xx']} | {r['healthz_ms_p99']} | {notes} |"
        )
    b = summary["bars"]
    lines += [
        "",
        "Latency columns are the honest (non-DoS) requests; in `slow_batch` they are the "
        "one-item requests sent while the other client's 8 slow items were in flight.",
        "",
        "Bars: "
        + "; ".join(
            f"{k}: **{'met' if v['ok'] else 'MISSED'}** ({v['value']})" for k, v in b.items()
        ),  # fmt: skip
        "",
        f"![throughput, latency, /healthz and slow clients]({stem.with_suffix('.png').name})",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=(
            "examples:\n"
            "  nice -n 10 python benchmarks/server_load.py\n"
            "  python benchmarks/server_load.py --seconds 5 --clients 1 8 --only load dos5"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", default="rlsp/Arithmetic-v0")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--seconds", type=float, default=8.0, help="per load level and scenario")
    parser.add_argument("--workers", type=int, default=2, help="server scoring processes")
    parser.add_argument("--timeout-s", type=float, default=3.0, help="server per-item limit")
    parser.add_argument("--dos-s", type=float, default=1.5, help="CPU seconds of a slow item")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--out", default=str(OUT / "server_load"), help="output path stem")
    args = parser.parse_args(argv)
    if any(c < 1 for c in args.clients) or args.seconds <= 0 or args.dos_s >= args.timeout_s:
        parser.error("--clients and --seconds must be positive and --dos-s below --timeout-s")

    from tqdm import tqdm

    from rlsp_env.server import ServerConfig, server_spec

    t_start = time.perf_counter()
    spec = server_spec(ServerConfig(env_id=args.env, timeout_s=args.timeout_s))
    weights = dict(spec.weights)
    load_before = os.getloadavg()
    cases, dos = _expected(spec, args.dos_s)
    rows: list[dict] = []
    steps = tqdm(total=len(args.only), desc="scenarios")
    with _server(args) as (base, proc):
        for name in args.only:
            steps.set_postfix_str(name)
            if name == "load":
                rows += run_load(base, args, cases, dos, dos_every=0)
            elif name == "dos5":
                rows += run_load(base, args, cases, dos, dos_every=20)
            elif name == "slow_batch":
                rows.append(run_slow_batch(base, args, cases, dos, "1"))
            elif name == "kill":
                rows.append(run_kill(base, proc, args, cases, dos))
            elif name == "abort":
                rows.append(run_abort(base, args, cases, dos))
            elif name == "slowloris":
                rows.append(run_slowloris(base, args, cases, dos))
            steps.update()
        metrics = httpx.get(base + "/metrics", timeout=10).text
    if "slow_batch" in args.only:  # what the reserved worker buys: the same without it
        with _server(args, "--express-workers", "0") as (base, _):
            rows.append(run_slow_batch(base, args, cases, dos, "0"))
    steps.close()

    server_5xx = sum(
        float(ln.rsplit(" ", 1)[1])
        for ln in metrics.splitlines()
        if ln.startswith("rlsp_requests_total") and 'code="5' in ln
    )
    express = [r for r in rows if r["scenario"] != "slow_batch" or r["express"] != "0"]
    sb = next((r for r in rows if r["scenario"] == "slow_batch" and r["express"] == "1"), None)
    sl = next((r for r in rows if r["scenario"] == "slowloris"), None)
    bars = {
        "0 lost": {
            "ok": all(r["lost"] == 0 for r in express),
            "value": sum(r["lost"] for r in express),
        },
        "0 mismatched": {
            "ok": all(r["mismatched"] == 0 for r in express),
            "value": sum(r["mismatched"] for r in express),
        },
        "0 5xx": {
            "ok": server_5xx == 0 and all(r["http_5xx"] == 0 for r in express),
            "value": f"{sum(r['http_5xx'] for r in express)} seen, {server_5xx:.0f} in /metrics",
        },
        "/healthz p99 < 1 s": {
            "ok": all(r["healthz_ms_p99"] < 1000 for r in express),
            "value": f"worst {max(r['healthz_ms_p99'] for r in express)} ms",
        },
    }
    if sb:
        bars["one item < 2 s beside a slow batch"] = {
            "ok": sb["one_item_ms_max"] < 2000,
            "value": f"max {sb['one_item_ms_max']} ms",
        }
    if sl:
        worst = max(sl[f"{k}_dropped_after_s_max"] for k in ("trickle", "half_body", "silent"))
        bars["half-sent request dropped < 30 s"] = {"ok": worst < 30, "value": f"worst {worst} s"}
    stem = Path(args.out)
    stem.parent.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores"
    summary = {
        "command": " ".join(["python benchmarks/server_load.py", *(argv or sys.argv[1:])]),
        "env": args.env,
        "weights": weights,
        "answer_policy": spec.answer_policy,
        "server_workers": args.workers,
        "timeout_s": args.timeout_s,
        "dos_s": args.dos_s,
        "machine": machine,
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "load_avg_1m": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "total_s": round(time.perf_counter() - t_start, 1),
        "bars": bars,
        "rows": rows,
    }
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n")
    stem.with_suffix(".md").write_text(_markdown(summary, stem))
    _plot(rows, stem.with_suffix(".png"), f"rlsp serve, {args.env}, {machine}")
    print(stem.with_suffix(".md").read_text())
    return 0 if all(b["ok"] for b in bars.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
