"""What a procedural family is, the registry the families add themselves to, and the helpers they
share (exact rendering of numbers and polynomials, the double gold check).

A family is one module of :mod:`rlsp_env.tasks` that calls :func:`register_family` on import; the
environment ids (:mod:`rlsp_env.registration`) are derived from this registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

__all__ = ["Draft", "FAMILIES", "Family", "family", "register_family"]


@dataclass(frozen=True)
class Draft:
    """A generated problem before its split and id are decided."""

    problem: str
    answer: str
    solution: str
    canonical: str
    meta: dict[str, Any]


@dataclass(frozen=True)
class Family:
    """A procedural family: a name, a generator and its difficulty range.

    Attributes:
        env_id: the Gymnasium id registered for it (``"rlsp/Arithmetic-v0"``).
        answer_policy: what its plain-number golds accept (:data:`rlsp_env.spec.ANSWER_POLICIES`).
    """

    name: str
    generate: Callable[[np.random.Generator, int], Draft]
    max_difficulty: int
    description: str
    env_id: str = ""
    answer_policy: str = "literal"


#: every registered family by name, in registration order
FAMILIES: dict[str, Family] = {}


def register_family(family: Family) -> Family:
    """Adds a family to :data:`FAMILIES` (its name and env id must be new)."""
    if family.name in FAMILIES:
        raise ValueError(f"procedural family {family.name!r} is already registered")
    if not family.env_id.startswith("rlsp/"):
        raise ValueError(f"family {family.name!r}: env_id must start with 'rlsp/'")
    if any(f.env_id == family.env_id for f in FAMILIES.values()):
        raise ValueError(f"env id {family.env_id!r} is already registered")
    FAMILIES[family.name] = family
    return family


def family(
    name: str,
    description: str,
    *,
    env_id: str,
    max_difficulty: int = 5,
    answer_policy: str = "literal",
) -> Callable[[Callable[[np.random.Generator, int], Draft]], Callable[..., Draft]]:
    """Registers the decorated generator as a family (see :class:`Family` for the fields)."""

    def deco(generate: Callable[[np.random.Generator, int], Draft]) -> Callable[..., Draft]:
        register_family(Family(name, generate, max_difficulty, description, env_id, answer_policy))
        return generate

    return deco


def check_gold(a: Any, b: Any, what: str) -> None:
    # a and b are sympy objects or Python numbers built by the generator; never strings.
    if isinstance(a, str) or isinstance(b, str):
        raise TypeError("gold checks compare constructed numbers, never strings")
    if sympy.simplify(sympy.Integer(0) + a - b) != 0:
        raise AssertionError(f"gold check failed for {what}: {a} != {b}")


def randint(rng: np.random.Generator, lo: int, hi: int) -> int:
    """Uniform integer in [lo, hi]."""
    return int(rng.integers(lo, hi + 1))


def nonzero(rng: np.random.Generator, lo: int, hi: int) -> int:
    while True:
        v = randint(rng, lo, hi)
        if v != 0:
            return v


def frac_tex(q: Fraction | sympy.Rational) -> str:
    q = Fraction(int(q.numerator), int(q.denominator)) if not isinstance(q, Fraction) else q
    if q.denominator == 1:
        return str(q.numerator)
    sign = "-" if q < 0 else ""
    return f"{sign}\\frac{{{abs(q.numerator)}}}{{{q.denominator}}}"


def sym_rational(q: Fraction) -> sympy.Rational:
    return sympy.Rational(sympy.Integer(q.numerator), sympy.Integer(q.denominator))


def signed(v: int | Fraction, *, first: bool = False) -> str:
    """Renders ``+ 3`` / ``- 3`` (or ``3`` / ``-3`` when first)."""
    t = frac_tex(Fraction(abs(v))) if isinstance(v, Fraction) else str(abs(v))
    if first:
        return f"-{t}" if v < 0 else t
    return f"- {t}" if v < 0 else f"+ {t}"


def poly_tex(coeffs: list[int], var: str = "x") -> str:
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


def finish(text: str, answer: str) -> str:
    return f"{text}\n\nThe final answer is \\boxed{{{answer}}}"
