"""Adversarial families from issue 9, generated with hypothesis.

Each "False positives found" bullet of the issue is a family here: a generator of its members and a
property that none of them verifies (each member is a reward hack a policy could find). The
equal-rendering families are the other side: renderings of the same answer that real model output
uses, all of which must verify. Near misses (a changed value in the same rendering) must not.

The hypothesis profile is the suite's (``tests/conftest.py``); strategies are defined here.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from rlsp_verifiers import verify

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _check(response: str, gold: str, policy: str | None = None, mode: str = "strict"):
    kw = {"mode": mode, "timeout_s": 5}
    if policy is not None:
        kw["answer_policy"] = policy
    return verify(response, gold, **kw)


def _boxed(answer: str) -> str:
    return f"The computation above gives the final answer $\\boxed{{{answer}}}$."


def _rejects(response: str, gold: str, policy: str | None = None, mode: str = "strict") -> None:
    v = _check(response, gold, policy, mode)
    assert not v.correct, f"accepted {response!r} for gold {gold!r}: {v}"


def _accepts(response: str, gold: str, policy: str | None = None, mode: str = "strict") -> None:
    v = _check(response, gold, policy, mode)
    assert v.correct, f"rejected {response!r} for gold {gold!r}: {v}"


small = st.integers(min_value=2, max_value=999)
policies = st.sampled_from([None, "literal"])  # None: verify's default (closed_form)


# ================================================================ false-positive families


@st.composite
def improper_mixed(draw: st.DrawFn) -> tuple[str, int, Fraction]:
    """``a\\frac{b}{c}`` with ``b >= c``: (text, product reading a*b/c, mixed reading a + b/c)."""
    a = draw(st.integers(1, 99))
    c = draw(st.integers(1, 12))
    b = draw(st.integers(c, 200))
    assume(a * b % c == 0)
    return f"{a}\\frac{{{b}}}{{{c}}}", a * b // c, a + Fraction(b, c)


@example(("29\\frac{89}{1}", 2581, Fraction(118)))
@example(("4\\frac{17}{1}", 68, Fraction(21)))
@example(("2\\frac{68}{2}", 68, Fraction(36)))
@given(improper_mixed())
def test_improper_mixed_number_is_not_a_literal(m: tuple[str, int, Fraction]) -> None:
    """Under the literal policy an improper mixed number is neither reading of its value."""
    text, product, mixed = m
    _rejects(_boxed(text), str(product), "literal")
    if mixed.denominator == 1:
        _rejects(_boxed(text), str(mixed.numerator), "literal")


@given(improper_mixed())
def test_improper_mixed_number_has_at_most_one_value(m: tuple[str, int, Fraction]) -> None:
    """One string cannot equal two different numbers, whatever the policy."""
    text, product, mixed = m
    assume(mixed.denominator == 1 and mixed != product)
    both = _check(_boxed(text), str(product)).correct and _check(_boxed(text), str(mixed)).correct
    assert not both, f"{text!r} verified as both {product} and {mixed}"


TRAILING = [
    "is not the answer",
    "is wrong",
    "at least",
    "at most",
    "squared",
    "thousand",
    "plus one",
    "minus 1",
    "or more",
    "times two",
    "million",
    "is incorrect",
    "more or less",
    "and 5",
]


@example(68, "is not the answer")
@given(small, st.sampled_from(TRAILING))
def test_trailing_words_after_a_number_are_not_units(n: int, words: str) -> None:
    for resp in (f"{n} \\text{{ {words}}}", f"{n}\\text{{ {words}}}", f"\\text{{{n} {words}}}"):
        _rejects(_boxed(resp), str(n))


NAMES = ["Evelyn", "Bob", "Carla", "Debra", "Angela", "Tuesday", "even", "odd", "Alice"]


@example("Evelyn", "plus Bob")
@given(
    st.sampled_from(NAMES),
    st.sampled_from(["plus Bob", "is wrong", "or Carla", "and Debra", "not"]),
)
def test_trailing_words_after_a_word_answer(word: str, words: str) -> None:
    assume(words.split()[-1] != word)
    gold = f"\\text{{{word}}}"
    for resp in (f"\\text{{{word}}}\\text{{ {words}}}", f"\\text{{{word} {words}}}"):
        _rejects(_boxed(resp), gold)


LETTERS = "ABCDE"


@st.composite
def several_choices(draw: st.DrawFn) -> tuple[str, str]:
    """A gold choice letter and a response naming it among other choices."""
    gold = draw(st.sampled_from(LETTERS))
    others = draw(st.lists(st.sampled_from(LETTERS), min_size=1, max_size=4, unique=True))
    assume(any(o != gold for o in others))
    picks = draw(st.permutations(list(dict.fromkeys([gold, *others]))))
    style = draw(st.sampled_from(["({})", "{}", "\\text{{({})}}", "\\textbf{{({})}}"]))
    joiner = draw(st.sampled_from(["", " ", "\\ ", ", ", " \\text{ or } ", " \\text{ and } ", "/"]))
    return gold, joiner.join(style.format(p) for p in picks)


@example(("B", "(B) \\text{ or } (C)"), "({})")
@example(("B", "(B)(C)(D)(E)"), "({})")
@example(("B", "(A)\\ (B)\\ (C)\\ (D)\\ (E)"), "({})")
@given(several_choices(), st.sampled_from(["({})", "\\text{{({})}}", "{}"]))
def test_several_choice_letters_are_not_one_choice(gc: tuple[str, str], gold_style: str) -> None:
    gold, resp = gc
    _rejects(_boxed(resp), gold_style.format(gold))


SPACES = [" ", "\\quad ", "\\qquad ", "\\ ", "~", "\\;"]


@example(2, 3, "\\quad ")
@given(st.integers(1, 999), st.integers(1, 99), st.sampled_from(SPACES))
def test_digits_are_not_glued_across_spaces(a: int, b: int, space: str) -> None:
    """``2 \\quad 3`` is not 23 (``b`` has fewer than 3 digits: no thousands grouping)."""
    _rejects(_boxed(f"{a}{space}{b}"), f"{a}{b}")


@example(1, 1, 2)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(2, 9))
def test_a_number_before_a_slash_fraction_is_not_glued(w: int, p: int, q: int) -> None:
    """``1 1/2`` is not 11/2."""
    assume(p < q)
    _rejects(_boxed(f"{w} {p}/{q}"), f"\\frac{{{10 * w + p}}}{{{q}}}")


@example(25)
@given(st.integers(10, 99))
def test_unicode_root_without_braces_takes_all_its_digits(n: int) -> None:
    """``√25`` is the root of 25, never ``\\sqrt2 5`` (5 times the root of 2)."""
    first, rest = divmod(n, 10)
    assume(rest != 0)
    misread = Fraction(rest) ** 2 * first  # (rest * sqrt(first))^2
    assume(misread != n)
    _rejects(_boxed(f"√{n}"), f"{rest}\\sqrt{{{first}}}")


@st.composite
def subscripted(draw: st.DrawFn) -> tuple[str, str]:
    base = draw(st.sampled_from(["x", "a", "y", "t", "n", "b"]))
    sub = draw(st.sampled_from(["1", "2", "10", "n", "k", "0", "{10}", "{n+1}"]))
    return base, f"{base}_{sub}" if sub.startswith("{") or len(sub) == 1 else f"{base}_{{{sub}}}"


@example(("x", "x_1"))
@example(("a", "a_{10}"))
@given(subscripted())
def test_a_bare_variable_is_not_its_subscripted_form(bs: tuple[str, str]) -> None:
    base, sub = bs
    _rejects(_boxed(base), sub)
    _rejects(_boxed(sub), base)


UNDEFINED = [
    "\\infty^{0}",
    "\\infty^0",
    "0^{0}",
    "\\frac{1}{0} - \\frac{1}{0}",
    "1/0 - 1/0",
    "\\frac{0}{0}",
    "\\infty - \\infty",
    "0 \\cdot \\infty",
    "1^{\\infty}",
    "\\frac{\\infty}{\\infty}",
]


@st.composite
def gold_values(draw: st.DrawFn) -> tuple[str, str]:
    """A gold (text) and the same value written as a summand for the undefined form."""
    k = draw(st.integers(0, 50))
    kind = draw(st.sampled_from(["int", "sqrt"]))
    if kind == "int":
        return str(k + 1), str(k)  # undefined + k read as 1 + k
    return f"{k + 1}+\\sqrt{{2}}", f"{k} + \\sqrt{{2}}" if k else "\\sqrt{2}"


@example("\\infty^{0}", ("1+\\sqrt{2}", "\\sqrt{2}"))
@given(st.sampled_from(UNDEFINED), gold_values())
def test_undefined_forms_are_not_simplified_away(form: str, gv: tuple[str, str]) -> None:
    gold, rest = gv
    _rejects(_boxed(f"{form} + {rest}"), gold)
    _rejects(_boxed(f"{rest} + {form}"), gold)


@example("1/0 - 1/0", 7)
@given(st.sampled_from(UNDEFINED), st.integers(-20, 20))
def test_an_undefined_form_is_no_number(form: str, n: int) -> None:
    _rejects(_boxed(f"{n} + {form}"), str(n))


@st.composite
def shapes_with_arithmetic(draw: st.DrawFn) -> tuple[str, str, str]:
    """(gold, the literal answer, the answer with one entry left as unevaluated arithmetic)."""
    vals = draw(st.lists(st.integers(1, 500), min_size=2, max_size=4))
    k = draw(st.integers(0, len(vals) - 1))
    v = vals[k]
    op = draw(st.sampled_from(["+", "*", "-"]))
    if op == "+":
        p = draw(st.integers(1, max(1, v - 1)))
        expr = f"{p}+{v - p}" if v > 1 else "0+1"
    elif op == "-":
        p = draw(st.integers(1, 100))
        expr = f"{v + p}-{p}"
    else:
        divs = [d for d in range(2, v) if v % d == 0]
        expr = f"{divs[0]} \\cdot {v // divs[0]}" if divs else f"{v}+0"
    shape = draw(st.sampled_from(["tuple", "named", "list", "or", "set"]))
    lit = [str(x) for x in vals]
    hack = lit[:k] + [expr] + lit[k + 1 :]
    if shape == "tuple":
        return f"({', '.join(lit)})", f"({', '.join(lit)})", f"({', '.join(hack)})"
    if shape == "named":
        names = "abcd"[: len(vals)]
        return (
            f"({', '.join(lit)})",
            f"({', '.join(names)}) = ({', '.join(lit)})",
            f"({', '.join(names)}) = ({', '.join(hack)})",
        )
    if shape == "list":
        return ", ".join(lit), ", ".join(lit), ", ".join(hack)
    if shape == "or":
        return ", ".join(lit), " \\text{ or } ".join(lit), " \\text{ or } ".join(hack)
    return (
        "\\{" + ", ".join(lit) + "\\}",
        "\\{" + ", ".join(lit) + "\\}",
        "\\{" + ", ".join(hack) + "\\}",
    )


@example(("(3, 68)", "(x, y) = (3, 68)", "(x, y) = (3, 23+45)"))
@example(("1, 2", "1 \\text{ or } 2", "1 \\text{ or } 1+1"))
@given(shapes_with_arithmetic())
def test_unevaluated_arithmetic_inside_shapes_under_literal(s: tuple[str, str, str]) -> None:
    gold, literal, hack = s
    _rejects(_boxed(hack), gold, "literal")


@given(shapes_with_arithmetic())
def test_literal_shapes_verify_under_literal(s: tuple[str, str, str]) -> None:
    """The counterpart: the same shape written with number literals verifies."""
    gold, literal, _hack = s
    _accepts(_boxed(literal), gold, "literal")


FILLER = st.sampled_from(
    ["Let me think.", "We compute 2+2 carefully.", "Hmm, wait.", "So the sum is", "Check: 5*5=25."]
)


@example(68, "Let me think.", "Hmm, wait.")
@given(st.integers(0, 10**6), FILLER, FILLER)
def test_a_second_unclosed_think_hides_its_answer(n: int, a: str, b: str) -> None:
    """After a second, unclosed ``<think>`` the model is still reasoning: no final answer."""
    for resp in (
        f"<think>{a}</think> {b} <think> so \\boxed{{{n}}}",
        f"<think>{a}</think><think>{b} \\boxed{{{n}}}",
        f"<think>{a}</think> The answer follows. <think>\n{b}\nFinal: $\\boxed{{{n}}}$",
    ):
        _rejects(resp, str(n))


@st.composite
def pi_expressions(draw: st.DrawFn) -> str:
    k = draw(st.integers(1, 12))
    m = draw(st.integers(1, 12))
    assume(Fraction(k, m).denominator != 1 or k == 1)
    kpi = "\\pi" if k == 1 else f"{k}\\pi"
    return draw(st.sampled_from([f"\\frac{{{kpi}}}{{{m}}}" if m > 1 else kpi, kpi]))


@example("\\frac{\\pi}{2}", "^\\circ")
@given(pi_expressions(), st.sampled_from(["^\\circ", "^{\\circ}", "°"]))
def test_a_degree_sign_is_not_dropped_inside_expressions(expr: str, deg: str) -> None:
    """``\\frac{\\pi}{2}^\\circ`` (pi/2 degrees) is not ``\\frac{\\pi}{2}`` (radians)."""
    _rejects(_boxed(f"{expr}{deg}"), expr)


# ================================================================ equal renderings (must verify)


def _group(n: int, sep: str) -> str:
    return f"{n:,}".replace(",", sep)


@example(7425000, ",")
@example(11111111100, ",\\! ")
@given(st.integers(1000, 10**10), st.sampled_from([",", "{,}", ",\\!", ",\\! ", "\\,"]))
def test_thousands_separators_verify(n: int, sep: str) -> None:
    _accepts(_boxed(_group(n, sep)), str(n))


@example(1000)
@given(st.integers(1000, 999999))
def test_a_space_as_thousands_separator_verifies(n: int) -> None:
    """``1 000``: a space followed by exactly three digits groups thousands."""
    _accepts(_boxed(_group(n, " ")), str(n))


@given(st.integers(1, 10**6), st.sampled_from(["\\$", "\\$ "]), st.integers(0, 99))
def test_currency_with_separators_verifies(n: int, cur: str, cents: int) -> None:
    _accepts(_boxed(f"{cur}{_group(n, ',')}.{cents:02d}"), f"{n}.{cents:02d}")


@given(st.integers(1, 10**4), st.integers(2, 10**3))
def test_fraction_macros_verify(a: int, b: int) -> None:
    gold = f"\\frac{{{a}}}{{{b}}}"
    for resp in (
        f"\\dfrac{{{a}}}{{{b}}}",
        f"\\tfrac{{{a}}}{{{b}}}",
        f"{a}/{b}",
        f"-\\dfrac{{-{a}}}{{{b}}}",
    ):
        _accepts(_boxed(resp), gold)


@given(st.integers(1, 9999), st.integers(1, 99))
def test_decimal_forms_verify(whole: int, digits: int) -> None:
    d = f"{digits:02d}".rstrip("0") or "0"
    _accepts(_boxed(f".{d}"), f"0.{d}")
    _accepts(_boxed(f"{whole}.0"), str(whole))
    _accepts(_boxed(f"{whole}.{d}0"), f"{whole}.{d}")


UNITS = [
    "\\text{ cm}",
    "\\text{ units}",
    "\\text{ inches}",
    "\\mbox{ cm}^2",
    "\\text{ dollars}",
    " \\text{m}",
]


@given(st.integers(0, 10**6), st.sampled_from(UNITS))
def test_a_unit_after_a_number_verifies(n: int, unit: str) -> None:
    _accepts(_boxed(f"{n}{unit}"), str(n))


@example(28)
@given(st.integers(0, 100))
def test_percent_renderings_verify(n: int) -> None:
    gold = f"{n}\\%"
    for resp in (f"{n}\\%", f"{n} \\%", f"{n}\\text{{ percent}}", f"{n} \\text{{percent}}"):
        _accepts(_boxed(resp), gold)


@given(
    st.integers(-(10**6), 10**6),
    st.sampled_from(["\\text{{{}}}", "\\mathrm{{{}}}", "\\textbf{{{}}}", "{{{}}}"]),
)
def test_text_wrappers_around_numbers_verify(n: int, wrap: str) -> None:
    _accepts(_boxed(wrap.format(n)), str(n))


@given(
    st.sampled_from(NAMES),
    st.sampled_from(["{}", "\\textbf{{{}}}", "\\mathrm{{{}}}", "\\text{{ {} }}"]),
)
def test_word_answer_wrappers_verify(word: str, wrap: str) -> None:
    _accepts(_boxed(wrap.format(word)), f"\\text{{{word}}}")


@given(
    st.sampled_from(LETTERS),
    st.sampled_from(["({})", "\\text{{({})}}", "\\textbf{{({})}}", "{}", "\\text{{{}}}"]),
)
def test_one_choice_letter_verifies(letter: str, style: str) -> None:
    _accepts(_boxed(style.format(letter)), f"\\text{{({letter})}}")


@st.composite
def intervals(draw: st.DrawFn) -> tuple[str, str, str]:
    """(gold, an equal rendering, a near miss with one end's type swapped)."""
    a = draw(st.integers(-100, 100))
    b = draw(st.integers(a + 1, a + 200))
    lo, hi = draw(st.sampled_from("([")), draw(st.sampled_from(")]"))
    inf = draw(st.sampled_from(["", "lo", "hi"]))
    la = "-\\infty" if inf == "lo" else str(a)
    hb = "\\infty" if inf == "hi" else str(b)
    lo = "(" if inf == "lo" else lo
    hi = ")" if inf == "hi" else hi
    gold = f"{lo}{la},{hb}{hi}"
    equal = f"\\left{lo} {la}, {'+' if inf == 'hi' else ''}{hb} \\right{hi}"
    flip = {"(": "[", "[": "(", ")": "]", "]": ")"}
    miss = f"{lo}{la},{hb}{flip[hi]}" if inf != "hi" else f"{flip[lo]}{la},{hb}{hi}"
    return gold, equal, miss


def _open_open(iv: tuple[str, str, str]) -> bool:
    gold = iv[0]
    return gold.startswith("(") and gold.endswith(")") and "\\infty" not in gold


@given(intervals().filter(lambda iv: not _open_open(iv)))
def test_interval_renderings_verify(iv: tuple[str, str, str]) -> None:
    """Intervals with a bracket or an infinite end (no tuple reading): other spacing, \\left."""
    gold, equal, _miss = iv
    _accepts(_boxed(equal), gold)


@example(("(0,100)", "\\left( 0, 100 \\right)", "(0,100]"))
@given(intervals().filter(_open_open))
def test_open_pair_renderings_verify(iv: tuple[str, str, str]) -> None:
    """``(a,b)`` is a pair or an open interval; ``\\left( a, b \\right)`` is the same either way."""
    gold, equal, _miss = iv
    _accepts(_boxed(equal), gold)


@given(intervals())
def test_swapped_interval_ends_are_rejected(iv: tuple[str, str, str]) -> None:
    gold, _equal, miss = iv
    _rejects(_boxed(miss), gold)


@given(st.integers(-50, 50), st.integers(1, 30), st.sampled_from([2, 3, 5, 6, 7, 10, 11]))
def test_commuted_sums_and_products_verify(a: int, k: int, m: int) -> None:
    assume(a != 0)
    gold = f"{a} + {k}\\sqrt{{{m}}}" if a > 0 else f"{a} + {k}\\sqrt{{{m}}}"
    sign = "+" if a > 0 else "-"
    _accepts(_boxed(f"{k}\\sqrt{{{m}}} {sign} {abs(a)}"), gold)
    _accepts(_boxed(f"\\sqrt{{{m}}} \\cdot {k} {sign} {abs(a)}"), gold)
    _accepts(_boxed(f"\\sqrt{{{m}}} \\cdot {k}"), f"{k}\\sqrt{{{m}}}")


@given(st.integers(1, 50), st.integers(1, 50), st.integers(1, 50))
def test_commuted_polynomials_verify(a: int, b: int, c: int) -> None:
    gold = f"{a}x^2 + {b}x + {c}"
    _accepts(_boxed(f"{c} + {b}x + {a}x^2"), gold)
    _rejects(_boxed(f"{c} + {b}x - {a}x^2"), gold)


@given(st.integers(2, 30))
def test_unicode_root_verifies_as_the_root_of_all_its_digits(k: int) -> None:
    """``√{k*k}`` written without braces is k."""
    _accepts(_boxed(f"√{k * k}"), str(k))


@given(subscripted())
def test_subscript_braces_verify(bs: tuple[str, str]) -> None:
    _base, sub = bs
    body = sub.split("_", 1)[1]
    alt = sub.split("_", 1)[0] + "_" + (body if body.startswith("{") else "{" + body + "}")
    _accepts(_boxed(alt), sub)


@given(st.integers(1, 359), st.sampled_from(["^\\circ", "^{\\circ}", "\\text{ degrees}", ""]))
def test_degree_renderings_of_a_degree_gold_verify(n: int, deg: str) -> None:
    _accepts(_boxed(f"{n}{deg}"), f"{n}^\\circ")


# ================================================================ near misses (must not verify)


@given(st.integers(-(10**6), 10**6), st.sampled_from([-1, 1]))
def test_off_by_one_is_rejected_in_any_rendering(n: int, d: int) -> None:
    for resp in (str(n + d), f"{n + d}.0", f"\\text{{{n + d}}}"):
        _rejects(_boxed(resp), str(n))
    if abs(n + d) >= 1000:
        _rejects(_boxed(_group(n + d, ",")), str(n))


@given(st.integers(1, 10**6))
def test_wrong_sign_is_rejected(n: int) -> None:
    _rejects(_boxed(str(-n)), str(n))
    _rejects(_boxed(f"-\\frac{{{n}}}{{7}}"), f"\\frac{{{n}}}{{7}}")


@given(st.lists(st.integers(-100, 100), min_size=2, max_size=5, unique=True), st.integers(101, 200))
def test_an_extra_element_is_rejected(vals: list[int], extra: int) -> None:
    gold = ", ".join(map(str, vals))
    _rejects(_boxed(gold + f", {extra}"), gold)
    _rejects(_boxed(f"({gold}, {extra})"), f"({gold})")


@example(1, 100, "({},{}]")
@given(
    st.integers(0, 99),
    st.integers(100, 999),
    st.sampled_from(["({},{})", "[{},{}]", "({},{}]", "[{},{})"]),
)
def test_three_digit_entries_after_a_comma_are_not_thousands(a: int, b: int, shape: str) -> None:
    """``(1,100]`` is an interval from 1 to 100, not the number 1100 in brackets.

    (A bare ``1,100`` is left out: as a gold it is the number 1100, see the next test.)
    """
    gold = shape.format(a, b)
    _accepts(_boxed(shape.format(a, " " + str(b))), gold)
    _accepts(_boxed(gold), shape.format(a, " " + str(b)))
    _rejects(_boxed(f"{a}{b:03d}"), gold)


@st.composite
def labelled_pairs(draw: st.DrawFn) -> tuple[str, str, int, int]:
    names = draw(st.sampled_from([("x", "y"), ("a", "b"), ("p", "q"), ("AB", "CD"), ("m", "n")]))
    u = draw(st.integers(-50, 50))
    v = draw(st.integers(-50, 50).filter(lambda t: t != u))
    return names[0], names[1], u, v


@given(labelled_pairs())
def test_labels_bind_their_values(lp: tuple[str, str, int, int]) -> None:
    """``x=4, y=5`` is ``y=5, x=4``, but not ``x=5, y=4``."""
    a, b, u, v = lp
    gold = f"{a}={u}, {b}={v}"
    _accepts(_boxed(f"{b} = {v}, {a} = {u}"), gold)
    _accepts(_boxed(f"{a} = {u}, \\quad {b} = {v}"), gold)
    _rejects(_boxed(f"{a} = {v}, {b} = {u}"), gold)


@st.composite
def relations(draw: st.DrawFn) -> tuple[str, str, str]:
    """(gold, an equivalent relation, a near miss) for a one-sided bound on ``x``."""
    c = draw(st.integers(-100, 100))
    op = draw(st.sampled_from(["<", ">", "\\le", "\\ge"]))
    flip = {"<": ">", ">": "<", "\\le": "\\ge", "\\ge": "\\le"}
    strict = {"<": "\\le", ">": "\\ge", "\\le": "<", "\\ge": ">"}
    gold = f"x {op} {c}"
    equal = draw(st.sampled_from([f"{c} {flip[op]} x", f"-x {flip[op]} {-c}"]))
    miss = draw(st.sampled_from([f"x {strict[op]} {c}", f"x {flip[op]} {c}", f"x {op} {c + 1}"]))
    return gold, equal, miss


@example(("x < 1", "-x > -1", "x > -1"))
@given(relations())
def test_relations_verify_when_equivalent_only(r: tuple[str, str, str]) -> None:
    gold, equal, miss = r
    _accepts(_boxed(equal), gold)
    _rejects(_boxed(miss), gold)


@given(st.integers(1, 9), st.integers(10, 99))
def test_a_list_of_two_numbers_is_not_a_decimal(a: int, b: int) -> None:
    """A gold list ``1, 22`` (with a space) is not the decimal 1.22, and the reverse."""
    _rejects(_boxed(f"{a}.{b}"), f"{a}, {b}")
    _rejects(_boxed(f"{a}, {b}"), f"{a}.{b}")


@example(58, 500)
@given(st.integers(1, 999), st.integers(0, 999))
def test_comma_groups_of_three_are_thousands_not_decimals(a: int, b: int) -> None:
    """``58,500`` (a count) is 58500: never the decimal 58.5 of a decimal-comma reading."""
    grouped = f"{a},{b:03d}"
    decimal = f"{a}.{b:03d}".rstrip("0").rstrip(".")
    assume(Fraction(decimal) != a * 1000 + b)
    _rejects(_boxed(decimal), grouped)
    _rejects(_boxed(grouped), decimal)
    _accepts(_boxed(str(a * 1000 + b)), grouped)


@given(
    st.fractions(min_value=Fraction(1, 99), max_value=100, max_denominator=99).filter(
        lambda q: q.denominator % 2 and q.denominator % 5 and q.denominator > 2
    ),
    st.integers(1, 3),
    st.sampled_from(["strict", "eval"]),
)
def test_a_coarse_decimal_is_not_an_exact_fraction(q: Fraction, digits: int, mode: str) -> None:
    """0.33 is not 1/3 (the gold is exact, not a rounded decimal)."""
    coarse = f"{float(q):.{digits}f}"
    _rejects(_boxed(coarse), f"\\frac{{{q.numerator}}}{{{q.denominator}}}", mode=mode)


def _mat(rows: list[list[int]]) -> str:
    return (
        "\\begin{pmatrix}" + " \\\\ ".join(" & ".join(map(str, r)) for r in rows) + "\\end{pmatrix}"
    )


@given(
    st.lists(st.lists(st.integers(-9, 9), min_size=2, max_size=2), min_size=2, max_size=2),
    st.lists(st.lists(st.integers(1, 9), min_size=2, max_size=2), min_size=2, max_size=2),
)
def test_unevaluated_matrix_arithmetic_under_literal(
    a: list[list[int]], b: list[list[int]]
) -> None:
    """``A + B`` for their sum: equal as a closed form, not a literal answer."""
    total = [[a[i][j] + b[i][j] for j in range(2)] for i in range(2)]
    resp = _boxed(f"{_mat(a)} + {_mat(b)}")
    _rejects(resp, _mat(total), "literal")
    _accepts(_boxed(_mat(total)), _mat(total), "literal")


@example(5, "The final answer is ${n}$ or ${m}$.")
@given(
    st.integers(-100, 100),
    st.sampled_from(
        [
            "The final answer is ${n}$ or ${m}$.",
            "The answer is either ${n}$ or ${m}$.",
            "Final Answer: The final answer is ${n}, {m}$. I hope it is correct.",
            "The final answer is $x = {n}$ or $x = {m}$.",
            "So the answer is ${n}$. Actually, the final answer is ${m}$.",
        ]
    ),
)
def test_eval_mode_does_not_pick_one_of_several_answers(n: int, text: str) -> None:
    _rejects(text.format(n=n, m=n + 1), str(n), mode="eval")
    _accepts(f"The final answer is ${n}$.", str(n), mode="eval")


@example(10, 6)
@example(2, 10)
@given(st.integers(2, 12), st.integers(2, 12))
def test_powers_are_a_closed_form_not_a_literal(base: int, exp: int) -> None:
    """``10^6`` for 1000000: accepted for a dataset gold, not where a literal is required."""
    gold = str(base**exp)
    for resp in (f"{base}^{{{exp}}}", f"{base}^{exp}" if exp < 10 else f"{base}^{{{exp}}}"):
        _accepts(_boxed(resp), gold, "closed_form")
        _rejects(_boxed(resp), gold, "literal")
    _rejects(_boxed(f"{base}^{{{exp + 1}}}"), gold, "closed_form")


@example(-2, 7, "[]")
@given(st.integers(-50, 50), st.integers(1, 60), st.sampled_from(["[]", "()", "[)", "(]"]))
def test_two_sided_inequalities_are_their_interval(a: int, width: int, ends: str) -> None:
    b = a + width
    le = {"[": "\\le", "]": "\\le", "(": "<", ")": "<"}
    gold = f"{ends[0]}{a},{b}{ends[1]}"
    _accepts(_boxed(f"{a} {le[ends[0]]} x {le[ends[1]]} {b}"), gold)
    _accepts(_boxed(f"x \\in {gold}"), gold)
    wrong = "<" if ends[0] == "[" else "\\le"
    _rejects(_boxed(f"{a} {wrong} x {le[ends[1]]} {b}"), gold)


@example(2)
@given(st.integers(2, 60))
def test_the_real_cube_root_of_a_negative(k: int) -> None:
    """``\\sqrt[3]{-2}`` is the real root ``-\\sqrt[3]{2}``."""
    _accepts(_boxed(f"\\sqrt[3]{{-{k}}}"), f"-\\sqrt[3]{{{k}}}")
    _accepts(_boxed(f"-\\sqrt[3]{{{k}}}"), f"\\sqrt[3]{{-{k}}}")
    _rejects(_boxed(f"\\sqrt[3]{{{k}}}"), f"\\sqrt[3]{{-{k}}}")
    _accepts(_boxed(f"-{k}"), f"\\sqrt[3]{{-{k**3}}}")


UNIT_SYNONYMS = [
    ("\\mbox{ inches}^2", ["\\text{ in}^2", "\\text{ square inches}", "\\text{ inches}^2"]),
    ("\\text{ cm}", ["\\text{ centimeters}", "\\mbox{ cm}", "\\,\\text{cm}"]),
    ("\\text{ degrees}", ["^\\circ", "^{\\circ}", "\\text{ degree}"]),
    ("\\text{ cents}", ["\\text{ cent}", "\\text{ cents}", ""]),
]


@example(864, ("\\mbox{ inches}^2", ["\\text{ in}^2"]))
@given(st.integers(1, 10**4), st.sampled_from(UNIT_SYNONYMS))
def test_a_unit_in_other_words_verifies(n: int, unit: tuple[str, list[str]]) -> None:
    gold_unit, others = unit
    gold = f"{n}{gold_unit}"
    for other in others:
        _accepts(_boxed(f"{n}{other}"), gold)
    _accepts(_boxed(str(n)), gold)
    _rejects(_boxed(f"{n + 1}{others[0]}"), gold)


@example(5, "The final answer is not ${n}$.")
@example(0, "The final answer is not ${n}$.")
@example(5, "The answer cannot be ${n}$.")
@given(
    st.integers(-100, 100),
    st.sampled_from(
        [
            "The final answer is not ${n}$.",
            "The answer cannot be ${n}$.",
            "Final Answer: The final answer is not $ {n} $. I hope it is correct.",
            "So the final answer is $x \\neq {n}$.",
            "The final answer is **not {n}**.",
        ]
    ),
)
def test_eval_mode_does_not_read_a_negated_answer(n: int, text: str) -> None:
    _rejects(text.format(n=n), str(n), mode="eval")


@example("not")
@given(st.sampled_from(["not", "wrong", "no", "at most", "never", "is it"]))
def test_words_before_zero_are_not_a_product_with_zero(words: str) -> None:
    """``not 0`` read as the product n*o*t*0 equals 0: words are not variables."""
    _rejects(_boxed(f"{words} 0"), "0")
    _rejects(f"The final answer is {words} $0$.", "0", mode="eval")


@given(st.integers(-50, 50), st.integers(51, 99))
def test_eval_mode_does_not_pick_one_branch_of_a_conditional_answer(n: int, m: int) -> None:
    for text in (
        f"The answer is \\[ {n} \\] if $a > 0$, and otherwise it is \\[ {m} \\]",
        f"Final Answer: The final answer is ${n}$ when $k$ is even and ${m}$ when $k$ is odd.",
    ):
        _rejects(text, str(n), mode="eval")
        _rejects(text, str(m), mode="eval")
