"""A small, bounded recursive-descent parser: normalised answer text -> values.

No ``sympify``, ``parse_expr``, ``eval`` or ``exec`` anywhere: sympy objects are built only through
their constructors (``Integer``, ``Rational``, ``Add``, ``Mul``, ``Pow``, ``sqrt``, ...), and every
construction is guarded so evaluation stays bounded: literal digit counts, exponent sizes,
factorial and binomial arguments, nesting depth and input length.

Values are sympy expressions or the small frozen structures below (tuples, sets, intervals,
unions, relations, matrices, bare answer lists, text).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import sympy
from sympy import (
    Abs,
    E,
    Expr,
    I,
    Integer,
    Rational,
    S,
    Symbol,
    binomial,
    ceiling,
    factorial,
    floor,
    oo,
    pi,
)

from rlsp_verifiers.extract import _read_braced
from rlsp_verifiers.units import unit_of

__all__ = [
    "Answers",
    "Choice",
    "Interval",
    "Lit",
    "Matrix",
    "ParseError",
    "Quant",
    "Ratio",
    "Rel",
    "Seq",
    "SetV",
    "Text",
    "TooLarge",
    "Undefined",
    "Union",
    "parse",
    "parse_written",
    "plain",
    "tokenize",
]

MAX_DEPTH = 40
MAX_DIGITS = 10_000  # of any integer or rational built
MAX_EXPONENT = 10_000  # |integer exponent| on a non-trivial base
MAX_ROOT = 1000  # largest root index / rational exponent denominator
MAX_FACTORIAL = 3000
MAX_TOKENS = 600
MAX_ITEMS = 64


class ParseError(ValueError):
    """The text is not math this parser reads."""


class Undefined(ParseError):
    """The text denotes an undefined value (a division by zero, ``\\infty^0``)."""


class TooLarge(ValueError):
    """A bound was hit; the verdict reason is ``too_large``."""


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Seq:
    """A bracketed, ordered sequence: tuple/point ``(a, b)``, vector ``[a, b]`` or an interval with
    the given ends (``open`` in ``([``, ``close`` in ``)]``)."""

    open: str
    close: str
    items: tuple[Any, ...]


@dataclass(frozen=True)
class SetV:
    """A set ``\\{a, b\\}``: order and repetition do not matter."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Answers:
    """A bare top-level list ``2, 3`` or ``x=2 \\text{ or } x=3``: several answers, order-free."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Union:
    """A union of intervals or sets (order-free)."""

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Rel:
    """A relation chain: ``sides[0] ops[0] sides[1] ops[1] ...`` with ops in
    ``= < <= > >= != in ~=`` (``~=`` is ``\\approx``)."""

    ops: tuple[str, ...]
    sides: tuple[Any, ...]


@dataclass(frozen=True)
class Matrix:
    """A matrix (rows of entries), from ``pmatrix``/``bmatrix``/``matrix``.

    ``literal``: every entry was written as a number literal (a matrix built by ``+``, ``-`` or a
    product is not), for the ``"literal"`` answer policy.
    """

    rows: tuple[tuple[Any, ...], ...]
    literal: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Text:
    """A word answer (``\\text{Evelyn}``, ``even``): lower case, spaces removed."""

    text: str


Interval = Seq  # an interval is a two-item Seq; kept as a name for readers


@dataclass(frozen=True)
class Lit:
    """A number written as a number literal (``68``, ``0.5``, ``\\frac{3}{4}``, ``2\\frac12``,
    ``6.8\\times10^{1}``, ``50\\%``): what the ``"literal"`` answer policy asks for."""

    value: Expr


@dataclass(frozen=True)
class Quant:
    """A value with a unit: ``5\\text{ cm}`` is ``Quant(5, "cm")``; degrees are ``"degree"``.

    ``unit`` is canonical (``in``, ``inch`` and ``inches`` are all ``"inch"``), with a power
    suffix (``"inch^2"``); a unit word outside the known vocabulary (a count noun such as
    ``apples``) is ``"word:apple"``.
    """

    value: Any
    unit: str


@dataclass(frozen=True)
class Ratio:
    """A ratio ``a : b (: c ...)``: equal to another ratio when proportional."""

    items: tuple[Any, ...]


@dataclass(frozen=True)
class Choice:
    """A multiple-choice letter ``(B)``, optionally with the value it stands for."""

    letter: str
    value: Any = None


@dataclass(frozen=True)
class _PM:
    """``a \\pm b`` while parsing: two values, flattened into the enclosing list."""

    vals: tuple[Any, ...]


def _flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for x in items:
        out.extend(x.vals if isinstance(x, _PM) else (x,))
    return out


# ---------------------------------------------------------------- guards


def _digits(n: int) -> int:
    return int(abs(n).bit_length() * 0.30103) + 1


def _check_number(x: Any) -> Any:
    if isinstance(x, sympy.AccumBounds) or (
        isinstance(x, sympy.Basic) and not x.is_Atom and x.has(sympy.AccumBounds)
    ):
        raise ParseError("undefined value (a function of infinity)")
    if isinstance(x, sympy.Rational):
        if _digits(int(x.p)) > MAX_DIGITS or _digits(int(x.q)) > MAX_DIGITS:
            raise TooLarge("number too large")
    return x


def _bits(x: sympy.Rational) -> float:
    return max(abs(int(x.p)).bit_length(), abs(int(x.q)).bit_length())


#: Largest |log| of any intermediate value that numeric evaluation will attempt (e^1e4).
MAX_LOG_MAGNITUDE = 1e4


def _log_magnitude(e: Expr) -> float:
    """A float estimate of ``log|e|`` computed without evaluating ``e`` (inf when it explodes).

    Guards ``evalf``: ``e^{e^{y^{64}}}`` at ``y = 2`` would make mpmath compute e to ~10^19 digits.
    """
    if e.is_Integer or e.is_Rational:
        p, q = abs(int(e.p)), int(e.q)
        if p == 0:
            return -math.inf
        return (p.bit_length() - q.bit_length()) * math.log(2)
    if e.is_number and e.is_Atom:  # pi, E, I, Float
        return 1.2
    if e.is_Atom:
        return 0.0
    if isinstance(e, sympy.Add):
        return max((_log_magnitude(a) for a in e.args), default=0.0) + math.log(len(e.args))
    if isinstance(e, sympy.Mul):
        return sum(max(_log_magnitude(a), -1e9) for a in e.args)
    if isinstance(e, sympy.Pow):
        lb, le = _log_magnitude(e.base), _log_magnitude(e.exp)
        if le > 50:
            return math.inf
        return abs(lb) * math.exp(le) if math.isfinite(lb) else lb
    if isinstance(e, sympy.exp):
        la = _log_magnitude(e.args[0])
        return math.exp(la) if la < 50 else math.inf
    worst = max((_log_magnitude(a) for a in e.args), default=0.0)
    if isinstance(e, (sympy.sinh, sympy.cosh)):  # grow like exp
        return math.exp(worst) if worst < 50 else math.inf
    if isinstance(e, (sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc)):
        # bounded values, but the argument reduction needs about log10|x| extra digits
        return 0.0 if worst < 2000 else math.inf
    return worst


#: Largest |log| of a non-rational value that floor/ceiling will evaluate (about 100 digits).
MAX_FLOOR_LOG = 230.0


def _coef_bits(b: Expr) -> float:
    """Bits of the numbers sympy builds when ``b`` is raised to an integer power.

    sympy distributes integer powers over products and multiplies exponents of numeric
    powers: ``(10^{8000}x)^{10000}`` becomes ``10^{80000000} x^{10000}`` at construction. A
    sum raised to a power stays unexpanded, so it counts 0 here (its size is bounded elsewhere).
    """
    if b.is_Rational:
        return float(max(abs(int(b.p)).bit_length(), int(b.q).bit_length()))
    if isinstance(b, sympy.Mul):
        return sum(_coef_bits(a) for a in b.args)
    if isinstance(b, sympy.Pow) and b.exp.is_Rational:
        return _coef_bits(b.base) * abs(float(b.exp))
    return 0.0


def safe_pow(b: Expr, e: Expr) -> Expr:
    """``b ** e`` with bounded evaluation.

    Raises:
        TooLarge: if the result would be too large to build.

    Example:
        >>> safe_pow(Integer(2), Integer(10))
        1024
    """
    if not isinstance(b, Expr) or not isinstance(e, Expr):
        raise ParseError("power of a non-expression")
    if e.is_Rational:
        if e.q > MAX_ROOT:
            raise TooLarge("root index too large")
        if b.is_Rational:
            if b in (S.Zero, S.One) or b == -1:
                pass
            elif abs(e.p) * _bits(b) * 0.30103 / e.q > MAX_DIGITS:
                raise TooLarge("power too large")
        elif abs(e.p) > MAX_EXPONENT:
            raise TooLarge("exponent too large")
        elif _coef_bits(b) * abs(e.p) * 0.30103 / e.q > MAX_DIGITS:
            raise TooLarge("power too large")  # (10^{8000}x)^{10000}: checked before sympy
        elif b.is_number and not b.is_Rational and _log_magnitude(b) * abs(e.p) / e.q > 1e5:
            raise TooLarge("power too large")
    elif e.is_number:
        # irrational exponent: keep it symbolic unless its size is absurd
        try:
            approx = abs(complex(e.evalf(15)))
        except (TypeError, ValueError):
            approx = float("inf")
        if approx > MAX_EXPONENT:
            raise TooLarge("exponent too large")
    if b == 0 and e.is_number and (e.is_negative or e == 0):
        raise Undefined("undefined power")
    if b.has(oo, -oo, S.ComplexInfinity) or e.has(oo, -oo, S.ComplexInfinity):
        # \infty^0, 1^\infty, 2^\infty: undefined or not a value; never simplified away
        raise Undefined("a power involving infinity")
    return _check_number(sympy.Pow(b, e))


def _negate(v: Any) -> Any:
    """``-v``, keeping a literal a literal and a unit its unit."""
    if isinstance(v, Lit):
        return Lit(_mul(Integer(-1), v.value))
    if isinstance(v, Quant):
        return Quant(_negate(v.value), v.unit)
    return _mul(Integer(-1), _as_expr(v))


def _mul(a: Expr, b: Expr) -> Expr:
    return _check_number(sympy.Mul(a, b))


def _add(a: Expr, b: Expr) -> Expr:
    return _check_number(sympy.Add(a, b))


def _is_hidden_zero(b: Expr) -> bool:
    """Whether a constant denominator that is not a literal zero evaluates to zero.

    Checked before the division is built, so ``\\frac{1}{d} - \\frac{1}{d}`` with a hidden
    ``d = 0`` is noticed before sympy cancels it. A constant within 10^-40 of zero counts as zero.
    """
    if b.is_Rational or b.free_symbols or not b.is_number:
        return False
    if _log_magnitude(b) > 1e4:
        return False
    try:
        v = b.evalf(50, maxn=100)
        re_, im_ = v.as_real_imag()
        return bool(abs(re_) + abs(im_) < sympy.Float("1e-40", 50))
    except Exception:  # noqa: BLE001 - not a plain number
        return False


def _div(a: Expr, b: Expr) -> Expr:
    if b == 0 or _is_hidden_zero(b):
        raise Undefined("division by zero")
    return _check_number(sympy.Mul(a, sympy.Pow(b, -1)))


def _as_expr(v: Any) -> Expr:
    if isinstance(v, Lit):
        return v.value
    if isinstance(v, Expr):
        return v
    if isinstance(v, Quant):
        raise ParseError("a unit inside an expression")
    raise ParseError(f"expected a number or expression, got {type(v).__name__}")


# ---------------------------------------------------------------- tokens

_TEXT_CMDS = {"text", "textup"}
_RELOPS = {
    "=": "=",
    "<": "<",
    ">": ">",
    r"\leq": "<=",
    r"\geq": ">=",
    r"\neq": "!=",
    r"\in": "in",
    r"\approx": "~=",  # x \approx 11: a relation, never an assignment
}
_FUNCS: dict[str, Any] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "ln": sympy.log,
    "log": sympy.log,
    "exp": sympy.exp,
    "lg": None,  # log base 10
}
_TRIG = {"sin", "cos", "tan", "cot", "sec", "csc"}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon",
    "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma",
    "Phi", "Psi", "Omega",
}  # fmt: skip
#: commands that take one argument and make a new symbol of it (\dot{x}, \overline{AB})
_DECORATIONS = {
    "dot", "ddot", "hat", "widehat", "bar", "overline", "underline", "vec", "tilde",
    "widetilde", "mathbb", "mathcal", "mathfrak", "boldsymbol", "overrightarrow", "check",
}  # fmt: skip
#: commands whose meaning the parser does not model: such answers compare as strings only
_NOT_READ = {
    "ldots", "dots", "cdots", "vdots", "ddots", "sim", "simeq", "equiv", "cong",
    "pmod", "bmod", "mod", "to", "rightarrow", "Rightarrow", "implies", "iff", "not", "mapsto",
    "setminus", "cap", "subset", "subseteq", "supset", "forall", "exists", "sum", "prod", "int",
    "lim", "partial", "nabla", "perp", "parallel", "mid", "nmid", "propto", "gcd", "max", "min",
    "det", "arg", "deg", "dim", "ker", "sup", "inf", "over", "choose", "atop", "cr", "phantom",
    "hspace", "vspace", "color", "textcolor", "label", "tag", "notag", "nonumber",
}  # fmt: skip
_NUM_RE = re.compile(r"\d+(?:\.\d*)?|\.\d+")
_SCI_RE = re.compile(r"[eE]([+-]?\d{1,4})(?![\d.])")


@dataclass(frozen=True)
class Tok:
    kind: str  # num, letter, cmd, ch, text, begin, end
    val: str


def _read_group(s: str, i: int) -> tuple[str, int]:
    """Reads a balanced ``{...}`` starting at ``s[i] == '{'``; returns (content, index after)."""
    content, end = _read_braced(s, i, limit=None)
    if content is None:
        raise ParseError("unbalanced braces")
    return content, end


def tokenize(s: str) -> list[Tok]:
    """Splits normalised answer text into tokens.

    Example:
        >>> [t.val for t in tokenize("2\\\\frac{1}{3}x")]
        ['2', 'frac', '{', '1', '}', '{', '3', '}', 'x']
    """
    if not s.isascii():
        # look-alikes (Cyrillic letters, Arabic-Indic or full-width digits) are never read as
        # the ASCII characters they imitate; known math symbols were mapped by normalize()
        raise ParseError("non-ASCII character in the answer")
    toks: list[Tok] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
            continue
        if c.isdigit() or (c == "." and i + 1 < n and s[i + 1].isdigit()):
            m = _NUM_RE.match(s, i)
            assert m is not None
            num = m.group(0)
            i = m.end()
            m2 = _SCI_RE.match(s, i)
            if m2:
                num += "e" + m2.group(1)
                i = m2.end()
            if len(num) > MAX_DIGITS:
                raise TooLarge("literal too long")
            toks.append(Tok("num", num))
            continue
        if c == "\\":
            if i + 1 < n and s[i + 1].isalpha():
                j = i + 1
                while j < n and s[j].isalpha():
                    j += 1
                name = s[i + 1 : j]
                i = j
                if name in _TEXT_CMDS:
                    while i < n and s[i] == " ":
                        i += 1
                    if i < n and s[i] == "{":
                        content, i = _read_group(s, i)
                        toks.append(Tok("text", content))
                        continue
                    raise ParseError("\\text without a group")
                if name in ("begin", "end"):
                    while i < n and s[i] == " ":
                        i += 1
                    if i < n and s[i] == "{":
                        content, i = _read_group(s, i)
                        toks.append(Tok(name, content.strip()))
                        continue
                    raise ParseError(f"\\{name} without an environment name")
                toks.append(Tok("cmd", name))
                continue
            if i + 1 < n:
                toks.append(Tok("cmd", s[i + 1]))
                i += 2
                continue
            raise ParseError("trailing backslash")
        if c.isalpha():
            if not c.isascii():
                raise ParseError("non-ASCII letter")
            unit = _bare_unit(s, i, toks)
            if unit is not None:
                toks.append(Tok("text", s[i:unit]))
                i = unit
                continue
            if i == 0 or not s[i - 1].isalpha():
                run = _RUN.match(s, i)
                assert run is not None
                word = run.group(0)
                # lower case or capitalised ("not", "Never"); capital runs are labels (NO/BO)
                if word.lower() in ENGLISH_WORDS and (word.islower() or word.istitle()):
                    # "not 0" is the word "not" and a number, never the product n*o*t*0
                    toks.append(Tok("text", word))
                    i = run.end()
                    continue
            toks.append(Tok("letter", c))
            i += 1
            continue
        if not c.isascii():
            raise ParseError(f"unexpected character {c!r}")
        toks.append(Tok("ch", c))
        i += 1
    if len(toks) > MAX_TOKENS:
        raise TooLarge("answer too long")
    return toks


_RUN = re.compile(r"[A-Za-z]+")

#: Runs of plain letters that are read as English words (text), never as a product of one-letter
#: variables: negations, hedges and sentence words a policy writes around a value. Short
#: runs that are also common products (``at``, ``an``, ``be``, ``it`` in ``e^{it}``, ``is``,
#: ``ab``, ``xy``) stay products, and the free-variables rule of the comparison refuses them
#: where they cancel (``is 0``); ``or``/``and`` are list separators. Only lower-case or
#: capitalised runs are words: capital runs are labels (``\frac{NO}{BO}``).
ENGLISH_WORDS = frozenset(
    "not no isnt the of never wrong most least none than only also about maybe"
    " cannot cant yes but nor yet are was were this that then so thus hence answer final"
    " approximately around nearly almost roughly perhaps possibly might must should could would"
    " false true incorrect correct".split()
)
_PHRASE = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){0,2}")


def _bare_unit(s: str, i: int, toks: list[Tok]) -> int | None:
    """End of a bare unit phrase starting at ``s[i]`` (``42 inches``, ``5 square feet``), or None.

    Only after a number or a closing brace, and only a run of two or more letters that
    :func:`~rlsp_verifiers.units.unit_of` reads as a unit (a known unit, or a count noun of four
    or more letters); one-letter runs stay variables.
    """
    if not toks or not (toks[-1].kind == "num" or (toks[-1].kind == "ch" and toks[-1].val in ")}")):
        return None
    if i > 0 and s[i - 1].isalpha():
        return None
    m = _PHRASE.match(s, i)
    if m is None:
        return None
    words = m.group(0).split(" ")
    for k in range(len(words), 0, -1):
        phrase = " ".join(words[:k])
        end = i + len(phrase)
        if end < len(s) and s[end].isalpha():
            continue
        u = unit_of(phrase)
        if u is None or (len(words[0]) < 2):
            continue
        if u.startswith("word:") and (k > 1 or len(phrase) < 4):
            continue
        return end
    return None


# ---------------------------------------------------------------- parser


def _num_value(tok: str) -> Expr:
    mant, _, exp = tok.partition("e")
    if "." in mant:
        whole, _, frac = mant.partition(".")
        val = Rational(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
    else:
        val = Integer(int(mant))
    if exp:
        val = _mul(val, safe_pow(Integer(10), Integer(int(exp))))
    return _check_number(val)


_ATOM_STARTS_CH = set("([{|")
_STOP_CH = set(")]},;&|=<>")


class _Parser:
    def __init__(self, toks: list[Tok], deadline: Any = None, imaginary: bool = False) -> None:
        self.imaginary = imaginary
        self.t = toks
        self.i = 0
        self.depth = 0
        self.deadline = deadline
        #: every symbol the text names, also those sympy's constructors cancel (x - x, 0 y)
        self.written: set[Symbol] = set()
        #: the symbols written in the first side of a relation (a label: \frac{NO}{BO} = ...)
        self.first_sides: set[Symbol] = set()

    def _sym(self, name: str) -> Symbol:
        sym = Symbol(name)
        self.written.add(sym)
        return sym

    # -- helpers
    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def next(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise ParseError("unexpected end")
        self.i += 1
        return tok

    def at(self, kind: str, val: str | None = None) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind and (val is None or tok.val == val)

    def expect(self, kind: str, val: str) -> None:
        if not self.at(kind, val):
            got = self.peek()
            raise ParseError(f"expected {val!r}, got {got.val if got else 'end'!r}")
        self.i += 1

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TooLarge("nesting too deep")
        if self.deadline is not None:
            self.deadline.check()

    def leave(self) -> None:
        self.depth -= 1

    def at_separator(self) -> bool:
        tok = self.peek()
        if tok is None:
            return False
        if tok.kind == "ch" and tok.val in ",;":
            return True
        if tok.kind == "text" and tok.val.strip().lower() in ("or", "and", ",", ";"):
            return True
        if tok.kind == "letter" and self._word_at() in ("or", "and"):
            return True
        return False

    def _word_at(self) -> str:
        w = ""
        j = self.i
        while j < len(self.t) and self.t[j].kind == "letter" and len(w) < 4:
            w += self.t[j].val
            j += 1
        after = self.t[j] if j < len(self.t) else None
        if after is not None and after.kind == "letter":
            return ""
        return w

    def skip_separator(self) -> None:
        tok = self.next()
        if tok.kind == "letter":
            self.i += len(self._word_before(tok)) - 1
        # ", and" / ", or": one separator
        if tok.kind == "ch" and self.at_separator() and not self.at("ch"):
            self.skip_separator()

    def _word_before(self, first: Tok) -> str:
        w = first.val
        j = self.i
        while j < len(self.t) and self.t[j].kind == "letter":
            w += self.t[j].val
            j += 1
        return w

    # -- grammar
    def parse_top(self) -> Any:
        items = self.parse_list(end=None)
        if self.peek() is not None:
            raise ParseError(f"unexpected {self.peek().val!r}")  # type: ignore[union-attr]
        if len(items) == 1:
            return items[0]
        return Answers(tuple(items))

    def _subscripted(self, name: str) -> str:
        """``name`` plus a following ``_x`` / ``_{...}`` subscript (read as raw text)."""
        if not self.at("ch", "_"):
            return name
        self.i += 1
        sub = self.peek()
        if sub is not None and sub.kind == "ch" and sub.val == "{":
            self.i += 1
            parts = []
            depth = 1
            while True:
                tok = self.next()
                if tok.kind == "ch" and tok.val == "{":
                    depth += 1
                elif tok.kind == "ch" and tok.val == "}":
                    depth -= 1
                    if depth == 0:
                        break
                parts.append(tok.val)
                if len(parts) > 30:
                    raise TooLarge("subscript too long")
            return name + "_" + "".join(parts)
        if sub is None:
            raise ParseError("empty subscript")
        self.i += 1
        if sub.kind == "num" and len(sub.val) > 1:
            self.i -= 1
            self.t[self.i] = Tok("num", sub.val[1:])
        return name + "_" + sub.val[:1] if sub.kind == "num" else name + "_" + sub.val

    def _function_head(self, name: str) -> str | None:
        """``f(x)`` (or ``g(x, y)``) directly before ``=``: the name of a function being defined."""
        j = self.i
        t = self.t
        if not (j < len(t) and t[j].kind == "ch" and t[j].val == "("):
            return None
        args = []
        j += 1
        while j < len(t) and t[j].kind == "letter":
            args.append(t[j].val)
            j += 1
            if j < len(t) and t[j].kind == "ch" and t[j].val == ",":
                j += 1
        if not args or not (j + 1 < len(t) and t[j].val == ")"):
            return None
        nxt = t[j + 1]
        if not (
            (nxt.kind == "ch" and nxt.val in "=<>!")
            or (nxt.kind == "cmd" and ("\\" + nxt.val) in _RELOPS)
        ):
            return None
        self.i = j + 1
        return f"{name}({','.join(args)})"

    def _raw_group(self) -> str:
        """The raw token text of the next ``{...}`` group or single token."""
        if not self.at("ch", "{"):
            return self.next().val
        self.i += 1
        parts: list[str] = []
        depth = 1
        while True:
            tok = self.next()
            if tok.kind == "ch" and tok.val == "{":
                depth += 1
            elif tok.kind == "ch" and tok.val == "}":
                depth -= 1
                if depth == 0:
                    return "".join(parts)
            parts.append(tok.val)
            if len(parts) > 60:
                raise TooLarge("group too long")

    def parse_list(self, end: set[str] | None) -> list[Any]:
        items = [self.parse_relation()]
        while self.at_separator():
            self.skip_separator()
            if len(items) >= MAX_ITEMS:
                raise TooLarge("too many items")
            items.append(self.parse_relation())
        return _flatten(items)

    def _relop(self) -> str | None:
        tok = self.peek()
        if tok is None:
            return None
        if tok.kind == "ch" and tok.val == "!":
            nxt = self.peek(1)
            if nxt is not None and nxt.kind == "ch" and nxt.val == "=":
                return "!="
            return None
        if tok.kind == "ch" and tok.val in "=<>":
            nxt = self.peek(1)
            if tok.val in "<>" and nxt is not None and nxt.kind == "ch" and nxt.val == "=":
                return tok.val + "="
            return tok.val
        if tok.kind == "cmd" and ("\\" + tok.val) in _RELOPS:
            return _RELOPS["\\" + tok.val]
        return None

    def parse_relation(self) -> Any:
        self.enter()
        before = set(self.written)
        sides = [self.parse_ratio()]
        first_written = self.written - before
        ops: list[str] = []
        if self._relop() is not None:
            self.first_sides |= first_written
        while (op := self._relop()) is not None:
            self.i += 2 if op in ("<=", ">=", "!=") and self.at("ch", op[0]) else 1
            ops.append(op)
            sides.append(self.parse_ratio())
            if len(ops) > 8:
                raise TooLarge("relation chain too long")
        self.leave()
        pms = [k for k, x in enumerate(sides) if isinstance(x, _PM)]
        if pms and not ops:
            return sides[0]
        if len(pms) > 1:
            raise ParseError("more than one \\pm in a relation")
        if pms:
            k = pms[0]
            return _PM(
                tuple(
                    Rel(tuple(ops), tuple(v if j == k else x for j, x in enumerate(sides)))
                    for v in sides[k].vals
                )
            )
        if ops:
            return Rel(tuple(ops), tuple(sides))
        return sides[0]

    def parse_ratio(self) -> Any:
        """``a : b : c`` (a ratio) or a single union/sum."""
        first = self.parse_union()
        if not self.at("ch", ":"):
            return first
        parts = [first]
        while self.at("ch", ":"):
            self.i += 1
            parts.append(self.parse_union())
            if len(parts) > MAX_ITEMS:
                raise TooLarge("ratio too long")
        return Ratio(tuple(parts))

    def parse_union(self) -> Any:
        parts = [self.parse_sum()]
        while self.at("cmd", "cup"):
            self.i += 1
            parts.append(self.parse_sum())
        if len(parts) > 1:
            return Union(tuple(parts))
        return parts[0]

    def _at_pm(self) -> bool:
        return self.at("cmd", "pm") or self.at("cmd", "mp")

    def parse_sum(self) -> Any:
        self.enter()
        neg = False
        pm: int = 0  # +1: \pm seen (first value takes +), -1: \mp
        if self.at("ch", "-") or self.at("ch", "+"):
            neg = self.next().val == "-"
        elif self._at_pm():
            pm = 1 if self.next().val == "pm" else -1
        left = self.parse_term()
        if neg:
            left = _negate(left)
        alt: Expr | None = None  # the value with the opposite sign choice
        if pm:
            left, alt = _as_expr(left), _mul(Integer(-1), _as_expr(left))
            if pm < 0:
                left, alt = alt, left
        while self.at("ch", "+") or self.at("ch", "-") or self._at_pm():
            op = self.next().val
            if isinstance(left, Matrix):
                if op not in "+-":
                    raise ParseError("\\pm of a matrix")
                left = _matrix_add(left, self.parse_term(), 1 if op == "+" else -1)
                continue
            right = _as_expr(self.parse_term())
            if op in ("pm", "mp"):
                if alt is not None:
                    raise ParseError("more than one \\pm")
                sign = 1 if op == "pm" else -1
                base = _as_expr(left)
                left = _add(base, _mul(Integer(sign), right))
                alt = _add(base, _mul(Integer(-sign), right))
                continue
            signed = right if op == "+" else _mul(Integer(-1), right)
            left = _add(_as_expr(left), signed)
            if alt is not None:
                alt = _add(alt, signed)
        self.leave()
        if alt is not None:
            return _PM((left, alt))
        if self.at("text") and not self.at_separator():
            unit = self._unit_here()
            if unit is None:
                raise ParseError("words after a value")
            return Quant(left, unit)
        return left

    def _starts_atom(self) -> bool:
        tok = self.peek()
        if tok is None:
            return False
        if tok.kind in ("num", "begin"):
            return True
        if tok.kind == "letter":
            return self._word_at() not in ("or", "and")
        if tok.kind == "ch":
            return tok.val in "([" or tok.val == "{"
        if tok.kind == "cmd":
            return tok.val not in (
                "cdot", "times", "div", "cup", "cap", "pm", "mp", "leq", "geq", "neq", "in",
                "}", "rangle", "rfloor", "rceil", "cr", "to", "rightarrow", "implies", "%", "cap",
                "|", "degree", "approx",
            )  # fmt: skip
        if tok.kind == "text":
            return tok.val.strip().lower() not in ("or", "and", ",", ";")
        return False

    def _at_power_of_ten(self) -> bool:
        """Whether the next tokens are ``10^{k}`` / ``10^k`` with an integer literal ``k``."""
        t, j = self.t, self.i
        if not (j + 2 < len(t) and t[j].kind == "num" and t[j].val == "10"):
            return False
        if not (t[j + 1].kind == "ch" and t[j + 1].val == "^"):
            return False
        k = j + 2
        if t[k].kind == "num":
            return t[k].val.isdigit()
        if t[k].kind == "ch" and t[k].val == "{":
            k += 1
            if k < len(t) and t[k].kind == "ch" and t[k].val in "+-":
                k += 1
            return (
                k + 1 < len(t)
                and t[k].kind == "num"
                and t[k].val.isdigit()
                and t[k + 1].kind == "ch"
                and t[k + 1].val == "}"
            )
        return False

    def _unit_here(self) -> str | None:
        """A unit at the cursor (a ``text`` token, optionally ``^2``/``^3``); consumed if so."""
        tok = self.peek()
        if tok is None or tok.kind != "text":
            return None
        power, width = 1, 1
        if self.at_offset(1, "ch", "^"):
            nxt = self.peek(2)
            if nxt is not None and nxt.kind == "num" and nxt.val in ("2", "3"):
                power, width = int(nxt.val), 3
            elif (
                nxt is not None
                and nxt.kind == "ch"
                and nxt.val == "{"
                and self.at_offset(4, "ch", "}")
                and self.peek(3) is not None
                and self.peek(3).val in ("2", "3")  # type: ignore[union-attr]
            ):
                power, width = int(self.peek(3).val), 5  # type: ignore[union-attr]
            else:
                return None
        u = unit_of(tok.val, power)
        if u is not None:
            self.i += width
        return u

    def at_offset(self, k: int, kind: str, val: str) -> bool:
        tok = self.peek(k)
        return tok is not None and tok.kind == kind and tok.val == val

    def parse_term(self) -> Any:
        self.enter()
        first_tok = self.peek()
        left = self.parse_factor()
        lit = isinstance(left, Lit)
        count = 0
        while True:
            tok = self.peek()
            if tok is None:
                break
            if (tok.kind == "ch" and tok.val in "*/") or (
                tok.kind == "cmd" and tok.val in ("cdot", "times", "div")
            ):
                self.i += 1
                if isinstance(left, Matrix) and tok.val != "/" and tok.val != "div":
                    left = _matrix_mul(left, self.parse_factor())
                    lit = False
                    count += 1
                    continue
                sci = lit and count == 0 and tok.val in ("cdot", "times", "*")
                sci = sci and self._at_power_of_ten()
                right_raw = self.parse_factor()
                right = _as_expr(right_raw)
                if tok.val in ("/", "div"):
                    # 3/4: a fraction of two integer literals is a literal
                    slash = (
                        lit
                        and count == 0
                        and tok.val == "/"
                        and isinstance(left, Lit)
                        and left.value.is_Integer
                        and isinstance(right_raw, Lit)
                        and right.is_Integer
                    )
                    left = _div(_as_expr(left), right)
                    lit = bool(slash)
                else:
                    left = _mul(_as_expr(left), right)
                    lit = bool(sci)
                if lit:
                    left = Lit(left)
            elif tok.kind == "text" and not isinstance(left, Quant) and not self.at_separator():
                save = self.i
                unit = self._unit_here()
                self.i = save
                if unit is None:
                    raise ParseError(f"words after a value: {tok.val.strip()!r}")
                break  # the unit belongs to the whole sum: read by parse_sum
            elif self._starts_atom():
                if tok.kind == "num" and self.i > 0 and self.t[self.i - 1].kind == "num":
                    raise ParseError("two numbers side by side")  # 1 1/2, 2 \quad 3
                if (
                    count == 0
                    and isinstance(left, Lit)
                    and first_tok is not None
                    and first_tok.kind == "num"
                    and first_tok.val.isdigit()
                    and self.at("cmd", "frac")
                ):
                    right_raw = self.parse_factor()
                    rv = _as_expr(right_raw)
                    if isinstance(right_raw, Lit):
                        # mixed number: 2\frac{1}{2} is 5/2 (MATH convention); an improper
                        # fraction there (29\frac{89}{1}) is neither a mixed number nor a
                        # product anyone writes: refused
                        if not (rv.is_Rational and not rv.is_Integer and 0 < rv < 1):
                            raise ParseError("an integer beside an improper fraction")
                        left = Lit(_add(left.value, rv))
                    else:
                        left = _mul(left.value, rv)
                        lit = False
                else:
                    right = self.parse_factor()
                    if isinstance(right, Text):
                        raise ParseError("text inside an expression")
                    if isinstance(left, Matrix) or isinstance(right, Matrix):
                        left = _matrix_mul(left, right)
                    else:
                        left = _mul(_as_expr(left), _as_expr(right))
                    lit = False
            else:
                break
            count += 1
            if count > 200:
                raise TooLarge("term too long")
        self.leave()
        return left

    def parse_factor(self) -> Any:
        if self.at("ch", "-"):
            self.i += 1
            self.enter()
            v = _negate(self.parse_factor())
            self.leave()
            return v
        if self.at("ch", "+"):
            self.i += 1
            return self.parse_factor()
        return self.parse_power()

    def parse_exponent_arg(self) -> Expr:
        """The argument of ^ or _: a group or one token (one digit of a number)."""
        tok = self.peek()
        if tok is None:
            raise ParseError("missing exponent")
        if tok.kind == "num" and len(tok.val) > 1:
            # x^23 is x^2 * 3 in LaTeX
            self.t[self.i] = Tok("num", tok.val[1:])
            return Integer(int(tok.val[0])) if tok.val[0].isdigit() else _num_value(tok.val[0])
        if tok.kind == "ch" and tok.val == "-":
            self.i += 1
            return _mul(Integer(-1), self.parse_exponent_arg())
        return _as_expr(self.parse_postfix())

    def parse_power(self) -> Any:
        base = self.parse_postfix()
        if self.at("cmd", "degree"):
            self.i += 1
            return Quant(base, "degree")
        if self.at("ch", "^"):
            self.i += 1
            self.enter()
            exp = self.parse_exponent_arg()
            self.leave()
            base = safe_pow(_as_expr(base), exp)
            while self.at("ch", "!"):
                raise ParseError("factorial of a power is ambiguous")
        return base

    def parse_postfix(self) -> Any:
        v = self.parse_atom()
        while self.at("ch", "!") and not self.at_offset(1, "ch", "="):
            self.i += 1
            v = _factorial(_as_expr(v))
        if self.at("cmd", "%") or self.at("ch", "%"):
            self.i += 1
            pv = _div(_as_expr(v), Integer(100))
            v = Lit(pv) if isinstance(v, Lit) else pv
        return v

    def parse_arg(self) -> Expr:
        """A command argument: ``{...}`` or a single token (one digit of a number)."""
        return _as_expr(self.parse_arg_raw())

    def parse_arg_raw(self) -> Any:
        """:meth:`parse_arg` keeping a :class:`Lit` (for ``\\frac`` of literals)."""
        tok = self.peek()
        if tok is None:
            raise ParseError("missing argument")
        if tok.kind == "ch" and tok.val == "{":
            self.i += 1
            v = self.parse_relation()
            self.expect("ch", "}")
            return v if isinstance(v, Lit) else _as_expr(v)
        if tok.kind == "num":
            if len(tok.val) > 1:
                self.t[self.i] = Tok("num", tok.val[1:])
                if not tok.val[0].isdigit():
                    raise ParseError("bad argument")
                return Lit(Integer(int(tok.val[0])))
            self.i += 1
            return Lit(_num_value(tok.val))
        return _as_expr(self.parse_atom())

    def parse_atom(self) -> Any:
        self.enter()
        try:
            return self._atom()
        finally:
            self.leave()

    def _bracket(self, open_: str) -> Any:
        closers = {"(": (")", "]"), "[": ("]", ")"), "{": ("}",)}[open_]
        items = self.parse_list(end=None)
        tok = self.next()
        if tok.kind != "ch" or tok.val not in closers:
            raise ParseError(f"unclosed {open_!r}")
        close = tok.val
        if open_ == "{":
            if len(items) == 1:
                return items[0]
            return Answers(tuple(items))
        if len(items) == 1:
            if close != {"(": ")", "[": "]"}[open_]:
                raise ParseError("mismatched brackets")
            return items[0]
        return Seq(open_, close, tuple(items))

    def _atom(self) -> Any:
        tok = self.next()
        k, v = tok.kind, tok.val
        if k == "num":
            val = _num_value(v)
            # base-n numbers: 1011_2
            if self.at("ch", "_"):
                self.i += 1
                base = self.parse_arg()
                if not (base.is_Integer and 2 <= int(base) <= 36) or "." in v or "e" in v:
                    raise ParseError("bad base subscript")
                try:
                    return Lit(Integer(int(v, int(base))))
                except ValueError as exc:
                    raise ParseError("digit not valid in base") from exc
            # repeating decimals: 0.\overline{6} = 2/3, 1.2\overline{34}
            if "." in v and "e" not in v and self.at("cmd", "overline"):
                self.i += 1
                rep = self._raw_group()
                if not rep.isdigit() or len(rep) > 50:
                    raise ParseError("bad repeating decimal")
                whole, _, dec = v.partition(".")
                a = int((whole or "0") + dec + rep)
                b = int((whole or "0") + dec)
                return Lit(_check_number(Rational(a - b, 10 ** len(dec) * (10 ** len(rep) - 1))))
            return Lit(val)
        if k == "letter":
            name = self._subscripted(v)
            fn = self._function_head(name)
            if fn is not None:
                return self._sym(fn)
            if name == "e":
                return E
            if name == "i" and self.imaginary:
                return I
            return self._sym(name)
        if k == "ch":
            if v in "([":
                return self._bracket(v)
            if v == "{":
                return self._bracket("{")
            if v == "|":
                inner = _as_expr(self.parse_sum())
                self.expect("ch", "|")
                return Abs(inner)
            raise ParseError(f"unexpected {v!r}")
        if k == "text":
            word = " ".join(v.split()).strip()
            if word in ("e",):
                return E
            if re.fullmatch(r"[A-Za-z]", word):
                return self._sym(word)
            if not word:
                raise ParseError("empty text")
            return Text(re.sub(r"\s+", "", word.lower()))
        if k == "begin":
            return self._environment(v)
        if k == "cmd":
            return self._command(v)
        raise ParseError(f"unexpected {v!r}")

    def _environment(self, name: str) -> Any:
        if name.rstrip("*") not in (
            "pmatrix",
            "bmatrix",
            "matrix",
            "array",
            "smallmatrix",
            "Bmatrix",
        ):
            raise ParseError(f"unsupported environment {name}")
        if name == "array" and self.at("ch", "{"):  # column spec
            while not self.at("ch", "}"):
                self.next()
            self.i += 1
        all_lit = True
        rows: list[tuple[Any, ...]] = []
        row: list[Any] = []
        while True:
            if self.at("end"):
                self.i += 1
                break
            if self.peek() is None:
                raise ParseError("unclosed environment")
            cell = self.parse_relation()
            all_lit = all_lit and isinstance(cell, Lit)
            row.append(_as_expr(cell))
            if self.at("ch", "&"):
                self.i += 1
                continue
            if self.at("cmd", "cr"):
                self.i += 1
                rows.append(tuple(row))
                row = []
                if self.at("end"):
                    self.i += 1
                    break
                continue
            if self.at("end"):
                self.i += 1
                rows.append(tuple(row))
                row = []
                break
            raise ParseError("bad matrix cell")
        if row:
            rows.append(tuple(row))
        if not rows or len({len(r) for r in rows}) != 1:
            raise ParseError("ragged matrix")
        if len(rows) * len(rows[0]) > 400:
            raise TooLarge("matrix too large")
        return Matrix(tuple(rows), literal=all_lit)

    def _command(self, name: str) -> Any:
        if name == "frac":
            num_raw = self.parse_arg_raw()
            den_raw = self.parse_arg_raw()
            val = _div(_as_expr(num_raw), _as_expr(den_raw))
            if (
                isinstance(num_raw, Lit)
                and isinstance(den_raw, Lit)
                and num_raw.value.is_Integer
                and den_raw.value.is_Integer
            ):
                return Lit(val)
            return val
        if name == "sqrt":
            index: Expr = Integer(2)
            if self.at("ch", "["):
                self.i += 1
                index = _as_expr(self.parse_sum())
                self.expect("ch", "]")
                if not (index.is_Integer and 2 <= int(index) <= MAX_ROOT):
                    raise TooLarge("root index")
            arg = self.parse_arg()
            n = int(index)
            if n % 2 == 1 and arg.is_number and arg.is_extended_negative:
                # the real odd root: \sqrt[3]{-8} is -2 (the reading of every math text), not
                # sympy's principal complex root
                return _mul(Integer(-1), safe_pow(_mul(Integer(-1), arg), Rational(1, n)))
            return safe_pow(arg, Rational(1, n))
        if name == "binom":
            n = self.parse_arg()
            k = self.parse_arg()
            if n.is_Integer and k.is_Integer:
                if abs(int(n)) > MAX_FACTORIAL * 5:
                    raise TooLarge("binomial too large")
                return _check_number(binomial(n, k))
            if n.is_number or k.is_number:
                raise ParseError("binomial of a non-integer")
            return binomial(n, k, evaluate=False)
        if name == "pi":
            return pi
        if name == "infty":
            return oo
        if name == "emptyset":
            return SetV(())
        if name == "{":
            items: list[Any] = []
            if not self.at("cmd", "}"):
                items = self.parse_list(end=None)
            self.expect("cmd", "}")
            return SetV(tuple(items))
        if name == "langle":
            items = self.parse_list(end=None)
            self.expect("cmd", "rangle")
            return Seq("(", ")", tuple(items)) if len(items) > 1 else items[0]
        if name in ("lfloor", "lceil"):
            inner = _as_expr(self.parse_sum())
            self.expect("cmd", "rfloor" if name == "lfloor" else "rceil")
            if not inner.is_Rational and _log_magnitude(inner) > MAX_FLOOR_LOG:
                # sympy evaluates floor(x) to every digit of x: \lfloor (2+\sqrt3)^{5000}\rfloor
                raise TooLarge("floor of a huge value")
            return floor(inner) if name == "lfloor" else ceiling(inner)
        if name == "|":
            inner = _as_expr(self.parse_sum())
            self.expect("cmd", "|")
            return Abs(inner)
        if name in _FUNCS:
            return self._function(name)
        if name in _NOT_READ:
            raise ParseError(f"\\{name} is not read")
        if name in _DECORATIONS:
            arg = self._raw_group()
            if name == "mathbb" and arg == "R":  # all real numbers
                return Seq("(", ")", (-oo, oo))
            return self._sym(self._subscripted(f"\\{name}{{{arg}}}"))
        if name.isalpha():
            # Greek letters and other symbols (\hbar, \angle, \prime): opaque symbols, equal
            # only to themselves
            return self._sym(self._subscripted(name if name in _GREEK else "\\" + name))
        raise ParseError(f"unknown command \\{name}")

    def _function(self, name: str) -> Expr:
        power: Expr | None = None
        base: Expr | None = None
        if name == "log" and self.at("ch", "_"):
            self.i += 1
            base = self.parse_arg()
        if self.at("ch", "^"):
            self.i += 1
            power = self.parse_exponent_arg()
        if self.at("ch", "("):
            self.i += 1
            arg = _as_expr(self.parse_sum())
            self.expect("ch", ")")
        else:
            raw = self.parse_power()
            if isinstance(raw, Quant) and raw.unit == "degree" and name in _TRIG:
                arg = _mul(_as_expr(raw.value), _div(pi, Integer(180)))  # sin 30^\circ
            else:
                arg = _as_expr(raw)
        if name in ("log", "ln", "lg"):
            if arg.is_number and arg.is_zero:
                raise ParseError("log of zero")
            if name == "lg":
                base = Integer(10)
            val = sympy.log(arg, base) if base is not None else sympy.log(arg)
        elif name == "exp":
            if arg.is_number and arg.is_real and abs(float(arg.evalf(15))) > 10 * MAX_EXPONENT:
                raise TooLarge("exp argument too large")
            val = sympy.exp(arg)
        else:
            if arg.has(oo, -oo, S.ComplexInfinity, S.NaN):
                raise ParseError("a function of infinity")
            val = _FUNCS[name](arg)
        if power is not None:
            if power == -1 and name in ("sin", "cos", "tan"):
                raise ParseError("ambiguous inverse notation")
            val = safe_pow(val, power)
        return val


def _matrix_add(a: Matrix, b: Any, sign: int) -> Matrix:
    """``a + b`` / ``a - b`` of two matrices of the same shape."""
    if not isinstance(b, Matrix) or len(a.rows) != len(b.rows) or len(a.rows[0]) != len(b.rows[0]):
        raise ParseError("a matrix plus something that is not a matrix of its shape")
    return Matrix(
        tuple(
            tuple(_add(x, _mul(Integer(sign), y)) for x, y in zip(ra, rb))
            for ra, rb in zip(a.rows, b.rows)
        )
    )


def _matrix_mul(a: Any, b: Any) -> Matrix:
    """A matrix product, or a scalar times a matrix (cells are bounded by the parser)."""
    if not isinstance(a, Matrix):
        s = _as_expr(a)
        return Matrix(tuple(tuple(_mul(s, y) for y in r) for r in b.rows))
    if not isinstance(b, Matrix):
        s = _as_expr(b)
        return Matrix(tuple(tuple(_mul(x, s) for x in r) for r in a.rows))
    n, m, k = len(a.rows), len(a.rows[0]), len(b.rows[0])
    if m != len(b.rows):
        raise ParseError("matrix shapes do not match")
    if n * m * k > 8000:
        raise TooLarge("matrix product too large")
    return Matrix(
        tuple(
            tuple(
                _check_number(sympy.Add(*(sympy.Mul(a.rows[i][t], b.rows[t][j]) for t in range(m))))
                for j in range(k)
            )
            for i in range(n)
        )
    )


def _factorial(x: Expr) -> Expr:
    if x.is_Integer:
        if x < 0:
            raise ParseError("factorial of a negative integer")
        if x > MAX_FACTORIAL:
            raise TooLarge("factorial too large")
        return Integer(math.factorial(int(x)))
    if x.is_number:
        raise ParseError("factorial of a non-integer")
    return factorial(x)


def parse(s: str, deadline: Any = None, *, imaginary: bool = False) -> Any:
    """Parses one normalised answer into a value (a sympy expression or a structure).

    Args:
        s: normalised answer text (see :func:`rlsp_verifiers.normalize.normalize`).
        deadline: optional object whose ``check()`` raises when time is up (checked at every
            nesting level).
        imaginary: read the letter ``i`` as the imaginary unit (otherwise a variable).

    Returns:
        A sympy ``Expr``, or one of :class:`Lit` (a number written as a literal),
        :class:`Quant` (a value with a unit or degree sign), :class:`Seq`, :class:`SetV`,
        :class:`Answers`, :class:`Union`, :class:`Rel`, :class:`Ratio`, :class:`Matrix`,
        :class:`Text`. :func:`plain` removes the :class:`Lit` markers.

    Raises:
        ParseError: the text is not math this parser reads.
        TooLarge: a size bound was hit.

    Example:
        >>> parse("\\\\frac{1}{2}+\\\\sqrt{8}")
        1/2 + 2*sqrt(2)
        >>> parse("(1, 2]")
        Seq(open='(', close=']', items=(Lit(value=1), Lit(value=2)))
        >>> parse("5\\\\text{ cm}^2")
        Quant(value=Lit(value=5), unit='cm^2')
        >>> parse("68 \\\\text{ is not the answer}")
        Traceback (most recent call last):
        ...
        rlsp_verifiers.parse.ParseError: words after a value: 'is not the answer'
    """
    return parse_written(s, deadline, imaginary=imaginary)[0]


def parse_written(
    s: str, deadline: Any = None, *, imaginary: bool = False
) -> tuple[Any, frozenset[Symbol], frozenset[Symbol]]:
    """:func:`parse`, every symbol the text names (also those that cancel at construction), and
    those written in the first side of a relation (where a label stands).

    sympy's constructors evaluate as they build: ``x - x + 5`` is ``5`` and ``0 \\cdot y`` is
    ``0``; the second value still holds ``x`` and ``y``, so the comparison can refuse an answer
    that names variables the gold does not have.

    Example:
        >>> parse_written("x - x + 5")
        (5, frozenset({x}), frozenset())
    """
    toks = tokenize(s)
    if not toks:
        raise ParseError("empty")
    # a whole answer made of words is a text answer
    if all(t.kind in ("letter", "text") for t in toks) and (
        any(t.kind == "text" for t in toks) or len(toks) > 1
    ):
        words = " ".join(
            " ".join(t.val.split()) if t.kind == "text" else t.val for t in toks
        ).lower()
        if not re.search(r"\b(or|and)\b", words):
            return Text(re.sub(r"\s+", "", words)), frozenset(), frozenset()
    parser = _Parser(toks, deadline, imaginary)
    value = parser.parse_top()
    return value, frozenset(parser.written), frozenset(parser.first_sides)


def is_mathy_i(value: Any) -> bool:
    """Whether ``Symbol('i')`` occurs in a parsed value (used to read ``i`` as the imaginary unit)."""
    return any(isinstance(e, Expr) and Symbol("i") in e.free_symbols for e in iter_exprs(value))


def iter_exprs(value: Any) -> list[Expr]:
    """All sympy expressions inside a value, depth-first."""
    out: list[Expr] = []

    def walk(v: Any) -> None:
        if isinstance(v, Expr):
            out.append(v)
        elif isinstance(v, (Lit, Quant)):
            walk(v.value)
        elif isinstance(v, Choice):
            if v.value is not None:
                walk(v.value)
        elif isinstance(v, (Seq, SetV, Answers, Ratio)):
            for x in v.items:
                walk(x)
        elif isinstance(v, Union):
            for x in v.parts:
                walk(x)
        elif isinstance(v, Rel):
            for x in v.sides:
                walk(x)
        elif isinstance(v, Matrix):
            for r in v.rows:
                for x in r:
                    walk(x)

    walk(value)
    return out


def map_exprs(value: Any, f: Any) -> Any:
    """Applies ``f`` to every sympy expression inside a value."""
    if isinstance(value, Expr):
        return f(value)
    if isinstance(value, Lit):
        return Lit(f(value.value))
    if isinstance(value, Quant):
        return Quant(map_exprs(value.value, f), value.unit)
    if isinstance(value, Ratio):
        return Ratio(tuple(map_exprs(x, f) for x in value.items))
    if isinstance(value, Choice):
        return Choice(value.letter, None if value.value is None else map_exprs(value.value, f))
    if isinstance(value, Seq):
        return Seq(value.open, value.close, tuple(map_exprs(x, f) for x in value.items))
    if isinstance(value, SetV):
        return SetV(tuple(map_exprs(x, f) for x in value.items))
    if isinstance(value, Answers):
        return Answers(tuple(map_exprs(x, f) for x in value.items))
    if isinstance(value, Union):
        return Union(tuple(map_exprs(x, f) for x in value.parts))
    if isinstance(value, Rel):
        return Rel(value.ops, tuple(map_exprs(x, f) for x in value.sides))
    if isinstance(value, Matrix):
        return Matrix(
            tuple(tuple(map_exprs(x, f) for x in r) for r in value.rows), literal=value.literal
        )
    return value


def plain(value: Any) -> Any:
    """The value with every :class:`Lit` marker replaced by its number (units kept).

    Example:
        >>> plain(parse("(1, \\\\frac{1}{2})"))
        Seq(open='(', close=')', items=(1, 1/2))
    """
    if isinstance(value, Lit):
        return value.value
    if isinstance(value, Quant):
        return Quant(plain(value.value), value.unit)
    if isinstance(value, Ratio):
        return Ratio(tuple(plain(x) for x in value.items))
    if isinstance(value, Choice):
        return Choice(value.letter, None if value.value is None else plain(value.value))
    if isinstance(value, Seq):
        return Seq(value.open, value.close, tuple(plain(x) for x in value.items))
    if isinstance(value, SetV):
        return SetV(tuple(plain(x) for x in value.items))
    if isinstance(value, Answers):
        return Answers(tuple(plain(x) for x in value.items))
    if isinstance(value, Union):
        return Union(tuple(plain(x) for x in value.parts))
    if isinstance(value, Rel):
        return Rel(value.ops, tuple(plain(x) for x in value.sides))
    if isinstance(value, _PM):
        return _PM(tuple(plain(x) for x in value.vals))
    return value


IMAGINARY = I
