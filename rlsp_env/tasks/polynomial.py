"""Procedural family ``polynomial`` (polynomials: evaluate, roots, expand, remainders), registered as ``rlsp/Polynomial-v0``."""

from __future__ import annotations

import numpy as np
import sympy

from rlsp_env.tasks.base import (
    Draft,
    check_gold,
    family,
    finish,
    nonzero,
    poly_tex,
    randint,
    signed,
)


@family("polynomial", "evaluate, factor, expand, remainder theorem", env_id="rlsp/Polynomial-v0")
def _gen_polynomial(rng: np.random.Generator, d: int) -> Draft:
    x = sympy.Symbol("x")
    steps: list[str] = []
    if d == 1:
        a, b, c = nonzero(rng, -5, 5), randint(rng, -9, 9), randint(rng, -9, 9)
        k = nonzero(rng, -5, 5)
        value = a * k * k + b * k + c
        poly = poly_tex([a, b, c])
        question = f"Let $p(x) = {poly}$. What is $p({k})$?"
        steps.append(f"Substitute $x = {k}$: $p({k}) = {a}({k})^2 + ({b})({k}) + ({c})$.")
        steps.append(f"$= {a * k * k} + ({b * k}) + ({c}) = {value}$.")
        sym = (sympy.Integer(a) * x**2 + sympy.Integer(b) * x + sympy.Integer(c)).subs(x, k)
        check_gold(sym, value, "polynomial value")
        answer = str(value)
        canonical = f"p1:{a}:{b}:{c}:{k}"
    elif d == 2:
        while True:
            r1, r2 = randint(rng, -12, 12), randint(rng, -12, 12)
            if r1 != r2:
                break
        b, c = -(r1 + r2), r1 * r2
        poly = poly_tex([1, b, c])
        question = f"Find the larger root of ${poly} = 0$."
        hi, lo = max(r1, r2), min(r1, r2)
        steps.append(
            f"We look for two numbers with product {c} and sum {-b}: they are {r1} and {r2}."
        )
        steps.append(f"So ${poly} = (x {signed(-r1)})(x {signed(-r2)})$, with roots {lo} and {hi}.")
        roots = sympy.roots(sympy.Poly([1, b, c], x))
        if sorted(int(r) for r in roots) != [lo, hi]:
            raise AssertionError("polynomial root check failed")
        answer = str(hi)
        steps.append(f"The larger root is {hi}.")
        canonical = f"p2:{b}:{c}"
    elif d in (3, 4):
        if d == 3:
            a, b, c, e = 1, nonzero(rng, -12, 12), 1, nonzero(rng, -12, 12)
        else:
            a, b, c, e = (
                nonzero(rng, -6, 6),
                nonzero(rng, -9, 9),
                nonzero(rng, -6, 6),
                nonzero(rng, -9, 9),
            )
        f1, f2 = poly_tex([a, b]), poly_tex([c, e])
        coeffs = [a * c, a * e + b * c, b * e]
        answer = poly_tex(coeffs)
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
        a3, a2, a1, a0 = (
            nonzero(rng, -5, 5),
            randint(rng, -9, 9),
            randint(rng, -9, 9),
            randint(rng, -9, 9),
        )
        k = nonzero(rng, -4, 4)
        poly = poly_tex([a3, a2, a1, a0])
        value = a3 * k**3 + a2 * k**2 + a1 * k + a0
        question = f"What is the remainder when ${poly}$ is divided by $x {signed(-k)}$?"
        steps.append(
            f"By the remainder theorem, the remainder is the value of the polynomial at $x = {k}$."
        )
        steps.append(
            f"${a3}({k})^3 + ({a2})({k})^2 + ({a1})({k}) + ({a0}) = "
            f"{a3 * k**3} + ({a2 * k**2}) + ({a1 * k}) + ({a0}) = {value}$."
        )
        _, rem = sympy.div(sympy.Poly([a3, a2, a1, a0], x), sympy.Poly([1, -k], x))
        check_gold(rem.as_expr(), value, "remainder")
        answer = str(value)
        canonical = f"p5:{a3}:{a2}:{a1}:{a0}:{k}"
    else:
        raise ValueError(f"polynomial: difficulty must be 1..5, got {d}")
    return Draft(question, answer, finish("\n".join(steps), answer), canonical, {})
