"""The reward server over real HTTP: a real ``rlsp serve`` subprocess on a free loopback port.

Bad input, poisoned responses (the verifier worker's test hooks: a hung item, held past its
timeout), metrics and graceful shutdown; the OpenRLHF contract against the real scoring
(compared item by item with a direct ``rlsp_env.scoring.score_batch`` call with the server's spec).
"""

from __future__ import annotations

import json
import signal
import threading
import time

import httpx
import pytest
from integrations_helpers import running_server, sleep_for

from rlsp_env.scoring import score_batch
from rlsp_env.server import ServerConfig, server_spec

pytestmark = pytest.mark.timeout(300)

ENV = "rlsp/Arithmetic-v0"
WEIGHTS = json.dumps({"correctness": 1.0, "format": 0.0})
HUNG = sleep_for(3600)  # holds its worker until the pool kills it at the per-item timeout


@pytest.fixture(scope="module")
def helper_server():
    """A server whose verifier workers hang on HUNG (the test hooks are on)."""
    with running_server(
        "--env", ENV, "--workers", "2", "--timeout-s", "1.5", "--max-body-bytes", "65536",
        "--max-items", "100", "--weights", WEIGHTS, hooks=True,
    ) as server:  # fmt: skip
        yield server


@pytest.fixture(scope="module")
def real_server():
    """A server with the env's spec and the 'rlsp' preset."""
    with running_server("--env", ENV, "--workers", "2", "--weights", "rlsp") as server:
        yield server


BAD_REQUESTS = [
    # (path, raw body, expected status, a word of the message)
    ("/get_reward", b"{not json", 400, "malformed JSON"),
    ("/get_reward", b"", 400, "empty request body"),
    ("/get_reward", b'{"query": ["\xff\xfe"], "labels": ["1"]}', 400, "UTF-8"),
    ("/get_reward", b"[" * 60000, 400, "JSON"),  # nested too deeply for the parser
    ("/get_reward", b"[1, 2]", 422, "JSON object"),
    ("/get_reward", b'{"labels": ["1"]}', 422, "'query' is required"),
    ("/get_reward", b'{"query": ["a"], "labels": [true]}', 422, "labels[0] must be a string"),
    # what OpenRLHF sends without --data.label_key: an empty label, refused on the first request
    ("/get_reward", b'{"query": ["a"], "prompts": [""], "labels": [""]}', 422, "--data.label_key"),
    ("/get_reward", b'{"query": ["a"]}', 422, "--data.label_key"),
    # absurd numbers and nesting: refused before Python's int() or the recursive parser sees them
    ("/get_reward", b'{"query": ["a"], "labels": [' + b"9" * 5000 + b"]}", 400, "5000 characters"),
    ("/v1/score", b'{"items": [], "x": 1e999999}', 400, "out of range"),
    ("/v1/score", b'{"items": [], "x": NaN}', 400, "not valid JSON"),
    ("/v1/score", b'{"items": ' + b"[" * 40 + b"]" * 40 + b"}", 400, "nested deeper"),
    ("/get_reward", b'{"query": "a", "labels": {"x": 1}}', 422, "must be a list"),
    ("/get_reward", b'{"query": ["a", "b"], "labels": ["1"]}', 422, "same length"),
    ("/get_reward", b'{"query": ["a"], "labels": ["1"], "prompts": ["zz"]}', 422, "prompt"),
    ("/get_reward", json.dumps({"query": ["a"] * 101, "labels": ["1"] * 101}).encode(), 413, "101"),
    ("/get_reward", b'{"query": ["' + b"x" * 70000 + b'"], "labels": ["1"]}', 413, "limit"),
    ("/v1/score", b'{"items": [{"response": "a"}]}', 422, "lacks the field 'gold'"),
    ("/v1/score", b'{"items": [{"response": null, "gold": "1"}]}', 422, "must be a string"),
    ("/v1/score", b"null", 422, "JSON object"),
    # valid JSON, but a lone surrogate is not text (it could not be encoded back in the answer)
    ("/v1/score", b'{"items": [{"response": "\\ud800", "gold": "1"}]}', 400, "lone surrogate"),
    ("/get_reward", b'{"query": ["a\\udfff"], "labels": ["1"]}', 400, "lone surrogate"),
]


def test_bad_input_gets_4xx_with_a_message_and_the_server_keeps_serving(helper_server):
    url = helper_server.url
    with httpx.Client(timeout=30) as client:
        for path, body, status, word in BAD_REQUESTS:
            r = client.post(url + path, content=body)
            assert r.status_code == status, (path, body[:60], r.status_code, r.text)
            assert word in r.json()["error"], (word, r.json())
        # a chunked body without Content-Length is cut off at the limit too
        r = client.post(url + "/get_reward", content=iter([b'{"query": ["', b"y" * 70000, b'"]}']))
        assert r.status_code == 413 and "limit" in r.json()["error"]
        assert client.get(url + "/nowhere").status_code == 404
        assert client.get(url + "/get_reward").status_code == 405
        # still healthy, still scoring
        assert client.get(url + "/healthz").json()["status"] == "ok"
        r = client.post(url + "/get_reward", json={"query": ["\\boxed{5}"], "labels": ["5"]})
        assert r.status_code == 200 and r.json()["scores"] == [1.0]
        text = client.get(url + "/metrics").text
    assert 'code="500"' not in text
    assert 'rlsp_requests_total{path="/get_reward",code="400"}' in text
    assert 'rlsp_requests_total{path="/get_reward",code="413"}' in text


def test_a_poisoned_response_never_delays_or_fails_the_others(helper_server):
    url = helper_server.url
    with httpx.Client(timeout=60) as client:
        before = client.get(url + "/metrics").text
        # one hung item in the middle of a batch of real ones
        queries = ["so \\boxed{4}", HUNG, "\\boxed{7}", "the answer is \\boxed{9}"]
        labels = ["4", "4", "8", "9"]
        t0 = time.monotonic()
        r = client.post(url + "/get_reward", json={"query": queries, "labels": labels})
        took = time.monotonic() - t0
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["scores"] == [1.0, 0.0, 0.0, 1.0]
        assert out["extra_logs"]["timed_out"] == [0.0, 1.0, 0.0, 0.0]
        assert out["rewards"][1] == 0.0
        assert took < 1.5 + 10
        # the worker killed for the hung item is replaced
        deadline = time.monotonic() + 60
        while client.get(url + "/healthz").json()["workers_alive"] < 2:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.1)
        # a concurrent client is not blocked by the next hung item
        res: dict[str, float] = {}

        def other() -> None:
            t = time.monotonic()
            rr = client.post(
                url + "/v1/score", json={"items": [{"response": "\\boxed{2}", "gold": "2"}]}
            )
            res["status"], res["s"] = rr.status_code, time.monotonic() - t

        hung = threading.Thread(
            target=client.post,
            args=(url + "/v1/score",),
            kwargs={"json": {"items": [{"response": HUNG, "gold": "1"}]}},
        )
        hung.start()
        time.sleep(0.2)
        other()
        hung.join(30)
        assert res["status"] == 200 and res["s"] < 1.4, res
        after = client.get(url + "/metrics").text

    def timeouts(text: str) -> int:
        line = next(ln for ln in text.splitlines() if ln.startswith("rlsp_item_timeouts_total "))
        return int(line.split()[1])

    assert timeouts(after) - timeouts(before) == 2


def test_openrlhf_contract_matches_direct_scoring(real_server):
    prompts = ["<|im_start|>user\nWhat is 12 + 30?<|im_end|>\n<|im_start|>assistant\n"] * 4
    responses = [
        "12 + 30 = 42. Wait, let me check: 30 + 12 = 42. So the answer is \\boxed{42}.",
        "The answer is \\boxed{41}.",
        "I think it is 42.",
        "",
    ]
    queries = [p + r + "<|im_end|>" for p, r in zip(prompts, responses)]
    labels = ["42"] * 4
    with httpx.Client(timeout=60) as client:
        r = client.post(
            real_server.url + "/get_reward",
            json={"query": queries, "prompts": prompts, "labels": labels},
        )
        assert r.status_code == 200, r.text
        out = r.json()
        r2 = client.post(
            real_server.url + "/v1/score",
            json={"items": [{"response": x, "gold": g} for x, g in zip(responses, labels)]},
        )
        assert r2.status_code == 200, r2.text
        metrics = client.get(real_server.url + "/metrics").text
    assert set(out) == {"rewards", "scores", "extra_logs"}
    spec = server_spec(ServerConfig(env_id=ENV, weights="rlsp"))
    assert spec.answer_policy == "literal"  # the env's own spec, not a default one
    for i, (resp, gold) in enumerate(zip(responses, labels)):
        direct = score_batch([resp], [gold], None, spec, inline=True)[0]
        assert out["rewards"][i] == pytest.approx(direct.reward), i
        assert out["scores"][i] == (1.0 if direct.verdict.correct else 0.0)
        for channel, value in direct.rewards.items():
            assert out["extra_logs"][channel][i] == pytest.approx(value), (i, channel)
        item = r2.json()["results"][i]
        assert item["reward"] == pytest.approx(direct.reward)
        assert item["verdict"]["correct"] == direct.verdict.correct
        assert item["verdict"]["reason"] == direct.verdict.reason
        assert item["timed_out"] is False
    assert out["scores"][:2] == [1.0, 0.0]
    assert "rlsp_channel_mean{channel=" in metrics


def test_v1_score_groups_feed_the_diversity_channel(real_server):
    responses = ["so 12 + 30 = 42 \\boxed{42}", "so 12 + 30 = 42 \\boxed{42}", "it is 41", "x"]
    groups = ["p", "p", "p", None]
    items = [
        {"response": r, "gold": "42", **({"group": g} if g else {})}
        for r, g in zip(responses, groups)
    ]
    r = httpx.post(real_server.url + "/v1/score", json={"items": items}, timeout=60)
    assert r.status_code == 200, r.text
    got = [it["rewards"]["diversity"] for it in r.json()["results"]]
    spec = server_spec(ServerConfig(env_id=ENV, weights="rlsp"))
    direct = score_batch(responses, ["42"] * 4, ["p", "p", "p", "solo"], spec, inline=True)
    assert got == pytest.approx([d.rewards["diversity"] for d in direct])
    assert got[3] == 0.0 and got[2] > got[0] > 0.0


def test_sigterm_finishes_the_request_in_flight():
    with running_server(
        "--env", ENV, "--workers", "1", "--timeout-s", "3", "--weights", WEIGHTS, hooks=True
    ) as server:  # fmt: skip
        result: dict[str, object] = {}

        def slow_request() -> None:
            body = {"query": [HUNG, "\\boxed{3}"], "labels": ["3", "3"]}
            r = httpx.post(server.url + "/get_reward", json=body, timeout=60)
            result["status"], result["body"] = r.status_code, r.json()

        t = threading.Thread(target=slow_request)
        t.start()
        time.sleep(1.0)  # the request is in flight (its first item hangs for 3 s)
        server.proc.send_signal(signal.SIGTERM)
        t.join(60)
        # uvicorn re-raises the captured SIGTERM once shut down: 0 or -SIGTERM are both clean
        assert server.proc.wait(60) in (0, -signal.SIGTERM)
        assert "[rlsp serve] stopped" in server.log()
        assert result["status"] == 200, result
        assert result["body"]["scores"] == [0.0, 1.0]  # type: ignore[index]
        assert result["body"]["extra_logs"]["timed_out"] == [1.0, 0.0]  # type: ignore[index]
        # new connections are refused once it has stopped
        with pytest.raises(httpx.TransportError):
            httpx.get(server.url + "/healthz", timeout=2)
