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

import zlib

import numpy as np

from rlsp_env.problem import Problem, content_hash
from rlsp_env.tasks import FAMILIES, Family

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


def split_of(family: str, canonical: str) -> str:
    """Returns ``"test"`` or ``"train"`` for a problem, from a hash of its canonical content.

    Example:
        >>> split_of("arithmetic", "+:12:34") in ("train", "test")
        True
    """
    h = int(content_hash("split", family, canonical)[:8], 16)
    return "test" if h % 100 < TEST_FRACTION_PERCENT else "train"


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
