"""gym.make_vec: same-step autoreset, batched verification with per-item timeouts, groups."""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from rlsp_env import Problem
from rlsp_env.vector import MathVectorEnv

PROBLEMS = [
    Problem(id=f"p/{i}", problem=f"What is {i} + {i}?", answer=str(2 * i)) for i in range(5)
]


def test_make_vec_uses_the_batched_env_with_same_step_autoreset():
    envs = gym.make_vec("rlsp/Arithmetic-v0", num_envs=3, verifier_workers=0)
    assert isinstance(envs.unwrapped, MathVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, info = envs.reset(seed=0)
    assert len(obs) == 3 and list(info["valid"]) == [True] * 3
    golds = list(info["gold"])
    new_obs, r, te, tr, info2 = envs.step([f"\\boxed{{{g}}}" for g in golds])
    # every step is useful: scored now, and the next problems are already served
    assert r.tolist() == [1.0] * 3 and te.all() and not tr.any()
    assert list(info2["final_info"]["gold"]) == golds
    assert list(info2["final_obs"]) == list(obs)
    assert info2["final_info"]["verdict"]["reason"].tolist() == ["equal"] * 3
    assert list(new_obs) != list(obs) and len(info2["gold"]) == 3
    envs.close()


def test_vector_env_is_deterministic_under_seed():
    def run():
        envs = gym.make_vec("rlsp/LinearEquation-v0", num_envs=2, difficulty=2, verifier_workers=0)
        obs, _ = envs.reset(seed=5)
        trace = [obs]
        for _ in range(3):
            obs, r, *_ = envs.step(["\\boxed{1}", "\\boxed{2}"])
            trace.append((obs, r.tolist()))
        envs.close()
        return trace

    assert run() == run()


def test_groups_share_a_problem_and_get_diversity():
    envs = gym.make_vec(
        "rlsp/Arithmetic-v0",
        num_envs=4,
        group_size=2,
        verifier_workers=0,
        reward_weights="correctness",
    )
    obs, info = envs.reset(seed=1)
    assert obs[0] == obs[1] and obs[2] == obs[3] and obs[0] != obs[2]
    assert info["group"].tolist() == [0, 0, 1, 1]
    g0, g1 = info["gold"][0], info["gold"][2]
    acts = [
        f"add the digits \\boxed{{{g0}}}",
        f"add the digits \\boxed{{{g0}}}",  # identical to its group-mate: diversity 0
        f"first tens then ones \\boxed{{{g1}}}",
        f"completely other words entirely \\boxed{{{g1}}}",
    ]
    _, r, *_, info = envs.step(acts)
    div = info["final_info"]["rewards"]["diversity"]
    assert div[0] == div[1] == 0.0 and div[2] > 0.5 and div[3] > 0.5
    assert r.tolist() == [1.0] * 4  # diversity is log-only under "correctness"
    with pytest.raises(ValueError, match="divide"):
        gym.make_vec("rlsp/Arithmetic-v0", num_envs=3, group_size=2)
    envs.close()


def test_eval_mode_covers_every_problem_once_across_envs():
    envs = MathVectorEnv(num_envs=2, problems=PROBLEMS, eval_mode=True, verifier_workers=0)
    obs, info = envs.reset(seed=0)
    seen = [pid for pid, ok in zip(info["problem_id"], info["valid"]) if ok]
    while not envs.eval_done:
        _, _, _, _, info = envs.step(["\\boxed{0}", "\\boxed{0}"])
        seen += [pid for pid, ok in zip(info["problem_id"], info["valid"]) if ok]
    assert sorted(seen) == sorted(p.id for p in PROBLEMS)
    envs.close()


def test_disabled_autoreset_and_next_step_refused():
    with pytest.raises(ValueError, match="NEXT_STEP"):
        MathVectorEnv(num_envs=2, family="arithmetic", autoreset_mode=AutoresetMode.NEXT_STEP)
    envs = MathVectorEnv(
        num_envs=2, family="arithmetic", autoreset_mode="Disabled", verifier_workers=0
    )
    obs, info = envs.reset(seed=0)
    obs2, r, te, tr, info2 = envs.step(["\\boxed{1}", f"\\boxed{{{info['gold'][1]}}}"])
    assert obs2 == obs and r.tolist() == [0.0, 1.0] and "final_info" not in info2
    with pytest.raises(gym.error.ResetNeeded):
        envs.step(["a", "b"])
    envs.reset(options={"reset_mask": np.array([True, False])})
    with pytest.raises(gym.error.ResetNeeded):
        envs.step(["a", "b"])  # env 1 still needs a reset
    envs.close()


def test_bad_vector_input():
    envs = MathVectorEnv(num_envs=2, family="arithmetic", verifier_workers=0)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="2 envs"):
        envs.step(["a"])
    with pytest.raises(TypeError, match="action 1"):
        envs.step(["a", 3])
    with pytest.raises(TypeError):
        envs.step("ab")
    envs.close()
    with pytest.raises(RuntimeError, match="closed"):
        envs.reset()


def test_parallel_verification_with_per_item_timeouts_never_hangs():
    # a real VerifierPool with two worker processes; nasty inputs beside normal ones
    envs = gym.make_vec(
        "rlsp/Arithmetic-v0", num_envs=4, verifier_workers=2, verifier_timeout_s=2.0
    )
    _, info = envs.reset(seed=3)
    nasty = "\\boxed{" + "(" * 3000 + "1" + ")" * 3000 + "}"
    huge = "\\boxed{" + "9" * 500_000 + "}"
    acts = [f"\\boxed{{{info['gold'][0]}}}", nasty, huge, "\x00\xff binary"]
    t = time.monotonic()
    _, r, te, _, info2 = envs.step(acts)
    assert time.monotonic() - t < 60
    reasons = info2["final_info"]["verdict"]["reason"].tolist()
    assert r[0] == 1.0 and te.all() and all(reasons), reasons
    pool = envs.unwrapped._pool
    procs = [w.proc for w in pool._workers]
    envs.close()
    assert all(p.poll() is not None for p in procs)  # no worker survives close()


def test_sync_vectorization_also_works():
    envs = gym.make_vec(
        "rlsp/Fractions-v0",
        num_envs=2,
        vectorization_mode="sync",
        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP},
    )
    _, info = envs.reset(seed=0)
    _, r, te, _, _ = envs.step([f"\\boxed{{{g}}}" for g in info["gold"]])
    assert r.tolist() == [1.0, 1.0]
    assert te.all()
    envs.close()


def test_multi_turn_vector_env_resets_only_finished_envs():
    envs = MathVectorEnv(num_envs=2, problems=PROBLEMS, max_turns=2, verifier_workers=0)
    obs, info = envs.reset(seed=0, options={"index": [1, 2]})
    golds = list(info["gold"])
    # env 0 answers right (episode over, autoreset); env 1 wrong (gets feedback, same problem)
    obs2, r, te, tr, info2 = envs.step([f"\\boxed{{{golds[0]}}}", "\\boxed{999}"])
    assert te.tolist() == [True, False] and r.tolist() == [1.0, 0.0]
    assert info2["_final_info"].tolist() == [True, False]
    assert "not correct" in obs2[1] and info2["turn"][1] == 1
    _, r, te, *_ = envs.step(["\\boxed{0}", f"\\boxed{{{golds[1]}}}"])
    assert te[1] and r[1] == 1.0
    with pytest.raises(ValueError, match="max_turns"):
        MathVectorEnv(num_envs=2, group_size=2, family="arithmetic", max_turns=2)
    envs.close()
