"""Two families of false positives and their fixes (docs/verifier.md, "Free variables" and
"Negated final answers").

1. An answer that names variables the gold does not have is never equal to it
   (``reason="free_variables"``): sympy's constructors cancel ``x - x + 5`` to ``5`` and
   ``0 \\cdot y`` to ``0``, and ``not 0`` used to be the product n*o*t*0 = 0. Plain-letter
   English words (``not``, ``never``, ``wrong``, ...) are words, not products. Symbolic answers
   whose variables are the gold's still compare.
2. In ``mode="eval"``, a final-answer sentence that negates or hedges its value ("The answer
   cannot be $5$.", "is not", "isn't", "at most") states no answer (``no_answer``).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rlsp_verifiers import verify
from rlsp_verifiers.parse import ENGLISH_WORDS, parse_written
from rlsp_verifiers.units import unit_of


def B(s: str) -> str:
    return f"The answer is $\\boxed{{{s}}}$."


# fmt: off
#: (answer, gold, why): an answer with a variable the gold does not have.
FREE_REJECT = [
    ("not 0", "0", "a word read as letters before zero (n*o*t*0)"),
    ("Never 0", "0", "a capitalised word"),
    ("NOT 0", "0", "capital letters before zero: a label product that cancels"),
    ("x - x + 5", "5", "a variable that cancels in a sum"),
    ("0 \\cdot y", "0", "a variable times zero"),
    ("0y + 7", "7", "a zero coefficient"),
    ("\\frac{x^2 - x}{x} - x + 1", "0", "cancel would prove it zero"),
    ("\\frac{5x}{x}", "5", "a variable over itself"),
    ("is it 0", "0", "two-letter words that stay letters, before zero"),
    ("\\sin^2 x + \\cos^2 x", "1", "an identity in x for a number"),
    ("(0 \\cdot t, 3)", "(0, 3)", "inside a tuple"),
    ("x - x + 5, 2", "5, 2", "inside a list"),
    ("y=x-x+3", "3", "inside a labelled value"),
    ("x - x + 3 = 3", "3", "a cancelled variable in the first side that is no label"),
    ("5 + 0k \\text{ cm}", "5", "inside a value with a unit"),
]

#: (answer, gold, why): variables that match the gold's, or labels, still compare.
FREE_ACCEPT = [
    ("b + a", "a + b", "commutativity"),
    ("2x + 1 - 1", "2x", "a cancelled number, not a variable"),
    ("\\frac{x^2 - 1}{x - 1}", "x + 1", "the gold's variable"),
    ("y = 2x + 3", "y - 2x = 3", "an equation in the gold's variables"),
    ("x = 3", "3", "a label is not a free variable"),
    ("x \\geq 5", "[5, \\infty)", "the variable of a solved inequality"),
    ("AB = 4, CD = 5", "4, 5", "labels of a list"),
    ("\\cos t + i \\sin t", "e^{it}", "the gold's variable (it stays a product)"),
    ("at^2", "at^2", "a short run that is a product, not the word at"),
    ("\\frac{NO}{BO} = \\frac{1}{\\sqrt{6}}", "\\frac{1}{\\sqrt6}", "capital runs are labels"),
    ("x + y - y", "x + y - y", "the gold names the same cancelled variable"),
]
# fmt: on


@pytest.mark.parametrize(("answer", "gold", "why"), FREE_REJECT, ids=[r[2] for r in FREE_REJECT])
def test_free_variables_rejected(answer: str, gold: str, why: str) -> None:
    for mode in ("strict", "eval"):
        v = verify(B(answer), gold, timeout_s=5, mode=mode)
        assert not v.correct, (why, mode, v)
        assert v.reason in ("free_variables", "unparseable", "not_equal"), (why, v)


def test_free_variables_reason() -> None:
    v = verify(B("x - x + 5"), "5", timeout_s=5)
    assert (v.correct, v.reason) == (False, "free_variables"), v


@pytest.mark.parametrize(("answer", "gold", "why"), FREE_ACCEPT, ids=[r[2] for r in FREE_ACCEPT])
def test_matching_variables_still_compare(answer: str, gold: str, why: str) -> None:
    v = verify(B(answer), gold, timeout_s=5)
    assert v.correct, (why, v)


def test_parse_written_keeps_cancelled_symbols() -> None:
    value, written, _ = parse_written("x - x + 5")
    assert str(value) == "5" and {str(s) for s in written} == {"x"}
    _, written, _ = parse_written("x - x + y - y")
    assert {str(s) for s in written} == {"x", "y"}
    _, written, first = parse_written("\\frac{NO}{BO} = \\frac{1}{\\sqrt{6}}")
    assert {str(s) for s in first} == {"N", "O", "B"} == {str(s) for s in written}


def test_english_words_are_never_units() -> None:
    assert all(unit_of(w) is None for w in ENGLISH_WORDS)


_VARS = st.sampled_from(list("abcdfghjkmnpqrstuvwxyz"))


@example(0, "x", 0)
@given(st.integers(-99, 99), _VARS, st.integers(0, 3))
def test_cancelled_variables_never_equal_a_number(n: int, v: str, shape: int) -> None:
    """Every way of writing n with a variable that cancels is refused for the number n."""
    answer = [
        f"{n} + {v} - {v}",
        f"{n} + 0 {v}",
        f"{v} \\cdot 0 + {n}",
        f"\\frac{{{n} {v}}}{{{v}}}",
    ][shape]
    v_ = verify(B(answer), str(n), timeout_s=5)
    assert not v_.correct, (answer, n, v_)


@given(st.integers(1, 20), st.integers(-20, 20), _VARS)
def test_symbolic_answers_in_the_gold_variables_compare(a: int, b: int, v: str) -> None:
    """A linear polynomial in the gold's own variable: equal renderings verify, near misses not."""
    gold = f"{a}{v} + {b}" if b >= 0 else f"{a}{v} - {-b}"
    same = f"{b} + {a} {v}"
    assert verify(B(same), gold, timeout_s=5).correct, (same, gold)
    near = f"{b + 1} + {a} {v}"
    assert not verify(B(near), gold, timeout_s=5).correct, (near, gold)


@example("not", 0)
@given(st.sampled_from(sorted(ENGLISH_WORDS)), st.integers(-50, 50))
def test_english_words_are_not_products(word: str, n: int) -> None:
    """``\\boxed{not 0}``: a word before a number is never that number (words are text)."""
    for answer in (f"{word} {n}", f"{n} {word}", f"{word} {word} {n}"):
        v = verify(B(answer), str(n), timeout_s=5)
        assert not v.correct, (answer, v)


# ---------------------------------------------------------------- negated final answers

# fmt: off
#: (response, gold, why): eval-mode sentences that negate or hedge the value they name.
NEGATED = [
    ("The answer cannot be $5$.", "5", "cannot be, in math"),
    ("The answer can not be 5.", "5", "can not be"),
    ("The answer is not $5$.", "5", "is not"),
    ("The answer isn't $5$.", "5", "isn't"),
    ("The final answer is not $ 5 $. I hope it is correct.", "5", "Final Answer, negated"),
    ("Final Answer: The final answer isn't 5.", "5", "Final Answer, isn't"),
    ("The final answer is **not 5**.", "5", "bold, negated"),
    ("The final answer is not $0$.", "0", "not before zero"),
    ("So the value is never $5$.", "5", "never"),
    ("The answer might be $5$.", "5", "a hedge"),
    ("The answer is at most $5$.", "5", "at most: a bound, not a value"),
    ("The answer is about 5.", "5", "about: an estimate"),
    ("It cannot be 5", "5", "a short reply, negated"),
    ("Thus the count cannot be 5.", "5", "a conclusion sentence, negated"),
]

#: (response, gold, why): unnegated sentences, and a negation of another value, still read.
READ = [
    ("The answer is $5$.", "5", "plain"),
    ("Final Answer: The final answer is 5. I hope it is correct.", "5", "Final Answer"),
    ("The answer is not 4. The answer is $5$.", "5", "the negation is the other sentence's"),
    ("It is not 10, it is 1,000.99", "1000.99", "a short reply: the negated number is the other"),
    ("the number is not 10 which is 1,000.99", "1000.99", "a negation two numbers back"),
    ("Therefore $x = 5$.", "5", "a conclusion"),
    ("Final Answer: The largest $n$ is 34.", "34", "a final-answer sentence"),
]
# fmt: on


@pytest.mark.parametrize(("response", "gold", "why"), NEGATED, ids=[r[2] for r in NEGATED])
def test_negated_final_answers_are_not_read(response: str, gold: str, why: str) -> None:
    v = verify(response, gold, mode="eval", timeout_s=5)
    assert not v.correct, (why, v)


@pytest.mark.parametrize(("response", "gold", "why"), READ, ids=[r[2] for r in READ])
def test_unnegated_final_answers_are_read(response: str, gold: str, why: str) -> None:
    v = verify(response, gold, mode="eval", timeout_s=5)
    assert v.correct, (why, v)


_NEGATIONS = st.sampled_from(
    ["cannot be", "can not be", "is not", "isn't", "is never", "might be", "is at most",
     "is at least", "is about", "is approximately", "is maybe", "is perhaps", "is not equal to"]
)  # fmt: skip
_SHAPES = st.sampled_from(
    [
        "The answer {neg} ${n}$.",
        "The answer {neg} {n}.",
        "So the final answer {neg} $\\displaystyle {n}$.",
        "Final Answer: The final answer {neg} ${n}$. I hope it is correct.",
        "We check the cases.\n\nThe number of ways {neg} ${n}$.",
        "Thus the count {neg} {n}.",
    ]
)


@example(5, "cannot be", "The answer {neg} ${n}$.")
@given(st.integers(-100, 100), _NEGATIONS, _SHAPES)
def test_eval_mode_never_reads_a_negated_or_hedged_value(n: int, neg: str, shape: str) -> None:
    """The negated sentence is refused; the same sentence with a plain "is" is read."""
    text = shape.format(neg=neg, n=n)
    v = verify(text, str(n), mode="eval", timeout_s=5)
    assert not v.correct, (text, v)
    plain_text = shape.format(neg="is", n=n)
    v2 = verify(plain_text, str(n), mode="eval", timeout_s=5)
    assert v2.correct, (plain_text, v2)
