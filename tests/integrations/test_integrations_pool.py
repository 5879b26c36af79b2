"""score_batch over one real VerifierPool: the hard per-item timeout and crash isolation every
integration relies on (the env, the vector env, TRL, verl and the reward server score this way).

The verifier worker's test hooks (``RLSP_VERIFIERS_TEST_HOOKS=1``) stand in for pathological
inputs: ``__rlsp_test_sleep__:N`` blocks a worker for N seconds without any deadline check, and
``__rlsp_test_exit__`` kills it.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from rlsp_env.integrations.scoring import resolve_weights
from rlsp_env.scoring import make_pool, score_batch
from rlsp_env.spec import RewardSpec

SPEC = RewardSpec(weights={"correctness": 1.0, "format": 1.0}, timeout_s=1.5)
SLEEP = "__rlsp_test_sleep__:3600"


@pytest.fixture(scope="module")
def pool():
    old = os.environ.get("RLSP_VERIFIERS_TEST_HOOKS")
    os.environ["RLSP_VERIFIERS_TEST_HOOKS"] = "1"  # the workers inherit it when they start
    p = make_pool(SPEC, 2)
    try:
        yield p
    finally:
        p.close()
        if old is None:
            os.environ.pop("RLSP_VERIFIERS_TEST_HOOKS", None)
        else:
            os.environ["RLSP_VERIFIERS_TEST_HOOKS"] = old


def _score(pool, pairs, **kw):
    return score_batch([r for r, _ in pairs], [g for _, g in pairs], None, SPEC, pool=pool, **kw)


def test_results_come_back_in_input_order_and_equal_inline_scoring(pool):
    pairs = [("\\boxed{1}", "1"), ("\\boxed{3}", "2"), ("no box", "3"), ("\\boxed{1/2}", "0.5")]
    items = _score(pool, pairs)
    direct = score_batch([r for r, _ in pairs], [g for _, g in pairs], None, SPEC, inline=True)
    assert [it.rewards for it in items] == [d.rewards for d in direct]
    assert [it.reward for it in items] == [1.0, 0.0, -0.5, 1.0]
    assert all(it.verdict.reason != "timeout" for it in items)


def test_a_hung_item_times_out_alone(pool):
    t0 = time.monotonic()
    items = _score(pool, [(SLEEP, "1")] + [("\\boxed{1}", "1")] * 6)
    took = time.monotonic() - t0
    assert items[0].verdict.reason == "timeout" and items[0].rewards["correctness"] == 0.0
    assert all(it.reward == 1.0 for it in items[1:])
    # the other worker scored the rest while the first one hung: one timeout (+ grace) in all
    assert took < 1.5 + 8, took
    # the killed worker was replaced: the pool still works
    assert [it.reward for it in _score(pool, [("\\boxed{2}", "2")] * 4)] == [1.0] * 4


def test_a_crashing_worker_fails_only_its_item(pool):
    items = _score(pool, [("\\boxed{1}", "1"), ("__rlsp_test_exit__", "1"), ("\\boxed{1}", "1")])
    assert items[1].verdict.reason == "worker_died"
    assert items[0].reward == 1.0 and items[2].reward == 1.0


def test_many_threads_share_one_pool_and_group_diversity(pool):
    out: dict[int, float] = {}

    def client(i: int) -> None:
        out[i] = sum(it.reward for it in _score(pool, [(f"\\boxed{{{i}}}", str(i))] * 5))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert out == {i: 5.0 for i in range(6)}
    spec = RewardSpec(weights={"correctness": 1.0, "diversity": 1.0}, timeout_s=1.5)
    (item,) = score_batch(
        ["a b c d \\boxed{1}"], ["1"], None, spec, others=[["w x y z"]], inline=True
    )
    assert item.rewards["diversity"] == 1.0


def test_bad_weights_are_refused_clearly():
    with pytest.raises(ValueError, match="finite"):
        resolve_weights({"correctness": float("nan")})
    with pytest.raises(ValueError, match="must be a number"):
        resolve_weights({"correctness": "1"})
    with pytest.raises(ValueError, match="unknown reward channels"):
        resolve_weights({"corectness": 1.0})
    with pytest.raises(ValueError, match="unknown reward preset"):
        resolve_weights("no-such-preset")
