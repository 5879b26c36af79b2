"""Episode semantics: single and multi-turn, evaluation mode, splits, prompts, bad input."""

from __future__ import annotations

import gymnasium as gym
import pytest

import rlsp_env
from rlsp_env import Problem
from rlsp_env.envs import EvalExhaustedError, MathEnv, UnicodeText

GOLD_PROBLEMS = [
    Problem(id="t/0", problem="What is $2+3$?", answer="5", solution="2+3=5 \\boxed{5}"),
    Problem(id="t/1", problem="What is $\\frac{1}{2}+\\frac{1}{4}$?", answer="\\frac{3}{4}"),
    Problem(id="t/2", problem="Solve $x+1=3$.", answer="2", level=2, subject="Algebra"),
]


def test_single_turn_step_info_and_flags():
    env = gym.make("rlsp/Arithmetic-v0", difficulty=1, reward_weights="rlsp-length", length_scale=5)
    obs, info = env.reset(seed=0, options={"index": 7})
    assert obs.startswith(info["problem"]) and "\\boxed{}" in obs
    assert info["messages"] == [{"role": "user", "content": obs}]
    assert {"problem_id", "gold", "problem", "messages", "solution", "level", "subject"} <= set(
        info
    )
    assert info["level"] == 1 and info["solution"].endswith(f"\\boxed{{{info['gold']}}}")
    _, reward, terminated, truncated, sinfo = env.step(info["solution"])
    assert terminated and not truncated
    assert sinfo["correct"] and sinfo["extracted"] == info["gold"]
    assert sinfo["verdict"]["reason"] == "equal" and sinfo["problem_id"] == info["problem_id"]
    assert set(sinfo["rewards"]) == set(rlsp_env.rewards.CHANNELS)
    assert reward == pytest.approx(
        sum(sinfo["reward_weights"][c] * v for c, v in sinfo["rewards"].items())
    )
    assert sinfo["messages"][-1] == {"role": "assistant", "content": info["solution"]}
    with pytest.raises(gym.error.ResetNeeded):
        env.step("again")  # the episode has ended


def test_arithmetic_difficulty_1_is_two_digit_addition():
    for p in rlsp_env.make_problems("rlsp/Arithmetic-v0", 40, difficulty=1):
        a, b = p.problem.removeprefix("What is $").removesuffix("$?").split(" + ")
        assert 10 <= int(a) <= 99 and 10 <= int(b) <= 99 and int(p.answer) == int(a) + int(b)


def test_multi_turn_feedback_then_success():
    env = MathEnv(problems=GOLD_PROBLEMS, max_turns=3, reward_weights="correctness")
    obs, info = env.reset(options={"index": 0})
    obs, r, te, tr, i1 = env.step("I think \\boxed{6}")
    assert (r, te, tr) == (0.0, False, False)
    assert "not correct" in obs and "$6$" in obs and i1["turn"] == 1
    obs, r, te, tr, i2 = env.step("no box at all")
    assert (r, te) == (0.0, False) and "no boxed answer" in obs
    obs, r, te, tr, i3 = env.step("Let me redo it: 2+3=5, \\boxed{5}")
    assert (r, te, tr) == (1.0, True, False)
    roles = [m["role"] for m in i3["messages"]]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]


def test_multi_turn_ends_after_max_turns():
    env = MathEnv(problems=GOLD_PROBLEMS, max_turns=2)
    env.reset(options={"index": 0})
    assert env.step("\\boxed{1}")[2] is False
    _, _, te, tr, info = env.step("\\boxed{2}")
    assert te and not tr and info["turn"] == 2


def test_eval_mode_visits_every_problem_exactly_once():
    env = MathEnv(problems=GOLD_PROBLEMS, eval_mode=True)
    seen = [env.reset()[1]["problem_id"] for _ in range(3)]
    assert seen == ["t/0", "t/1", "t/2"]
    with pytest.raises(EvalExhaustedError):
        env.reset()
    assert env.reset(seed=0)[1]["problem_id"] == "t/0"  # a seed starts a new pass
    proc = gym.make("rlsp/Fractions-v0", eval_mode=True, num_problems=5, split="test").unwrapped
    ids = [proc.reset()[1]["problem_id"] for _ in range(5)]
    assert len(ids) == 5
    with pytest.raises(EvalExhaustedError):
        proc.reset()


def test_train_and_test_splits_are_disjoint():
    for env_id in rlsp_env.PROCEDURAL_ENVS:
        for d in (1, 3):
            tr = {
                p.meta["split"]
                for p in rlsp_env.make_problems(env_id, 30, split="train", difficulty=d)
            }
            te_ps = rlsp_env.make_problems(env_id, 30, split="test", difficulty=d)
            assert tr == {"train"} and {p.meta["split"] for p in te_ps} == {"test"}
    train = {p.problem for p in rlsp_env.make_problems("rlsp/Arithmetic-v0", 2000, split="train")}
    test = {p.problem for p in rlsp_env.make_problems("rlsp/Arithmetic-v0", 500, split="test")}
    assert not train & test
    # commutative duplicates count as the same problem: 'a + b' and 'b + a' never straddle splits
    flipped = {" + ".join(reversed(p[len("What is $") : -2].split(" + "))) for p in test}
    assert not {p[len("What is $") : -2] for p in train} & flipped


def test_difficulty_is_graded():
    sizes = [
        max(len(p.answer) for p in rlsp_env.make_problems("rlsp/Arithmetic-v0", 30, difficulty=d))
        for d in (1, 4)
    ]
    assert sizes[0] < sizes[1]
    with pytest.raises(ValueError, match="difficulty"):
        gym.make("rlsp/Arithmetic-v0", difficulty=9)


def test_custom_prompt_and_system_prompt():
    env = MathEnv(
        problems=GOLD_PROBLEMS,
        prompt_template="Q: {problem}\nA:",
        system_prompt="You are a careful mathematician.",
    )
    obs, info = env.reset(options={"index": 1})
    assert obs == "Q: What is $\\frac{1}{2}+\\frac{1}{4}$?\nA:"
    assert info["messages"][0] == {"role": "system", "content": "You are a careful mathematician."}
    with pytest.raises(ValueError, match="problem"):
        MathEnv(problems=GOLD_PROBLEMS, prompt_template="no placeholder")


def test_reset_with_a_given_problem():
    env = gym.make("rlsp/Arithmetic-v0")
    _, info = env.reset(options={"problem": GOLD_PROBLEMS[2]})
    assert info["problem_id"] == "t/2" and info["gold"] == "2"


def test_bad_input():
    env = gym.make("rlsp/Arithmetic-v0")
    with pytest.raises(gym.error.ResetNeeded):
        env.step("\\boxed{1}")  # step before reset
    raw = MathEnv(family="arithmetic")
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        raw.step("\\boxed{1}")  # also without gym.make's wrappers
    raw.reset(seed=0)
    for action in (None, 12, b"\\boxed{1}", ["\\boxed{1}"]):
        with pytest.raises(TypeError, match="str"):
            raw.step(action)
    with pytest.raises(IndexError):
        raw.reset(options={"index": -1})
    with pytest.raises(ValueError, match="unknown reset options"):
        raw.reset(options={"idx": 1})
    with pytest.raises(ValueError):
        MathEnv(family="arithmetic", max_turns=0)
    with pytest.raises(ValueError):
        MathEnv(family="arithmetic", reward_weights={"speed": 1.0})
    with pytest.raises(ValueError, match="exactly one"):
        MathEnv()
    with pytest.raises(KeyError):
        MathEnv(family="calculus")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00\x01\x02" * 100,
        "\\boxed{" * 5000,
        "9" * 100_000,
        "\\boxed{" + "1" * 200_000 + "}",
    ],
)
def test_empty_huge_or_binary_text_gives_a_verdict(text):
    env = MathEnv(family="arithmetic", reward_weights="rlsp-length")
    env.reset(seed=0)
    _, r, te, tr, info = env.step(text)
    assert te and not info["correct"] and info["verdict"]["reason"]


def test_effort_weight_without_judge_warns():
    with pytest.warns(UserWarning, match="no judge"):
        MathEnv(family="arithmetic", reward_weights="rlsp")


def test_unicode_text_space():
    s = UnicodeText(50)
    assert s.contains("∫ x² dx = \\frac{x^3}{3} 你好 🙂") and not s.contains(3)
    assert not s.contains("x" * 51)
    s.seed(0)
    assert all(s.contains(s.sample()) for _ in range(20))


def test_render_ansi():
    env = MathEnv(problems=GOLD_PROBLEMS, render_mode="ansi")
    env.reset(options={"index": 0})
    env.step("\\boxed{5}")
    text = env.render()
    assert "[user]" in text and "[assistant] \\boxed{5}" in text and "correctness" in text


@pytest.mark.parametrize(
    "kwargs",
    [
        {"family": "linear_system", "max_turns": 3, "difficulty": 4},
        {"family": "word_problem", "eval_mode": True, "num_problems": 50},
        {"problems": GOLD_PROBLEMS, "system_prompt": "Be brief."},
    ],
)
def test_check_env_on_variants(kwargs):
    from gymnasium.utils.env_checker import check_env

    check_env(MathEnv(**kwargs), skip_render_check=True)
