"""The public checks: :func:`verify` (a response against a gold answer) and :func:`is_equivalent`."""

from __future__ import annotations

from typing import Literal

from .compare import ANSWER_POLICIES, Deadline, Decision, Timeout, compare_answers
from .extract import EVAL_FALLBACKS, MAX_BOXES, extract, extract_boxes
from .normalize import UnsafeInput
from .parse import TooLarge
from .verdict import Verdict

__all__ = ["ANSWER_POLICIES", "MODES", "is_equivalent", "verify"]

#: ``"strict"`` (the RL default: boxed answers only) and ``"eval"`` (also reads unboxed final
#: answers the way evaluation harnesses do, and rounds to a decimal gold's precision).
MODES: tuple[str, ...] = ("strict", "eval")


def _gold_text(gold: str) -> str:
    boxes = (
        [b for b in extract_boxes(gold) if b is not None]
        if "\\boxed" in gold or "\\fbox" in gold
        else []
    )
    return boxes[-1] if boxes else gold


def _decide(
    answer: str, gold: str, mode: str, deadline: Deadline, policy: str = "closed_form"
) -> Decision:
    try:
        return compare_answers(answer, gold, mode=mode, deadline=deadline, policy=policy)
    except UnsafeInput as e:
        return Decision(False, e.reason, "input")
    except (TooLarge, RecursionError, MemoryError, OverflowError):
        return Decision(False, "too_large", "input")
    except Timeout:
        return Decision(False, "timeout", "timeout")
    except Exception:  # noqa: BLE001 - verify never raises for str inputs; reported instead
        return Decision(False, "internal_error", "input")


def verify(
    response: str,
    gold: str,
    *,
    mode: Literal["strict", "eval"] = "strict",
    timeout_s: float | None = None,
    answer_policy: Literal["closed_form", "literal"] = "closed_form",
) -> Verdict:
    """Checks a model response against a gold answer.

    The response's final answer is its last ``\\boxed{}`` after any ``</think>``; several
    different boxes count as several answers (rejected unless the gold is a list of as many).
    ``mode="eval"`` also reads unboxed final answers (``The final answer is 34``, ``#### 34``,
    the last math span) and, for decimal golds, accepts answers that round to the gold.

    Args:
        response: the full model output.
        gold: the gold answer (plain or LaTeX; a boxed gold is unboxed).
        mode: ``"strict"`` (RL default) or ``"eval"``.
        timeout_s: cooperative time budget in seconds (checked between stages; costs are
            bounded on the parsed structure first, so every input returns within about
            ``timeout_s`` + 1 s; for a hard wall-clock bound use :func:`verify_bounded`).
        answer_policy: what an answer must look like to match a plain-number gold. The
            environment declares it: ``"closed_form"`` (datasets; any exact closed form equal
            to the gold, ``10^6`` for 1000000) or ``"literal"`` (procedural arithmetic: a gold
            written as a number literal needs a number literal, otherwise the reason is
            ``unevaluated``; ``23 + 45`` for 68 restates the problem).

    Returns:
        A :class:`Verdict`. Never raises for ``str`` inputs.

    Raises:
        ValueError: an unknown ``mode`` or ``answer_policy``.

    Example:
        >>> verify("so the answer is \\\\boxed{\\\\dfrac{1}{2}}", "0.5").correct
        True
        >>> verify("\\\\boxed{4}", "4\\\\sqrt{2}").reason
        'not_equal'
        >>> verify("\\\\boxed{2} or \\\\boxed{3}", "3").reason
        'multiple_answers'
        >>> verify("The answer is 3.", "3").reason
        'no_answer'
        >>> verify("The final answer is 3.", "3", mode="eval").correct
        True
        >>> verify("\\\\boxed{10^6}", "1000000").correct
        True
        >>> verify("\\\\boxed{23 + 45}", "68", answer_policy="literal").reason
        'unevaluated'
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if answer_policy not in ANSWER_POLICIES:
        raise ValueError(f"answer_policy must be one of {ANSWER_POLICIES}, got {answer_policy!r}")
    if not isinstance(response, str) or not isinstance(gold, str):
        return Verdict(False, None, "invalid_input", "input")
    deadline = Deadline(timeout_s)
    try:
        ex = extract(response, EVAL_FALLBACKS if mode == "eval" else ())
    except Exception:  # noqa: BLE001 - never raise for str inputs
        return Verdict(False, None, "internal_error", "extract")
    if ex.reason is not None:
        return Verdict(False, None, ex.reason, "extract")
    try:
        gold_text = _gold_text(gold)
    except Exception:  # noqa: BLE001
        gold_text = gold
    answers = list(ex.answers)
    if len(answers) > MAX_BOXES:
        return Verdict(False, ", ".join(answers)[:200], "multiple_answers", "extract")
    if len(answers) > 1 and all(
        _decide(a, answers[-1], "strict", deadline).equal for a in answers[:-1]
    ):
        answers = answers[-1:]  # the same value boxed in several forms is one answer
    answer = answers[-1] if len(answers) == 1 else ", ".join(answers)
    d = _decide(answer, gold_text, mode, deadline, answer_policy)
    if not d.equal and len(answers) > 1 and d.reason in ("not_equal", "unparseable"):
        d = Decision(False, "multiple_answers", "extract")
    return Verdict(d.equal, answer, d.reason, d.stage)


def is_equivalent(answer: str, gold: str, *, timeout_s: float | None = None) -> bool:
    """Whether two answer strings (not whole responses) denote the same answer.

    Example:
        >>> is_equivalent("\\\\frac{\\\\sqrt{8}}{2}", "\\\\sqrt 2")
        True
        >>> is_equivalent("(1, 2]", "(1, 2)")
        False
    """
    if not isinstance(answer, str) or not isinstance(gold, str):
        return False
    return _decide(answer, gold, "strict", Deadline(timeout_s)).equal
