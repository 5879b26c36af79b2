"""The scoring pool's per-item timeout, crash isolation and ordering, with real worker processes.

``slow_scorer`` (see integrations_helpers) hangs, raises or kills its process on marker words so
that the pool's machinery is exercised deterministically; items without markers are scored by
the real ``rlsp_env.rewards.score`` elsewhere (test_integrations_server.py).
"""

from __future__ import annotations

import threading
import time

import pytest

from rlsp_env.integrations.scoring import ScoringPool, resolve_weights

SCORER = "integrations_helpers:slow_scorer"
W = {"correctness": 1.0}


@pytest.fixture(scope="module")
def pool():
    with ScoringPool(W, workers=2, timeout_s=1.5, scorer=SCORER) as p:
        yield p


def test_results_come_back_in_input_order(pool):
    items = pool.map([("CONST a", "1"), ("CONST b", "2"), ("CONST c", "3")])
    assert [it.reward for it in items] == [0.5, 0.5, 0.5]
    assert all(not it.timed_out for it in items)


def test_a_hung_item_times_out_alone(pool):
    t0 = time.monotonic()
    items = pool.map([("SLEEP_FOREVER", "1")] + [("CONST", "1")] * 6)
    took = time.monotonic() - t0
    assert items[0].timed_out and items[0].verdict["reason"] == "timeout"
    assert items[0].reward == 0.0 and items[0].verdict["stage"] == "timeout"
    assert 1.4 <= items[0].elapsed_s < 5
    assert all(not it.timed_out and it.reward == 0.5 for it in items[1:])
    # the other worker scored the rest while the first one hung: no extra timeout per item
    assert took < 1.5 + 8, took
    assert pool.stats["timeouts"] >= 1
    # the killed worker was replaced: the pool still works at full size
    assert [it.reward for it in pool.map([("CONST", "1")] * 4)] == [0.5] * 4


def test_the_timeout_starts_inside_the_worker():
    # Two hung items and one worker: the second waits ~timeout in the queue, yet gets its own
    # full timeout once a worker starts it, so both end with elapsed_s ~ timeout.
    with ScoringPool(W, workers=1, timeout_s=1.0, scorer=SCORER) as p:
        t0 = time.monotonic()
        a, b, c = p.map([("SLEEP_FOREVER", "1"), ("SLEEP_FOREVER", "2"), ("CONST", "3")])
        took = time.monotonic() - t0
    assert a.timed_out and b.timed_out and not c.timed_out
    assert b.elapsed_s >= 0.95
    assert took >= 2.0


def test_raising_and_crashing_scorers_fail_only_their_item(pool):
    items = pool.map([("RAISE", "1"), ("CONST", "1"), ("CRASH", "1"), ("CONST", "1")])
    assert items[0].timed_out and items[0].verdict["reason"].startswith("error: ValueError")
    assert items[2].timed_out and items[2].verdict["reason"] == "worker_died"
    assert items[1].reward == 0.5 and items[3].reward == 0.5
    assert pool.map([("CONST", "1")])[0].reward == 0.5


def test_many_threads_share_one_pool(pool):
    out: dict[int, float] = {}

    def client(i: int) -> None:
        out[i] = sum(it.reward for it in pool.map([("CONST", str(i))] * 5))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == {i: 2.5 for i in range(6)}


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(ValueError, match="workers"):
        ScoringPool(W, workers=0, scorer=SCORER)
    with pytest.raises(ValueError, match="timeout_s"):
        ScoringPool(W, timeout_s=0, scorer=SCORER)
    with pytest.raises(ValueError, match="module:function"):
        ScoringPool(W, scorer="no_colon")
    with pytest.raises(ValueError, match="finite"):
        resolve_weights({"correctness": float("nan")})
    with pytest.raises(ValueError, match="must be a number"):
        resolve_weights({"correctness": "1"})
    with pytest.raises(ValueError, match="unknown reward channels"):
        resolve_weights({"corectness": 1.0})
    with pytest.raises(ValueError, match="unknown reward preset"):
        ScoringPool("no-such-preset", scorer=SCORER)
    with ScoringPool(W, workers=1, scorer=SCORER) as p:
        with pytest.raises(TypeError, match="must be str"):
            p.submit(None, "1")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="closed"):
        p.submit("a", "b")
