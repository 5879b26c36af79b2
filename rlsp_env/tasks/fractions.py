"""Procedural family ``fractions`` (fraction arithmetic), registered as ``rlsp/Fractions-v0``."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from rlsp_env.tasks.base import Draft, check_gold, family, finish, frac_tex, randint, sym_rational


@family("fractions", "fraction arithmetic, answers in lowest terms", env_id="rlsp/Fractions-v0")
def _gen_fractions(rng: np.random.Generator, d: int) -> Draft:
    def frac(lo_den: int, hi_den: int) -> Fraction:
        den = randint(rng, lo_den, hi_den)
        num = randint(rng, 1, den - 1) if den > 1 else 1
        return Fraction(num, den)

    def raw(num: int, den: int) -> str:
        return f"\\frac{{{num}}}{{{den}}}"

    steps: list[str] = []
    if d == 1:
        den = randint(rng, 3, 12)
        n1, n2 = randint(rng, 1, den - 1), randint(rng, 1, den - 1)
        x, y = Fraction(n1, den), Fraction(n2, den)
        value = x + y
        question = f"Compute ${raw(n1, den)} + {raw(n2, den)}$. Simplify your answer."
        steps.append(f"The denominators are equal, so add the numerators: {n1} + {n2} = {n1 + n2}.")
        steps.append(f"This gives ${raw(n1 + n2, den)}$.")
        sym = sym_rational(x) + sym_rational(y)
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
        sym = sym_rational(x) + sym_rational(y) if op == "+" else sym_rational(x) - sym_rational(y)
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
            sym = sym_rational(x) * sym_rational(y)
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
            sym = sym_rational(x) / sym_rational(y)
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
            f"{raw(y.numerator * z.numerator, y.denominator * z.denominator)} = {frac_tex(prod)}$."
        )
        lcd = math.lcm(x.denominator, prod.denominator)
        steps.append(
            f"Add ${frac_tex(x)} + {frac_tex(prod)}$ over the common denominator {lcd}: "
            f"$\\frac{{{x.numerator * (lcd // x.denominator)} + {prod.numerator * (lcd // prod.denominator)}}}{{{lcd}}}$."
        )
        sym = sym_rational(x) + sym_rational(y) * sym_rational(z)
        canonical = f"f5:{x}:{sorted([y, z])}"
    else:
        raise ValueError(f"fractions: difficulty must be 1..5, got {d}")
    check_gold(sym, sym_rational(value), "fraction arithmetic")
    answer = frac_tex(value)
    if value.denominator != 1:
        steps.append(f"In lowest terms this is ${answer}$.")
    else:
        steps.append(f"This simplifies to the integer ${answer}$.")
    return Draft(question, answer, finish("\n".join(steps), answer), canonical, {})
