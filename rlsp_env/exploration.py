"""The exploration channel: information in the reasoning, on a saturating curve over the budget.

RLSP rewards "taking more intermediate steps". Characters are a poor proxy for steps: they can be
padded with copies, invisible characters, look-alike letters, word salad or counting. This module
measures *information* in the normalised reasoning and maps it onto a bounded curve that still
varies over the lengths a small policy writes (tens to a few hundred tokens). The design and a plot
of the curve are in ``docs/exploration.md``.

Measurement (:func:`measure`):

1. **normalise** (:func:`normalise`): Unicode NFKC, combining marks and every invisible / format /
   control character dropped (zero-width spaces and joiners, BOM, bidi marks, soft hyphens),
   Cyrillic and Greek look-alikes of Latin letters mapped to the Latin letter, case folded,
   whitespace collapsed;
2. cut into segments at line breaks and sentence ends (as :mod:`rlsp_env.text` does), filler
   words and punctuation-only tokens dropped, back-to-back repeats of a phrase collapsed, and the
   *set* of distinct segments kept, sorted (a repeated line, a filler line, or a line made
   different only by invisible or look-alike characters adds nothing, wherever it is inserted);
3. **information** ``z``: the zlib-compressed size of the problem text followed by the de-duplicated
   segments, minus that of the problem text alone (novelty against the problem *and* against the
   other segments, which zlib's back-references capture), in token units
   (:data:`BYTES_PER_TOKEN` compressed bytes a token);
4. **vocabulary bound** ``t``: :data:`TOKENS_PER_TYPE` tokens for each distinct word or number
   not in the problem (word salad over 15 words, or the response's own words shuffled, cannot grow
   it);
5. ``u = min(z, t)``, the *informative length*; ``raw`` is the normalised reasoning's length in
   tokens (characters / 4, or a tokenizer's count).

Curves (:data:`CURVES`), with ``L = length_scale`` (the response budget in tokens) and ``cap``:

- ``"info"`` (the default): ``-cap * (1 - g)``, ``g = min(1, log(1 + u) / log(1 + L)) * taper``, in
  ``[-cap, 0]``: ``-cap`` for no reasoning, rising with diminishing returns, 0 at ``u = L``;
  ``taper`` is 1 while ``raw <= L`` and falls linearly to 0 at ``raw = 2 L`` (text far beyond the
  budget is padding the policy could not have written; it earns less, down to nothing);
- ``"capped"``: the previous bounded form ``-min(cap, L / ell)`` of the effective length
  (:func:`rlsp_env.text.effective_length`), flat at ``-cap`` below ``ell = L``;
- ``"paper"``: RLSP's exact term ``-L / ell``, ``ell`` = characters / 4 of the raw text before the
  final answer (no normalisation, no floor; ``ell`` < 1 counts as 1): in ``[-L, 0)``.

Example:
    >>> bare = "\\\\boxed{6364}"
    >>> steps = "74 x 80 = 5920. 74 x 6 = 444. Add: 5920 + 444 = 6364. \\\\boxed{6364}"
    >>> exploration_reward(bare, "What is 74 x 86?") < exploration_reward(steps, "What is 74 x 86?")
    True
    >>> normalise("ma\\u200bth \\u0430nd Ｘ")  # zero-width space, Cyrillic a, full-width X
    'math and x'
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from dataclasses import dataclass

from rlsp_env.text import (
    _SEGMENT_SPLIT as _SEGMENT,
)
from rlsp_env.text import (
    MAX_ANALYSIS_CHARS,
    _collapse_repeats,
    _count_tokens,
    _tokens,
    effective_length,
    reasoning_text,
)

__all__ = [
    "BYTES_PER_TOKEN",
    "CURVES",
    "DEFAULT_CURVE",
    "TOKENS_PER_TYPE",
    "Measure",
    "curve_value",
    "exploration_reward",
    "measure",
    "normalise",
]

#: compressed bytes per token of information (calibrated on worked solutions: see the docs)
BYTES_PER_TOKEN = 2.4
#: the most informative length one distinct new word or number can carry, in tokens
TOKENS_PER_TYPE = 2.5
CURVES = ("info", "capped", "paper")
DEFAULT_CURVE = "info"

# Latin look-alikes (Unicode's confusables for the basic alphabet): Cyrillic and Greek
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic lower case
        "а": "a", "в": "b", "е": "e", "ё": "e", "г": "r", "һ": "h", "і": "i", "ї": "i", "ј": "j",
        "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
        "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ь": "b", "п": "n", "ո": "n",
        # Cyrillic upper case
        "А": "a", "В": "b", "Е": "e", "Ё": "e", "З": "3", "І": "i", "Ї": "i", "Ј": "j", "К": "k",
        "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c", "Т": "t", "У": "y", "Х": "x", "Ѕ": "s",
        "Ԁ": "d", "Ԛ": "q", "Ԝ": "w", "Ү": "y",
        # Greek letters that look Latin (math letters such as alpha, beta, pi are kept)
        "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
        "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "ο": "o", "ϲ": "c", "ϳ": "j",
    }
)  # fmt: skip
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cn", "Cs", "Mn", "Me"})
_WS = re.compile(r"[^\S\n]+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Text as a reader sees it: NFKC, invisible characters dropped, look-alikes mapped, folded.

    Keeps line breaks (they separate segments); other whitespace runs become one space.

    Example:
        >>> normalise("Ｔｈｅ\\u00adn  \\u200d2 + 2\\n= 4")
        'then 2 + 2\\n= 4'
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    text = unicodedata.normalize("NFKD", text[:MAX_ANALYSIS_CHARS].replace("\r", "\n"))
    keep = []
    for ch in text:
        if ch in "\n\t ":
            keep.append(ch)
        elif ch.isascii():
            if ch.isprintable():
                keep.append(ch)
        elif unicodedata.category(ch) not in _INVISIBLE_CATEGORIES:
            keep.append(ch)
    text = unicodedata.normalize("NFKC", "".join(keep)).translate(_CONFUSABLES).casefold()
    return "\n".join(s for s in (_WS.sub(" ", line).strip() for line in text.split("\n")) if s)


def _segments(text: str) -> list[str]:
    """The distinct segments, each without filler words and back-to-back repeats, sorted."""
    out = set()
    for seg in _SEGMENT.split(text):
        toks = _collapse_repeats(_tokens(seg))
        if toks:
            out.add(" ".join(toks))
    return sorted(out)


def _compressed(data: str) -> int:
    return len(zlib.compress(data.encode("utf-8", "surrogatepass"), 9))


@dataclass(frozen=True)
class Measure:
    """What :func:`measure` finds in a response's reasoning (lengths in tokens).

    Attributes:
        informative: ``u = min(compressed, vocabulary)``, the length the curve rewards.
        compressed: novel compressed information of the de-duplicated reasoning.
        vocabulary: :data:`TOKENS_PER_TYPE` x distinct words / numbers not in the problem.
        raw: the normalised reasoning's length.
    """

    informative: float
    compressed: float
    vocabulary: float
    raw: float


def measure(reasoning: str, problem_text: str = "", tokenizer: object | None = None) -> Measure:
    """Informative and raw length of ``reasoning`` (the text before the final answer).

    Example:
        >>> m = measure("Add 2 and 3 to get 5.", "What is 2 + 3?")
        >>> m.informative > 0, m.raw
        (True, 5.25)
        >>> measure("Add 2 and 3 to get 5.\\nadd 2 and 3 to get 5.").informative == measure(
        ...     "Add 2 and 3 to get 5.").informative
        True
    """
    text = normalise(reasoning)
    if not text:
        return Measure(0.0, 0.0, 0.0, 0.0)
    context = normalise(problem_text) if problem_text else ""
    body = "\n".join(_segments(text))
    if not body:
        return Measure(0.0, 0.0, 0.0, _count_tokens(text, tokenizer))
    prefix = context + "\n"
    z = max(0, _compressed(prefix + body) - _compressed(prefix)) / BYTES_PER_TOKEN
    known = set(_WORD.findall(context))
    types = {w for w in _WORD.findall(body) if w not in known}
    t = TOKENS_PER_TYPE * len(types)
    return Measure(min(z, t), z, t, _count_tokens(text, tokenizer))


def _check_params(length_scale: float, cap: float) -> None:
    if isinstance(length_scale, bool) or not isinstance(length_scale, int | float):
        raise TypeError(f"length_scale must be a number, got {length_scale!r}")
    if not (math.isfinite(length_scale) and length_scale >= 0):
        raise ValueError(f"length_scale must be finite and >= 0, got {length_scale!r}")
    if isinstance(cap, bool) or not isinstance(cap, int | float):
        raise TypeError(f"cap must be a number, got {cap!r}")
    if not (math.isfinite(cap) and cap > 0):
        raise ValueError(f"cap must be finite and > 0, got {cap!r}")


def curve_value(u: float, length_scale: float, cap: float = 1.0, raw: float | None = None) -> float:
    """The ``"info"`` curve: ``-cap * (1 - min(1, log1p(u) / log1p(L)) * taper(raw))``.

    ``raw``: the raw reasoning length (``None``: no taper). ``L = 0`` disables the channel (0).

    Example:
        >>> curve_value(0, 100), curve_value(100, 100), round(curve_value(10, 100), 3)
        (-1.0, 0.0, -0.48)
        >>> round(curve_value(50, 100, raw=150), 3)  # half-way past the budget: half the gain
        -0.574
    """
    _check_params(length_scale, cap)
    if length_scale == 0:
        return 0.0
    u = max(0.0, float(u)) if math.isfinite(u) else 0.0
    gain = min(1.0, math.log1p(u) / math.log1p(length_scale))
    over = 0.0 if raw is None else max(0.0, float(raw)) / length_scale
    taper = 1.0 if over <= 1.0 else max(0.0, 2.0 - over)
    return -float(cap) * (1.0 - gain * taper) + 0.0  # + 0.0: no -0.0


def exploration_reward(
    response: str,
    problem: object = None,
    *,
    length_scale: float = 1000.0,
    cap: float = 1.0,
    tokenizer: object | None = None,
    curve: str = DEFAULT_CURVE,
    reasoning: str | None = None,
) -> float:
    """The exploration channel of ``response`` (any ``str``) for a problem (text or ``Problem``).

    Args:
        response: the full response; the reasoning is the text before its last ``\\boxed``.
        problem: the problem text, a :class:`rlsp_env.problem.Problem`, or ``None``.
        length_scale: ``L``, the response budget in tokens (0 disables the channel).
        cap: the magnitude of the floor (``"info"`` and ``"capped"``).
        tokenizer: counts raw tokens (else characters / 4).
        curve: one of :data:`CURVES`.
        reasoning: the response's reasoning when already read (the reward channels pass
            :attr:`rlsp_env.text.Reading.reasoning`, so a response is read once); default
            :func:`rlsp_env.text.reasoning_text` of ``response``.

    Raises:
        TypeError: a non-``str`` response.
        ValueError: bad ``length_scale``, ``cap`` or ``curve``.

    Example:
        >>> exploration_reward("no reasoning \\\\boxed{1}", length_scale=0)
        0.0
        >>> exploration_reward("abcdefg \\\\boxed{1}", length_scale=4, curve="paper")  # ell = 8 / 4
        -2.0
    """
    if not isinstance(response, str):
        raise TypeError(f"response must be a str, got {type(response).__name__}")
    _check_params(length_scale, cap)
    if curve not in CURVES:
        raise ValueError(f"unknown exploration curve {curve!r}; curves: {list(CURVES)}")
    if length_scale == 0:
        return 0.0
    if reasoning is None:
        reasoning = reasoning_text(response)
    if curve == "paper":
        return -float(length_scale) / max(1.0, len(reasoning) / 4.0)
    if curve == "capped":
        ell = effective_length(reasoning, tokenizer)
        return -float(cap) if ell <= 0 else -min(float(cap), length_scale / ell)
    problem_text = getattr(problem, "problem", problem)
    problem_text = problem_text if isinstance(problem_text, str) else ""
    m = measure(reasoning, problem_text, tokenizer)
    return curve_value(m.informative, length_scale, cap, raw=m.raw)


def plot_curves(path: str, length_scales: tuple[float, ...] = (96.0, 160.0, 1000.0)) -> str:
    """Draws the channel against informative length for each curve, and measured responses
    (worked solutions, their paddings) against raw length; writes a PNG to ``path``.

    Run as ``python -m rlsp_env.exploration --plot docs/exploration_curve.png``.
    """
    import random

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlsp_env.procedural import generate_problem

    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.6))
    xs = [0.25 * 1.04**i for i in range(260)]
    for L in length_scales:
        ax.plot(xs, [curve_value(x, L) for x in xs], label=f'"info" (default), L = {L:g}')
    ax.plot(
        xs, [max(-1.0, -1000.0 / x) for x in xs], "k--", label='"capped" -min(1, L/ell), L = 1000'
    )
    ax.plot(
        xs, [max(-1.0, -160.0 / x) for x in xs], "k:", label="paper -L/ell, L = 160 (clipped at -1)"
    )
    ax.set_xscale("log")
    ax.set_xlabel("informative reasoning length u (tokens)")
    ax.set_ylabel("exploration channel")
    ax.axvspan(10, 300, color="0.92", zorder=0)
    ax.text(12, -0.05, "lengths a small policy writes", fontsize=8)
    ax.set_title("the channel against length")
    ax.legend(fontsize=7, loc="lower right")

    rng = random.Random(0)
    vocab = "the number we add so then carry digit result value sum step next check ok".split()
    kinds: dict[str, list[tuple[float, float]]] = {}
    for fam, d in [("arithmetic", 2), ("arithmetic", 5), ("word_problem", 3), ("linear_system", 3)]:
        for i in range(6):
            p = generate_problem(fam, i, difficulty=d, split="train")
            reasoning = p.solution[: p.solution.rindex("The final answer")]
            words = reasoning.split()
            variants = {
                "worked solution": reasoning,
                "first line only": reasoning.split("\n")[0],
                "+ 3000 copies with zero-width chars": reasoning
                + " ".join("Let me check\u200b this ag\u200cain." for _ in range(3000)),
                "+ word salad (15 words)": reasoning
                + " ".join(rng.choice(vocab) for _ in range(rng.choice([50, 300, 3000]))),
                "+ shuffled copies of own words": reasoning
                + "\n".join(
                    " ".join(rng.sample(words, len(words))) for _ in range(rng.choice([2, 10, 100]))
                ),
                "+ counting 1..n": reasoning
                + ", ".join(str(k) for k in range(1, rng.choice([30, 300, 1500]))),
            }
            for kind, r in variants.items():
                m = measure(r, p.problem)
                kinds.setdefault(kind, []).append(
                    (max(m.raw, 0.3), curve_value(m.informative, 160.0, raw=m.raw))
                )
    for kind, pts in kinds.items():
        bx.scatter([x for x, _ in pts], [y for _, y in pts], s=14, label=kind, alpha=0.8)
    bx.axvline(160.0, color="0.5", lw=0.8)
    bx.text(165, -0.95, "L = 160 (budget)", fontsize=8)
    bx.set_xscale("log")
    bx.set_xlabel("raw reasoning length (characters / 4)")
    bx.set_ylabel("exploration channel, L = 160")
    bx.set_title("measured: worked solutions and their paddings")
    bx.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


if __name__ == "__main__":  # pragma: no cover
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m rlsp_env.exploration",
        description="Plots the exploration channel (docs/exploration.md).",
        epilog="example:\n  python -m rlsp_env.exploration --plot docs/exploration_curve.png",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--plot", default="docs/exploration_curve.png", help="PNG to write")
    print(plot_curves(ap.parse_args().plot))
