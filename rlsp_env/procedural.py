"""Procedural problem families: unlimited problems, deterministic from a seed, at graded difficulty.

Each family generates a problem from a ``numpy`` generator, computes its gold answer twice (plain
Python integers/fractions and sympy objects built with constructors, never by parsing strings) and
refuses to emit a problem where the two disagree. Each comes with a step-by-step worked solution that
ends in ``\\boxed{answer}``: an SFT demonstration (RLSP step 1).

Splits: a problem's split is a function of its *content* (a hash of a canonical form, in which
``a + b`` and ``b + a`` are the same problem), so ``split="train"`` and ``split="test"`` are disjoint
whatever the seeds and indices: held-out evaluation is really held out. About 20% of the problem
space is ``"test"``.

Families and difficulties:

=============== ==============================================================================
arithmetic      1: 2-digit + 2-digit; 2: 3-digit + or -; 3: 2-digit x 1-digit;
                4: 2-digit x 2-digit; 5: (a + b) x c - d
fractions       1: same denominators; 2: a/b + c/d; 3: a/b - c/d; 4: x or /; 5: a/b + c/d x e/f
linear_equation 1: ax + b = c; 2: ax + b = cx + d; 3: same, fractional answer;
                4: a(x + b) = c(x - d) + e; 5: x/a + b/c = d
linear_system   1: x + y = s, x - y = d; 2-3: 2x2 (larger coefficients at 3); 4-5: 3x3
polynomial      1: evaluate a quadratic; 2: larger integer root of a quadratic;
                3: expand (x + a)(x + b); 4: expand (ax + b)(cx + d); 5: remainder of a cubic
word_problem    1-5: story problems needing 1 to 5 arithmetic steps
=============== ==============================================================================

Example:
    >>> p = generate_problem("arithmetic", 0, difficulty=1, split="train")
    >>> p.solution.endswith("\\\\boxed{" + p.answer + "}")
    True
    >>> generate_problem("arithmetic", 0, difficulty=1) == p
    True
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from rlsp_env.problem import Problem, content_hash

__all__ = [
    "FAMILIES",
    "Family",
    "TEST_FRACTION_PERCENT",
    "generate_problem",
    "split_of",
]

#: percentage of each family's problem space that belongs to ``split="test"``
TEST_FRACTION_PERCENT = 20
_MAX_ATTEMPTS = 10_000


@dataclass(frozen=True)
class _Draft:
    problem: str
    answer: str
    solution: str
    canonical: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class Family:
    """A procedural family: a name, a generator and its difficulty range."""

    name: str
    generate: Callable[[np.random.Generator, int], _Draft]
    max_difficulty: int
    description: str


def split_of(family: str, canonical: str) -> str:
    """Returns ``"test"`` or ``"train"`` for a problem, from a hash of its canonical content.

    Example:
        >>> split_of("arithmetic", "+:12:34") in ("train", "test")
        True
    """
    h = int(content_hash("split", family, canonical)[:8], 16)
    return "test" if h % 100 < TEST_FRACTION_PERCENT else "train"


def _check(a: Any, b: Any, what: str) -> None:
    # a and b are sympy objects or Python numbers built by the generator; never strings.
    if isinstance(a, str) or isinstance(b, str):
        raise TypeError("gold checks compare constructed numbers, never strings")
    if sympy.simplify(sympy.Integer(0) + a - b) != 0:
        raise AssertionError(f"gold check failed for {what}: {a} != {b}")


def _ri(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi]."""
    return int(rng.integers(lo, hi + 1))


def _nz(rng: np.random.Generator, lo: int, hi: int) -> int:
    while True:
        v = _ri(rng, lo, hi)
        if v != 0:
            return v


def _frac_tex(q: Fraction | sympy.Rational) -> str:
    q = Fraction(int(q.numerator), int(q.denominator)) if not isinstance(q, Fraction) else q
    if q.denominator == 1:
        return str(q.numerator)
    sign = "-" if q < 0 else ""
    return f"{sign}\\frac{{{abs(q.numerator)}}}{{{q.denominator}}}"


def _frac_inline(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _sym_rational(q: Fraction) -> sympy.Rational:
    return sympy.Rational(sympy.Integer(q.numerator), sympy.Integer(q.denominator))


def _signed(v: int | Fraction, *, first: bool = False) -> str:
    """Renders ``+ 3`` / ``- 3`` (or ``3`` / ``-3`` when first)."""
    t = _frac_tex(Fraction(abs(v))) if isinstance(v, Fraction) else str(abs(v))
    if first:
        return f"-{t}" if v < 0 else t
    return f"- {t}" if v < 0 else f"+ {t}"


def _poly_tex(coeffs: list[int], var: str = "x") -> str:
    """Renders integer coefficients (highest degree first) as ``2x^2 - 3x + 1``."""
    deg = len(coeffs) - 1
    parts: list[str] = []
    for i, c in enumerate(coeffs):
        p = deg - i
        if c == 0:
            continue
        mag = abs(c)
        if p == 0:
            body = str(mag)
        else:
            coef = "" if mag == 1 else str(mag)
            body = f"{coef}{var}" + (f"^{p}" if p > 1 else "")
        if not parts:
            parts.append(f"-{body}" if c < 0 else body)
        else:
            parts.append(f"- {body}" if c < 0 else f"+ {body}")
    return " ".join(parts) if parts else "0"


def _finish(text: str, answer: str) -> str:
    return f"{text}\n\nThe final answer is \\boxed{{{answer}}}"


# ----------------------------------------------------------------------------- arithmetic


def _add_steps(a: int, b: int) -> list[str]:
    da, db = str(a)[::-1], str(b)[::-1]
    names = ["ones", "tens", "hundreds", "thousands", "ten-thousands"]
    steps, carry = [], 0
    for i in range(max(len(da), len(db))):
        x = int(da[i]) if i < len(da) else 0
        y = int(db[i]) if i < len(db) else 0
        s = x + y + carry
        terms = f"{x} + {y}" + (f" + {carry} (carried)" if carry else "")
        name = names[i] if i < len(names) else f"10^{i}"
        if s >= 10:
            steps.append(f"Add the {name} digits: {terms} = {s}. Write {s % 10} and carry 1.")
        else:
            steps.append(f"Add the {name} digits: {terms} = {s}. Write {s}.")
        carry = s // 10
    if carry:
        steps.append("Write the final carry 1 in front.")
    return steps


def _sub_steps(a: int, b: int) -> list[str]:
    steps, cur = [], a
    place = 10 ** (len(str(b)) - 1)
    rem = b
    while place >= 1:
        part = (rem // place) * place
        if part:
            steps.append(f"Subtract {part}: {cur} - {part} = {cur - part}.")
            cur -= part
        rem -= part
        place //= 10
    return steps


def _mul_steps(a: int, b: int) -> list[str]:
    """a x b by splitting b into its place values."""
    steps, partials = [], []
    s = str(b)
    for i, d in enumerate(s):
        place = 10 ** (len(s) - 1 - i)
        part = int(d) * place
        if part == 0:
            continue
        partials.append(a * part)
        steps.append(f"{a} \\times {part} = {a * part}.")
    if len(partials) > 1:
        steps.append(f"Add the partial products: {' + '.join(map(str, partials))} = {a * b}.")
    return steps


def _gen_arithmetic(rng: np.random.Generator, d: int) -> _Draft:
    if d == 1 or d == 2:
        lo, hi = (10, 99) if d == 1 else (100, 999)
        a, b = _ri(rng, lo, hi), _ri(rng, lo, hi)
        op = "+" if d == 1 or rng.random() < 0.5 else "-"
        if op == "-" and a < b:
            a, b = b, a
        if op == "+":
            value = a + b
            _check(sympy.Integer(a) + sympy.Integer(b), value, "addition")
            steps = [f"We add {a} and {b} column by column, starting from the ones."]
            steps += _add_steps(a, b)
            steps.append(f"So {a} + {b} = {value}.")
            canonical = f"+:{min(a, b)}:{max(a, b)}"
        else:
            value = a - b
            _check(sympy.Integer(a) - sympy.Integer(b), value, "subtraction")
            steps = [f"We subtract {b} from {a} one place value at a time."]
            steps += _sub_steps(a, b)
            steps.append(f"So {a} - {b} = {value}.")
            canonical = f"-:{a}:{b}"
        question = f"What is ${a} {op} {b}$?"
    elif d == 3 or d == 4:
        a = _ri(rng, 10, 99)
        b = _ri(rng, 2, 9) if d == 3 else _ri(rng, 10, 99)
        value = a * b
        _check(sympy.Mul(sympy.Integer(a), sympy.Integer(b)), value, "product")
        steps = [f"We multiply {a} by {b}, splitting {b} by place value."]
        steps += _mul_steps(a, b)
        steps.append(f"So ${a} \\times {b} = {value}$.")
        question = f"What is ${a} \\times {b}$?"
        canonical = f"*:{min(a, b)}:{max(a, b)}"
    elif d == 5:
        a, b, c, e = _ri(rng, 10, 99), _ri(rng, 10, 99), _ri(rng, 2, 9), _ri(rng, 10, 99)
        s = a + b
        value = s * c - e
        _check(
            (sympy.Integer(a) + sympy.Integer(b)) * sympy.Integer(c) - sympy.Integer(e),
            value,
            "expression",
        )
        steps = [
            "Parentheses first.",
            f"${a} + {b} = {s}$.",
            f"Then multiply: ${s} \\times {c} = {s * c}$.",
            f"Finally subtract: ${s * c} - {e} = {value}$.",
        ]
        question = f"Evaluate $({a} + {b}) \\times {c} - {e}$."
        canonical = f"e5:{min(a, b)}:{max(a, b)}:{c}:{e}"
    else:
        raise ValueError(f"arithmetic: difficulty must be 1..5, got {d}")
    answer = str(value)
    return _Draft(question, answer, _finish("\n".join(steps), answer), canonical, {})


# ----------------------------------------------------------------------------- fractions


def _gen_fractions(rng: np.random.Generator, d: int) -> _Draft:
    def frac(lo_den: int, hi_den: int) -> Fraction:
        den = _ri(rng, lo_den, hi_den)
        num = _ri(rng, 1, den - 1) if den > 1 else 1
        return Fraction(num, den)

    def raw(num: int, den: int) -> str:
        return f"\\frac{{{num}}}{{{den}}}"

    steps: list[str] = []
    if d == 1:
        den = _ri(rng, 3, 12)
        n1, n2 = _ri(rng, 1, den - 1), _ri(rng, 1, den - 1)
        x, y = Fraction(n1, den), Fraction(n2, den)
        value = x + y
        question = f"Compute ${raw(n1, den)} + {raw(n2, den)}$. Simplify your answer."
        steps.append(f"The denominators are equal, so add the numerators: {n1} + {n2} = {n1 + n2}.")
        steps.append(f"This gives ${raw(n1 + n2, den)}$.")
        sym = _sym_rational(x) + _sym_rational(y)
        canonical = f"f1:{min(n1, n2)}:{max(n1, n2)}:{den}"
    elif d in (2, 3):
        while True:
            x, y = frac(2, 10), frac(2, 10)
            if x.denominator != y.denominator:
                break
        op = "+" if d == 2 else "-"
        value = x + y if op == "+" else x - y
        lcd = math.lcm(x.denominator, y.denominator)
        nx, ny = x.numerator * (lcd // x.denominator), y.numerator * (lcd // y.denominator)
        question = (
            f"Compute ${raw(x.numerator, x.denominator)} {op} {raw(y.numerator, y.denominator)}$."
            " Simplify your answer."
        )
        steps.append(
            f"The least common denominator of {x.denominator} and {y.denominator} is {lcd}."
        )
        steps.append(f"Rewrite: ${raw(nx, lcd)} {op} {raw(ny, lcd)}$.")
        top = nx + ny if op == "+" else nx - ny
        steps.append(f"Combine the numerators: {nx} {op} {ny} = {top}, giving ${raw(top, lcd)}$.")
        sym = (
            _sym_rational(x) + _sym_rational(y)
            if op == "+"
            else _sym_rational(x) - _sym_rational(y)
        )
        canonical = f"f{d}:{sorted([x, y]) if op == '+' else [x, y]}"  # a + b == b + a
    elif d == 4:
        x, y = frac(2, 12), frac(2, 12)
        op = "\\times" if rng.random() < 0.5 else "\\div"
        if op == "\\times":
            value = x * y
            steps.append(
                f"Multiply numerators and denominators: "
                f"$\\frac{{{x.numerator} \\cdot {y.numerator}}}{{{x.denominator} \\cdot {y.denominator}}}"
                f" = {raw(x.numerator * y.numerator, x.denominator * y.denominator)}$."
            )
            sym = _sym_rational(x) * _sym_rational(y)
            canonical = f"f4*:{sorted([x, y])}"
        else:
            value = x / y
            steps.append(
                f"Dividing by ${raw(y.numerator, y.denominator)}$ is multiplying by its reciprocal "
                f"${raw(y.denominator, y.numerator)}$."
            )
            steps.append(
                f"$\\frac{{{x.numerator} \\cdot {y.denominator}}}{{{x.denominator} \\cdot {y.numerator}}}"
                f" = {raw(x.numerator * y.denominator, x.denominator * y.numerator)}$."
            )
            sym = _sym_rational(x) / _sym_rational(y)
            canonical = f"f4/:{x}:{y}"
        question = (
            f"Compute ${raw(x.numerator, x.denominator)} {op} {raw(y.numerator, y.denominator)}$."
            " Simplify your answer."
        )
    elif d == 5:
        x, y, z = frac(2, 9), frac(2, 9), frac(2, 9)
        prod = y * z
        value = x + prod
        question = (
            f"Compute ${raw(x.numerator, x.denominator)} + {raw(y.numerator, y.denominator)} \\times "
            f"{raw(z.numerator, z.denominator)}$. Simplify your answer."
        )
        steps.append("Multiplication comes before addition.")
        steps.append(
            f"${raw(y.numerator, y.denominator)} \\times {raw(z.numerator, z.denominator)} = "
            f"{raw(y.numerator * z.numerator, y.denominator * z.denominator)} = {_frac_tex(prod)}$."
        )
        lcd = math.lcm(x.denominator, prod.denominator)
        steps.append(
            f"Add ${_frac_tex(x)} + {_frac_tex(prod)}$ over the common denominator {lcd}: "
            f"$\\frac{{{x.numerator * (lcd // x.denominator)} + {prod.numerator * (lcd // prod.denominator)}}}{{{lcd}}}$."
        )
        sym = _sym_rational(x) + _sym_rational(y) * _sym_rational(z)
        canonical = f"f5:{x}:{sorted([y, z])}"
    else:
        raise ValueError(f"fractions: difficulty must be 1..5, got {d}")
    _check(sym, _sym_rational(value), "fraction arithmetic")
    answer = _frac_tex(value)
    if value.denominator != 1:
        steps.append(f"In lowest terms this is ${answer}$.")
    else:
        steps.append(f"This simplifies to the integer ${answer}$.")
    return _Draft(question, answer, _finish("\n".join(steps), answer), canonical, {})


# ----------------------------------------------------------------------------- linear equations


def _solve_linear(lhs: Any, rhs: Any) -> Fraction:
    x = sympy.Symbol("x")
    sols = sympy.solve(sympy.Eq(lhs(x), rhs(x)), x)
    if len(sols) != 1 or not sols[0].is_Rational:
        raise AssertionError(f"expected one rational solution, got {sols}")
    s = sols[0]
    return Fraction(int(s.p), int(s.q))


def _gen_linear_equation(rng: np.random.Generator, d: int) -> _Draft:
    steps: list[str] = []
    if d == 1:
        a, x0, b = _ri(rng, 2, 9), _nz(rng, -10, 10), _nz(rng, -20, 20)
        c = a * x0 + b
        question = f"Solve for $x$: ${a}x {_signed(b)} = {c}$."
        steps.append(f"Subtract {b} from both sides: ${a}x = {c} - ({b}) = {c - b}$.")
        steps.append(f"Divide by {a}: $x = {c - b} / {a} = {x0}$.")
        value = Fraction(x0)
        got = _solve_linear(
            lambda x: sympy.Integer(a) * x + sympy.Integer(b), lambda x: sympy.Integer(c)
        )
        canonical = f"l1:{a}:{b}:{c}"
    elif d in (2, 3):
        while True:
            a, c = _nz(rng, -9, 9), _nz(rng, -9, 9)
            if a != c:
                break
        if d == 2:
            x0 = _nz(rng, -10, 10)
            b = _nz(rng, -20, 20)
            e = (a - c) * x0 + b  # a x + b = c x + e
        else:
            b, e = _nz(rng, -20, 20), _nz(rng, -20, 20)
        value = Fraction(e - b, a - c)
        question = f"Solve for $x$: ${_poly_tex([a, b])} = {_poly_tex([c, e])}$."
        steps.append(f"Move the $x$ terms to the left: $({a} - ({c}))x = {a - c}x$.")
        steps.append(f"Move the constants to the right: ${e} - ({b}) = {e - b}$.")
        steps.append(f"So ${a - c}x = {e - b}$, and $x = \\frac{{{e - b}}}{{{a - c}}}$.")
        got = _solve_linear(
            lambda x: sympy.Integer(a) * x + sympy.Integer(b),
            lambda x: sympy.Integer(c) * x + sympy.Integer(e),
        )
        canonical = f"l23:{a}:{b}:{c}:{e}"  # d2 and d3 share a form
    elif d == 4:
        while True:
            a, c = _nz(rng, -9, 9), _nz(rng, -9, 9)
            if a != c:
                break
        b, dd, e = _nz(rng, -9, 9), _nz(rng, -9, 9), _nz(rng, -20, 20)
        # a(x + b) = c(x - dd) + e
        value = Fraction(-c * dd + e - a * b, a - c)
        question = f"Solve for $x$: ${a}(x {_signed(b)}) = {c}(x {_signed(-dd)}) {_signed(e)}$."
        steps.append(
            f"Expand both sides: ${a}x {_signed(a * b)} = {c}x {_signed(-c * dd)} {_signed(e)}$."
        )
        steps.append(
            f"Collect: $({a} - ({c}))x = {-c * dd + e} - ({a * b})$, i.e. ${a - c}x = {-c * dd + e - a * b}$."
        )
        steps.append(f"So $x = \\frac{{{-c * dd + e - a * b}}}{{{a - c}}}$.")
        got = _solve_linear(
            lambda x: sympy.Integer(a) * (x + sympy.Integer(b)),
            lambda x: sympy.Integer(c) * (x - sympy.Integer(dd)) + sympy.Integer(e),
        )
        canonical = f"l4:{a}:{b}:{c}:{dd}:{e}"
    elif d == 5:
        a, cden = _ri(rng, 2, 9), _ri(rng, 2, 9)
        bnum, dv = _nz(rng, -9, 9), _nz(rng, -9, 9)
        # x/a + bnum/cden = dv  ->  x = a (dv - bnum/cden)
        value = a * (Fraction(dv) - Fraction(bnum, cden))
        question = f"Solve for $x$: $\\frac{{x}}{{{a}}} {_signed(Fraction(bnum, cden))} = {dv}$."
        steps.append(
            f"Subtract ${_frac_tex(Fraction(bnum, cden))}$: $\\frac{{x}}{{{a}}} = {dv} - ({_frac_tex(Fraction(bnum, cden))}) = {_frac_tex(Fraction(dv) - Fraction(bnum, cden))}$."
        )
        steps.append(
            f"Multiply by {a}: $x = {a} \\cdot {_frac_tex(Fraction(dv) - Fraction(bnum, cden))}$."
        )
        got = _solve_linear(
            lambda x: x / sympy.Integer(a) + sympy.Rational(bnum, cden),
            lambda x: sympy.Integer(dv),
        )
        canonical = f"l5:{a}:{Fraction(bnum, cden)}:{dv}"
    else:
        raise ValueError(f"linear_equation: difficulty must be 1..5, got {d}")
    if got != value:
        raise AssertionError(f"linear_equation gold check failed: {got} != {value}")
    answer = _frac_tex(value)
    steps.append(f"Therefore $x = {answer}$.")
    return _Draft(question, answer, _finish("\n".join(steps), answer), canonical, {})


# ----------------------------------------------------------------------------- linear systems


def _gen_linear_system(rng: np.random.Generator, d: int) -> _Draft:
    if d not in range(1, 6):
        raise ValueError(f"linear_system: difficulty must be 1..5, got {d}")
    n = 2 if d <= 3 else 3
    names = ["x", "y", "z"][:n]
    span = {1: 1, 2: 5, 3: 9, 4: 4, 5: 9}[d]
    sol_span = 10 if d < 5 else 15
    while True:
        if d == 1:
            mat = [[1, 1], [1, -1]]
        else:
            mat = [[_ri(rng, -span, span) for _ in range(n)] for _ in range(n)]
        m = sympy.Matrix(mat)
        det = m.det()
        if det != 0:
            break
    sol = [_ri(rng, -sol_span, sol_span) for _ in range(n)]
    rhs = [sum(mat[i][j] * sol[j] for j in range(n)) for i in range(n)]
    got = m.LUsolve(sympy.Matrix(rhs))
    if [int(v) for v in got] != sol:
        raise AssertionError(f"linear_system gold check failed: {list(got)} != {sol}")

    def eq(row: list[int], r: int) -> str:
        terms: list[str] = []
        for c, v in zip(row, names):
            if c == 0:
                continue
            coef = "" if abs(c) == 1 else str(abs(c))
            if not terms:
                terms.append(f"{'-' if c < 0 else ''}{coef}{v}")
            else:
                terms.append(f"{'-' if c < 0 else '+'} {coef}{v}")
        return f"{' '.join(terms) if terms else '0'} = {r}"

    system = ", \\quad ".join(eq(row, r) for row, r in zip(mat, rhs))
    tup = "(" + ", ".join(names) + ")"
    question = f"Solve the system ${system}$. Give your answer as an ordered {'pair' if n == 2 else 'triple'} ${tup}$."
    steps = [f"We use Cramer's rule. The coefficient determinant is $D = {int(det)}$."]
    for j, v in enumerate(names):
        mj = m.copy()
        mj[:, j] = sympy.Matrix(rhs)
        dj = int(mj.det())
        steps.append(
            f"Replacing the {v}-column by the right-hand side gives $D_{v} = {dj}$, so "
            f"${v} = D_{v} / D = {dj} / {int(det)} = {sol[j]}$."
        )
    check = "; ".join(
        f"{' + '.join(f'({c})({s})' for c, s in zip(row, sol))} = {r}" for row, r in zip(mat, rhs)
    )
    steps.append(f"Check by substituting: {check}.")
    answer = "(" + ", ".join(str(s) for s in sol) + ")"
    canonical = f"s{n}:{mat}:{rhs}"  # the same system at two difficulties is one problem
    return _Draft(question, answer, _finish("\n".join(steps), answer), canonical, {"size": n})


# ----------------------------------------------------------------------------- polynomials


def _gen_polynomial(rng: np.random.Generator, d: int) -> _Draft:
    x = sympy.Symbol("x")
    steps: list[str] = []
    if d == 1:
        a, b, c = _nz(rng, -5, 5), _ri(rng, -9, 9), _ri(rng, -9, 9)
        k = _nz(rng, -5, 5)
        value = a * k * k + b * k + c
        poly = _poly_tex([a, b, c])
        question = f"Let $p(x) = {poly}$. What is $p({k})$?"
        steps.append(f"Substitute $x = {k}$: $p({k}) = {a}({k})^2 + ({b})({k}) + ({c})$.")
        steps.append(f"$= {a * k * k} + ({b * k}) + ({c}) = {value}$.")
        sym = (sympy.Integer(a) * x**2 + sympy.Integer(b) * x + sympy.Integer(c)).subs(x, k)
        _check(sym, value, "polynomial value")
        answer = str(value)
        canonical = f"p1:{a}:{b}:{c}:{k}"
    elif d == 2:
        while True:
            r1, r2 = _ri(rng, -12, 12), _ri(rng, -12, 12)
            if r1 != r2:
                break
        b, c = -(r1 + r2), r1 * r2
        poly = _poly_tex([1, b, c])
        question = f"Find the larger root of ${poly} = 0$."
        hi, lo = max(r1, r2), min(r1, r2)
        steps.append(
            f"We look for two numbers with product {c} and sum {-b}: they are {r1} and {r2}."
        )
        steps.append(
            f"So ${poly} = (x {_signed(-r1)})(x {_signed(-r2)})$, with roots {lo} and {hi}."
        )
        roots = sympy.roots(sympy.Poly([1, b, c], x))
        if sorted(int(r) for r in roots) != [lo, hi]:
            raise AssertionError("polynomial root check failed")
        answer = str(hi)
        steps.append(f"The larger root is {hi}.")
        canonical = f"p2:{b}:{c}"
    elif d in (3, 4):
        if d == 3:
            a, b, c, e = 1, _nz(rng, -12, 12), 1, _nz(rng, -12, 12)
        else:
            a, b, c, e = _nz(rng, -6, 6), _nz(rng, -9, 9), _nz(rng, -6, 6), _nz(rng, -9, 9)
        f1, f2 = _poly_tex([a, b]), _poly_tex([c, e])
        coeffs = [a * c, a * e + b * c, b * e]
        answer = _poly_tex(coeffs)
        question = f"Expand $({f1})({f2})$."
        steps.append("Multiply each term of the first factor by each term of the second (FOIL).")
        steps.append(f"First: ${a * c}x^2$; outer: ${a * e}x$; inner: ${b * c}x$; last: ${b * e}$.")
        steps.append(f"Combine the $x$ terms: ${a * e} + ({b * c}) = {a * e + b * c}$.")
        prod = sympy.expand((a * x + b) * (c * x + e))
        if sympy.Poly(prod, x).all_coeffs() != [sympy.Integer(v) for v in coeffs]:
            if not (coeffs[0] == 0 and sympy.Poly(prod, x).all_coeffs() == coeffs[1:]):
                raise AssertionError("polynomial expansion check failed")
        steps.append(f"Result: ${answer}$.")
        pair = sorted([(a, b), (c, e)])
        canonical = f"p34:{pair}"  # d3 and d4 share a form
    elif d == 5:
        a3, a2, a1, a0 = _nz(rng, -5, 5), _ri(rng, -9, 9), _ri(rng, -9, 9), _ri(rng, -9, 9)
        k = _nz(rng, -4, 4)
        poly = _poly_tex([a3, a2, a1, a0])
        value = a3 * k**3 + a2 * k**2 + a1 * k + a0
        question = f"What is the remainder when ${poly}$ is divided by $x {_signed(-k)}$?"
        steps.append(
            f"By the remainder theorem, the remainder is the value of the polynomial at $x = {k}$."
        )
        steps.append(
            f"${a3}({k})^3 + ({a2})({k})^2 + ({a1})({k}) + ({a0}) = "
            f"{a3 * k**3} + ({a2 * k**2}) + ({a1 * k}) + ({a0}) = {value}$."
        )
        _, rem = sympy.div(sympy.Poly([a3, a2, a1, a0], x), sympy.Poly([1, -k], x))
        _check(rem.as_expr(), value, "remainder")
        answer = str(value)
        canonical = f"p5:{a3}:{a2}:{a1}:{a0}:{k}"
    else:
        raise ValueError(f"polynomial: difficulty must be 1..5, got {d}")
    return _Draft(question, answer, _finish("\n".join(steps), answer), canonical, {})


# ----------------------------------------------------------------------------- word problems

_NAMES = [
    "Ava",
    "Ben",
    "Chloe",
    "Diego",
    "Emma",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
]
_ITEMS = ["apples", "marbles", "stickers", "pencils", "cookies", "stamps", "shells", "cards"]


def _gen_word_problem(rng: np.random.Generator, d: int) -> _Draft:
    name = _NAMES[_ri(rng, 0, len(_NAMES) - 1)]
    item = _ITEMS[_ri(rng, 0, len(_ITEMS) - 1)]
    Z = sympy.Integer
    if d == 1:
        a, b = _ri(rng, 5, 60), _ri(rng, 2, 40)
        if rng.random() < 0.5:
            question = (
                f"{name} has {a} {item} and gets {b} more. How many {item} does {name} have now?"
            )
            value, sym = a + b, Z(a) + Z(b)
            steps = [f"{name} starts with {a} and gains {b}: {a} + {b} = {value}."]
        else:
            a = a + b
            question = f"{name} has {a} {item} and gives away {b}. How many {item} are left?"
            value, sym = a - b, Z(a) - Z(b)
            steps = [f"{name} starts with {a} and gives away {b}: {a} - {b} = {value}."]
        canonical = question
    elif d == 2:
        n, k, a = _ri(rng, 2, 9), _ri(rng, 3, 12), _ri(rng, 1, 30)
        question = (
            f"{name} already has {a} {item}, then buys {n} packs with {k} {item} in each pack. "
            f"How many {item} does {name} have in total?"
        )
        value, sym = n * k + a, Z(n) * Z(k) + Z(a)
        steps = [
            f"The packs hold {n} \\times {k} = {n * k} {item}.",
            f"Adding the {a} already owned: {n * k} + {a} = {value}.",
        ]
        canonical = question
    elif d == 3:
        w, h, days = _ri(rng, 8, 25), _ri(rng, 2, 8), _ri(rng, 2, 6)
        s = _ri(rng, 1, w * h * days - 1)
        question = (
            f"{name} earns {w} dollars per hour and works {h} hours a day for {days} days, then spends {s} dollars. "
            f"How many dollars does {name} have left?"
        )
        value, sym = w * h * days - s, Z(w) * Z(h) * Z(days) - Z(s)
        steps = [
            f"Per day: {w} \\times {h} = {w * h} dollars.",
            f"For {days} days: {w * h} \\times {days} = {w * h * days} dollars.",
            f"After spending {s}: {w * h * days} - {s} = {value}.",
        ]
        canonical = question
    elif d == 4:
        m = _ri(rng, 2, 8)
        each = _ri(rng, 2, 15)
        g = _ri(rng, 1, 20)
        boxes = _ri(rng, 2, 9)
        # boxes * per_box - g = m * each  -> choose per_box so that it divides
        total = m * each + g
        while total % boxes:
            g += 1
            total = m * each + g
        per_box = total // boxes
        question = (
            f"{name} has {boxes} boxes with {per_box} {item} in each box. {name} keeps {g} {item} "
            f"and shares the rest equally among {m} friends. How many {item} does each friend get?"
        )
        value = (boxes * per_box - g) // m
        sym = (Z(boxes) * Z(per_box) - Z(g)) / Z(m)
        steps = [
            f"Total: {boxes} \\times {per_box} = {boxes * per_box}.",
            f"After keeping {g}: {boxes * per_box} - {g} = {boxes * per_box - g}.",
            f"Shared among {m}: {boxes * per_box - g} / {m} = {value}.",
        ]
        canonical = question
    elif d == 5:
        price = 20 * _ri(rng, 1, 10)
        pct = [10, 20, 25, 50][_ri(rng, 0, 3)]
        n = _ri(rng, 2, 6)
        fee = _ri(rng, 1, 9)
        sale = price * (100 - pct) // 100
        cost = n * sale + fee
        bill = 100 * (cost // 100 + 1)
        question = (
            f"A jacket costs {price} dollars. During a sale its price is reduced by {pct} percent. "
            f"{name} buys {n} jackets at the sale price, pays a {fee} dollar delivery fee, and pays "
            f"with {bill} dollars. "
            f"How many dollars of change does {name} get?"
        )
        value = bill - cost
        sym = Z(bill) - (Z(n) * Z(price) * (1 - sympy.Rational(pct, 100)) + Z(fee))
        steps = [
            f"The discount is {pct}% of {price}: {price} \\times {pct}/100 = {price - sale}.",
            f"Sale price: {price} - {price - sale} = {sale}.",
            f"{n} jackets: {n} \\times {sale} = {n * sale}.",
            f"With the fee: {n * sale} + {fee} = {cost}.",
            f"Change: {bill} - {cost} = {value}.",
        ]
        canonical = question
    else:
        raise ValueError(f"word_problem: difficulty must be 1..5, got {d}")
    _check(sym, value, "word problem")
    answer = str(value)
    return _Draft(question, answer, _finish("\n".join(steps), answer), canonical, {})


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family(
            "arithmetic", _gen_arithmetic, 5, "integer arithmetic (difficulty 1: 2-digit + 2-digit)"
        ),
        Family("fractions", _gen_fractions, 5, "fraction arithmetic, answers in lowest terms"),
        Family("linear_equation", _gen_linear_equation, 5, "one linear equation in x"),
        Family("linear_system", _gen_linear_system, 5, "2x2 and 3x3 linear systems"),
        Family("polynomial", _gen_polynomial, 5, "evaluate, factor, expand, remainder theorem"),
        Family("word_problem", _gen_word_problem, 5, "multi-step story problems"),
    ]
}


def generate_problem(
    family: str,
    index: int,
    *,
    difficulty: int = 1,
    split: str = "train",
    seed: int = 0,
) -> Problem:
    """Returns problem number ``index`` of a family's stream, deterministic in all arguments.

    Args:
        family: a key of :data:`FAMILIES`.
        index: position in the stream (any non-negative integer).
        difficulty: 1 (easiest) to the family's ``max_difficulty``.
        split: ``"train"``, ``"test"`` (disjoint by content) or ``"all"``.
        seed: selects a different stream.

    Raises:
        KeyError: unknown family.
        ValueError: bad difficulty, split, index or seed.

    Example:
        >>> p = generate_problem("fractions", 3, difficulty=2, split="test")
        >>> p.meta["split"], p.level, p.source
        ('test', 2, 'fractions')
    """
    if family not in FAMILIES:
        raise KeyError(f"unknown procedural family {family!r}; known: {sorted(FAMILIES)}")
    fam = FAMILIES[family]
    if not isinstance(difficulty, int | np.integer) or not 1 <= difficulty <= fam.max_difficulty:
        raise ValueError(
            f"{family}: difficulty must be an integer in 1..{fam.max_difficulty}, got {difficulty!r}"
        )
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    if int(index) < 0 or int(seed) < 0:
        raise ValueError(f"index and seed must be non-negative, got index={index}, seed={seed}")
    code = zlib.crc32(family.encode())
    for attempt in range(_MAX_ATTEMPTS):
        rng = np.random.default_rng([int(seed), code, int(difficulty), int(index), attempt])
        draft = fam.generate(rng, int(difficulty))
        s = split_of(family, draft.canonical)
        if split == "all" or s == split:
            digest = content_hash(family, draft.canonical)[:16]
            return Problem(
                id=f"{family}/d{difficulty}/{digest}",
                problem=draft.problem,
                answer=draft.answer,
                solution=draft.solution,
                subject=family,
                level=int(difficulty),
                source=family,
                meta={
                    "split": s,
                    "difficulty": int(difficulty),
                    "index": int(index),
                    "seed": int(seed),
                    **draft.meta,
                },
            )
    raise RuntimeError(
        f"{family}: no {split} problem found in {_MAX_ATTEMPTS} attempts"
    )  # pragma: no cover
