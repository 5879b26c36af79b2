"""The problem record every environment serves: one shape for every dataset and procedural family."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Problem", "content_hash"]


def content_hash(*parts: str) -> str:
    """Returns a stable hex digest of ``parts`` (joined by a separator that cannot occur in text).

    Example:
        >>> content_hash("arithmetic", "12 + 34")[:12]
        'c6c0fb3bb1ea'
    """
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8", "surrogatepass"))
        h.update(b"\x00\x1f")
    return h.hexdigest()


@dataclass(frozen=True)
class Problem:
    """One math problem, normalised from any source.

    Attributes:
        id: stable identifier (``"math500/test/precalculus/807.json"``, ``"arithmetic/d1/..."``).
        problem: the problem statement as the source writes it (LaTeX allowed).
        answer: the gold final answer as a string (no ``\\boxed{}`` around it).
        solution: a worked solution ending in ``\\boxed{answer}`` when the source has one, else ``None``.
        subject: subject / type / subfield of the source (``"Algebra"``), or the procedural family.
        level: difficulty level as an integer (MATH 1-5, procedural ``difficulty``), or ``None``.
        source: the dataset or family name (``"math500"``, ``"arithmetic"``).
        meta: anything else the source carries (original index, url, unit, ...).

    Example:
        >>> p = Problem(id="x/1", problem="What is $1+1$?", answer="2", source="demo")
        >>> p.to_dict()["answer"]
        '2'
    """

    id: str
    problem: str
    answer: str
    solution: str | None = None
    subject: str | None = None
    level: int | None = None
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-serialisable dict of every field."""
        return asdict(self)
