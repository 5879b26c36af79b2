"""Hypothesis strategies for the env's reward channels: responses, and padding that must not pay."""

from __future__ import annotations

from hypothesis import strategies as st

from rlsp_env.text import FILLER_WORDS

__all__ = ["any_text", "padded", "reasoning", "weights"]

_WORDS = st.sampled_from(
    "add the two numbers so we get x y z carry 1 2 3 4 5 10 = + - times equals then "
    "check result because factor solve root equation sum product".split()
)
_FILLER = sorted(w for w in FILLER_WORDS if w.isalpha())

#: any text at all: Unicode, control characters, binary decoded as Latin-1, LaTeX shards
any_text = st.one_of(
    st.text(max_size=400),
    st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
    st.lists(
        st.sampled_from(["\\boxed{", "}", "{", "\\frac", "$", "\n", "wait", "1", " "]), max_size=60
    ).map("".join),
)

#: a reasoning text: lines of short sentences built from a small vocabulary
line = st.lists(_WORDS, min_size=1, max_size=10).map(" ".join)
reasoning = st.lists(line, min_size=1, max_size=8)


@st.composite
def padded(draw, lines: list[str]) -> str:
    """``lines`` joined by newlines, with padding inserted: duplicate lines, filler lines, filler
    words inside lines, a line repeated back to back, extra whitespace. None adds content."""
    out = list(lines)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["dup", "filler_line", "filler_word", "run", "space"]))
        pos = draw(st.integers(0, len(out)))
        if kind == "dup":
            out.insert(pos, draw(st.sampled_from(lines)))
        elif kind == "filler_line":
            words = draw(
                st.lists(st.sampled_from(_FILLER + ["...", "---", "!!"]), min_size=1, max_size=8)
            )
            out.insert(pos, " ".join(words))
        elif kind == "filler_word" and out:
            i = draw(st.integers(0, len(out) - 1))
            toks = out[i].split(" ")
            j = draw(st.integers(0, len(toks)))
            toks.insert(j, draw(st.sampled_from(_FILLER)))
            out[i] = " ".join(toks)
        elif kind == "run":
            src = draw(st.sampled_from(lines))
            out.insert(pos, " ".join([src] * draw(st.integers(2, 5))))
        elif kind == "space" and out:
            i = draw(st.integers(0, len(out) - 1))
            out[i] = "  " + out[i].replace(" ", "   ") + " \t"
    return "\n".join(out)


weights = st.dictionaries(
    st.sampled_from(
        [
            "correctness",
            "format",
            "exploration",
            "effort",
            "diversity",
            "backtracking",
            "verification",
            "alternatives",
        ]
    ),
    st.floats(-5, 5, allow_nan=False, allow_infinity=False),
)
