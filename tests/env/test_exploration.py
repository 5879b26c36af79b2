"""The exploration channel (:mod:`rlsp_env.exploration`): signal over real lengths, no pay for
content-free padding, normalisation, curves, and any text accepted."""

from __future__ import annotations

import math
import random
import time

import pytest
from env_strategies import any_text
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_env import exploration as X
from rlsp_env import rewards as R
from rlsp_env.procedural import generate_problem

CYRILLIC = str.maketrans(
    {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "s": "ѕ"}
)
VOCAB15 = "the number we add so then carry digit result value sum step next check ok".split()
LATEX = [
    "\\alpha", "\\beta", "\\frac{a}{b}", "\\sqrt{x}", "\\cdot", "^{2}", "_{i}", "\\sum", "\\int",
    "\\left(", "\\right)", "\\pi", "\\mathrm{d}x", "\\,", "\\le",
]  # fmt: skip
SENTENCE = "Let me carefully consider each step of this calculation once more."


def _split(solution: str) -> tuple[str, str]:
    cut = solution.rindex("The final answer")
    return solution[:cut], solution[cut:]


def _zero_width_twice(s: str, rng: random.Random) -> str:
    i, j = sorted(rng.sample(range(len(s) + 1), 2))
    return s[:i] + "\u200b" + s[i:j] + "\u2060" + s[j:]


def paddings(reasoning: str, rng: random.Random) -> dict[str, str]:
    """The content-free paddings of the issue, sized as they were probed there."""
    words = reasoning.split()
    return {
        "3000 copies, 2 zero-width chars each": " ".join(
            _zero_width_twice(SENTENCE, rng) for _ in range(3000)
        ),
        "word salad, 15-word vocabulary": " ".join(rng.choice(VOCAB15) for _ in range(3000)),
        "100 shuffled copies of own words": "\n".join(
            " ".join(rng.sample(words, len(words))) for _ in range(100)
        ),
        "counting 1..1500": ", ".join(str(i) for i in range(1, 1501)),
        "LaTeX noise": " ".join(
            "$" + "".join(rng.choice(LATEX) for _ in range(5)) + "$" for _ in range(600)
        ),
        "Cyrillic look-alike copy": reasoning.translate(CYRILLIC),
        "5 Cyrillic look-alike copies": "\n".join(reasoning.translate(CYRILLIC) for _ in range(5)),
    }


FAMILIES = [("arithmetic", 2), ("arithmetic", 4), ("arithmetic", 5), ("word_problem", 3)]
FAMILIES += [("linear_system", 3), ("polynomial", 3), ("fractions", 3)]


@pytest.mark.parametrize("family,difficulty", FAMILIES)
@pytest.mark.parametrize("length_scale", [R.DEFAULT_LENGTH_SCALE, 160.0])
def test_table_no_padding_beats_the_honest_solution_it_pads(family, difficulty, length_scale):
    p = generate_problem(family, 7, difficulty=difficulty, split="train")
    reasoning, tail = _split(p.solution)
    honest = R.exploration(p.solution, p.problem, length_scale=length_scale)
    assert -1.0 < honest < 0.0
    for name, pad in paddings(reasoning, random.Random(difficulty)).items():
        for padded in (reasoning + "\n" + pad + "\n" + tail, pad + "\n" + reasoning + tail):
            e = R.exploration(padded, p.problem, length_scale=length_scale)
            assert e <= honest, (name, e, honest)


def test_table_no_padding_raises_the_paper_reward_either():
    p = generate_problem("arithmetic", 8, difficulty=5, split="train")
    reasoning, tail = _split(p.solution)
    res = R.score(p.solution, p, weights="rlsp-length")
    for name, pad in paddings(reasoning, random.Random(2)).items():
        res_pad = R.score(reasoning + "\n" + pad + "\n" + tail, p, weights="rlsp-length")
        assert res_pad.rewards["correctness"] == 1.0
        assert res_pad.reward <= res.reward, name


def test_table_the_big_paddings_alone_earn_next_to_nothing_under_default_settings():
    p = generate_problem("arithmetic", 3, difficulty=4, split="train")
    reasoning, tail = _split(p.solution)
    for name, pad in paddings(reasoning, random.Random(0)).items():
        if "Cyrillic" in name:
            continue  # the look-alike copies normalise to the honest text: not padding at all
        assert R.exploration(pad + "\n" + tail, p.problem) <= -0.95, name


def test_a_longer_derivation_earns_strictly_more_than_a_bare_answer_under_defaults():
    for family, difficulty in FAMILIES:
        p = generate_problem(family, 11, difficulty=difficulty, split="test")
        _, tail = _split(p.solution)
        bare = R.exploration("\\boxed{" + p.answer + "}", p.problem)
        short = R.exploration(tail, p.problem)
        full = R.exploration(p.solution, p.problem)
        assert bare == -1.0
        assert bare < short < full, (family, bare, short, full)
    # more steps, more signal: a 3-digit addition's worked solution vs the 2-digit one
    d1 = generate_problem("arithmetic", 0, difficulty=1, split="train").solution
    d2 = d1.replace("The final answer", "Check: add the digits again, column by column.\nThe final")
    assert R.exploration(d2) > R.exploration(d1)


def test_signal_over_the_lengths_a_small_policy_writes():
    # RLSP's capped form is flat at -1 below L tokens; the default curve varies there
    steps = [
        f"Step {i}: multiply {i + 2} by {3 * i + 1} to get {(i + 2) * (3 * i + 1)}."
        for i in range(40)
    ]
    values = [R.exploration("\n".join(steps[:k]) + " \\boxed{1}") for k in (1, 3, 10, 40)]
    assert values == sorted(values) and len(set(values)) == 4
    assert values[0] > -0.8 and values[-1] < 0.0
    capped = [
        X.exploration_reward("\n".join(steps[:k]) + " \\boxed{1}", curve="capped") for k in (1, 40)
    ]
    assert capped == [-1.0, -1.0]


def test_normalisation():
    assert X.normalise("a\u200bb\u200c\u200dc\ufeffd\u2060e\u00adf") == "abcdef"
    assert X.normalise("Ｘ ＝ ２") == "x = 2"  # full-width (NFKC)
    assert X.normalise("саrе") == "care"  # Cyrillic look-alikes
    assert X.normalise("e\u0301\u0301") == "e"  # stacked combining marks
    assert X.normalise("a\t\t b\r\nc") == "a b\nc"
    assert X.normalise("α + β") == "α + β"  # Greek math letters are kept


def test_invisible_and_lookalike_variants_measure_as_the_original():
    p = generate_problem("arithmetic", 5, difficulty=5, split="train")
    rng = random.Random(1)
    reasoning, tail = _split(p.solution)
    variants = [
        _zero_width_twice(reasoning, rng) + tail,
        reasoning.translate(CYRILLIC) + tail,
        reasoning.replace(" ", "\u00a0") + tail,
    ]
    base = R.exploration(p.solution, p.problem)
    for v in variants:
        assert R.exploration(v, p.problem) == base


def test_novelty_against_the_problem_text():
    problem = "Tom has 17 apples and buys 25 more. How many apples does Tom have now?"
    echo = "Tom has 17 apples and buys 25 more. How many apples does Tom have now? \\boxed{42}"
    work = "He starts with 17 and gains 25, so 17 + 25 = 42 in total. \\boxed{42}"
    assert R.exploration(echo, problem) < R.exploration(work, problem)


def test_curves():
    text = "alpha beta gamma delta epsilon \\boxed{1}"
    assert X.exploration_reward(text, length_scale=2.0, curve="paper") == pytest.approx(
        -2.0 / (len("alpha beta gamma delta epsilon ") / 4)
    )
    assert X.exploration_reward("\\boxed{1}", length_scale=3.0, curve="paper") == -3.0
    assert X.exploration_reward(text, length_scale=1000.0, curve="capped") == -1.0
    assert X.exploration_reward(text, length_scale=2.0, curve="capped") == pytest.approx(-2.0 / 7.5)
    assert X.curve_value(0.0, 100.0) == -1.0 and X.curve_value(100.0, 100.0) == 0.0
    assert X.curve_value(1e9, 100.0) == 0.0 and X.curve_value(50.0, 100.0, raw=250.0) == -1.0
    assert X.curve_value(10.0, 100.0, cap=2.0) == pytest.approx(2 * X.curve_value(10.0, 100.0))
    assert R.exploration(text, length_scale=0.0) == 0.0
    # only the text before the final box counts
    assert R.exploration(text + " zeta eta", length_scale=50.0) == R.exploration(
        text, length_scale=50.0
    )
    with pytest.raises(ValueError, match="curve"):
        X.exploration_reward(text, curve="nope")
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError):
            X.exploration_reward(text, length_scale=bad)
        with pytest.raises(ValueError):
            R.exploration(text, length_scale=bad)
    with pytest.raises(ValueError):
        X.curve_value(1.0, 10.0, cap=0.0)
    with pytest.raises(TypeError):
        X.exploration_reward(b"bytes")  # type: ignore[arg-type]


def test_fast_on_huge_input():
    huge = ("\u200b".join("x" * 7) + " 12 + 13 = 25. ") * 20_000  # ~600k characters
    t0 = time.perf_counter()
    v = R.exploration(huge)
    assert time.perf_counter() - t0 < 2.0 and v == -1.0
    p = generate_problem("word_problem", 2, difficulty=4, split="train")
    t0 = time.perf_counter()
    for _ in range(200):
        R.exploration(p.solution, p.problem)
    assert (time.perf_counter() - t0) / 200 < 0.005  # per response, well under a millisecond idle


@given(any_text, st.floats(0.0, 5000.0), st.floats(0.01, 10.0))
def test_bounded_and_total_on_any_text(text, length_scale, cap):
    v = R.exploration(text, text[:20], length_scale=length_scale, cap=cap)
    assert math.isfinite(v) and -cap <= v <= 0.0


_sol_draws = st.tuples(st.sampled_from(FAMILIES), st.integers(0, 10_000), st.integers(0, 2**32 - 1))


@settings(max_examples=12, deadline=None)
@given(_sol_draws, st.sampled_from([R.DEFAULT_LENGTH_SCALE, 96.0, 160.0, 512.0]), st.booleans())
def test_property_no_padding_pays_over_the_honest_solution(draw, length_scale, before):
    (family, difficulty), index, seed = draw
    p = generate_problem(family, index, difficulty=difficulty, split="train")
    reasoning, tail = _split(p.solution)
    honest = R.exploration(p.solution, p.problem, length_scale=length_scale)
    for name, pad in paddings(reasoning, random.Random(seed)).items():
        padded = pad + "\n" + reasoning + tail if before else reasoning + "\n" + pad + "\n" + tail
        assert R.exploration(padded, p.problem, length_scale=length_scale) <= honest, name


@settings(max_examples=30, deadline=None)
@given(_sol_draws)
def test_property_more_worked_steps_pay_more_under_defaults(draw):
    (family, difficulty), index, _ = draw
    p = generate_problem(family, index, difficulty=difficulty, split="train")
    reasoning, tail = _split(p.solution)
    lines = [ln for ln in reasoning.split("\n") if ln.strip()]
    first = R.exploration(lines[0] + "\n" + tail, p.problem)
    assert R.exploration("\\boxed{" + p.answer + "}", p.problem) < first
    assert first <= R.exploration(p.solution, p.problem)
