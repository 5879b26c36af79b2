"""Shared hypothesis strategies: math values and their equivalent LaTeX/plain renderings.

Each value strategy yields ``(value, renderings)`` pairs where ``value`` is the exact value (a
Python ``Fraction``, an int, or a tagged tuple) and every rendering denotes exactly that value.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

__all__ = [
    "answer_text",
    "fractions",
    "integers",
    "math_expressions",
    "render_fraction",
    "render_integer",
    "rendered_value",
    "small_sqrt_multiples",
]

integers = st.integers(min_value=-(10**12), max_value=10**12)
fractions = st.builds(
    Fraction,
    st.integers(min_value=-(10**6), max_value=10**6),
    st.integers(min_value=1, max_value=10**4),
)


def render_integer(n: int) -> list[str]:
    """Equivalent renderings of an integer."""
    out = [str(n), f"{{{n}}}", f"${n}$", f"\\text{{{n}}}" if n >= 0 else str(n), f"{n}.0"]
    if abs(n) >= 1000:
        out.append(f"{n:,}")
        out.append(f"{n:,}".replace(",", "{,}"))
        out.append(f"{n:,}".replace(",", ",\\!"))
    if n >= 0:
        out.append(f"0{n}")  # a leading zero
        out.append(f"\\frac{{{2 * n}}}{{2}}")
    else:
        out.append(f"-\\frac{{{-2 * n}}}{{2}}")
    out.append(f"\\left({n}\\right)")
    return out


def render_fraction(q: Fraction) -> list[str]:
    """Equivalent renderings of a rational number."""
    p, d = q.numerator, q.denominator
    if d == 1:
        return render_integer(p)
    sign = "-" if p < 0 else ""
    a = abs(p)
    out = [
        f"{sign}\\frac{{{a}}}{{{d}}}",
        f"{sign}\\dfrac{{{a}}}{{{d}}}",
        f"{sign}\\tfrac{{{a}}}{{{d}}}",
        f"{p}/{d}",
        f"\\frac{{{p}}}{{{d}}}",
        f"\\frac{{{2 * p}}}{{{2 * d}}}",
        f"{sign}\\frac {{ {a} }} {{ {d} }}",
    ]
    # a terminating decimal when the denominator allows it
    dd = d
    for f in (2, 5):
        while dd % f == 0:
            dd //= f
    if dd == 1:
        k = 0
        while (10**k) % d:
            k += 1
        num = abs(p) * (10**k // d)
        whole, frac = divmod(num, 10**k)
        out.append(f"{sign}{whole}.{frac:0{k}d}")
    if a > d:  # a mixed number
        w, r = divmod(a, d)
        out.append(f"{sign}{w}\\frac{{{r}}}{{{d}}}")
    return out


@st.composite
def small_sqrt_multiples(draw: st.DrawFn) -> tuple[tuple[str, int, int], list[str]]:
    """``k * sqrt(m)`` for square-free ``m``: several renderings."""
    k = draw(st.integers(min_value=1, max_value=50))
    m = draw(st.sampled_from([2, 3, 5, 6, 7, 10, 11, 13, 14, 15]))
    out = [
        f"{k}\\sqrt{{{m}}}",
        f"\\sqrt{{{k * k * m}}}",
        f"{k} \\sqrt {m}" if m < 10 else f"{k}\\sqrt{{{m}}}",
    ]
    out.append(f"\\frac{{{2 * k}\\sqrt{{{m}}}}}{{2}}")
    out.append(f"{k}\\cdot\\sqrt{{{m}}}")
    out.append(f"\\sqrt{{{m}}}\\cdot {k}")
    out.append(f"\\frac{{{k * m}}}{{\\sqrt{{{m}}}}}")
    if k == 1:
        out.append(f"\\sqrt{m}" if m < 10 else f"\\sqrt{{{m}}}")
    return ("sqrt", k, m), out


@st.composite
def rendered_value(draw: st.DrawFn) -> tuple[object, list[str]]:
    """A value and a list of its equivalent renderings (integers, fractions, radicals)."""
    kind = draw(st.sampled_from(["int", "frac", "sqrt"]))
    if kind == "int":
        n = draw(integers)
        return ("int", n), render_integer(n)
    if kind == "frac":
        q = draw(fractions)
        return ("frac", q), render_fraction(q)
    return draw(small_sqrt_multiples())


#: Arbitrary text biased towards LaTeX-looking fragments (for totality tests).
answer_text = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            [
                "\\boxed{",
                "}",
                "{",
                "\\frac",
                "\\sqrt",
                "^",
                "_",
                "(",
                ")",
                "[",
                "]",
                "\\{",
                "\\}",
                ",",
                "=",
                "x",
                "2",
                "10",
                "\\pi",
                "\\infty",
                "-",
                "+",
                "\\cdot",
                "!",
                "\\left(",
                "\\right)",
                "\\text{",
                "\\begin{pmatrix}",
                "\\end{pmatrix}",
                "&",
                "\\\\",
                "\\pm",
                "\\%",
                "e",
                "i",
                ".",
                " ",
                "\\dfrac",
                "</think>",
                "<think>",
                "\\le",
                "\\cup",
                "9999",
                "^{",
                "\\ln",
                "\\sin",
                "|",
                "0",
            ]
        ),  # fmt: skip
        max_size=60,
    ).map("".join),
)


_ATOMS = [
    "x",
    "y",
    "n",
    "2",
    "3",
    "10",
    "99",
    "0",
    "1",
    "0.5",
    "1/3",
    "\\pi",
    "e",
    "i",
    "\\infty",
    "\\sqrt{2}",
]


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    two = st.tuples(children, children)
    return st.one_of(
        two.map(lambda t: f"{t[0]}+{t[1]}"),
        two.map(lambda t: f"{t[0]}-{t[1]}"),
        two.map(lambda t: f"{t[0]}\\cdot {t[1]}"),
        two.map(lambda t: f"\\frac{{{t[0]}}}{{{t[1]}}}"),
        st.tuples(children, st.sampled_from(["2", "3", "10", "64", "-1", "1/2", "x", "99"])).map(
            lambda t: f"{{{t[0]}}}^{{{t[1]}}}"
        ),
        children.map(lambda a: f"\\sqrt{{{a}}}"),
        children.map(lambda a: f"\\sin({a})"),
        children.map(lambda a: f"\\ln({a})"),
        children.map(lambda a: f"e^{{{a}}}"),
        children.map(lambda a: f"({a})!"),
        two.map(lambda t: f"({t[0]}, {t[1]})"),
        two.map(lambda t: f"{t[0]} = {t[1]}"),
    )


#: Random well-formed LaTeX expressions (towers, functions of infinity, factorials, ...): the
#: structured counterpart of :data:`answer_text` for totality and time-bound tests.
math_expressions = st.recursive(st.sampled_from(_ATOMS), _combine, max_leaves=12)
