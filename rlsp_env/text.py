"""Text analysis behind the reward channels: one reading of a response (its final answer, read by
the verifier's extraction, and the reasoning before it), and an *effective* reasoning length that
padding cannot lengthen.

:func:`read_response` is the one place a response is read: the final answer and the format verdict
come from :func:`rlsp_verifiers.extract.extract` (the grammar the verifier uses for correctness),
so the ``format`` channel and the verdict never disagree about whether there is an answer.

The effective length (``ell`` in RLSP's ``-L / ell``) counts content, not characters:

1. the reasoning is the text before the last ``\\boxed`` (the whole text when there is none),
   capped at :data:`MAX_ANALYSIS_CHARS` so any input is analysed in bounded time;
2. it is cut into *segments* at line breaks and sentence ends (``. ! ? ;``), lower-cased, with
   whitespace collapsed;
3. filler words (``um``, ``hmm``, ``okay``, ...) and tokens without a letter or digit are dropped;
4. a phrase repeated back to back inside a segment (``"so so so"``, ``"x y z x y z"``, periods up to
   :data:`MAX_REPEAT_PERIOD` words) is collapsed to one copy;
5. ``ell`` counts the *distinct* word trigrams over all segments (each segment padded at its start),
   so a repeated line, sentence, phrase or filler adds nothing. The characters of the words that end
   a distinct trigram, divided by 4, give the rough token count (or a tokenizer counts them).

Because step 5 counts a *set*, the measure does not depend on segment order, and appending or
inserting any segment made only of already-seen trigrams (a duplicate line, a filler line) leaves it
exactly unchanged.

Example:
    >>> effective_words("Step one: add 2 and 3.\\nStep one: add 2 and 3.\\nhmm hmm hmm")
    ['step', 'one', 'add', '2', 'and', '3']
    >>> r = read_response("<think>so \\\\boxed{3}</think> not sure")
    >>> r.answer, r.reason, r.has_answer
    (None, 'no_answer', False)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BEHAVIOUR_PATTERNS",
    "FILLER_WORDS",
    "MAX_ANALYSIS_CHARS",
    "MAX_REPEAT_PERIOD",
    "behaviour_counts",
    "effective_length",
    "effective_words",
    "Reading",
    "read_response",
    "reasoning_text",
    "shingles",
]

#: text beyond this many characters is not analysed (bounded time on huge inputs)
MAX_ANALYSIS_CHARS = 200_000
#: longest phrase (in words) whose back-to-back repetition is collapsed
MAX_REPEAT_PERIOD = 16

#: words that carry no reasoning content; they never lengthen ``ell``
FILLER_WORDS = frozenset(
    """um umm uh uhh uhm er erm hmm hmmm hm mm mmm ah ahh oh ok okay okey alright well like
    basically literally actually really very just so yeah yes yep anyway anyways right
    ...""".split()
)

#: the box token of :mod:`rlsp_verifiers.extract` (a test checks that the two agree)
_BOX_RE = re.compile(r"\\(?:boxed|fbox)(?![a-zA-Z])")
_SEGMENT_SPLIT = re.compile(r"(?:\r\n|\r|\n|(?<=[.!?;])\s+)")
_HAS_ALNUM = re.compile(r"[^\W_]", re.UNICODE)
#: symbol-only tokens that still carry math content
_OPERATORS = frozenset("= + - * / ^ < > <= >= != ≤ ≥ × ÷ ≠ ± → ⇒ =>".split())
_STRIP_PUNCT = re.compile(r"^[\"'`(\[{<]+|[\"'`)\]}>.,!?;:]+$")


def reasoning_text(response: str) -> str:
    """The part of ``response`` before its last ``\\boxed`` (all of it when there is no box).

    Example:
        >>> reasoning_text("2 + 2 = 4, so \\\\boxed{4}.")
        '2 + 2 = 4, so '
    """
    cut = response[:MAX_ANALYSIS_CHARS]
    last = None
    for m in _BOX_RE.finditer(cut):
        last = m
    return cut if last is None else cut[: last.start()]


@dataclass(frozen=True)
class Reading:
    """One response, read once: what every reward channel looks at.

    Attributes:
        response: the full response text.
        answer: the final answer (the last box after any ``</think>``), ``None`` when there is
            none; read by :func:`rlsp_verifiers.extract.extract` in strict mode.
        answers: every distinct final box (several boxes are several answers to the verifier).
        reason: ``None`` when there is an answer, else the verifier's extraction reason
            (``no_answer``, ``empty_answer``, ``unterminated_think``).
        reasoning: the text before the last box (all of it without a box), at most
            :data:`MAX_ANALYSIS_CHARS`: what the exploration channel measures.
    """

    response: str
    answer: str | None
    answers: tuple[str, ...]
    reason: str | None
    reasoning: str

    @property
    def has_answer(self) -> bool:
        """Whether the response ends with a complete, non-empty box the verifier reads."""
        return self.reason is None


def read_response(response: str) -> Reading:
    """Reads a response once with the verifier's extraction (strict: boxed answers only).

    Example:
        >>> r = read_response("2 + 2 = 4, so \\\\boxed{4}.")
        >>> r.answer, r.reason, r.reasoning
        ('4', None, '2 + 2 = 4, so ')
        >>> read_response("\\\\boxed{}").reason
        'empty_answer'
    """
    from rlsp_verifiers.extract import extract

    ex = extract(response)
    answers = tuple(ex.answers) if ex.reason is None else ()
    return Reading(
        response=response,
        answer=answers[-1] if answers else None,
        answers=answers,
        reason=ex.reason,
        reasoning=reasoning_text(response),
    )


def _tokens(segment: str) -> list[str]:
    """Lower-cased words with surrounding punctuation stripped; filler and punctuation dropped."""
    out = []
    for raw in segment.lower().split():
        if not _HAS_ALNUM.search(raw) and raw not in _OPERATORS:
            continue  # punctuation-only tokens ("...", "---") carry nothing
        core = _STRIP_PUNCT.sub("", raw) or raw
        if core in FILLER_WORDS:
            continue
        out.append(core)
    return out


def _collapse_once(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        first = tokens[i]
        for p in range(1, min(MAX_REPEAT_PERIOD, (n - i) // 2) + 1):
            if tokens[i + p] == first and tokens[i : i + p] == tokens[i + p : i + 2 * p]:
                j = i + 2 * p
                while tokens[j : j + p] == tokens[i : i + p]:
                    j += p
                out.extend(tokens[i : i + p])
                i = j
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _collapse_repeats(tokens: list[str]) -> list[str]:
    """Collapses back-to-back repetitions of a phrase (period <= MAX_REPEAT_PERIOD) to one copy.

    Repeats until nothing changes (a collapse can expose a longer repeat), at most 8 passes.
    """
    for _ in range(8):
        out = _collapse_once(tokens)
        if len(out) == len(tokens):
            return out
        tokens = out
    return tokens


def effective_words(reasoning: str) -> list[str]:
    """The words that end a distinct trigram of the de-padded reasoning, in first-seen order.

    Example:
        >>> effective_words("um, so x = 2. So x = 2. x = 2 x = 2 x = 2")
        ['x', '=', '2']
    """
    seen: set[tuple[str, str, str]] = set()
    words: list[str] = []
    for seg in _SEGMENT_SPLIT.split(reasoning[:MAX_ANALYSIS_CHARS]):
        toks = _collapse_repeats(_tokens(seg))
        prev2, prev1 = "\x02", "\x03"  # segment-start markers
        for t in toks:
            tri = (prev2, prev1, t)
            if tri not in seen:
                seen.add(tri)
                words.append(t)
            prev2, prev1 = prev1, t
    return words


def effective_length(reasoning: str, tokenizer: object | None = None) -> float:
    """``ell``: the effective reasoning length in tokens (chars/4 without a tokenizer).

    Args:
        reasoning: the text before the final answer (see :func:`reasoning_text`).
        tokenizer: ``None`` (characters / 4), a callable ``str -> int`` (a token count), or an
            object with ``encode(str) -> list`` (a Hugging Face tokenizer).

    Example:
        >>> effective_length("add 2 and 3") == effective_length("add 2 and 3\\nadd 2 and 3")
        True
    """
    try:
        return _effective_length_memo(reasoning, tokenizer)
    except TypeError:  # an unhashable tokenizer (or a bad one: raised again below)
        return _effective_length(reasoning, tokenizer)


@functools.lru_cache(maxsize=32)
def _effective_length_memo(reasoning: str, tokenizer: object | None) -> float:
    # the env's info reports ``ell`` and the exploration channel measures it: computed once
    return _effective_length(reasoning, tokenizer)


def _effective_length(reasoning: str, tokenizer: object | None) -> float:
    words = effective_words(reasoning)
    if not words:
        return 0.0
    return _count_tokens(" ".join(words), tokenizer)


def _count_tokens(text: str, tokenizer: object | None) -> float:
    """``text``'s length in tokens: ``len/4`` without a tokenizer (or for empty text), else the
    callable's count or the length of ``encode(text)`` without special tokens."""
    if tokenizer is None or not text:
        return len(text) / 4.0
    if callable(tokenizer) and not hasattr(tokenizer, "encode"):
        return float(tokenizer(text))
    encode = getattr(tokenizer, "encode", None)
    if encode is None:
        raise TypeError("tokenizer must be None, a callable str -> int, or have encode(str)")
    try:
        ids = encode(text, add_special_tokens=False)
    except TypeError:
        ids = encode(text)
    return float(len(ids))


def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    """Word ``n``-grams of the normalised text (for the diversity channel).

    Example:
        >>> len(shingles("a b c d"))
        2
    """
    toks = _tokens(text[:MAX_ANALYSIS_CHARS])
    if len(toks) < n:
        return frozenset([tuple(toks)]) if toks else frozenset()
    return frozenset(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


#: the emergent behaviours RLSP reports, as case-insensitive regular expressions
BEHAVIOUR_PATTERNS: dict[str, Sequence[str]] = {
    "backtracking": (
        r"\bwait\b",
        r"\bon second thought\b",
        r"\bthat(?:'s| is) (?:not right|wrong|incorrect)\b",
        r"\bi made a mistake\b",
        r"\b(?:my|a) mistake\b",
        r"\blet me (?:re-?check|reconsider|redo|re-?do|start over|try again|rethink|correct)\b",
        r"\b(?:scratch|ignore) that\b",
        r"\bactually,? no\b",
    ),
    "verification": (
        r"\blet(?:'s| me| us) (?:verify|check|double[- ]check|confirm)\b",
        r"\b(?:to )?(?:verify|double[- ]check)\b",
        r"\bcheck(?:ing)?:",
        r"\bsubstitut\w* (?:it |this |the \w+ )?back\b",
        r"\bsanity check\b",
        r"\bwhich (?:matches|checks out|is consistent)\b",
    ),
    "alternatives": (
        r"\balternatively\b",
        r"\banother (?:way|approach|method)\b",
        r"\b(?:a|try a) different (?:approach|method|way)\b",
        r"\blet(?:'s| me) try (?:another|a different)\b",
        r"\bwe could also\b",
        r"\binstead,? (?:let|we)\b",
    ),
}
# one pass over the text: each match is attributed to the category whose group matched
_BEHAVIOUR_RE = re.compile(
    "|".join(f"(?P<{k}>{'|'.join(v)})" for k, v in BEHAVIOUR_PATTERNS.items()), re.IGNORECASE
)
#: behaviour counts are capped here (so every channel is bounded)
MAX_BEHAVIOUR_COUNT = 1000


def behaviour_counts(response: str) -> dict[str, float]:
    """Counts backtracking, verification and alternative-approach phrases (capped at 1000 each).

    Example:
        >>> behaviour_counts("Wait, that is wrong. Let me check: 2+2=4. Alternatively ...")
        {'backtracking': 2.0, 'verification': 1.0, 'alternatives': 1.0}
    """
    counts = dict.fromkeys(BEHAVIOUR_PATTERNS, 0)
    for m in _BEHAVIOUR_RE.finditer(response[:MAX_ANALYSIS_CHARS]):
        counts[m.lastgroup] += 1  # type: ignore[index]
    return {k: float(min(MAX_BEHAVIOUR_COUNT, v)) for k, v in counts.items()}
