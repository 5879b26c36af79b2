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
    "conclusion",
    "last_math",
    "whole_math",
    "short_last_number",
    "last_number",
)
#: Fallbacks used by ``mode="eval"``: what evaluation harnesses read (not ``last_number``).
EVAL_FALLBACKS: tuple[str, ...] = tuple(name for name in FALLBACKS if name != "last_number")
#: ``short_last_number`` reads the last number only of responses at most this long.
SHORT_RESPONSE_CHARS = 200

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
        else:  # \boxed 5 : TeX's undelimited argument, exactly one token
            m2 = _TEX_TOKEN.match(text, i)
            out.append(m2.group(0) if m2 else "")
            pos = m2.end() if m2 else i
        if len(out) > 1000:
            return out


#: one TeX token, the whole argument of a brace-less ``\boxed``: a control word (``\pi``), a
#: control symbol (``\%``) or a single character. ``\boxed 47`` boxes the 4 alone (TeX typesets
#: it as a boxed 4 followed by 7), so it is read as ``4``: a reading that took the whole word
#: would pay ``\boxed47.`` as 47, a brace-less form a policy was measured drifting into, while
#: what it displays boxed is 4. ``$`` and whitespace end the box with nothing in it.
_TEX_TOKEN = re.compile(r"\\(?:[a-zA-Z]+|[^a-zA-Z\s])|[^\s$\\]")

_FINAL_ANSWER = re.compile(
    r"final answer\s*(?:is\b|:)\s*(?:the final answer is\b\s*)?(.{1,400}?)(?:\.\s*I hope it is correct|\.?\s*$|\.\s|\n)",
    re.I | re.S,
)
_ANSWER_IS = re.compile(r"answer\s+is\b\s*:?\s*(.{1,400}?)(?:\.\s|\.?\s*$|\n)", re.I | re.S)
_GSM8K = re.compile(r"####\s*([^\n]+)")
# inline math skips escaped dollars: $\$40$ is the span "\$40"
_MATH_SPAN = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(?<!\\)\$((?:\\.|[^$\\])+?)\$|\\\((.+?)\\\)", re.S
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")
#: a number not glued to a word before it ("AZYUK2A" holds no number)
_FREE_NUMBER = re.compile(r"(?<![A-Za-z0-9_.,])-?\d[\d,]*(?:\.\d+)?(?![0-9])(?:\s?%)?")
_NEGATION = re.compile(r"\b(?:not|no|never|isn't|aren't|wrong|incorrect)\b", re.I)
#: words that negate or hedge the value after them in a final-answer sentence ("The answer
#: cannot be $5$", "is not 5", "isn't 5", "might be 5"): such a sentence states no answer
_NEGATED_ANSWER = re.compile(
    r"\b(?:not|never|cannot|can\s*not|\w+n['’]t|isnt|arent|wasnt|cant|wrong|incorrect|false"
    r"|neither|nor|maybe|perhaps|possibly|might|unless|about|approximately|around|nearly|almost"
    r"|roughly|at\s+(?:most|least)|(?:more|less|fewer)\s+than|up\s+to)\b",
    re.I,
)
#: a negation or hedge at most two words before a number ("not 10", "cannot be 5", "is not
#: equal to 5"); "not 10 which is 1,000.99" negates 10 only
_NEGATED_NUMBER = re.compile(
    r"(?:\bno\b|" + _NEGATED_ANSWER.pattern + r")\W*(?:\w+\W+){0,2}$", re.I
)
#: the start of the clause holding a position: after a full stop, !, ?, a comma or a semicolon
#: and a space, or a line break ("not 10, it's 12": the negation is the first clause's)
_SENTENCE_END = re.compile(r"[.!?,;](?=\s)|\n")


class _Refused(str):
    """A fallback that found a final-answer sentence that negates or hedges its value."""


def _clause_before(text: str, pos: int) -> str:
    """The text of the clause holding ``text[pos]``, up to ``pos``."""
    head = text[:pos]
    ends = list(_SENTENCE_END.finditer(head[-2000:]))
    return head[-2000:][ends[-1].end() :] if ends else head[-2000:]


def _negated(clause: str) -> bool:
    """Whether a clause before an answer negates or hedges it (outside math spans)."""
    return bool(_NEGATED_ANSWER.search(_MATH_SPAN.sub(" ", clause)))


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
    if _negated(s):
        return _Refused(s)
    m = list(re.finditer(r"\b(?:is|are|equals|be)\s+", s))
    if m:
        return _strip_math(s[m[-1].end() :])
    # "Jane started growing Sphere 3 hours ago": a sentence stating exactly one number
    nums = _NUMBER.findall(s)
    if len(nums) == 1 and not _NEGATION.search(s):
        return nums[0]
    return s


_CHAT_TOKEN = re.compile(r"<\|(?:im_start|im_end|endoftext|eot_id|end)\|>")
_CONCLUSION = re.compile(
    r"(?:^|[.!?]\s+|\$\s+|\n)((?:therefore|thus|hence|so|in conclusion)\b[^.!?\n$]*?)[.!?]?\s*$",
    re.I,
)
_HOPE = re.compile(r"\s*I hope it is correct\.?\s*$", re.I)


def _unnegated_numbers(s: str) -> list[str]:
    return [
        m.group(0).rstrip(",")
        for m in _FREE_NUMBER.finditer(s)
        if not _NEGATED_NUMBER.search(s[max(0, m.start() - 200) : m.start()])
    ]


def _fallback(text: str, name: str) -> str | None:
    # a model that ran on into the next chat turn: its answer is before the chat token
    m_chat = _CHAT_TOKEN.search(text)
    if m_chat is not None:
        text = text[: m_chat.start()]
    tail = text[-20_000:]
    if name == "final_answer":
        ms = list(_FINAL_ANSWER.finditer(tail))
        if not ms:
            return None
        if _negated(_clause_before(tail, ms[-1].start(1))):
            return _Refused(ms[-1].group(1))
        return _answer_of_sentence(ms[-1].group(1))
    if name == "answer_is":
        ms = list(_ANSWER_IS.finditer(tail))
        if not ms:
            return None
        ans = _strip_math(ms[-1].group(1))
        if _negated(_clause_before(tail, ms[-1].start(1))) or _negated(ans):
            return _Refused(ans)
        return ans
    if name == "conclusion":
        # the last sentence, "Therefore, the probability ... is 2/3." or "Thus there are 12
        # sequences.", when it holds no math span (those are read by last_math)
        body = _HOPE.sub("", tail.rstrip())
        m = _CONCLUSION.search(body[-2000:])
        if not m or "$" in m.group(1) or "\\" in m.group(1):
            return None
        sent = m.group(1)
        m_is = list(re.finditer(r"\b(?:is|are|equals|be)\s+", sent))
        if m_is and _negated(sent[: m_is[-1].end()]):
            return _Refused(sent)  # "Thus the count cannot be 5."
        if m_is and _is_bare_math(sent[m_is[-1].end() :]):
            return sent[m_is[-1].end() :].strip()
        nums = _unnegated_numbers(sent)
        if len(nums) == 1 and len(_FREE_NUMBER.findall(sent)) == 1 and not _NEGATION.search(sent):
            return nums[0]
        return None
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
        ans = next(g for g in m.groups() if g is not None).strip()
        if _negated(_clause_before(para, m.start())):
            return _Refused(ans)  # "The answer cannot be $5$."
        return ans
    if name == "whole_math":
        # a response that is nothing but its answer: "\frac{10}{9}", "$x = 3$."
        body = _strip_math(tail.strip())
        if len(body) > 300 or "\n\n" in body:
            return None
        if _is_bare_math(body):
            return body
        # a value and one word ("28 percent", "42 inches"): the parser reads the word or refuses
        m = re.fullmatch(r"(.*?\d.*?)\s+[A-Za-z]+\.?", body, re.S)
        if m and _is_bare_math(m.group(1)):
            return body.rstrip(".")
        return None
    if name == "short_last_number":
        # a short reply with no markup: "Soucis : 2,74 $ a..", "it's 1,000.99m²"
        if len(text.strip()) > SHORT_RESPONSE_CHARS or "\\" in text:
            return None
        # exactly one number not negated ("not 10, it's 1,000.99"): "the sum is 6 and then 7"
        # states two numbers and is not read
        nums = _unnegated_numbers(text)
        return nums[0] if len(nums) == 1 else None
    if name == "last_number":
        ms = list(_NUMBER.finditer(tail))
        return ms[-1].group(0) if ms else None
    raise ValueError(f"unknown fallback {name!r}; choose from {FALLBACKS}")


def _strip_math(s: str) -> str:
    s = s.strip().rstrip(".").strip()
    m_bold = re.fullmatch(r"\*\*([^*]+)\*\*", s)  # markdown bold: **73**
    if m_bold:
        s = m_bold.group(1).strip()
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
    if boxes and "final_answer" in fallbacks:
        # eval: "Final Answer: The final answer is X" after the last box states the answer
        # (intermediate results were boxed on the way)
        last_box = [m.start() for m in _BOX.finditer(text)][-1]
        fa = list(_FINAL_ANSWER.finditer(text, max(len(text) - 20_000, last_box)))
        if fa:
            ans = _answer_of_sentence(fa[-1].group(1)).strip()
            if ans and _is_bare_math(ans):
                return Extraction((ans,), None, "final_answer")
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
        if isinstance(ans, _Refused):
            # a final-answer sentence that negates or hedges its value states no answer; the
            # later fallbacks would read the same value out of it
            return Extraction((), "no_answer", f)
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
            (the last ``$...$``/``\\[...\\]`` of the last paragraph), ``"whole_math"`` (a
            response that is nothing but math, optionally one trailing word: ``28 percent``),
            ``"short_last_number"`` (the last number of a reply of at most 200 characters
            without LaTeX), ``"last_number"``.
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
    return read_response(response, fallbacks=fallbacks).final_answer
