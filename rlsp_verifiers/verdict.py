"""The verdict: what the verifier decided, who decided it and why."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Verdict", "REASONS", "STAGES"]

#: Every machine-readable ``Verdict.reason`` the verifier can emit.
REASONS: tuple[str, ...] = (
    "equal",  # the answers are equivalent
    "not_equal",  # both parsed, they differ
    "free_variables",  # the answer names variables the gold does not have (x - x + 5, not 0)
    "no_answer",  # no final answer found (no box, no enabled fallback matched)
    "unterminated_think",  # <think> opened but never closed: everything is reasoning
    "multiple_answers",  # several different final answers for a single-valued gold
    "empty_answer",  # an empty box
    "unparseable",  # the answer could not be read as math, and differs as text
    "gold_unparseable",  # the gold could not be read as math, and differs as text
    "undefined",  # a division by zero or another undefined value
    "forbidden_macro",  # \def, \newcommand, \renewcommand, ...
    "invalid_characters",  # null bytes and other control characters
    "too_large",  # a bound was hit (length, digits, exponent, factorial, nesting)
    "unevaluated",  # equal in value, but a plain-number gold answered by arithmetic (23 + 45 for 68)
    "undecided",  # no stage could prove equality within its budget
    "timeout",  # the time budget ran out
    "worker_died",  # a pool worker process exited while checking the item
    "invalid_input",  # a non-str argument
    "internal_error",  # a bug in the verifier (never expected; reported, not raised)
)

#: Every ``Verdict.stage``.
STAGES: tuple[str, ...] = (
    "input",
    "extract",
    "string",
    "numeric",
    "symbolic",
    "structural",
    "timeout",
)


@dataclass(frozen=True)
class Verdict:
    """The result of one check.

    Attributes:
        correct: whether the response's final answer is equivalent to the gold answer.
        extracted: the final answer taken from the response (``None``: none found).
        reason: machine-readable cause, one of :data:`REASONS`.
        stage: who decided, one of :data:`STAGES`.

    Example:
        >>> v = Verdict(True, "1/2", "equal", "numeric")
        >>> v.to_dict()["reason"]
        'equal'
    """

    correct: bool
    extracted: str | None
    reason: str
    stage: str

    def to_dict(self) -> dict[str, Any]:
        """Returns a JSON-serialisable dict of the four fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Verdict:
        """Builds a verdict from :meth:`to_dict` output."""
        return cls(bool(d["correct"]), d.get("extracted"), str(d["reason"]), str(d["stage"]))
