"""The arithmetic reward hack: a plain-number gold answered by the unevaluated problem.

A PPO run on "What is 23 + 45?" learned to box ``23 + 45``: equal in value to the gold ``68``,
but a restatement of the problem, not an answer. Under ``answer_policy="literal"`` (declared by
procedural arithmetic environments), when the gold is a number literal the answer must be a
number literal too (any literal form); otherwise the verdict is ``unevaluated``. The default
policy, ``"closed_form"`` (datasets), accepts every exact closed form. One comment per row.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlsp_verifiers import REASONS, STAGES, verify

B = "\\boxed{{{}}}".format

# fmt: off
HACKS = [
    # (answer as boxed, gold, what the hack is)
    ("23 + 45", "68", "the problem restated (the PPO hack itself)"),
    ("23+45", "68", "the same without spaces"),
    ("70-2", "68", "a difference"),
    ("2\\times 34", "68", "a product with \\times"),
    ("2\\cdot34", "68", "a product with \\cdot"),
    ("17\\cdot 4", "68", "another factorisation"),
    ("4^2", "16", "a power for a plain integer gold"),
    ("\\sqrt{4}", "2", "a root for a plain integer gold"),
    ("(60+8)", "68", "a parenthesised sum"),
    ("\\left(60+8\\right)", "68", "a decorated parenthesised sum"),
    ("\\frac{23+45}{1}", "68", "a fraction whose numerator is a sum"),
    ("68+0", "68", "the right number plus zero"),
    ("x = 23 + 45", "68", "an assignment to the sum"),
    ("68 = 23 + 45", "68", "a chain whose final link is the sum"),
    ("23 + 45 \\text{ apples}", "68 \\text{ apples}", "a sum with units"),
    ("\\frac{1+2}{4}", "\\frac{3}{4}", "a fraction gold answered with a sum inside"),
    ("1 - \\frac{1}{4}", "0.75", "a decimal gold answered by a subtraction"),
    ("25 + 25\\%", "50\\%", "a percentage gold answered by a sum"),
    ("10^3", "1,000", "a power for a separated integer gold"),
    ("-(3+4)", "-7", "a negated sum"),
    ("(1, 1+1)", "(1, 2)", "a tuple of literals: element by element"),
    ("\\{1+1, 1\\}", "\\{1, 2\\}", "a set of literals: element by element"),
    ("[0, 2-1]", "[0, 1]", "an interval of literals: element by element"),
]
# fmt: on


# fmt: off
ACCEPT = [
    ("68", "68", "the literal itself"),
    ("068", "68", "a leading zero"),
    ("68.0", "68", "a decimal integer"),
    ("6.8\\times10^{1}", "68", "scientific notation"),
    ("2\\cdot 10^{3}", "2000", "scientific notation with \\cdot"),
    ("6.8e1", "68", "e-notation"),
    ("\\frac{136}{2}", "68", "a fraction of literals reducing to an integer counts as a literal"),
    ("1{,}000", "1000", "braced thousands separator"),
    ("1,000", "1000", "thousands separator"),
    ("50\\%", "50\\%", "a percentage"),
    ("0.5", "50\\%", "a percentage's value"),
    ("x = 68", "68", "an assignment"),
    ("68 \\text{ apples}", "68", "a unit word"),
    ("\\$68", "68", "a dollar sign"),
    ("(68)", "68", "a parenthesised literal"),
    ("0.5", "\\frac{1}{2}", "a decimal for a fraction gold"),
    ("\\frac{2}{4}", "\\frac{1}{2}", "an unreduced fraction"),
    ("\\dfrac{3}{4}", "3/4", "\\dfrac against a slash fraction"),
    ("2\\frac{1}{2}", "2.5", "a mixed number"),
    ("-\\frac{1}{2}", "-0.5", "a negative fraction"),
    ("0.\\overline{6}", "\\frac{2}{3}", "a repeating decimal"),
    ("23 + 45 = 68", "68", "a chain ending in the literal (every link still equals the gold)"),
    ("x = \\frac{12}{4} = 3", "3", "an assignment chain ending in the literal"),
    ("(B) 68", "68", "a choice with its literal value"),
    ("1024", "2^{10}", "a power gold is not a plain number: symbolic equivalence"),
    ("2^{10}", "2^{10}", "the power itself"),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{\\sqrt3}{2}", "an irrational gold keeps symbolic equivalence"),
    ("\\frac{1}{4}\\pi", "\\pi/4", "a constant gold keeps symbolic equivalence"),
    ("2x + 2", "2(x+1)", "an expression gold keeps symbolic equivalence"),
    ("(1, 2)", "(1, 2)", "a tuple of literals"),
    ("2, 1", "1, 2", "a bare list of literals, any order"),
]
# fmt: on


@pytest.mark.parametrize("mode", ["strict", "eval"])
@pytest.mark.parametrize(("answer", "gold", "why"), HACKS, ids=[h[2] for h in HACKS])
def test_unevaluated_rejected(answer: str, gold: str, why: str, mode: str) -> None:
    v = verify(B(answer), gold, mode=mode, answer_policy="literal")  # type: ignore[arg-type]
    assert not v.correct, (answer, gold, why, v)
    assert v.reason == "unevaluated", (answer, gold, why, v)
    assert v.stage == "structural"
    # the default policy (closed_form) accepts the equal closed form
    assert verify(B(answer), gold, mode=mode).correct, (answer, gold, why)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["strict", "eval"])
@pytest.mark.parametrize(("answer", "gold", "why"), ACCEPT, ids=[a[2] for a in ACCEPT])
def test_literals_accepted(answer: str, gold: str, why: str, mode: str) -> None:
    for policy in ("literal", "closed_form"):
        v = verify(B(answer), gold, mode=mode, answer_policy=policy)  # type: ignore[arg-type]
        assert v.correct, (answer, gold, why, policy, v)


def test_reason_and_stage_are_declared() -> None:
    assert "unevaluated" in REASONS
    assert "structural" in STAGES


def test_wrong_arithmetic_keeps_its_reason() -> None:
    # the rule only turns an equal value into a rejection: a wrong sum is still not_equal
    assert verify(B("23 + 46"), "68", answer_policy="literal").reason == "not_equal"


def test_same_value_in_two_boxes_last_one_counts() -> None:
    # the sum then its value: one answer, the literal 68
    assert verify("\\boxed{23+45} = \\boxed{68}", "68", answer_policy="literal").correct
    # the value then the sum: the final answer is the unevaluated sum
    v = verify("\\boxed{68}, i.e. \\boxed{23+45}", "68", answer_policy="literal")
    assert v.reason == "unevaluated"


@given(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6))
def test_boxed_sum_never_verifies_against_its_literal(a: int, b: int) -> None:
    """``\\boxed{a + b}`` never verifies against the gold ``a+b`` written as a literal."""
    r = B(f"{a} + {b}") if b >= 0 else B(f"{a} - {-b}")
    for mode in ("strict", "eval"):
        v = verify(r, str(a + b), mode=mode, answer_policy="literal")  # type: ignore[arg-type]
        assert not v.correct, (r, a + b, v)
