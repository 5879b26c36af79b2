"""Registry-driven tests: every registered rlsp id passes Gymnasium's checker, is deterministic
under a seed, and scores its own gold answers as correct (100% of every dataset's golds)."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env

import rlsp_env
from rlsp_env import data
from rlsp_env.datasets import DATASET_LOADERS, load_problems
from rlsp_env.procedural import FAMILIES, generate_problem
from rlsp_env.registration import DATASET_ENVS, ENV_IDS, PROCEDURAL_ENVS
from rlsp_verifiers import verify_many

needs_data = pytest.mark.skipif(
    data.resolve_data_dir() is None, reason="RLSP_DATA_DIR not set (the datasets are not here)"
)


def _ids_in_registry() -> list[str]:
    return sorted(k for k in gym.registry if k.startswith("rlsp/"))


def test_every_contract_id_is_registered():
    # the ids of docs/architecture.md, all registered on import, and nothing unlisted
    assert set(_ids_in_registry()) == set(ENV_IDS)
    assert "rlsp/Arithmetic-v0" in ENV_IDS and "rlsp/MATH500-v0" in ENV_IDS
    assert len(PROCEDURAL_ENVS) == 6 and len(DATASET_ENVS) == 7


def test_module_prefix_works_without_import():
    # gym.make("rlsp_env:rlsp/...") imports the package itself; torch is never imported
    code = (
        "import sys, gymnasium as gym\n"
        "env = gym.make('rlsp_env:rlsp/Arithmetic-v0')\n"
        "obs, info = env.reset(seed=0)\n"
        "assert 'boxed' in obs, obs\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _needs_data(env_id: str) -> bool:
    return env_id in DATASET_ENVS


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env(env_id):
    if _needs_data(env_id) and data.resolve_data_dir() is None:
        pytest.skip("RLSP_DATA_DIR not set")
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_deterministic_under_seed(env_id):
    if _needs_data(env_id) and data.resolve_data_dir() is None:
        pytest.skip("RLSP_DATA_DIR not set")
    runs = []
    for _ in range(2):
        env = gym.make(env_id, reward_weights="rlsp-length")
        trace = []
        for seed in (0, 1, 2):
            obs, info = env.reset(seed=seed)
            wrong = f"Let me think. I guess \\boxed{{{len(obs)}}}"
            _, r, te, tr, sinfo = env.step(wrong)
            trace.append((obs, info["problem_id"], r, te, tr, sinfo["rewards"], sinfo["verdict"]))
        runs.append(trace)
        env.close()
    assert runs[0] == runs[1]
    # different seeds reach different problems (the sets are large)
    assert len({t[1] for t in runs[0]}) > 1


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_own_gold_scores_correct_through_step(env_id):
    if _needs_data(env_id) and data.resolve_data_dir() is None:
        pytest.skip("RLSP_DATA_DIR not set")
    env = gym.make(env_id, reward_weights="default")
    for i in range(3):
        obs, info = env.reset(seed=i)
        _, r, te, tr, sinfo = env.step(
            f"Reasoning...\nSo the answer is $\\boxed{{{info['gold']}}}$."
        )
        assert sinfo["correct"] and r == 1.0 and te and not tr, sinfo["verdict"]
        assert sinfo["rewards"]["format"] == 0.0
    env.close()


@needs_data
@pytest.mark.parametrize("name", sorted(DATASET_LOADERS))
def test_every_dataset_gold_boxed_is_correct(name):
    # 100% of the gold answers of every dataset, no exception
    problems = load_problems(name)
    verdicts = verify_many(
        [(f"The final answer is $\\boxed{{{p.answer}}}$.", p.answer) for p in problems],
        workers=2,
        timeout_s=10,
    )
    bad = [(p.id, p.answer, v.reason) for p, v in zip(problems, verdicts) if not v.correct]
    assert not bad, bad[:10]


# Worked solutions used as responses. Known exceptions, each explained:
# - MATH-500 test/number_theory/459 boxes both "15\frac{39}{40}" and "\frac{639}{40}"; the strict
#   verifier refuses two different boxed answers ("multiple_answers"), by design (anti-hedging).
# - MATH (4500 rows): 22 solutions box an intermediate result as well as the final one (same
#   reason). AIME 2024: AoPS solutions box the answer several times in different renderings
#   ("\textbf{(113)}", "025"); same reason.
SOLUTION_MIN_ACCURACY = {
    "math500": 499 / 500,
    "math": 0.99,
    "gsm8k": 1.0,
    "minerva_math": 1.0,
    "olympiadbench": 1.0,
    "aime24": 0.4,
}


@needs_data
@pytest.mark.parametrize("name", sorted(SOLUTION_MIN_ACCURACY))
def test_dataset_worked_solutions_verify(name):
    problems = [p for p in load_problems(name) if p.solution]
    verdicts = verify_many([(p.solution, p.answer) for p in problems], workers=2, timeout_s=10)
    acc = sum(v.correct for v in verdicts) / len(verdicts)
    wrong_reasons = {v.reason for v in verdicts if not v.correct}
    assert acc >= SOLUTION_MIN_ACCURACY[name], (acc, wrong_reasons)
    assert wrong_reasons <= {"multiple_answers", "no_answer"}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_procedural_gold_and_solution_verify(family):
    problems = [
        generate_problem(family, i, difficulty=d, split=s)
        for d in range(1, FAMILIES[family].max_difficulty + 1)
        for s in ("train", "test")
        for i in range(15)
    ]
    pairs = [(p.solution, p.answer) for p in problems]
    pairs += [(f"\\boxed{{{p.answer}}}", p.answer) for p in problems]
    verdicts = verify_many(pairs, workers=2, timeout_s=10)
    bad = [(pairs[i][1], v.reason) for i, v in enumerate(verdicts) if not v.correct]
    assert not bad, bad[:5]


def test_make_problems_datasets_and_procedural():
    ps = rlsp_env.make_problems("rlsp/Arithmetic-v0", 50, split="test", difficulty=1)
    assert len({p.id for p in ps}) == 50
    assert all(p.meta["split"] == "test" and p.solution.rstrip().endswith("}") for p in ps)
    assert rlsp_env.make_problems("rlsp_env:rlsp/Arithmetic-v0", 5) == rlsp_env.make_problems(
        "rlsp/Arithmetic-v0", 5
    )
    with pytest.raises(ValueError, match="give n"):
        rlsp_env.make_problems("rlsp/Arithmetic-v0")
    with pytest.raises(TypeError, match="unknown arguments"):
        rlsp_env.make_problems("rlsp/Arithmetic-v0", 3, colour="red")
    with pytest.raises(KeyError):
        rlsp_env.make_problems("rlsp/Nope-v0", 3)


@needs_data
def test_make_problems_dataset_sampling_and_filters():
    all_ = rlsp_env.make_problems("rlsp/MATH500-v0")
    assert len(all_) == 500
    some = rlsp_env.make_problems("rlsp/MATH500-v0", 20, seed=3)
    assert len(some) == 20 and some == rlsp_env.make_problems("rlsp/MATH500-v0", 20, seed=3)
    ids = [p.id for p in all_]
    assert [ids.index(p.id) for p in some] == sorted(ids.index(p.id) for p in some)
    lvl = rlsp_env.make_problems("rlsp/MATH500-v0", levels=[1], subjects=["Algebra"])
    assert lvl and all(p.level == 1 and p.subject == "Algebra" for p in lvl)
    with pytest.raises(ValueError, match="subjects"):
        rlsp_env.make_problems("rlsp/MATH500-v0", subjects=["Astrology"])
    # MATH-v0 is MATH minus MATH-500: disjoint problem texts, 4500 rows
    math_rows = rlsp_env.make_problems("rlsp/MATH-v0")
    assert len(math_rows) == 4500
    assert not {p.problem for p in math_rows} & {p.problem for p in all_}
    tr = rlsp_env.make_problems("rlsp/GSM8K-v0", split="train")
    te = rlsp_env.make_problems("rlsp/GSM8K-v0", split="test")
    assert len(tr) + len(te) == 1319 and not {p.id for p in tr} & {p.id for p in te}
