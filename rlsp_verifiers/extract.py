"""Finding the final answer in a response.

The default is strict: the last ``\\boxed{}`` / ``\\fbox{}`` after any ``</think>``. Fallbacks
(reading unboxed answers) are explicit and off by default, because falling back to the whole text
is a known reward hack.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "FALLBACKS",
    "EVAL_FALLBACKS",
    "MAX_BOXES",
    "Extraction",
    "Reading",
    "extract_answer",
    "extract_boxes",
    "extract",
    "read_response",
]

#: Longest box content read; longer content is still returned (the verifier refuses it).
MAX_BOX_SCAN = 100_000

#: More distinct boxes than this are ``multiple_answers`` without further reading.
MAX_BOXES = 20

#: The names of the optional fallbacks, in the order they are tried.
FALLBACKS: tuple[str, ...] = (
    "final_answer",
    "answer_is",
    "gsm8k",
    "last_math",
    "whole_math",
    "last_number",
)
#: Fallbacks used by ``mode="eval"``: what evaluation harnesses read (not ``last_number``).
EVAL_FALLBACKS: tuple[str, ...] = ("final_answer", "answer_is", "gsm8k", "last_math", "whole_math")

_BOX = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"


def _after_think(text: str) -> str | None:
    """The text after the last ``</think>``; None if a ``<think>`` was never closed.

    A ``<think>`` opened again after the last ``</think>`` is unclosed too (its content is
    reasoning, never an answer).
    """
    k = text.rfind(_THINK_CLOSE)
    if k >= 0:
        after = text[k + len(_THINK_CLOSE) :]
        return None if _THINK_OPEN in after else after
    if _THINK_OPEN in text:
        return None
    return text


def _read_braced(text: str, i: int, limit: int | None = MAX_BOX_SCAN) -> tuple[str | None, int]:
    """Content of the balanced group starting at ``text[i] == '{'`` (None if unbalanced).

    The scan stops after ``limit`` characters (``None``: no limit); the second value is the
    index after the group, or where the scan stopped.
    """
    depth = 0
    j = i
    n = len(text) if limit is None else min(len(text), i + limit)
    while j < n:
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j], j + 1
        j += 1
    return None, n


def extract_boxes(text: str) -> list[str | None]:
    """All top-level box contents in order (``None`` for an unclosed box).

    Example:
        >>> extract_boxes("a \\\\boxed{1} b \\\\boxed{\\\\frac{1}{2}}")
        ['1', '\\\\frac{1}{2}']
    """
    out: list[str | None] = []
    pos = 0
    while True:
        m = _BOX.search(text, pos)
        if not m:
            return out
        i = m.end()
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == "{":
            content, pos = _read_braced(text, i)
            out.append(content)
        else:  # \boxed 5 : one token
            m2 = re.match(r"[^\s$]+", text[i : i + 200])
            out.append(m2.group(0) if m2 else "")
            pos = i + (m2.end() if m2 else 0)
        if len(out) > 1000:
            return out


_FINAL_ANSWER = re.compile(
    r"final answer\s*(?:is|:)\s*(?:the final answer is\s*)?(.{1,400}?)(?:\.\s*I hope it is correct|\.?\s*$|\.\s|\n)",
    re.I | re.S,
)
_ANSWER_IS = re.compile(r"answer\s+is\s*:?\s*(.{1,400}?)(?:\.\s|\.?\s*$|\n)", re.I | re.S)
_GSM8K = re.compile(r"####\s*([^\n]+)")
_MATH_SPAN = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\$([^$]+?)\$|\\\((.+?)\\\)", re.S)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


_WORD3 = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_TEXT_GROUP = re.compile(r"\\(?:text|mbox|mathrm|textbf)\s*\{[^{}]*\}")


def _is_bare_math(s: str) -> bool:
    """Whether ``s`` is math only: no English word of three or more letters outside commands."""
    return bool(s.strip()) and not _WORD3.search(_TEXT_GROUP.sub(" ", s))


def _answer_of_sentence(s: str) -> str:
    """``The largest $n$ is 34`` -> ``34``: the value a final-answer sentence states."""
    s = _strip_math(s)
    if _is_bare_math(s.replace("$", " ")):
        return s
    m = list(re.finditer(r"\b(?:is|are|equals|be)\s+", s))
    if m:
        return _strip_math(s[m[-1].end() :])
    return s


def _fallback(text: str, name: str) -> str | None:
    tail = text[-20_000:]
    if name == "final_answer":
        ms = list(_FINAL_ANSWER.finditer(tail))
        return _answer_of_sentence(ms[-1].group(1)) if ms else None
    if name == "answer_is":
        ms = list(_ANSWER_IS.finditer(tail))
        return _strip_math(ms[-1].group(1)) if ms else None
    if name == "gsm8k":
        ms = list(_GSM8K.finditer(tail))
        return ms[-1].group(1).strip() if ms else None
    if name == "last_math":
        # the last math span in the last paragraph
        para = tail.strip().split("\n\n")[-1]
        ms = list(_MATH_SPAN.finditer(para))
        if not ms:
            return None
        m = ms[-1]
        return next(g for g in m.groups() if g is not None).strip()
    if name == "whole_math":
        # a response that is nothing but its answer: "\frac{10}{9}", "$x = 3$."
        body = _strip_math(tail.strip())
        if len(body) > 300 or "\n\n" in body or not _is_bare_math(body):
            return None
        return body
    if name == "last_number":
        ms = list(_NUMBER.finditer(tail))
        return ms[-1].group(0) if ms else None
    raise ValueError(f"unknown fallback {name!r}; choose from {FALLBACKS}")


def _strip_math(s: str) -> str:
    s = s.strip().rstrip(".").strip()
    m = re.fullmatch(r"\$+([^$]*?)\$+\.?", s, re.S) or re.fullmatch(r"\\\((.*?)\\\)\.?", s, re.S)
    if m:
        s = m.group(1)
    inner = extract_boxes(s)
    if len(inner) == 1 and inner[0] is not None:
        return inner[0].strip()
    return s.strip()


@dataclass(frozen=True)
class Extraction:
    """What was found: ``answers`` (distinct box contents, in order) or a failure ``reason``."""

    answers: tuple[str, ...]
    reason: str | None  # None when found; otherwise no_answer / empty_answer / unterminated_think
    source: str  # "box" or the fallback's name


def _distinct(contents: list[str]) -> list[str] | None:
    """Distinct contents (whitespace ignored) in order; None when there are more than MAX_BOXES.

    Linear: a set of keys, and it stops reading at the first content over the bound.
    """
    seen: set[str] = set()
    out: list[str] = []
    for c in contents:
        key = "".join(c.split())
        if key in seen:
            continue
        seen.add(key)
        out.append(c)
        if len(out) > MAX_BOXES:
            return None
    return out


def extract(response: str, fallbacks: Sequence[str] = ()) -> Extraction:
    """Finds the final answer(s): all distinct boxes after ``</think>``, else the fallbacks.

    More than :data:`MAX_BOXES` distinct boxes give ``reason="multiple_answers"`` at once.

    Example:
        >>> extract("so \\\\boxed{2} and \\\\boxed{3}").answers
        ('2', '3')
    """
    for f in fallbacks:
        if f not in FALLBACKS:
            raise ValueError(f"unknown fallback {f!r}; choose from {FALLBACKS}")
    text = _after_think(response)
    if text is None:
        return Extraction((), "unterminated_think", "box")
    boxes = extract_boxes(text)
    if boxes:
        if any(b is None for b in boxes):
            return Extraction((), "no_answer", "box")
        contents = [b.strip() for b in boxes if b is not None]
        if not contents[-1] or any(not c for c in contents):
            return Extraction((), "empty_answer", "box")
        distinct = _distinct(contents)
        if distinct is None:
            return Extraction(tuple(contents[-MAX_BOXES:]), "multiple_answers", "box")
        return Extraction(tuple(distinct), None, "box")
    for f in fallbacks:
        ans = _fallback(text, f)
        if ans is not None:
            ans = ans.strip()
            if not ans:
                return Extraction((), "empty_answer", f)
            return Extraction((ans,), None, f)
    return Extraction((), "no_answer", "box")


@dataclass(frozen=True)
class Reading:
    """One reading of a response, shared by every consumer (verifier, reward channels, envs).

    Attributes:
        final_answer: the final answer text (the last box after any ``</think>``, or what an
            enabled fallback read), not normalised; ``None`` when there is none.
        reasoning_text: the reasoning: the ``<think>`` block's content when there is one,
            otherwise the text before the final box (the whole text when there is no box).
        boxes: every top-level box content after any ``</think>``, in order (an unclosed box
            is left out).
        format_ok: whether the response has exactly the expected shape: thinking closed, at
            least one complete, non-empty box.
        reason: ``None`` when ``format_ok``; otherwise ``"no_answer"``, ``"empty_answer"``,
            ``"unterminated_think"`` or ``"multiple_answers"`` (more than :data:`MAX_BOXES`
            distinct boxes).
        source: ``"box"`` or the name of the fallback that read the answer.
    """

    final_answer: str | None
    reasoning_text: str
    boxes: tuple[str, ...]
    format_ok: bool
    reason: str | None
    source: str


def read_response(text: str, *, fallbacks: Sequence[str] = ()) -> Reading:
    """Reads a response once: its final answer, reasoning text, boxes and format.

    The box grammar is the one the verifier uses (``\\boxed{...}``/``\\fbox{...}`` with
    balanced braces, or ``\\boxed 5``), so a reward channel that calls this function and the
    verifier always agree on what the answer is.

    Args:
        text: the full model output.
        fallbacks: optional unboxed readers (see :func:`extract_answer`); off by default.

    Returns:
        A :class:`Reading`. Never raises for ``str`` input.

    Raises:
        TypeError: ``text`` is not a ``str``.
        ValueError: an unknown fallback name.

    Example:
        >>> r = read_response("<think>try 2</think> so \\\\boxed{3}")
        >>> r.final_answer, r.reasoning_text, r.format_ok
        ('3', 'try 2', True)
        >>> read_response("<think>still thinking \\\\boxed{3}").reason
        'unterminated_think'
    """
    if not isinstance(text, str):
        raise TypeError(f"read_response needs a str, got {type(text).__name__}")
    ex = extract(text, fallbacks)
    after = _after_think(text)
    k = text.rfind(_THINK_CLOSE)
    if k >= 0 and after is not None:
        head = text[:k]
        j = head.find(_THINK_OPEN)
        reasoning = head[j + len(_THINK_OPEN) :] if j >= 0 else head
    elif after is None:
        j = text.rfind(_THINK_OPEN)
        reasoning = text[j + len(_THINK_OPEN) :]
    else:
        starts = [m.start() for m in _BOX.finditer(after)]
        reasoning = after[: starts[-1]] if starts else after
    boxes = tuple(b.strip() for b in extract_boxes(after) if b is not None) if after else ()
    final: str | None = None
    if ex.reason is None and ex.answers:
        final = boxes[-1] if ex.source == "box" and boxes else ex.answers[-1]
    ok = ex.reason is None and ex.source == "box"
    return Reading(final, reasoning.strip(), boxes, ok, ex.reason, ex.source)


def extract_answer(response: str, *, fallbacks: Sequence[str] = ()) -> str | None:
    """The final answer of a response: the last ``\\boxed{}``/``\\fbox{}`` after any ``</think>``.

    Args:
        response: the full model output.
        fallbacks: optional readers of unboxed answers, tried in order when there is no box:
            ``"final_answer"`` (``Final Answer: The final answer is 34. I hope it is correct.``),
            ``"answer_is"`` (``the answer is 34``), ``"gsm8k"`` (``#### 34``), ``"last_math"``
            (the last ``$...$``/``\\[...\\]`` of the last paragraph), ``"last_number"``.
            Off by default: reading the whole text is a known reward hack.

    Returns:
        The answer text (not normalised), or ``None`` when there is none.

    Raises:
        ValueError: an unknown fallback name.

    Example:
        >>> extract_answer("<think>maybe \\\\boxed{3}</think> so \\\\boxed{\\\\frac{1}{2}}.")
        '\\\\frac{1}{2}'
        >>> extract_answer("The answer is 7.") is None
        True
        >>> extract_answer("The answer is 7.", fallbacks=["answer_is"])
        '7'
    """
    ex = extract(response, fallbacks)
    if ex.reason is not None or not ex.answers:
        return None
    if ex.source == "box":
        text = _after_think(response) or ""
        boxes = [b for b in extract_boxes(text) if b is not None]
        return boxes[-1].strip() if boxes else None
    return ex.answers[-1]
