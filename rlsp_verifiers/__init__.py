"""rlsp_verifiers: math answer checking that cannot be reward-hacked (standalone, no torch).

Strings in, verdicts out::

    >>> from rlsp_verifiers import verify
    >>> v = verify("... so the answer is \\\\boxed{\\\\frac{1}{2}}", "0.5")
    >>> v.correct, v.stage
    (True, 'numeric')

Parse first, compare structures: an answer is read once into a typed structure (literals,
expressions, tuples/sets/intervals/unions, relations, matrices, ratios, words, choices, with
units, percent and degree signs as typed attributes) and anything not fully understood is
rejected with a reason. ``read_response`` is the one reading of a response shared by every
consumer; ``verify(..., answer_policy="literal")`` is for procedural arithmetic (``23 + 45`` for
68 is ``unevaluated``), the default ``"closed_form"`` for datasets; ``verify_bounded`` adds a hard
wall-clock bound (a worker process, killed on overrun).

Nothing here evaluates text as code: answers are read by a small bounded parser that builds
sympy objects through constructors only (no ``sympify``/``parse_expr``/``eval``).
See ``docs/verifier.md`` for every reading chosen where two are defensible.
"""

from .api import ANSWER_POLICIES, MODES, is_equivalent, verify
from .extract import Reading, extract_answer, read_response
from .pool import VerifierPool, verify_bounded, verify_many
from .verdict import REASONS, STAGES, Verdict

__all__ = [
    "ANSWER_POLICIES",
    "MODES",
    "REASONS",
    "Reading",
    "STAGES",
    "Verdict",
    "VerifierPool",
    "extract_answer",
    "is_equivalent",
    "read_response",
    "verify",
    "verify_bounded",
    "verify_many",
]
