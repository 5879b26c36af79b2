"""ScoringPool: the integrations' thread-safe front to score_batch and one VerifierPool.

The verifier worker's test hooks (``RLSP_VERIFIERS_TEST_HOOKS=1``) stand in for pathological
inputs: ``__rlsp_test_sleep__:N`` blocks a worker for N seconds without any deadline check, and
``__rlsp_test_exit__`` kills it.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from rlsp_env.integrations.scoring import ScoringPool, resolve_weights
from rlsp_env.scoring import score_batch
from rlsp_env.spec import RewardSpec

SPEC = RewardSpec(weights={"correctness": 1.0, "format": 1.0}, timeout_s=1.5)
SLEEP = "__rlsp_test_sleep__:3600"


@pytest.fixture(scope="module")
def pool():
    old = os.environ.get("RLSP_VERIFIERS_TEST_HOOKS")
    os.environ["RLSP_VERIFIERS_TEST_HOOKS"] = "1"  # the workers inherit it when they start
    try:
        with ScoringPool(SPEC, workers=2) as p:
            yield p
    finally:
        if old is None:
            os.environ.pop("RLSP_VERIFIERS_TEST_HOOKS", None)
        else:
            os.environ["RLSP_VERIFIERS_TEST_HOOKS"] = old


def test_results_come_back_in_input_order_and_equal_score_batch(pool):
    pairs = [("\\boxed{1}", "1"), ("\\boxed{3}", "2"), ("no box", "3"), ("\\boxed{1/2}", "0.5")]
    items = pool.map(pairs)
    direct = score_batch([r for r, _ in pairs], [g for _, g in pairs], None, SPEC, inline=True)
    assert [it.rewards for it in items] == [d.rewards for d in direct]
    assert [it.reward for it in items] == [1.0, 0.0, -0.5, 1.0]
    assert all(not it.timed_out for it in items)


def test_a_hung_item_times_out_alone(pool):
    t0 = time.monotonic()
    items = pool.map([(SLEEP, "1")] + [("\\boxed{1}", "1")] * 6)
    took = time.monotonic() - t0
    assert items[0].timed_out and items[0].verdict["reason"] == "timeout"
    assert items[0].rewards["correctness"] == 0.0
    assert all(not it.timed_out and it.reward == 1.0 for it in items[1:])
    # the other worker scored the rest while the first one hung: one timeout (+ grace) in all
    assert took < 1.5 + 8, took
    assert pool.restarts >= 1
    # the killed worker was replaced: the pool still works
    assert [it.reward for it in pool.map([("\\boxed{2}", "2")] * 4)] == [1.0] * 4


def test_a_crashing_worker_fails_only_its_item(pool):
    items = pool.map([("\\boxed{1}", "1"), ("__rlsp_test_exit__", "1"), ("\\boxed{1}", "1")])
    assert items[1].timed_out and items[1].verdict["reason"] == "worker_died"
    assert items[0].reward == 1.0 and items[2].reward == 1.0


def test_many_threads_share_one_pool_and_group_diversity(pool):
    out: dict[int, float] = {}

    def client(i: int) -> None:
        out[i] = sum(it.reward for it in pool.map([(f"\\boxed{{{i}}}", str(i))] * 5))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == {i: 5.0 for i in range(6)}
    item = pool.submit("a b c d \\boxed{1}", "1", group=["w x y z"]).result(60)
    assert item.rewards["diversity"] == 1.0


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(ValueError, match="workers"):
        ScoringPool(SPEC, workers=0)
    with pytest.raises(ValueError, match="timeout_s"):
        ScoringPool({"correctness": 1.0}, timeout_s=0)
    with pytest.raises(ValueError, match="custom scorers"):
        ScoringPool(SPEC, scorer="my_module:my_scorer")
    with pytest.raises(ValueError, match="finite"):
        resolve_weights({"correctness": float("nan")})
    with pytest.raises(ValueError, match="must be a number"):
        resolve_weights({"correctness": "1"})
    with pytest.raises(ValueError, match="unknown reward channels"):
        resolve_weights({"corectness": 1.0})
    with pytest.raises(ValueError, match="unknown reward preset"):
        ScoringPool("no-such-preset")
    with ScoringPool(SPEC, workers=1) as p:
        with pytest.raises(TypeError, match="must be str"):
            p.submit(None, "1")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="closed"):
        p.submit("a", "b")
