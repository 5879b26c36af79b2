"""VerifierPool / verify_many: input order, hard per-item timeouts, poisoned items, no leaks."""

from __future__ import annotations

import os
import threading
import time

import pytest

from rlsp_verifiers import VerifierPool, verify, verify_many

PAIRS = [
    ("\\boxed{\\frac12}", "0.5"),
    ("\\boxed{3}", "4"),
    ("\\boxed{(1,2]}", "(1,2]"),
    ("no box", "1"),
    ("\\boxed{x^2-1}", "(x-1)(x+1)"),
]


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Enables the worker's test-only hooks (a blocking sleep, a crash) in new workers."""
    monkeypatch.setenv("RLSP_VERIFIERS_TEST_HOOKS", "1")


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        # a zombie is not alive
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split()[2] == "Z":
                    continue
        except OSError:
            continue
        out.append(pid)
    return out


def test_results_in_input_order_and_equal_to_verify() -> None:
    pairs = PAIRS * 4
    got = verify_many(pairs, workers=2, timeout_s=10)
    assert [v.to_dict() for v in got] == [verify(r, g).to_dict() for r, g in pairs]


def test_in_process_mode_and_empty_input() -> None:
    assert verify_many([], workers=2) == []
    got = verify_many(PAIRS, workers=0, timeout_s=5)
    assert [v.correct for v in got] == [True, False, True, False, True]


def test_invalid_members_get_a_verdict_not_an_exception() -> None:
    got = verify_many([("\\boxed{1}", "1"), (None, "1"), ("a",), ("\\boxed{2}", "2")], workers=1)  # type: ignore[list-item]
    assert [v.reason for v in got] == ["equal", "invalid_input", "invalid_input", "equal"]


def test_poisoned_item_times_out_alone(hooks: None) -> None:
    """A worker stuck in uninterruptible work is killed at its item's timeout and replaced."""
    pairs = (
        [("\\boxed{1}", "1")] * 3 + [("__rlsp_test_sleep__:60", "1")] + [("\\boxed{2}", "2")] * 6
    )
    with VerifierPool(workers=2, timeout_s=1.0) as pool:
        # warm the workers up so the measured time is the timeout, not the start-up
        pool.map([("\\boxed{1}", "1")] * 2)
        t0 = time.monotonic()
        got = pool.map(pairs)
        elapsed = time.monotonic() - t0
        assert pool.restarts == 1
        # the pool still works after the replacement
        assert [v.correct for v in pool.map(PAIRS)] == [True, False, True, False, True]
    assert got[3].reason == "timeout" and got[3].stage == "timeout" and not got[3].correct
    assert all(v.correct for i, v in enumerate(got) if i != 3)
    # the caller waited for about one timeout plus a replacement start, never for the sleep
    assert elapsed < 30, elapsed


def test_crashing_worker_is_reported_and_replaced(hooks: None) -> None:
    pairs = [("\\boxed{1}", "1"), ("__rlsp_test_exit__", "1"), ("\\boxed{2}", "2")]
    got = verify_many(pairs, workers=1, timeout_s=5)
    assert [v.reason for v in got] == ["equal", "worker_died", "equal"]


def test_timeout_starts_inside_the_worker(hooks: None) -> None:
    """Items queued behind a slow one are not charged for the wait: two 0.7 s items in one
    worker take 1.4 s in all, more than the 1 s timeout, and neither times out."""
    pairs = [
        ("__rlsp_test_sleep__:0.7", "1"),
        ("__rlsp_test_sleep__:0.7", "1"),
        ("\\boxed{1}", "1"),
    ]
    got = verify_many(pairs, workers=1, timeout_s=1.0)
    assert [v.reason for v in got] == ["no_answer", "no_answer", "equal"]


def test_close_leaves_no_processes_and_is_idempotent() -> None:
    pool = VerifierPool(workers=2, timeout_s=5)
    pids = [w.proc.pid for w in pool._workers]
    assert pool.map(PAIRS[:2])[0].correct
    pool.close()
    pool.close()
    assert _alive(pids) == []
    with pytest.raises(RuntimeError, match="closed"):
        pool.map(PAIRS)


def test_usable_from_another_thread() -> None:
    out: list[bool] = []

    def run() -> None:
        with VerifierPool(workers=1, timeout_s=5) as pool:
            out.extend(v.correct for v in pool.map(PAIRS))

    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    assert out == [True, False, True, False, True]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="workers"):
        VerifierPool(workers=0)
    with pytest.raises(ValueError, match="timeout_s"):
        VerifierPool(workers=1, timeout_s=0)
    with pytest.raises(ValueError, match="mode"):
        VerifierPool(workers=1, mode="loose")


def test_verify_bounded_hard_bound(hooks: None) -> None:
    """verify_bounded returns within timeout_s + grace even when the check never yields."""
    from rlsp_verifiers import verify_bounded

    with VerifierPool(workers=1, timeout_s=30) as pool:
        assert verify_bounded("\\boxed{2}", "2", pool=pool).correct  # the worker is started
        t = time.monotonic()
        v = verify_bounded("__rlsp_test_sleep__:60", "1", timeout_s=1.0, pool=pool)
        assert time.monotonic() - t < 5.0
        assert v.reason == "timeout"
        # the replaced worker serves the next call, with the per-call policy
        v = verify_bounded("\\boxed{23+45}", "68", answer_policy="literal", pool=pool)
        assert v.reason == "unevaluated"
        assert verify_bounded("\\boxed{23+45}", "68", pool=pool).correct


def test_verify_bounded_shared_worker_matches_verify() -> None:
    from rlsp_verifiers import verify_bounded

    for r, g in PAIRS:
        assert verify_bounded(r, g).to_dict() == verify(r, g).to_dict()
    with pytest.raises(ValueError, match="answer_policy"):
        verify_bounded("\\boxed{1}", "1", answer_policy="loose")


def test_a_worker_killed_before_it_starts_an_item_does_not_fail_the_item() -> None:
    """The item was written to a worker that died before acknowledging it (here: stopped, then
    killed from outside): it never ran there, so it is handed to the replacement and verified,
    not charged with ``worker_died``. A worker that dies *after* starting an item still is
    (test_crashing_worker_is_reported_and_replaced)."""
    import signal

    with VerifierPool(workers=1, timeout_s=5) as pool:
        assert pool.map([("\\boxed{1}", "1")])[0].correct  # the worker is up and ready
        pid = pool._workers[0].proc.pid
        os.kill(pid, signal.SIGSTOP)  # it can take the item off the pipe but never ack it
        out: list = []
        t = threading.Thread(target=lambda: out.extend(pool.map([("\\boxed{2}", "2")])))
        t.start()
        deadline = time.monotonic() + 10
        while pool._workers[0].item is None:  # the item has been written to the stopped worker
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        t.join(60)
        assert [(v.correct, v.reason) for v in out] == [(True, "equal")]
        assert pool.restarts >= 1 and _alive([pid]) == []
