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
    "Extraction",
    "extract_answer",
    "extract_boxes",
    "extract",
]

#: Longest box content read; longer content is still returned (the verifier refuses it).
MAX_BOX_SCAN = 100_000

#: The names of the optional fallbacks, in the order they are tried.
FALLBACKS: tuple[str, ...] = ("final_answer", "answer_is", "gsm8k", "last_math", "last_number")
#: Fallbacks used by ``mode="eval"``: what evaluation harnesses read (not ``last_number``).
EVAL_FALLBACKS: tuple[str, ...] = ("final_answer", "answer_is", "gsm8k", "last_math")

_BOX = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
_THINK_OPEN = "<think>"
_THINK_CLOSE = "</think>"


def _after_think(text: str) -> str | None:
    """The text after the last ``</think>``; None if a ``<think>`` was never closed."""
    k = text.rfind(_THINK_CLOSE)
    if k >= 0:
        return text[k + len(_THINK_CLOSE) :]
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


def _fallback(text: str, name: str) -> str | None:
    tail = text[-20_000:]
    if name == "final_answer":
        ms = list(_FINAL_ANSWER.finditer(tail))
        return _strip_math(ms[-1].group(1)) if ms else None
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
    if name == "last_number":
        ms = list(_NUMBER.finditer(tail))
        return ms[-1].group(0) if ms else None
    raise ValueError(f"unknown fallback {name!r}; choose from {FALLBACKS}")


def _strip_math(s: str) -> str:
    s = s.strip()
    m = re.fullmatch(r"\$+(.*?)\$+\.?", s, re.S) or re.fullmatch(r"\\\((.*?)\\\)\.?", s, re.S)
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


def extract(response: str, fallbacks: Sequence[str] = ()) -> Extraction:
    """Finds the final answer(s): all distinct boxes after ``</think>``, else the fallbacks.

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
        distinct: list[str] = []
        for c in contents:
            key = re.sub(r"\s+", "", c)
            if key not in [re.sub(r"\s+", "", d) for d in distinct]:
                distinct.append(c)
        return Extraction(tuple(distinct), None, "box")
    for f in fallbacks:
        ans = _fallback(text, f)
        if ans is not None:
            ans = ans.strip()
            if not ans:
                return Extraction((), "empty_answer", f)
            return Extraction((ans,), None, f)
    return Extraction((), "no_answer", "box")


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
