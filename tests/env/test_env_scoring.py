"""The reward spec the env owns, and the one batch scorer behind env.step (bounded in wall-clock)."""

from __future__ import annotations

import dataclasses
import json
import time

import gymnasium as gym
import pytest

import rlsp_env  # noqa: F401
from rlsp_env import rewards
from rlsp_env.envs import MathEnv
from rlsp_env.scoring import close_shared_pools, score_batch, shared_pool, verifier_options
from rlsp_env.spec import RewardSpec


def test_reward_spec_round_trips_and_validates():
    spec = RewardSpec(
        weights={"correctness": 1.0, "diversity": 0.5},
        length_scale=300,
        exploration_cap=2,
        tokenizer="gpt2",
        verifier_mode="eval",
        answer_policy="literal",
        timeout_s=3,
    )
    d = spec.to_dict()
    assert json.loads(json.dumps(d)) == d  # JSON-ready
    assert RewardSpec.from_dict(d) == spec
    assert d["weights"]["format"] == 0.0 and set(d["weights"]) == set(rewards.CHANNELS)
    with pytest.raises(TypeError):
        spec.weights["format"] = 1.0  # type: ignore[index]  # read-only
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.length_scale = 1.0  # type: ignore[misc]  # frozen
    for bad in (
        {"weights": "fast"},
        {"weights": {"corectness": 1}},
        {"length_scale": -1},
        {"length_scale": float("nan")},
        {"exploration_cap": 0},
        {"verifier_mode": "lenient"},
        {"answer_policy": "anything"},
        {"timeout_s": 0},
        {"tokenizer": 3},
    ):
        with pytest.raises(ValueError):
            RewardSpec(**bad)
    assert hash(RewardSpec.from_dict(d)) == hash(spec)  # usable as a cache key
    with pytest.raises(ValueError, match="unknown reward spec keys"):
        RewardSpec.from_dict({"weights": "default", "lenght_scale": 3})
    # an unnamed token counter works but cannot be serialised by name
    counted = RewardSpec(tokenizer=lambda s: len(s.split()))
    with pytest.raises(ValueError, match="name_or_path"):
        counted.to_dict()


def test_envs_own_their_spec_and_declare_their_answer_policy():
    env = gym.make("rlsp/Arithmetic-v0", reward_weights="rlsp-length", length_scale=77)
    spec = env.unwrapped.reward_spec
    assert (spec.answer_policy, spec.length_scale, spec.weights["exploration"]) == (
        "literal",
        77.0,
        1.0,
    )
    env.close()
    problems = rlsp_env.make_problems("rlsp/Fractions-v0", 2)
    assert MathEnv(problems=problems).reward_spec.answer_policy == "closed_form"
    # a whole spec instead of the arguments, and never both
    whole = RewardSpec(weights="correctness", answer_policy="literal")
    assert MathEnv(problems=problems, reward_spec=whole).reward_spec is whole
    with pytest.raises(ValueError, match="not both"):
        MathEnv(problems=problems, reward_spec=whole, length_scale=5)
    envs = gym.make_vec("rlsp/Polynomial-v0", num_envs=2, reward_weights="correctness")
    assert envs.unwrapped.reward_spec == envs.unwrapped.envs[0].reward_spec
    envs.close()
    # the integrations read the same spec from the registry, without loading any problem
    from rlsp_env.integrations.scoring import env_reward_spec

    same = env_reward_spec("rlsp/Arithmetic-v0", reward_weights="rlsp-length", length_scale=77)
    assert same == spec
    with pytest.raises(ValueError, match="registered rlsp ids"):
        env_reward_spec("rlsp/Nope-v0")


def test_the_answer_policy_reaches_the_verifier_only_if_it_takes_one():
    spec = RewardSpec(answer_policy="literal")

    def old(response, gold, *, mode, timeout_s=None): ...

    def new(response, gold, *, mode, timeout_s=None, answer_policy="closed_form"): ...

    assert verifier_options(spec, old) == {"mode": "strict"}
    assert verifier_options(spec, new) == {"mode": "strict", "answer_policy": "literal"}


def test_score_batch_refuses_a_pool_that_does_not_match_the_spec():
    pool = shared_pool(RewardSpec(timeout_s=5.0))
    with pytest.raises(ValueError, match="does not match"):
        score_batch(["\\boxed{1}"], ["1"], None, RewardSpec(timeout_s=2.0), pool=pool)
    # with the matching pool, the same channels as in-process verification
    spec = RewardSpec(weights="rlsp-length", timeout_s=5.0)
    texts = ["so \\boxed{1}", "\\boxed{2}", "nothing", "<think>\\boxed{1}</think>"]
    a = score_batch(texts, ["1"] * 4, None, spec, pool=pool)
    b = score_batch(texts, ["1"] * 4, None, spec, inline=True)
    assert [r.rewards for r in a] == [r.rewards for r in b]
    assert [r.verdict.reason for r in a] == [r.verdict.reason for r in b]


def test_judge_is_called_once_per_batch_with_problems_never_golds():
    from rlsp_env.judge import JudgeResult

    class Recording:
        def __init__(self) -> None:
            self.calls: list[list[tuple[str, str]]] = []

        def grade_many(self, pairs):
            self.calls.append(list(pairs))
            return [JudgeResult(0.25 * (i % 5), True, "Effort: x") for i, _ in enumerate(pairs)]

    judge = Recording()
    probs = rlsp_env.make_problems("rlsp/Arithmetic-v0", 3)
    out = score_batch(["a", "b", "c"], probs, None, RewardSpec(weights="rlsp"), judge=judge)
    assert judge.calls == [[(p.problem, t) for p, t in zip(probs, "abc")]]
    assert [r.rewards["effort"] for r in out] == [0.0, 0.25, 0.5]
    score_batch(["a"], probs[:1], None, RewardSpec(weights="default"), judge=judge)
    assert len(judge.calls) == 1  # effort has no weight: the judge is not called


def test_env_step_is_bounded_in_wall_clock_on_a_response_that_hangs_the_verifier(monkeypatch):
    # The verifier worker's test hook blocks it (no deadline check); the env's pool kills it.
    close_shared_pools()  # so that the next pool starts with the hook enabled
    monkeypatch.setenv("RLSP_VERIFIERS_TEST_HOOKS", "1")
    try:
        env = gym.make("rlsp/Arithmetic-v0", verifier_timeout_s=5.0)
        _, info = env.reset(seed=0)
        env.step(f"\\boxed{{{info['gold']}}}")  # starts the worker (its start-up never counts)
        env.reset(seed=1)
        t0 = time.monotonic()
        *_, sinfo = env.step("__rlsp_test_sleep__:120")
        took = time.monotonic() - t0
        assert took < 6.0, took  # timeout 5 s: step returns within 6 s
        assert sinfo["verdict"]["reason"] == "timeout" and sinfo["rewards"]["correctness"] == 0.0
        _, info = env.reset(seed=2)
        assert env.step(f"\\boxed{{{info['gold']}}}")[1] == 1.0  # a fresh worker took over
        env.close()
    finally:
        close_shared_pools()


def test_a_repeated_response_is_verified_once():
    from rlsp_verifiers import VerifierPool

    class Recording(VerifierPool):  # the real pool, recording what it is asked to verify
        seen: list[tuple[str, str]] = []

        def map(self, pairs, progress=None):
            self.seen += list(pairs)
            return super().map(pairs, progress)

    texts = ["\\boxed{4}", "\\boxed{4}", "\\boxed{5}", "\\boxed{4}"]
    with Recording(workers=1, timeout_s=5.0) as pool:
        out = score_batch(texts, ["4"] * 4, [0] * 4, RewardSpec(), pool=pool)
    assert pool.seen == [("\\boxed{4}", "4"), ("\\boxed{5}", "4")]
    assert [r.rewards["correctness"] for r in out] == [1.0, 1.0, 0.0, 1.0]
