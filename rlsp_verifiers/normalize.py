"""String normalisation of answer text: decoration removed, meaning kept.

Only decoration is removed (spacing commands, ``\\left``/``\\right``, ``$``, font commands,
thousands separators): nothing that carries meaning is dropped. Words, units, degree signs and
percent signs stay in the text for the parser to read as typed parts of the answer (or to refuse).

Everything here is a pure string rewrite (regular expressions with linear behaviour on bounded
input); nothing is evaluated. :func:`normalize` is idempotent: ``normalize(normalize(s)) ==
normalize(s)``.
"""

from __future__ import annotations

import re

__all__ = [
    "FORBIDDEN_MACROS",
    "MAX_ANSWER_CHARS",
    "UnsafeInput",
    "check_input",
    "comparison_key",
    "normalize",
    "split_percent",
]

#: Answers longer than this (after extraction) are refused with ``reason="too_large"``.
MAX_ANSWER_CHARS = 2000

#: Macros that redefine what later text means: a response containing one is refused.
FORBIDDEN_MACROS = re.compile(
    r"\\(?:def|edef|gdef|xdef|let|newcommand|renewcommand|providecommand|DeclareMathOperator"
    r"|catcode|input|include|usepackage|expandafter|csname|futurelet|mathcode|uppercase"
    r"|lowercase)(?![a-zA-Z])"
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UnsafeInput(ValueError):
    """Answer text that is refused before any parsing; ``reason`` is a verdict reason."""

    def __init__(self, reason: str, message: str = "") -> None:
        super().__init__(message or reason)
        self.reason = reason


def check_input(s: str) -> None:
    """Raises :class:`UnsafeInput` for text the verifier refuses to read.

    Example:
        >>> check_input("\\\\frac{1}{2}")
        >>> try:
        ...     check_input("\\\\def\\\\x{5}\\\\x")
        ... except UnsafeInput as e:
        ...     print(e.reason)
        forbidden_macro
    """
    if len(s) > MAX_ANSWER_CHARS:
        raise UnsafeInput("too_large", f"answer longer than {MAX_ANSWER_CHARS} characters")
    if _CONTROL.search(s):
        raise UnsafeInput("invalid_characters", "control characters in the answer")
    if FORBIDDEN_MACROS.search(s):
        raise UnsafeInput("forbidden_macro", "macro definitions are not allowed in answers")


# Unicode math symbols with one unambiguous LaTeX meaning. Anything else non-ASCII is left as it
# is (so a look-alike letter or digit never becomes the ASCII character it imitates).
_UNICODE = {
    "\u2212": "-",  # minus sign
    "\u2013": "-",  # en dash (used as minus)
    "\u00d7": r"\times ",
    "\u22c5": r"\cdot ",
    "\u00b7": r"\cdot ",
    "\u00f7": r"\div ",
    "\u2264": r"\leq ",
    "\u2265": r"\geq ",
    "\u2260": r"\neq ",
    "\u03c0": r"\pi ",
    "\u221e": r"\infty ",
    "\u221a": r"\sqrt",
    "\u00b0": r"\degree ",
    "\u222a": r"\cup ",
    "\u2229": r"\cap ",
    "\u2208": r"\in ",
    "\u00bd": r"\frac{1}{2}",
    "\u00bc": r"\frac{1}{4}",
    "\u00be": r"\frac{3}{4}",
    "\u00a0": " ",  # no-break space
    "\u2009": " ",  # thin space
    "\u202f": " ",  # narrow no-break space
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))

# A root sign without braces covers the number or letter right after it: √25 is \sqrt{25}.
_UNICODE_ROOT = re.compile(r"([\u221a\u221b\u221c])\s*(\d+(?:\.\d+)?|[A-Za-z])")
_ROOT_INDEX = {"\u221a": "", "\u221b": "[3]", "\u221c": "[4]"}

_SIMPLE_SUBS: list[tuple[re.Pattern[str], str]] = [
    # the LaTeX line break (matrix rows) first, so no rule below can split it
    (re.compile(r"\\\\(?:\[[^\]]{0,10}\])?"), r" \\cr "),
    # explicit LaTeX thousands separators join their digits: 11,\! 111 and 5{,}525
    (re.compile(r"(?<=\d)(?:,\\!\s*|\{,\}|\\,)(?=\d{3}(?!\d))"), ""),
    (re.compile(r"\\!"), ""),
    (
        re.compile(
            r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|Biggl|Biggr|big|Big|bigg|Bigg)"
            r"(?![a-zA-Z])\s*(?:\.|(\\[{}|]|[()\[\]|]|\\langle|\\rangle|\\lfloor|\\rfloor"
            r"|\\lceil|\\rceil))?"
        ),
        r"\1",
    ),
    (re.compile(r"\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])"), " "),
    (
        re.compile(
            r"\\[,;:> ]|\\(?:quad|qquad|thinspace|medspace|thickspace|enspace|hfill)(?![a-zA-Z])|~"
        ),
        " ",
    ),
    (re.compile(r"\\[dtc]frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\[dt]binom(?![a-zA-Z])"), r"\\binom"),
    (re.compile(r"\\(?:leqslant|leqq|le)(?![a-zA-Z])"), r"\\leq"),
    (re.compile(r"\\(?:geqslant|geqq|ge)(?![a-zA-Z])"), r"\\geq"),
    (re.compile(r"\\ne(?![a-zA-Z])"), r"\\neq"),
    (re.compile(r"\\lt(?![a-zA-Z])"), "<"),
    (re.compile(r"\\gt(?![a-zA-Z])"), ">"),
    (re.compile(r"\\(?:varnothing|emptyset)(?![a-zA-Z])"), r"\\emptyset"),
    (
        re.compile(
            r"\\(?:mathrm|textrm|mathbf|textbf|mathit|textit|mbox|hbox|operatorname|textnormal|mathsf|textsf)\s*(?=\{)"
        ),
        r"\\text",
    ),
    (re.compile(r"\\(?:bf|rm|it)(?![a-zA-Z])"), " "),
    (re.compile(r"\\(?:\$)"), " "),  # \$ (dollar sign of money answers)
    (re.compile(r"\$"), " "),
    (re.compile(r"\\[()\[\]]"), " "),  # math-mode delimiters \( \) \[ \]
    (
        re.compile(
            r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|\\circ(?![a-zA-Z])"
            r"|\\degree(?![a-zA-Z])|\^\s*\{\s*\\degree\s*\}"
        ),
        r"\\degree ",
    ),
    (re.compile(r"\{,\}"), ","),
]

# Thousands separators: 1,000 and 12,345,678 (groups of exactly three digits), 1,000.50.
# Not directly inside brackets, where the comma separates items: (12,102) is a pair.
_THOUSANDS = re.compile(r"(?<![\d.,(\[])(?!0)(\d{1,3})((?:,\d{3})+)(?![\d,)\]])")
# SI-style grouping with single spaces: 1 000, 12 345 678 (never 1 1/2 or 2 3).
_SPACE_THOUSANDS = re.compile(r"(?<![\d.,])(\d{1,3})((?: \d{3})+)(?![\d.,/])")
_SPACES = re.compile(r"\s+")


def _thousands(m: re.Match[str], short_groups: bool) -> str:
    lead, groups = m.group(1), m.group(2)
    if not short_groups and len(lead) <= 2 and groups.count(",") == 1 and groups[1] != "0":
        return m.group(0)  # "1,100": a list of 1 and 100 (see normalize)
    return lead + groups.replace(",", "")


def is_ambiguous_grouping(s: str) -> bool:
    """Whether ``s`` holds ``a,bbb`` with a one- or two-digit lead: a number or a list.

    Example:
        >>> is_ambiguous_grouping("1,100"), is_ambiguous_grouping("7,425,000")
        (True, False)
    """
    return any(
        len(m.group(1)) <= 2 and m.group(2).count(",") == 1 and m.group(2)[1] != "0"
        for m in _THOUSANDS.finditer(s)
    )


def normalize(s: str, *, short_groups: bool = True) -> str:
    """Normalises answer text: decoration, delimiters and spacing removed (never words or units).

    The result is still LaTeX-ish text (not a value). It is idempotent and never evaluates.

    Args:
        s: one extracted final answer (not a whole response).
        short_groups: read ``a,bbb`` with a one- or two-digit lead (``1,100``, ``58,500``) as a
            thousands grouping (the default); ``False`` keeps it a list (the second reading the
            verifier tries for an answer against a list gold; longer groupings such as
            ``7,425,000``, three-digit leads, groups starting with 0 such as ``1,050`` and
            explicit separators ``5{,}525`` / ``10,\\!080`` are always numbers).

    Returns:
        The normalised answer, with single spaces.

    Example:
        >>> normalize("\\\\left( 3, \\\\dfrac{\\\\pi}{2} \\\\right)")
        '(3, \\\\frac{\\\\pi}{2})'
        >>> normalize("1,\\\\!000 \\\\text{ cm}")
        '1000 \\\\text{cm}'
        >>> normalize("$90^\\\\circ$.")
        '90\\\\degree'
    """
    prev = None
    for _ in range(3):  # a fixed point in one or two rounds; bounded
        if s == prev:
            break
        prev = s
        s = _UNICODE_ROOT.sub(lambda m: rf"\sqrt{_ROOT_INDEX[m.group(1)]}{{{m.group(2)}}}", s)
        s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group(0)], s)
        for pat, rep in _SIMPLE_SUBS:
            s = pat.sub(rep, s)
        s = _SPACES.sub(" ", s).strip()
        s = s.rstrip(".").strip()
        s = _SPACE_THOUSANDS.sub(lambda m: m.group(1) + m.group(2).replace(" ", ""), s)
        s = _THOUSANDS.sub(lambda m: _thousands(m, short_groups), s)
        # spaces around + and - stay: "4e + 7p" is 4e plus 7p, while "4e+7" is e-notation
        s = re.sub(r"\s*([(\[{,=<>*/^_&])\s*", r"\1", s)
        s = re.sub(r"(?<=[+-])\s+(?=[+-])|(?<=[(\[{,=<>^_&])\s+(?=[+-])", "", s)
        s = re.sub(r"([,])(?=\S)", r"\1 ", s)
        s = re.sub(r"\s*([)\]}])", r"\1", s)
        s = _SPACES.sub(" ", s).strip()
        # outer \text{...} around a whole answer is decoration
        m = re.fullmatch(r"\\text\{([^{}]*)\}", s)
        if m and re.search(r"[\d\\]", m.group(1)):
            s = m.group(1).strip()
    return s


def comparison_key(s: str) -> str:
    """The string-stage key of a normalised answer: all whitespace removed.

    Example:
        >>> comparison_key(normalize("\\\\frac{1}{2}")) == comparison_key(normalize("\\\\frac {1} {2}"))
        True
    """
    # a space between two digits or letters is kept: "1 1/2" is not "11/2", "2 3" is not "23"
    s = re.sub(r"(?<=[0-9A-Za-z])\s+(?=[0-9A-Za-z])", " ", s)
    return re.sub(r"(?<![0-9A-Za-z])\s+|\s+(?![0-9A-Za-z])", "", s)


def split_percent(s: str) -> tuple[str, bool]:
    """Removes one trailing percent sign (``\\%`` or ``%``); says whether there was one.

    Example:
        >>> split_percent("18\\\\%")
        ('18', True)
    """
    m = re.fullmatch(
        r"(.*?)\s*(?:\\?%|\\text\{\s*(?:\\?%|percent|percentage|pct)\s*\}|(?<![A-Za-z\\])(?:percentage|percent|pct))\s*",
        s,
        flags=re.S,
    )
    if m and m.group(1).strip():
        return m.group(1).strip(), True
    return s, False
