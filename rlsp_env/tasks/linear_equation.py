"""Procedural family ``linear_equation`` (one linear equation in x), registered as ``rlsp/LinearEquation-v0``."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from rlsp_env.tasks.base import Draft, family, finish, frac_tex, nonzero, poly_tex, randint, signed


def _solve_linear(lhs: Any, rhs: Any) -> Fraction:
    x = sympy.Symbol("x")
    sols = sympy.solve(sympy.Eq(lhs(x), rhs(x)), x)
    if len(sols) != 1 or not sols[0].is_Rational:
        raise AssertionError(f"expected one rational solution, got {sols}")
    s = sols[0]
    return Fraction(int(s.p), int(s.q))


@family("linear_equation", "one linear equation in x", env_id="rlsp/LinearEquation-v0")
def _gen_linear_equation(rng: np.random.Generator, d: int) -> Draft:
    steps: list[str] = []
    if d == 1:
        a, x0, b = randint(rng, 2, 9), nonzero(rng, -10, 10), nonzero(rng, -20, 20)
        c = a * x0 + b
        question = f"Solve for $x$: ${a}x {signed(b)} = {c}$."
        steps.append(f"Subtract {b} from both sides: ${a}x = {c} - ({b}) = {c - b}$.")
        steps.append(f"Divide by {a}: $x = {c - b} / {a} = {x0}$.")
        value = Fraction(x0)
        got = _solve_linear(
            lambda x: sympy.Integer(a) * x + sympy.Integer(b), lambda x: sympy.Integer(c)
        )
        canonical = f"l1:{a}:{b}:{c}"
    elif d in (2, 3):
        while True:
            a, c = nonzero(rng, -9, 9), nonzero(rng, -9, 9)
            if a != c:
                break
        if d == 2:
            x0 = nonzero(rng, -10, 10)
            b = nonzero(rng, -20, 20)
            e = (a - c) * x0 + b  # a x + b = c x + e
        else:
            b, e = nonzero(rng, -20, 20), nonzero(rng, -20, 20)
        value = Fraction(e - b, a - c)
        question = f"Solve for $x$: ${poly_tex([a, b])} = {poly_tex([c, e])}$."
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
            a, c = nonzero(rng, -9, 9), nonzero(rng, -9, 9)
            if a != c:
                break
        b, dd, e = nonzero(rng, -9, 9), nonzero(rng, -9, 9), nonzero(rng, -20, 20)
        # a(x + b) = c(x - dd) + e
        value = Fraction(-c * dd + e - a * b, a - c)
        question = f"Solve for $x$: ${a}(x {signed(b)}) = {c}(x {signed(-dd)}) {signed(e)}$."
        steps.append(
            f"Expand both sides: ${a}x {signed(a * b)} = {c}x {signed(-c * dd)} {signed(e)}$."
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
        a, cden = randint(rng, 2, 9), randint(rng, 2, 9)
        bnum, dv = nonzero(rng, -9, 9), nonzero(rng, -9, 9)
        # x/a + bnum/cden = dv  ->  x = a (dv - bnum/cden)
        value = a * (Fraction(dv) - Fraction(bnum, cden))
        question = f"Solve for $x$: $\\frac{{x}}{{{a}}} {signed(Fraction(bnum, cden))} = {dv}$."
        steps.append(
            f"Subtract ${frac_tex(Fraction(bnum, cden))}$: $\\frac{{x}}{{{a}}} = {dv} - ({frac_tex(Fraction(bnum, cden))}) = {frac_tex(Fraction(dv) - Fraction(bnum, cden))}$."
        )
        steps.append(
            f"Multiply by {a}: $x = {a} \\cdot {frac_tex(Fraction(dv) - Fraction(bnum, cden))}$."
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
    answer = frac_tex(value)
    steps.append(f"Therefore $x = {answer}$.")
    return Draft(question, answer, finish("\n".join(steps), answer), canonical, {})
