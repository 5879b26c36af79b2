"""The reward server under hostile traffic: a real ``rlsp serve`` on loopback, real sockets.

Fair scheduling beside a slow batch, back-pressure, header/body deadlines (half-sent requests,
slowloris), aborted clients, a verifier worker killed with SIGKILL, weight-0 channels off the
per-item timeout, and OpenRLHF's real requests (left-truncated prompts, decoder whitespace drift,
numeric labels) scoring exactly like the untruncated request.

Slow items are the verifier worker's test hook ``__rlsp_test_sleep__:N`` (``sleep_for``): it
holds a real worker of the server's one ``VerifierPool`` for N seconds, a stand-in for a verifier
DoS payload that finishes just inside its deadline.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from integrations_helpers import running_server, sleep_for

from rlsp_env import rewards
from rlsp_env.server import BadRequest, ServerConfig, parse_get_reward, strip_prompt

pytestmark = pytest.mark.timeout(300)

ENV = "rlsp/Arithmetic-v0"
WEIGHTS = json.dumps({"correctness": 1.0, "format": 0.0})


def _metric(text: str, name: str) -> float:
    return sum(float(ln.rsplit(" ", 1)[1]) for ln in text.splitlines() if ln.startswith(name))


def _post_timed(url: str, body: dict, out: dict, key: str) -> None:
    t0 = time.monotonic()
    r = httpx.post(url, json=body, timeout=120)
    out[key] = (r.status_code, r.json(), time.monotonic() - t0)


def test_defaults_drop_half_sent_requests_within_30_s():
    d = ServerConfig()
    assert d.header_timeout_s <= 30 and d.body_timeout_s <= 30 and d.keep_alive_s <= 30
    assert d.express_workers >= 1


@pytest.fixture(scope="module")
def slow_server():
    with running_server(
        "--env", ENV, "--workers", "2", "--express-workers", "1", "--timeout-s", "5",
        "--weights", WEIGHTS, "--header-timeout-s", "2", "--body-timeout-s", "3",
        "--keep-alive-s", "2", hooks=True,
    ) as server:  # fmt: skip
        yield server


def test_a_one_item_request_stays_fast_beside_another_clients_slow_batch(slow_server):
    url = slow_server.url
    out: dict[str, Any] = {}
    slow = {"query": [sleep_for(2.5, "so \\boxed{4}")] * 8, "labels": ["4"] * 8}
    batch = threading.Thread(target=_post_timed, args=(url + "/get_reward", slow, out, "batch"))
    batch.start()
    time.sleep(0.5)  # the batch holds both shared workers now; 6 of its items wait
    latencies, health = [], []
    with httpx.Client(timeout=60) as client:
        for k in range(4):
            t0 = time.monotonic()
            r = client.post(url + "/get_reward", json={"query": [f"\\boxed{{{k}}}"], "labels": [k]})
            latencies.append(time.monotonic() - t0)
            assert r.status_code == 200 and r.json()["scores"] == [1.0], r.text
            t0 = time.monotonic()
            h = client.get(url + "/healthz").json()
            health.append(time.monotonic() - t0)
            time.sleep(0.5)
    assert h["items_queued"] > 0, h  # the slow batch was still waiting: the test measured it
    batch.join(120)
    status, body, took = out["batch"]
    assert status == 200 and body["scores"] == [1.0] * 8  # the slow items are scored, not dropped
    assert max(latencies) < 2.0, latencies
    assert max(health) < 1.0, health
    assert took > 4 * 2.5 * 0.9  # 8 items x 2.5 s on the 2 shared workers (express kept free)


def test_back_pressure_answers_429_with_retry_after():
    with running_server(
        "--env", ENV, "--workers", "1", "--express-workers", "0", "--timeout-s", "5",
        "--weights", WEIGHTS, "--max-queued-items", "4", hooks=True,
    ) as server:  # fmt: skip
        url = server.url
        out: dict[str, Any] = {}
        body = {"query": [sleep_for(1, "\\boxed{1}")] * 4, "labels": ["1"] * 4}
        t = threading.Thread(target=_post_timed, args=(url + "/get_reward", body, out, "first"))
        t.start()
        time.sleep(0.5)  # 1 item running, 3 queued
        r = httpx.post(url + "/get_reward", json={"query": ["a", "b"], "labels": ["1", "2"]})
        assert r.status_code == 429, r.text
        assert int(r.headers["retry-after"]) >= 1 and "queued" in r.json()["error"]
        # a request that could never fit in the queue is a 413, not a 429 to retry forever
        r = httpx.post(url + "/get_reward", json={"query": ["a"] * 5, "labels": ["1"] * 5})
        assert r.status_code == 413, r.text
        t.join(60)
        assert out["first"][0] == 200 and out["first"][1]["scores"] == [1.0] * 4
        r = httpx.post(url + "/get_reward", json={"query": ["a", "b"], "labels": ["1", "2"]})
        assert r.status_code == 200  # served again once the queue drained
        text = httpx.get(url + "/metrics").text
    assert 'code="429"' in text and 'code="5' not in text


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=30)
    return s


def _closed(s: socket.socket) -> bool:
    """The server has closed ``s`` (or is closing it: it sent its 408)."""
    s.setblocking(False)
    try:
        return s.recv(4096, socket.MSG_PEEK) is not None
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


def _wait_closed(s: socket.socket, limit_s: float) -> tuple[float, bytes]:
    """Seconds until the server closes ``s`` (reading whatever it sends first)."""
    t0 = time.monotonic()
    s.settimeout(limit_s)
    got = b""
    try:
        while chunk := s.recv(4096):
            got += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return time.monotonic() - t0, got


def test_half_sent_requests_and_slowloris_are_dropped_by_the_deadlines(slow_server):
    url = slow_server.url
    before = httpx.get(url + "/metrics").text
    # half-sent headers: dropped at the 2 s header deadline with a 408
    s = _connect(url)
    s.sendall(b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
    took, got = _wait_closed(s, 20)
    s.close()
    assert took < 2 + 3, took
    assert got.startswith(b"HTTP/1.1 408"), got
    # a connection that sends nothing at all
    s = _connect(url)
    took, _ = _wait_closed(s, 20)
    s.close()
    assert took < 2 + 3, took
    # half-sent body: dropped at the 3 s body deadline
    s = _connect(url)
    s.sendall(
        b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b'{"query": ["'
    )
    took, _ = _wait_closed(s, 20)
    s.close()
    assert took < 3 + 3, took
    # slowloris: 20 connections trickling header bytes, each within the idle gaps of old servers
    socks = [_connect(url) for _ in range(20)]
    for s in socks:
        s.sendall(b"POST /get_reward HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    open_ = list(socks)
    health = []
    while open_ and time.monotonic() - t0 < 15:
        for s in list(open_):
            if _closed(s):
                open_.remove(s)
            else:
                s.sendall(b"X-Slow: y\r\n")
        h0 = time.monotonic()
        assert httpx.get(url + "/healthz", timeout=5).status_code == 200
        health.append(time.monotonic() - h0)
        time.sleep(0.5)
    for s in socks:
        s.close()
    assert not open_, f"{len(open_)} trickling connections still open after 15 s"
    assert time.monotonic() - t0 < 2 + 3
    assert max(health) < 1.0, health
    after = httpx.get(url + "/metrics").text
    dropped = 'rlsp_connections_dropped_total{reason="header_timeout"}'
    assert _metric(after, dropped) - _metric(before, dropped) >= 21
    body = 'rlsp_connections_dropped_total{reason="body_timeout"}'
    assert _metric(after, body) - _metric(before, body) >= 1
    assert 'code="5' not in after


def test_aborted_clients_are_counted_as_such_never_as_errors(slow_server):
    url = slow_server.url
    before = httpx.get(url + "/metrics").text
    for _ in range(10):  # gone mid-body
        s = _connect(url)
        s.sendall(
            b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + b"{" * 99
        )
        time.sleep(0.05)
        s.close()
    # gone while its (slow) items wait: the queued ones are dropped, not scored for nobody
    s = _connect(url)
    body = json.dumps({"query": [sleep_for(2, "\\boxed{1}")] * 6, "labels": ["1"] * 6}).encode()
    s.sendall(
        b"POST /get_reward HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    time.sleep(0.8)
    s.close()
    deadline = time.monotonic() + 20
    while httpx.get(url + "/healthz").json()["items_queued"] > 0:
        assert time.monotonic() < deadline, "the gone client's items stayed queued"
        time.sleep(0.2)
    time.sleep(0.5)
    after = httpx.get(url + "/metrics").text
    mid_body = 'rlsp_client_aborts_total{path="/get_reward",phase="body"}'
    assert _metric(after, mid_body) - _metric(before, mid_body) == 10
    scoring = 'rlsp_client_aborts_total{path="/get_reward",phase="scoring"}'
    assert _metric(after, scoring) - _metric(before, scoring) == 1
    assert 'code="5' not in after
    assert "Traceback" not in slow_server.log()


def _scoring_workers(pid: int) -> list[int]:
    """The server's verifier worker processes (``python -m rlsp_verifiers._worker`` children)."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == pid and b"rlsp_verifiers._worker" in cmd:
            found.append(int(d.name))
    return found


def test_a_worker_killed_mid_batch_loses_no_item(slow_server):
    url = slow_server.url
    out: dict[str, Any] = {}
    body = {"query": [sleep_for(1, f"\\boxed{{{k}}}") for k in range(6)], "labels": list(range(6))}
    t = threading.Thread(target=_post_timed, args=(url + "/get_reward", body, out, "batch"))
    t.start()
    time.sleep(0.5)
    workers = _scoring_workers(slow_server.proc.pid)
    assert len(workers) == 3, workers
    for pid in workers:  # the two running this batch's items, and the idle express one
        os.kill(pid, signal.SIGKILL)
    t.join(120)
    status, answer, _ = out["batch"]
    assert status == 200
    assert answer["scores"] == [1.0] * 6 and answer["extra_logs"]["timed_out"] == [0.0] * 6
    text = httpx.get(url + "/metrics").text
    assert _metric(text, "rlsp_item_retries_total") >= 1
    deadline = time.monotonic() + 60
    while httpx.get(url + "/healthz").json()["workers_alive"] < 3:
        assert time.monotonic() < deadline, "the killed worker was not replaced"
        time.sleep(0.2)
    # every worker killed while idle: the next requests are scored all the same
    for pid in _scoring_workers(slow_server.proc.pid):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    body = {"query": [f"\\boxed{{{k}}}" for k in range(4)], "labels": list(range(4))}
    r = httpx.post(url + "/get_reward", json=body, timeout=60)
    assert r.status_code == 200 and r.json()["scores"] == [1.0] * 4, r.text
    assert httpx.get(url + "/healthz").json()["workers_alive"] == 3


def test_weight_zero_diversity_is_logged_with_the_channels_own_value(slow_server):
    # diversity has weight 0 here: the server logs it beside the verification (never inside the
    # per-item timeout: the workers only ever see (response, gold)), with the channel's value
    texts = [f"take {k} steps: " + "a b c " * k + "\\boxed{4}" for k in range(6)]
    items = [{"response": t, "gold": "4", "group": "p"} for t in texts]
    r = httpx.post(slow_server.url + "/v1/score", json={"items": items}, timeout=120)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [it["timed_out"] for it in results] == [False] * 6
    for i, it in enumerate(results):
        others = texts[:i] + texts[i + 1 :]
        assert it["rewards"]["diversity"] == rewards.diversity(texts[i], others)
    assert results[0]["rewards"]["diversity"] > 0


def test_weighted_diversity_is_scored_by_score_batch_with_the_groups():
    weights = json.dumps({"correctness": 1.0, "diversity": 0.5})
    with running_server(
        "--env", ENV, "--workers", "1", "--timeout-s", "5", "--weights", weights,
    ) as server:  # fmt: skip
        texts = [f"{k}: " + "x y z " * k + "\\boxed{4}" for k in range(3)] + ["\\boxed{4}"]
        items = [{"response": t, "gold": "4", "group": 1} for t in texts[:3]]
        items.append({"response": texts[3], "gold": "4", "group": "1"})  # another group
        r = httpx.post(server.url + "/v1/score", json={"items": items}, timeout=120)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    for i, it in enumerate(results[:3]):
        assert it["timed_out"] is False
        d = rewards.diversity(texts[i], texts[:i] + texts[i + 1 : 3])
        assert it["rewards"]["diversity"] == pytest.approx(d)
        assert it["reward"] == pytest.approx(1.0 + 0.5 * d)
    assert results[3]["rewards"]["diversity"] == 0.0 and results[3]["reward"] == 1.0


def test_big_groups_with_weight_zero_diversity_do_not_time_out():
    # the case: 12 responses of ~200 KB in one group, the "rlsp" preset (diversity 0):
    # the channel used to be computed in every worker, inside the per-item timeout (0.36 s of
    # CPU per item instead of 0.1 s here), and timed correct answers out at --timeout-s 1. (3 s
    # here, for a loaded CI machine; the deterministic check is the test above.)
    words = [f"w{k}" for k in range(5000)]
    texts = [
        " ".join(words[(i * 7 + j * 13) % 5000] for j in range(33000)) + " so \\boxed{42}"
        for i in range(12)
    ]
    assert all(len(t) > 190_000 for t in texts)
    with running_server(
        "--env", ENV, "--workers", "2", "--timeout-s", "3", "--weights", "rlsp",
        "--diversity-budget-s", "60",  # a loaded CI machine must not skip the value checked below
    ) as server:  # fmt: skip
        items = [{"response": t, "gold": "42", "group": "p"} for t in texts]
        r = httpx.post(server.url + "/v1/score", json={"items": items}, timeout=120)
    assert r.status_code == 200, r.text[:500]
    results = r.json()["results"]
    assert [it["timed_out"] for it in results] == [False] * 12
    assert [it["verdict"]["correct"] for it in results] == [True] * 12
    assert "log_only_skipped" not in r.json()
    for i in (0, 5):  # the logged value is the channel's own
        others = texts[:i] + texts[i + 1 :]
        assert results[i]["rewards"]["diversity"] == rewards.diversity(texts[i], others)


# ---------------------------------------------------------------------------------------------
# OpenRLHF's real requests

PROMPT = (
    "<|im_start|>system\nYou are a helpful assistant. Think step by step, then put the final "
    "answer in \\boxed{}.<|im_end|>\n<|im_start|>user\nA shop sells pencils at 3 for 12 cents "
    "and erasers at 2 for 10 cents. Mia buys 6 pencils and 4 erasers, then pays with a "
    "one-dollar coin. How many cents of change does she get?<|im_end|>\n<|im_start|>assistant\n"
)
RESPONSES = [
    "Pencils: 6 / 3 * 12 = 24. Erasers: 4 / 2 * 10 = 20. Total 44, so the change is "
    "100 - 44 = 56. Let me verify: 56 + 44 = 100. \\boxed{56}",
    "Wait, the total is 44 cents... so \\boxed{54}.",
    "  The change is 56 cents.",
]


def _variants(prompt: str, response: str) -> dict[str, str]:
    """The query strings OpenRLHF can send for (prompt, response), besides the exact one."""
    return {
        # left-truncated: its last max_prompt_length tokens, cut anywhere (mid-word too)
        "truncated_mid_word": prompt[57:] + response + "<|im_end|>",
        "truncated_to_the_question": prompt[prompt.index("Mia") :] + response + "<|im_end|>",
        # half a multi-byte character decodes to U+FFFD
        "truncated_mid_char": "\ufffd" + prompt[120:] + response + "<|im_end|>",
        # decoder whitespace drift in the prompt part
        "newlines_doubled": prompt.replace("\n", "\n\n", 3) + response + "<|im_end|>",
        "space_before_punctuation_dropped": prompt.replace(" ,", ",").replace("cents.", "cents .")
        + response
        + "<|im_end|>",
        "truncated_and_drifted": prompt[90:].replace(". ", ".  ") + response + "<|im_end|>",
        "bos_before_prompt": "<s>" + prompt + response + "<|im_end|>",
    }


@pytest.mark.parametrize("response", RESPONSES)
def test_truncated_and_drifted_prompts_locate_the_response_exactly(response):
    exact = strip_prompt(PROMPT + response + "<|im_end|>", PROMPT)
    assert exact == response
    for name, query in _variants(PROMPT, response).items():
        assert strip_prompt(query, PROMPT) == exact, name


def test_what_is_refused_when_the_prompt_cannot_be_located():
    # too short an overlap to trust (fewer than 16 non-space characters of the prompt's end)
    with pytest.raises(BadRequest, match="does not contain its prompt"):
        strip_prompt("ssistant\n\\boxed{56}", PROMPT)
    # another prompt's text altogether
    with pytest.raises(BadRequest, match="does not contain its prompt"):
        strip_prompt("<|im_start|>user\nWhat is 2+2?<|im_end|>\n\\boxed{4}", PROMPT)
    # a short prompt must be there whole
    with pytest.raises(BadRequest):
        strip_prompt("B: \\boxed{2}", "A: B: ")


def test_numeric_labels_and_missing_labels():
    q = {"query": ["\\boxed{56}"] * 3}
    assert parse_get_reward({**q, "labels": [56, 56.0, "56"]}) == [("\\boxed{56}", "56")] * 3
    assert parse_get_reward({"query": ["x"], "labels": [0.25]}) == [("x", "0.25")]
    for labels, word in [([""], "--data.label_key"), ([True], "string or a number")]:
        with pytest.raises(BadRequest, match=word):
            parse_get_reward({"query": ["x"], "labels": labels})
    with pytest.raises(BadRequest, match="--data.label_key"):
        parse_get_reward({"query": ["x"], "prompts": ["x"]})


def _tokenizer() -> Any:
    tokenizers = pytest.importorskip("tokenizers")
    path = Path.home() / ".cache" / "rlsp" / "models" / "SmolLM2-135M-Instruct" / "tokenizer.json"
    if not path.exists():
        pytest.skip(f"the embedded model's tokenizer is not prepared ({path})")
    return tokenizers.Tokenizer.from_file(str(path))


def test_real_openrlhf_requests_score_exactly_like_the_untruncated_request():
    """OpenRLHF's SingleTurnAgentExecutor: ``query = decode(prompt_ids[-max_prompt:] + ids)``."""
    tok = _tokenizer()
    with running_server("--env", ENV, "--workers", "2", "--weights", "rlsp") as server:
        with httpx.Client(timeout=60) as client:

            def ask(queries: list[str], labels: list[Any]) -> dict:
                body = {"query": queries, "prompts": [PROMPT] * len(queries), "labels": labels}
                r = client.post(server.url + "/get_reward", json=body)
                assert r.status_code == 200, r.text
                return r.json()

            for response in RESPONSES:
                exact = ask([PROMPT + response + "<|im_end|>"], ["56"])
                p_ids = tok.encode(PROMPT, add_special_tokens=False).ids
                r_ids = tok.encode(response + "<|im_end|>", add_special_tokens=False).ids
                queries = {
                    f"last {n} prompt tokens": tok.decode(
                        p_ids[-n:] + r_ids, skip_special_tokens=False
                    )
                    for n in (len(p_ids), len(p_ids) - 7, 40, 25)
                }
                queries.update(_variants(PROMPT, response))
                for name, query in queries.items():
                    assert ask([query], ["56"]) == exact, name
                for label in (56, 56.0):
                    assert ask([PROMPT + response + "<|im_end|>"], [label]) == exact, label
                direct = rewards.score(response, "56", weights="rlsp")
                assert exact["rewards"][0] == pytest.approx(direct.reward)
            # a missing label key: a clear 4xx on the very first request
            r = client.post(
                server.url + "/get_reward",
                json={"query": [PROMPT + "\\boxed{56}"], "prompts": [PROMPT], "labels": [""]},
            )
            assert r.status_code == 422 and "--data.label_key" in r.json()["error"]


def test_an_internal_error_is_logged_and_answered_without_its_message():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from rlsp_env.server import Metrics, _Observe

    metrics = Metrics()
    app = FastAPI()
    app.add_middleware(_Observe, metrics=metrics)  # as create_app does

    @app.get("/x")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/x")
    assert r.status_code == 500
    assert "secret" not in r.text and r.json()["error"].startswith("internal error")
    assert 'rlsp_requests_total{path="/x",code="500"} 1' in metrics.render()
