"""TRL: the dataset and per-channel reward functions, and a real GRPO run of TRL 1.16 on the CPU.

The GRPO test runs the documented example docs/integrations/examples/trl_grpo.py with the
embedded model (no vLLM mode), a few steps with tiny batches, and checks that every channel was
called, logged by TRL, and that the weighted channels moved the policy.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from integrations_helpers import run_with_path

from rlsp_env import rewards
from rlsp_env.integrations.scoring import env_reward_spec
from rlsp_env.integrations.trl import (
    ChannelReward,
    completion_text,
    grpo_setup,
    make_dataset,
    make_reward_funcs,
)
from rlsp_env.scoring import score_batch
from rlsp_env.spec import RewardSpec

ROOT = Path(__file__).resolve().parents[2]
ENV = "rlsp/Arithmetic-v0"


def test_dataset_columns_and_chat_prompts():
    ds = make_dataset(ENV, 6, system_prompt="Be brief.")
    assert ds.column_names == ["prompt", "gold", "problem_id", "problem"]
    assert len(ds) == 6 and len(set(ds["problem_id"])) == 6
    row = ds[0]
    assert row["prompt"][0] == {"role": "system", "content": "Be brief."}
    assert row["prompt"][1]["role"] == "user" and "\\boxed" in row["prompt"][1]["content"]
    # the same problems the env serves
    import gymnasium as gym

    env = gym.make(ENV)
    _, info = env.reset(seed=0, options={"index": 3})
    assert (info["problem_id"], info["gold"]) == (ds[3]["problem_id"], ds[3]["gold"])
    env.close()
    # test split differs from train
    test = make_dataset(ENV, 6, split="test")
    assert not set(test["problem_id"]) & set(ds["problem_id"])


def test_reward_funcs_one_per_channel_with_weights():
    funcs, weights = make_reward_funcs("rlsp")
    assert [f.__name__ for f in funcs] == list(rewards.CHANNELS)
    assert weights == [rewards.PRESETS["rlsp"][c] for c in rewards.CHANNELS]
    funcs, weights = make_reward_funcs({"correctness": 1.0}, channels=["correctness", "format"])
    assert [f.__name__ for f in funcs] == ["correctness", "format"] and weights == [1.0, 0.0]
    with pytest.raises(ValueError, match="unknown channels"):
        make_reward_funcs("rlsp", channels=["corectness"])
    with pytest.raises(ValueError, match="duplicate"):
        make_reward_funcs("rlsp", channels=["format", "format"])


def test_channel_functions_match_direct_scoring_and_share_one_scoring():
    funcs, _ = make_reward_funcs("rlsp")
    completions = [
        [{"role": "assistant", "content": "12 + 30 = 42. Wait, let me check. \\boxed{42}"}],
        [{"role": "assistant", "content": "It is 41"}],
        [{"role": "assistant", "content": "12 + 30 = 42 so \\boxed{42}"}],
    ]
    gold = ["42", "42", "42"]
    ids = ["p1", "p1", "p1"]
    texts = [completion_text(c) for c in completions]
    direct = score_batch(texts, gold, ids, RewardSpec(weights="rlsp"), inline=True)
    for f in funcs:
        got = f(prompts=[[]] * 3, completions=completions, gold=gold, problem_id=ids)
        assert got == pytest.approx([d.rewards[f.__name__] for d in direct]), f.__name__
    scorer = funcs[0].scorer
    assert scorer.scored == 3  # scored once for all eight channels
    assert scorer.calls == {c: 1 for c in rewards.CHANNELS}
    # diversity compares completions of the same problem: non-zero here
    assert all(d.rewards["diversity"] > 0 for d in direct)


def test_channel_function_logs_verdicts_and_accepts_plain_strings():
    funcs, _ = make_reward_funcs("correctness", channels=["correctness"])
    logged: dict[str, list] = {}
    out = funcs[0](
        prompts=["q", "q"],
        completions=["\\boxed{5}", "\\boxed{6}"],
        gold=["5", "5"],
        log_extra=lambda k, v: logged.__setitem__(k, v),
    )
    assert out == [1.0, 0.0]
    assert logged["verdict"] == ["equal", "not_equal"]
    assert logged["extracted"] == ["5", "6"]


def test_channel_function_errors_are_clear():
    f = make_reward_funcs("default", channels=["correctness"])[0][0]
    assert isinstance(f, ChannelReward)
    with pytest.raises(TypeError, match="'gold' column"):
        f(prompts=["q"], completions=["x"])
    with pytest.raises(ValueError, match="1 completions but 2 gold"):
        f(prompts=["q"], completions=["x"], gold=["1", "2"])
    with pytest.raises(TypeError, match="string or chat messages"):
        completion_text(42)


def test_grpo_setup_uses_the_env_default_weights():
    setup = grpo_setup(ENV, n=2)
    assert setup.reward_weights == [rewards.resolve_weights("default")[c] for c in setup.channels]
    assert len(setup.dataset) == 2


def test_grpo_setup_keeps_every_env_reward_setting():
    import gymnasium as gym

    kwargs = dict(length_scale=37.0, exploration_cap=2.0, verifier_timeout_s=3.0)
    setup = grpo_setup(ENV, n=2, weights="rlsp-length", **kwargs)
    env = gym.make(ENV, reward_weights="rlsp-length", **kwargs)
    assert setup.scorer.spec == env.unwrapped.reward_spec  # no silent drift from env.step
    assert setup.scorer.spec.answer_policy == "literal"  # the procedural family's declaration
    text = "add 12 and 30 to get 42 \\boxed{42}"
    _, info = env.reset(seed=0)
    _, _, _, _, sinfo = env.step(text)
    got = {f.__name__: f(completions=[text], gold=[info["gold"]])[0] for f in setup.reward_funcs}
    assert got == sinfo["rewards"]
    env.close()
    assert env_reward_spec("rlsp/MATH500-v0").answer_policy == "closed_form"
    with pytest.raises(ValueError, match="not both"):
        make_reward_funcs("rlsp", spec=RewardSpec())


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_trl_grpo_trains_against_every_channel(tmp_path):
    script = (ROOT / "docs" / "integrations" / "examples" / "trl_grpo.py").read_text()
    weights = {"correctness": 1.0, "format": 1.0, "diversity": 1.0}
    stdout = run_with_path(
        "",
        script,
        "--n", "4", "--max-steps", "2", "--num-generations", "3",
        "--max-completion-length", "24", "--temperature", "0.5", "--weights", json.dumps(weights),
        "--output-dir", str(tmp_path / "out"),
        timeout=600,
    )  # fmt: skip
    out = json.loads(stdout.strip().splitlines()[-1])
    channels = list(rewards.CHANNELS)
    assert out["channels"] == channels
    assert out["reward_weights"] == [weights.get(c, 0.0) for c in channels]
    assert out["calls"] == {c: 2 for c in channels}  # every channel, every step
    assert out["scored"] == 2 * 3  # one scoring per completion, shared by the channels
    steps = [row for row in out["log_history"] if "loss" in row]
    assert len(steps) == 2
    for row in steps:
        for c in channels:
            assert math.isfinite(row[f"rewards/{c}/mean"]), c
    # 24 tokens are too few for a box, but at temperature 0.5 the three completions of a group
    # share some trigrams: diversity differs within the group and its weight moves the policy
    assert any(row["grad_norm"] > 0 for row in steps)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_effort_channel_uses_a_real_judge_on_the_prompt_text():
    from rlsp_agents.judges import TransformersJudge
    from rlsp_env.problem import Problem

    judge = TransformersJudge("smollm2-135m", max_new_tokens=6)
    calls: list[list[tuple[str, str]]] = []
    grade_many = judge.grade_many

    def recording(pairs):
        calls.append(list(pairs))
        return grade_many(pairs)

    judge.grade_many = recording  # type: ignore[method-assign]
    funcs, _ = make_reward_funcs("rlsp", channels=["effort", "correctness"], judge=judge)
    prompts = [[{"role": "user", "content": "What is 12 + 30?"}]] * 2
    completions = ["12 + 30 = 42. Check: 42 - 30 = 12. \\boxed{42}", "\\boxed{41}"]
    effort = funcs[0](prompts=prompts, completions=completions, gold=["42", "42"])
    funcs[1](prompts=prompts, completions=completions, gold=["42", "42"])
    assert len(calls) == 1  # one judge call per batch, shared by the channels
    assert calls[0] == [("What is 12 + 30?", c) for c in completions]  # never the gold
    direct = score_batch(
        completions,
        [Problem(id=str(i), problem="What is 12 + 30?", answer="42") for i in range(2)],
        None,
        RewardSpec(weights="rlsp"),
        judge=TransformersJudge("smollm2-135m", max_new_tokens=6),
        inline=True,
    )
    assert effort == pytest.approx([d.rewards["effort"] for d in direct])
    assert all(0.0 <= e <= 1.0 for e in effort)
