"""Parse first, compare structures: the families of issue 9, each as a table and a property.

Every row of ``HACKS`` was accepted by the verifier before the answer layer was rebuilt (a reward
hack a policy can find); every row of ``RECALL`` was rejected although correct. One comment per
row.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rlsp_verifiers import Reading, read_response, verify
from rlsp_verifiers.parse import Lit, Quant, parse, plain

B = "\\boxed{{{}}}".format

# fmt: off
HACKS = [
    # (response, gold, policy, family)
    (B("29\\frac{89}{1}"), "2581", "closed_form", "improper mixed number (a product in disguise)"),
    (B("4\\frac{17}{1}"), "68", "closed_form", "improper mixed number, denominator 1"),
    (B("2\\frac{68}{2}"), "68", "closed_form", "improper mixed number reducing to an integer"),
    (B("29\\frac{89}{1}"), "2581", "literal", "improper mixed number under the literal policy"),
    (B("68 \\text{ is not the answer}"), "68", "closed_form", "trailing words are not a unit"),
    (B("68 \\text{ is wrong}"), "68", "closed_form", "a hedge after the value"),
    (B("68 \\text{ at least}"), "68", "closed_form", "a bound, not a value"),
    (B("68 \\text{ squared}"), "68", "closed_form", "a word that changes the value"),
    (B("68 \\text{ thousand}"), "68", "closed_form", "a multiplier word"),
    (B("68 \\text{ plus one}"), "68", "closed_form", "arithmetic in words"),
    (B("68 \\text{ hundredths}"), "68", "closed_form", "a fraction word"),
    (B("\\text{Evelyn}\\text{ plus Bob}"), "\\text{Evelyn}", "closed_form", "words after a word answer"),
    (B("(B) \\text{ or } (C)"), "(B)", "closed_form", "two choices"),
    (B("(B)(C)(D)(E)"), "(B)", "closed_form", "every choice"),
    (B("(A)\\ (B)\\ (C)\\ (D)\\ (E)"), "(B)", "closed_form", "every choice, spaced"),
    (B("(B) \\text{ and maybe } 12"), "(B)", "closed_form", "a choice with words"),
    (B("1 1/2"), "11/2", "closed_form", "digits glued across a space"),
    (B("2 \\quad 3"), "23", "closed_form", "digits glued across \\quad"),
    (B("√25"), "5\\sqrt{2}", "closed_form", "a unicode root covers the whole number"),
    (B("x"), "x_1", "closed_form", "a subscript is part of the name"),
    (B("a"), "a_{10}", "closed_form", "a braced subscript is part of the name"),
    (B("\\infty^{0} + \\sqrt{2}"), "1+\\sqrt2", "closed_form", "an undefined power simplified away"),
    (B("1^{\\infty}"), "1", "closed_form", "another undefined power"),
    (B("(x, y) = (3, 23+45)"), "(3, 68)", "literal", "arithmetic inside an assigned tuple"),
    (B("1 \\text{ or } 1+1"), "1, 2", "literal", "arithmetic inside a list"),
    (B("(1, 23+45)"), "(1, 68)", "literal", "arithmetic inside a tuple"),
    (B("2\\frac{68}{2}"), "68", "literal", "improper mixed number (literal policy)"),
    ("</think> <think> \\boxed{5}", "5", "closed_form", "a second, unclosed <think>"),
    (B("\\frac{\\pi}{2}^\\circ"), "\\frac{\\pi}{2}", "closed_form", "a degree sign on radians"),
    (B("90^\\circ"), "\\frac{\\pi}{2}", "closed_form", "degrees are not converted to radians"),
    (B("5 \\text{ cm}"), "5 \\text{ inches}", "closed_form", "a different unit"),
    (B("5 \\text{ apples}"), "5 \\text{ pears}", "closed_form", "a different count noun"),
    (B("68 \\text{ factorial}"), "68", "closed_form", "an operation word is not a count noun"),
    (B("5\\text{k}"), "5", "closed_form", "k is a multiplier, not a unit"),
    (B("5\\text{ sixteenths}"), "5", "closed_form", "a fraction word"),
    (B("6"), "xy=6", "closed_form", "an equation in two variables is not a labelled value"),
    (B("east"), "seat", "closed_form", "an anagram of a word answer"),
    (B("x \\approx 6"), "6", "closed_form", "approximately is a hedge"),
    (B("1.10"), "1, 10", "closed_form", "a list is not a decimal"),
    (B("1.001"), "1,001", "closed_form", "a thousands group is not a decimal comma"),
]

RECALL = [
    # (response, gold, mode, family)
    (B("7,425,000"), "7425000", "strict", "thousands separators"),
    (B("11,\\! 111,\\! 111,\\! 100"), "11111111100", "strict", "thousands separators with \\!"),
    (B("1 000"), "1000", "strict", "SI thousands grouping"),
    (B("\\$1,000.50"), "1000.5", "strict", "currency with separators and cents"),
    (B("1000.0"), "1000", "strict", "a decimal integer"),
    (B(".4"), "0.4", "strict", "a decimal without a leading zero"),
    (B("42 inches"), "42", "strict", "a bare unit word"),
    (B("5\\text{ cm}^2"), "5", "strict", "a unit with a power"),
    (B("12\\text{ in}^2"), "12\\mbox{ inches}^2", "strict", "equivalent unit spellings"),
    (B("68 \\text{ apples}"), "68", "strict", "a count noun"),
    (B("65 \\text{ children tickets}"), "65", "strict", "a two-word count noun"),
    (B("10^6"), "1000000", "strict", "a power of ten (closed_form policy)"),
    (B("2^{10}"), "1024", "strict", "a power of two (closed_form policy)"),
    ("\\frac{10}{9}", "\\frac{10}{9}", "eval", "an unboxed response that is just its answer"),
    ("Final Answer: The largest $n$ is 34.", "34", "eval", "a final-answer sentence"),
    (B("28 percent"), "28\\%", "strict", "percent as a word"),
    (B("28\\text{ percent}"), "28", "strict", "percent as text"),
    (B("x \\neq 3"), "x != 3", "strict", "two spellings of not-equal"),
    (B("-x > -1"), "x < 1", "strict", "a linear inequality solved"),
    (B("2x + 1 \\geq 5"), "[2, \\infty)", "strict", "a linear inequality as an interval"),
    (B("-2 \\le x \\le 7"), "[-2,7]", "strict", "a double inequality as an interval"),
    (B("0<f(x)<1"), "(0,1)", "strict", "a range of a function"),
    (B("x > 5 \\text{ or } x < 2"), "(-\\infty,2)\\cup(5,\\infty)", "strict", "alternatives as a union"),
    ("x \\in \\boxed{(2,12) \\cup (12,102)}", "(2,12) \\cup (12,102)", "strict", "a union"),
    (B("4, 5"), "AB=4,CD=5", "strict", "labelled golds"),
    (B("11:21"), "V_1:V_2=11:21", "strict", "a labelled ratio"),
    (B("\\sqrt[3]{-2}"), "-\\sqrt[3]{2}", "strict", "the real cube root"),
    (B("\\sqrt[3]{-8}"), "-2", "strict", "the real cube root of a cube"),
    (B("b+a"), "a+b", "strict", "commutativity of a sum"),
    (B("ba"), "ab", "strict", "commutativity of a product"),
    (B("\\sin 30^\\circ"), "\\frac12", "strict", "degrees inside a trigonometric function"),
    (B("30^\\circ"), "30", "strict", "a degree sign on a degree gold"),
    (B("9\\text{ a.m.}"), "9", "strict", "a clock unit"),
    (B("\\text{(B)}"), "(B)", "strict", "a choice in text"),
    (B("(B) 12"), "(B)", "strict", "a choice with its value"),
    (B("1000,99"), "1000.99", "eval", "a decimal comma"),
    (B("58500"), "58,500", "strict", "a gold with a thousands separator"),
    (B("1,100"), "1, 100", "strict", "an answer a,bbb read as a list against a list gold"),
    (B("0.0833333333333333"), "\\frac{1}{12}", "strict", "a full-precision decimal"),
    (B("\\begin{pmatrix}1 & 2\\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}1 & 1\\\\ 1 & 1\\end{pmatrix}"),
     "\\begin{pmatrix}2 & 3\\\\ 4 & 5\\end{pmatrix}", "strict", "matrix arithmetic (closed_form)"),
    (B("z \\in [-2, -1] \\cup [1, 2]"), "1 \\le |z| \\le 2", "strict", "a range of |z| as a union"),
    ("Final Answer: **73**", "73", "eval", "a markdown-bold final answer"),
    (B("4e + 7p"), "7p+4e", "strict", "spaces around + keep e from reading as e-notation"),
    ("$\\$40$", "\\$40", "eval", "an escaped dollar inside inline math"),
    ("Thus, there are 12 distinct sequences. <|im_start|>user", "12", "eval", "a conclusion sentence"),
]
# fmt: on


@pytest.mark.parametrize(("response", "gold", "policy", "why"), HACKS, ids=[h[3] for h in HACKS])
def test_hack_rejected(response: str, gold: str, policy: str, why: str) -> None:
    for mode in ("strict", "eval"):
        v = verify(response, gold, mode=mode, answer_policy=policy, timeout_s=5)  # type: ignore[arg-type]
        assert not v.correct, (why, mode, v)


@pytest.mark.parametrize(("response", "gold", "mode", "why"), RECALL, ids=[r[3] for r in RECALL])
def test_correct_accepted(response: str, gold: str, mode: str, why: str) -> None:
    v = verify(response, gold, mode=mode, timeout_s=5)  # type: ignore[arg-type]
    assert v.correct, (why, v)


def test_units_and_literals_are_typed() -> None:
    assert parse("5\\text{ cm}") == Quant(Lit(parse("5").value), "cm")
    assert plain(parse("42 inches")).unit == "inch"
    assert isinstance(parse("\\frac{3}{4}"), Lit) and not isinstance(parse("3+4"), Lit)
    assert isinstance(parse("6.8\\times 10^{3}"), Lit)


def test_matrix_arithmetic_is_not_a_literal() -> None:
    r = B(
        "\\begin{pmatrix}1 & 2\\\\ 3 & 4\\end{pmatrix} + \\begin{pmatrix}1 & 1\\\\ 1 & 1\\end{pmatrix}"
    )
    v = verify(r, "\\begin{pmatrix}2 & 3\\\\ 4 & 5\\end{pmatrix}", answer_policy="literal")
    assert v.reason == "unevaluated"


def test_answer_policy_is_checked() -> None:
    with pytest.raises(ValueError, match="answer_policy"):
        verify(B("1"), "1", answer_policy="loose")  # type: ignore[arg-type]


def test_read_response() -> None:
    r = read_response("<think>a \\boxed{1}</think> so \\boxed{2} and \\boxed{3}")
    assert isinstance(r, Reading)
    assert (r.final_answer, r.boxes, r.format_ok, r.reason) == ("3", ("2", "3"), True, None)
    assert r.reasoning_text == "a \\boxed{1}"
    r = read_response("no box here")
    assert (r.final_answer, r.format_ok, r.reason, r.reasoning_text) == (
        None,
        False,
        "no_answer",
        "no box here",
    )
    r = read_response("</think> again <think> \\boxed{5}")
    assert (r.final_answer, r.reason) == (None, "unterminated_think")
    r = read_response("The answer is 7.", fallbacks=["answer_is"])
    assert (r.final_answer, r.format_ok, r.source) == ("7", False, "answer_is")
    with pytest.raises(TypeError):
        read_response(None)  # type: ignore[arg-type]


WORDS = st.sampled_from(
    ["is not the answer", "is wrong", "at least", "squared", "thousand", "plus one", "or more"]
)


@given(st.integers(0, 10**6), WORDS)
def test_words_after_a_value_never_verify(n: int, words: str) -> None:
    """Property: appending a hedge or value-changing phrase never keeps the answer correct."""
    assert not verify(B(f"{n} \\text{{ {words}}}"), str(n)).correct


@given(st.integers(1, 99), st.integers(1, 99), st.integers(1, 99))
def test_mixed_numbers(w: int, p: int, q: int) -> None:
    """Property: ``w\\frac{p}{q}`` is the mixed number when ``p < q`` and refused otherwise."""
    from sympy import Rational

    v = verify(B(f"{w}\\frac{{{p}}}{{{q}}}"), str(w * Rational(p, q)))
    assert not v.correct  # never read as a product
    if p < q:
        assert verify(B(f"{w}\\frac{{{p}}}{{{q}}}"), str(w + Rational(p, q))).correct


@given(st.integers(1, 10**9))
def test_thousands_renderings(n: int) -> None:
    """Property: comma, ``{,}`` and SI-space groupings of ``n`` verify; digits split otherwise do not."""
    s = f"{n:,}"
    for r in (s, s.replace(",", "{,}"), s.replace(",", " ")):
        assert verify(B(r), str(n)).correct, r
    t = str(n)
    if len(t) > 1 and len(t) != 4:  # "1 234" is a grouping; "1 23" and "1 2345" are not
        assert not verify(B(t[:1] + " " + t[1:]), str(n)).correct


@given(st.sampled_from("ABCDE"), st.sampled_from("ABCDE"))
def test_two_choices_never_verify(a: str, b: str) -> None:
    """Property: boxing two choices never verifies against either."""
    for r in (f"({a}) \\text{{ or }} ({b})", f"({a})({b})", f"({a}), ({b})"):
        if a != b:
            assert not verify(B(r), f"({a})").correct, r


def test_no_value_changing_word_is_a_unit() -> None:
    """Every word of the stop list, after a correct value, makes the answer wrong (not a unit).

    Percent words are read as a percent sign (``68 percent`` for gold 68 is the number of
    percent, a documented reading), so they are left out here.
    """
    from rlsp_verifiers.units import NOT_UNITS

    words = sorted(NOT_UNITS - {"percent", "percentage", "pct"})
    accepted = [w for w in words if verify(B(f"68 \\text{{ {w}}}"), "68", timeout_s=5).correct]
    assert accepted == []


@given(
    st.integers(1, 999),
    st.sampled_from(["cm", "inches", "feet", "kg", "dollars", "hours", "apples"]),
    st.sampled_from(["mm", "miles", "yards", "pounds", "cents", "minutes", "pears"]),
)
def test_different_units_never_verify(n: int, u: str, w: str) -> None:
    """Property: a unit on both sides must be the same unit; the same unit verifies."""
    assert not verify(B(f"{n} \\text{{ {u}}}"), f"{n} \\text{{ {w}}}").correct
    assert verify(B(f"{n} \\text{{ {u}}}"), f"{n}\\text{{{u}}}").correct
    assert verify(B(f"{n}"), f"{n} \\text{{ {u}}}").correct


@given(
    st.integers(-(10**6), 10**6),
    st.integers(-(10**6), 10**6),
    st.sampled_from(["apples", "cm", "\\%"]),
)
def test_units_never_change_the_value(n: int, m: int, unit: str) -> None:
    """Soundness: a unit on the answer never makes a different number verify."""
    if n != m:
        u = unit if unit == "\\%" else f"\\text{{ {unit}}}"
        assert not verify(B(f"{n} {u}"), str(m)).correct


@given(st.integers(1, 10**6), st.integers(0, 99), st.integers(0, 99))
def test_decimal_commas_are_sound(a: int, b: int, c: int) -> None:
    """Soundness: ``a,b`` is only ever the decimal with the same digits."""
    if b != c:
        assert not verify(B(f"{a},{b:02d}"), f"{a}.{c:02d}").correct


@given(st.integers(1, 999), st.integers(2, 999), st.integers(-3, 3))
def test_full_precision_decimals_are_sound(p: int, q: int, shift: int) -> None:
    """A long decimal verifies for p/q only when it is p/q rounded or truncated at its places."""
    from fractions import Fraction

    exact = Fraction(p, q)
    digits = int(exact * 10**15) + shift
    text = f"{digits // 10**15}.{digits % 10**15:015d}"
    if not verify(B(text), f"\\frac{{{p}}}{{{q}}}").correct:
        return
    value = Fraction(text)
    places = len(text.rstrip("0").split(".")[1])  # trailing zeros are not places of the value
    scaled = exact * 10**places
    assert value * 10**places in (int(scaled), int(scaled + Fraction(1, 2))), (text, p, q)


@given(st.integers(-50, 50), st.integers(1, 9), st.integers(-50, 50), st.sampled_from(["<", ">"]))
def test_linear_inequalities_are_sound(c: int, a: int, d: int, op: str) -> None:
    """``a x op c`` equals ``x op' c/a`` and never ``x op' d/a`` for another d."""
    from fractions import Fraction

    bound = Fraction(c, a)
    gold = f"x {op} \\frac{{{bound.numerator}}}{{{bound.denominator}}}"
    assert verify(B(f"{a}x {op} {c}"), gold).correct
    flipped = ">" if op == "<" else "<"
    assert verify(B(f"-{a}x {flipped} {-c}"), gold).correct
    if d != c:
        assert not verify(B(f"{a}x {op} {d}"), gold).correct
