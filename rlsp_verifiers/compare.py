"""The comparison cascade: string -> numeric (exact) -> structural -> symbolic (bounded).

Every function here returns a :class:`Decision` (equal or not, reason, stage) and never raises
for parsed values; the caller in :mod:`rlsp_verifiers.api` turns bound violations into verdicts.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sympy
from sympy import Expr, Integer, S, Symbol, oo

from .normalize import (
    check_input,
    comparison_key,
    is_ambiguous_grouping,
    normalize,
    split_percent,
)
from .parse import (
    MAX_LOG_MAGNITUDE,
    Answers,
    Lit,
    Matrix,
    ParseError,
    Quant,
    Ratio,
    Rel,
    Seq,
    SetV,
    Text,
    TooLarge,
    Undefined,
    Union,
    _log_magnitude,
    is_mathy_i,
    iter_exprs,
    parse,
    parse_written,
    plain,
)

__all__ = ["ANSWER_POLICIES", "Decision", "Deadline", "compare_answers", "expr_equal"]

#: ``"closed_form"`` (datasets: any exact closed form equal to the gold, ``10^6`` for 1000000)
#: and ``"literal"`` (procedural arithmetic: a plain-number gold needs a number literal).
ANSWER_POLICIES: tuple[str, ...] = ("closed_form", "literal")

#: Expressions larger than this (sympy op count) skip the expensive symbolic stage.
MAX_SYMBOLIC_OPS = 60
#: Largest estimated term count of an expansion the symbolic stage will attempt.
MAX_EXPANDED_TERMS = 400
#: Bounds for sympy's ``simplify`` (op count, estimated expansion terms).
MAX_SIMPLIFY_OPS = 30
MAX_SIMPLIFY_TERMS = 100
#: Working precision (digits) of numeric screening.
NUMERIC_DPS = 60


class Timeout(Exception):
    """The cooperative deadline passed."""


@dataclass(frozen=True)
class Decision:
    equal: bool
    reason: str
    stage: str


class Deadline:
    """A cooperative deadline, checked between steps (works in any thread or process)."""

    def __init__(self, timeout_s: float | None) -> None:
        self.end = None if timeout_s is None else time.monotonic() + timeout_s

    def check(self) -> None:
        if self.end is not None and time.monotonic() > self.end:
            raise Timeout()


@dataclass
class _Ctx:
    deadline: Deadline
    mode: str
    gold_decimals: int | None = None  # decimal places of a plain decimal gold (eval mode rounding)


_UNDEFINED = (S.NaN, S.ComplexInfinity)


def _expansion_size(e: Expr, cap: int = MAX_EXPANDED_TERMS) -> int:
    """An upper estimate of the number of terms ``expand(e)`` can produce (saturates at cap+1)."""
    if e.is_Atom:
        return 1
    if isinstance(e, sympy.Add):
        return min(cap + 1, sum(_expansion_size(a, cap) for a in e.args))
    if isinstance(e, sympy.Mul):
        n = 1
        for a in e.args:
            n = min(cap + 1, n * _expansion_size(a, cap))
        return n
    if isinstance(e, sympy.Pow):
        t = _expansion_size(e.base, cap)
        ex = e.exp
        if ex.is_Integer and t > 1:
            k = abs(int(ex))
            if k > 512:
                return cap + 1
            return min(cap + 1, math.comb(k + t - 1, t - 1))
        return min(cap + 1, t * _expansion_size(ex, cap))
    # a function application is one term; its arguments expand on their own
    return 1 if all(_expansion_size(a, cap) <= cap for a in e.args) else cap + 1


def _simplify_ok(e: Expr) -> bool:
    """Stricter bounds for sympy's ``simplify`` (no internal budget): small and low powers."""
    try:
        if sympy.count_ops(e, visual=False) > MAX_SIMPLIFY_OPS:
            return False
    except Exception:  # noqa: BLE001
        return False
    for p in e.atoms(sympy.Pow):
        if p.exp.is_Integer and abs(int(p.exp)) > 16 and not p.base.is_Rational:
            return False
    return _expansion_size(e, MAX_SIMPLIFY_TERMS) <= MAX_SIMPLIFY_TERMS


def _small(e: Expr) -> bool:
    """Whether the bounded symbolic stage may work on ``e`` (size and expansion guards)."""
    try:
        if sympy.count_ops(e, visual=False) > MAX_SYMBOLIC_OPS:
            return False
    except Exception:  # noqa: BLE001 - count_ops on odd objects; treat as not small
        return False
    for p in e.atoms(sympy.Pow):
        ex = p.exp
        if ex.is_Integer and abs(int(ex)) > 64 and not p.base.is_Rational:
            return False
    return _expansion_size(e) <= MAX_EXPANDED_TERMS


def _n(e: Expr, dps: int) -> complex | None:
    if _log_magnitude(e) > MAX_LOG_MAGNITUDE:
        return None
    try:
        v = e.evalf(dps, maxn=dps * 2)
    except Exception:  # noqa: BLE001 - evalf failures mean "not a plain number"
        return None
    if not v.is_number or v.has(oo, -oo, S.ComplexInfinity, S.NaN):
        return None
    try:
        re_, im_ = v.as_real_imag()
        return sympy.Float(re_, dps), sympy.Float(im_, dps)  # type: ignore[return-value]
    except Exception:  # noqa: BLE001
        return None


def _numerically_close(a: Expr, b: Expr, dps: int, rel: float) -> bool | None:
    """True/False when both evaluate; None when they cannot be evaluated."""
    va, vb = _n(a, dps), _n(b, dps)
    if va is None or vb is None:
        return None
    (ar, ai), (br, bi) = va, vb  # type: ignore[misc]
    diff = abs(ar - br) + abs(ai - bi)
    scale = max(abs(ar) + abs(ai), abs(br) + abs(bi))
    if scale == 0:
        return diff == 0
    return bool(diff <= sympy.Float(rel, dps) * scale)


def _is_algebraic(e: Expr) -> bool:
    for node in sympy.preorder_traversal(e):
        if isinstance(node, (sympy.Function,)) or node in (sympy.pi, sympy.E):
            return False
        if isinstance(node, sympy.Pow) and not node.exp.is_Rational:
            return False
    return True


def _round_to(x: Expr, places: int) -> Expr:
    """``x`` rounded half away from zero to ``places`` decimals, exactly."""
    q = sympy.Rational(x) * Integer(10) ** places
    n = sympy.floor(abs(q) + sympy.Rational(1, 2))
    return sympy.Rational(n if q >= 0 else -n, 10**places)


#: Significant digits from which a decimal answer counts as a full-precision decimal.
FULL_PRECISION_DIGITS = 12


def _decimal_places(x: sympy.Rational) -> int | None:
    """Places of a terminating decimal (``0.125`` -> 3); None when it does not terminate."""
    q, k2, k5 = int(x.q), 0, 0
    while q % 2 == 0:
        q //= 2
        k2 += 1
    while q % 5 == 0:
        q //= 5
        k5 += 1
    return max(k2, k5) if q == 1 else None


def _full_precision_decimal(a: sympy.Rational, b: sympy.Rational) -> bool:
    """Whether ``a`` is the gold ``b`` written out to at least 12 significant digits.

    ``0.0833333333333333`` for ``\\frac{1}{12}`` (a float printed in full): accepted, in both
    modes, when ``a`` equals ``b`` rounded (half away from zero) or truncated at ``a``'s own
    places. ``0.333`` for ``\\frac13`` is not (3 digits: a rounded value, not the value).
    """
    k = _decimal_places(a)
    if k is None or k == 0 or k > 60 or _decimal_places(b) == k:
        return False
    digits = len(str(abs(int(a * Integer(10) ** k))).lstrip("0"))
    if digits < FULL_PRECISION_DIGITS:
        return False
    scale = Integer(10) ** k
    trunc = sympy.Rational(int(abs(b) * scale) * (1 if b >= 0 else -1), scale)
    return _round_to(b, k) == a or trunc == a


def expr_equal(a: Expr, b: Expr, ctx: _Ctx) -> Decision:
    """Exact equality of two sympy expressions (``a`` the response, ``b`` the gold).

    Rationals compare exactly; algebraic numbers are decided with minimal polynomials;
    transcendental constants by bounded simplification, then 100-digit agreement; expressions
    with free symbols by ``cancel`` (a decision procedure for rational functions) or bounded
    ``simplify``.
    """
    ctx.deadline.check()
    if a.has(*_UNDEFINED) or b.has(*_UNDEFINED):
        return Decision(False, "undefined", "numeric")
    if a == b:
        return Decision(True, "equal", "numeric")
    if a.is_Rational and b.is_Rational:
        if ctx.mode == "eval" and ctx.gold_decimals is not None and ctx.gold_decimals > 0:
            if _round_to(a, ctx.gold_decimals) == b:
                return Decision(True, "equal_rounded", "numeric")
        if _full_precision_decimal(a, b):
            return Decision(True, "equal_rounded", "numeric")
        return Decision(False, "not_equal", "numeric")
    if a.has(oo, -oo) or b.has(oo, -oo):
        return Decision(False, "not_equal", "numeric")
    if a.free_symbols - b.free_symbols:
        # a variable the gold does not have: (x^2 - x)/x - x + 1 is not the number 0, whatever
        # cancel says (docs/verifier.md, "Free variables")
        return Decision(False, "free_variables", "structural")
    free = a.free_symbols | b.free_symbols
    if not free:
        close = _numerically_close(a, b, NUMERIC_DPS, 1e-40)
        if close is False:
            if ctx.mode == "eval" and ctx.gold_decimals is not None and b.is_Rational:
                v = _n(a, 30)
                if (
                    v is not None
                    and v[1].is_zero  # sympy: Float(0.0) == 0 is False
                    and _round_to(sympy.Rational(v[0]), ctx.gold_decimals) == b
                ):  # type: ignore[index]
                    return Decision(True, "equal_rounded", "numeric")
            return Decision(False, "not_equal", "numeric")
        ctx.deadline.check()
        d = sympy.Add(a, -b)
        if d == 0:
            return Decision(True, "equal", "numeric")
        if d.is_Rational:
            return Decision(False, "not_equal", "numeric")
        if not (_small(a) and _small(b)):
            return Decision(False, "undecided", "symbolic")
        d2 = sympy.expand(d)
        if d2 == 0:
            return Decision(True, "equal", "symbolic")
        if d2.is_Rational:
            return Decision(False, "not_equal", "symbolic")
        ctx.deadline.check()
        if _is_algebraic(d):
            x = Symbol("_x")
            try:
                mp = sympy.minimal_polynomial(d, x)
            except Exception:  # noqa: BLE001 - unsupported forms fall through
                mp = None
            if mp is not None:
                return Decision(mp == x, "equal" if mp == x else "not_equal", "symbolic")
        ctx.deadline.check()
        try:
            z = d.is_zero
        except Exception:  # noqa: BLE001
            z = None
        if z is True:
            return Decision(True, "equal", "symbolic")
        if z is False:
            return Decision(False, "not_equal", "symbolic")
        ctx.deadline.check()
        s = sympy.simplify(d) if _simplify_ok(d) else d
        if s == 0:
            return Decision(True, "equal", "symbolic")
        if s.is_Rational:
            return Decision(False, "not_equal", "symbolic")
        ctx.deadline.check()
        close = _numerically_close(a, b, 120, 1e-100)
        if close:
            return Decision(True, "equal_numerically", "numeric")
        return Decision(False, "not_equal", "numeric")
    # free symbols
    if not (_small(a) and _small(b)):
        return Decision(False, "undecided", "symbolic")
    d = sympy.Add(a, -b)
    if d == 0:
        return Decision(True, "equal", "symbolic")
    ctx.deadline.check()
    try:
        if d.is_rational_function(*free):
            c = sympy.cancel(sympy.together(d))
            return Decision(c == 0, "equal" if c == 0 else "not_equal", "symbolic")
    except Exception:  # noqa: BLE001 - fall through to simplify
        pass
    ctx.deadline.check()
    # screen at deterministic points before paying for simplify
    pts = [Integer(3) / 7, Integer(11) / 5, Integer(-5) / 3]
    screened = True
    for p in pts:
        subs = {s: p + k for k, s in enumerate(sorted(free, key=str))}
        close = _numerically_close(a.subs(subs), b.subs(subs), 30, 1e-20)
        if close is False:
            return Decision(False, "not_equal", "symbolic")
        screened = screened and close is True
    ctx.deadline.check()
    if not (screened and _simplify_ok(d)):
        return Decision(False, "undecided", "symbolic")
    s = sympy.simplify(d)
    if s == 0:
        return Decision(True, "equal", "symbolic")
    return Decision(False, "undecided", "symbolic")


# ---------------------------------------------------------------- structures


def _has_label_relation(v: Any) -> bool:
    """Whether a value holds a relation whose first side is a label (``\\frac{NO}{BO} = ...``)."""
    if isinstance(v, Rel):
        return isinstance(v.sides[0], Expr) and _is_label(v.sides[0])
    if isinstance(v, (Seq, SetV, Answers)):
        return any(_has_label_relation(x) for x in v.items)
    return False


def _assignment_value(r: Rel, approx: bool = False) -> Any | None:
    # approx (``x \\approx 6`` read as ``x = 6``) is never enabled: "approximately" is a
    # hedge (tests/verifiers/test_verifier_adversarial.py), in both modes
    """The values an equation chain asserts for its answer; None when it is not an assignment.

    ``x = 3`` / ``3 = x`` / ``x = 12/4 = 3`` / ``f(x) = 2x`` -> the right-hand values;
    ``(x, y) = (4, 5)`` -> ``(4, 5)``; a chain of constants ``180 + 24 = 204`` -> every side (each
    must then equal the gold, so a false chain such as ``5 = 6`` never verifies).
    """
    ok_ops = ("=", "~=") if approx else ("=",)
    if not r.ops or any(op not in ok_ops for op in r.ops):
        return None
    sides = list(r.sides)

    def is_head(v: Any) -> bool:
        return _is_label(v) or (
            isinstance(v, (Seq, Ratio))
            and (not isinstance(v, Seq) or v.open == "(")
            and all(_is_label(x) for x in v.items)
        )

    if len(sides) == 2 and is_head(sides[-1]) and not is_head(sides[0]):
        sides.reverse()
    if is_head(sides[0]):
        vals = sides[1:]
        if len(vals) > 1 and any(is_head(v) for v in vals):
            return None
        return vals
    if all(isinstance(v, Expr) and not v.free_symbols for v in sides):
        return sides
    return None


def _is_label(v: Any) -> bool:
    """A name an answer can be assigned to: ``x``, ``x_1``, ``f(x)``, ``AB`` (a product of
    symbols, as in the labelled gold ``AB = 4, CD = 5``)."""
    if isinstance(v, Symbol):
        return True
    if isinstance(v, sympy.Abs):  # |AB| = 1
        return _is_label(v.args[0])

    def point(s: Any) -> bool:  # a geometric point: one upper-case letter
        return isinstance(s, Symbol) and len(s.name) == 1 and s.name.isupper()

    return (
        isinstance(v, sympy.Mul)
        and len(v.args) <= 4
        and all(
            point(a) or (isinstance(a, sympy.Pow) and point(a.base) and a.exp == -1) for a in v.args
        )
    )  # AB = 4, \frac{NO}{BO} = \frac{1}{\sqrt6}; never xy = 6 (an equation)


def _linear_bound(lhs: Expr, op: str, rhs: Expr) -> tuple[Symbol, str, Expr] | None:
    """``-x > -1`` -> ``(x, "<", 1)``: a relation linear in one symbol, solved for it."""
    if not (isinstance(lhs, Expr) and isinstance(rhs, Expr)):
        return None
    d = sympy.Add(lhs, -rhs)
    free = d.free_symbols
    if len(free) != 1:
        return None
    (x,) = free
    if not (_small(d)):
        return None
    try:
        a = sympy.diff(d, x)
    except Exception:  # noqa: BLE001
        return None
    if not (a.is_number and a.is_real and a != 0):
        return None
    rest = sympy.expand(sympy.Add(d, -a * x))
    if rest.free_symbols:
        return None
    bound = sympy.Mul(-1, rest, sympy.Pow(a, -1))
    flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "!=": "!="}
    return x, (op if a > 0 else flip[op]), bound  # type: ignore[return-value]


def _ineq_interval(r: Rel) -> Seq | None:
    """A one-variable inequality as an interval: ``x \\geq 5`` -> ``[5, oo)``."""
    ops = r.ops
    if not ops or any(op not in ("<", "<=", ">", ">=") for op in ops):
        return None
    sides = list(r.sides)
    if any(o.startswith(">") for o in ops):
        if not all(o.startswith(">") for o in ops):
            return None
        sides.reverse()
        ops = tuple(o.replace(">", "<") for o in reversed(ops))
    if (
        len(sides) == 3
        and isinstance(sides[1], sympy.Abs)
        and isinstance(sides[1].args[0], Symbol)
        and all(isinstance(s, Expr) and s.is_number and s.is_real for s in (sides[0], sides[2]))
        and sides[0] >= 0
    ):
        # a <= |z| <= b: [-b, -a] U [a, b]
        lo, hi = sides[0], sides[2]
        o, c = "(" if ops[0] == "<" else "[", ")" if ops[1] == "<" else "]"
        flip = {"(": ")", "[": "]", ")": "(", "]": "["}
        return Union((Seq(flip[c], flip[o], (-hi, -lo)), Seq(o, c, (lo, hi))))  # type: ignore[return-value]
    syms = [k for k, s in enumerate(sides) if isinstance(s, Symbol)]
    if len(sides) == 2 and not syms and all(isinstance(s, Expr) for s in sides):
        lb = _linear_bound(sides[0], ops[0], sides[1])
        if lb is None:
            return None
        sym, op, bound = lb
        return _ineq_interval(Rel((op,), (sym, bound)))
    if len(syms) != 1 or not all(isinstance(s, Expr) for s in sides):
        return None
    k = syms[0]
    if len(sides) == 2:
        if k == 0:
            return Seq("(", ")" if ops[0] == "<" else "]", (-oo, sides[1]))
        return Seq("(" if ops[0] == "<" else "[", ")", (sides[0], oo))
    if len(sides) == 3 and k == 1:
        return Seq(
            "(" if ops[0] == "<" else "[", ")" if ops[1] == "<" else "]", (sides[0], sides[2])
        )
    return None


def _items_unordered(ra: tuple[Any, ...], ga: tuple[Any, ...], ctx: _Ctx, dedupe: bool) -> bool:
    def uniq(xs: tuple[Any, ...]) -> list[Any]:
        out: list[Any] = []
        for x in xs:
            if not any(_equal(x, y, ctx).equal for y in out):
                out.append(x)
        return out

    rl, gl = (uniq(ra), uniq(ga)) if dedupe else (list(ra), list(ga))
    if len(rl) != len(gl):
        return False
    used = [False] * len(gl)
    for x in rl:
        for j, y in enumerate(gl):
            if not used[j] and _equal(x, y, ctx).equal:
                used[j] = True
                break
        else:
            return False
    return True


def _interval_of(v: Any) -> Any:
    if isinstance(v, Rel):
        iv = _ineq_interval(v)
        if iv is not None:
            return iv
        if len(v.ops) == 1 and v.ops[0] == "in" and isinstance(v.sides[0], Symbol):
            return v.sides[1]
    return v


def _pairwise_equal(pairs: Iterable[tuple[Any, Any]], ctx: _Ctx) -> Decision:
    """Equal when every ``(response, gold)`` pair is (in order); else the first pair's reason."""
    for x, y in pairs:
        d = _equal(x, y, ctx)
        if not d.equal:
            return Decision(False, d.reason, "structural")
    return Decision(True, "equal", "structural")


def _equal(r: Any, g: Any, ctx: _Ctx) -> Decision:
    """Structural equality of a response value ``r`` and a gold value ``g``."""
    ctx.deadline.check()
    if isinstance(r, Lit):
        r = r.value
    if isinstance(g, Lit):
        g = g.value
    if isinstance(r, Quant) or isinstance(g, Quant):
        return _quant_equal(r, g, ctx)
    if isinstance(g, Ratio) or isinstance(r, Ratio):
        if not (isinstance(g, Ratio) and isinstance(r, Ratio)) or len(r.items) != len(g.items):
            if isinstance(g, Rel) or isinstance(r, Rel):
                pass  # a labelled ratio V_1:V_2 = 11:21 is read below
            else:
                return Decision(False, "not_equal", "structural")
        else:
            for x, y in zip(r.items, g.items):
                d = _equal(x, y, ctx)
                if not d.equal:
                    return Decision(False, d.reason, "structural")
            return Decision(True, "equal", "structural")
    # alternatives of inequalities against a union: x > 5 or x < 2 = (-oo, 2) U (5, oo)
    if isinstance(g, Union) and isinstance(r, Answers):
        r = Union(tuple(_interval_of(x) for x in r.items))
    if isinstance(r, Union) and isinstance(g, Answers):
        g = Union(tuple(_interval_of(x) for x in g.items))
    # a bare list of answers against a single gold value
    if isinstance(r, Answers) and not isinstance(g, (Answers, SetV)):
        if len(r.items) > 1:
            return Decision(False, "multiple_answers", "structural")
    if isinstance(g, Answers) or (isinstance(g, SetV) and isinstance(r, Answers)):
        gi = g.items
        ri = r.items if isinstance(r, (Answers, SetV)) else (r,)
        ok = _items_unordered(ri, gi, ctx, dedupe=True)
        return Decision(ok, "equal" if ok else "not_equal", "structural")
    if isinstance(g, SetV):
        if isinstance(r, SetV):
            ok = _items_unordered(r.items, g.items, ctx, dedupe=True)
            return Decision(ok, "equal" if ok else "not_equal", "structural")
        return Decision(False, "not_equal", "structural")
    if isinstance(g, Rel):
        gv = _assignment_value(g)
        if isinstance(r, Rel):
            rv = _assignment_value(r)
            if gv is not None and rv is not None:
                rs = r.sides[0] if not isinstance(r.sides[-1], Symbol) else r.sides[-1]
                gs = g.sides[0] if not isinstance(g.sides[-1], Symbol) else g.sides[-1]
                if rs != gs:
                    return Decision(False, "not_equal", "structural")
                return _all_equal(rv, gv[-1:], ctx)
            gi, ri = _interval_of(g), _interval_of(r)
            if gi is not g and ri is not r:  # x \in [-2, 7] = -2 \le x \le 7
                return _equal(ri, gi, ctx)
            return _relation_equal(r, g, ctx)
        if gv is not None and len(gv) == 1:
            return _equal(r, gv[0], ctx)
        gi = _interval_of(g)
        if gi is not g:
            return _equal(r, gi, ctx)
        return Decision(False, "not_equal", "structural")
    if isinstance(r, Rel):
        rv = _assignment_value(r)
        if rv is not None:
            return _all_equal(rv, (g,), ctx)
        ri = _interval_of(r)
        if ri is not r:
            return _equal(ri, g, ctx)
        return Decision(False, "not_equal", "structural")
    if isinstance(g, Seq):
        if isinstance(r, Matrix):
            r = _matrix_as_seq(r, g)
        if not isinstance(r, Seq) or (r.open, r.close) != (g.open, g.close):
            return Decision(False, "not_equal", "structural")
        if len(r.items) != len(g.items):
            return Decision(False, "not_equal", "structural")
        return _pairwise_equal(zip(r.items, g.items), ctx)
    if isinstance(g, Union):
        if isinstance(r, Answers):
            r = Union(r.items)
        if not isinstance(r, Union):
            return Decision(False, "not_equal", "structural")
        ok = _items_unordered(r.parts, g.parts, ctx, dedupe=False)
        return Decision(ok, "equal" if ok else "not_equal", "structural")
    if isinstance(g, Matrix):
        if isinstance(r, Seq):
            g2 = _matrix_as_seq(g, r)
            if isinstance(g2, Seq):
                return _equal(r, g2, ctx)
        if not isinstance(r, Matrix):
            return Decision(False, "not_equal", "structural")
        if len(r.rows) != len(g.rows) or len(r.rows[0]) != len(g.rows[0]):
            return Decision(False, "not_equal", "structural")
        return _pairwise_equal(
            ((x, y) for rr, gr in zip(r.rows, g.rows) for x, y in zip(rr, gr)), ctx
        )
    if isinstance(g, Text):
        if isinstance(r, Text):
            ok = r.text == g.text or _same_product(r.text, g.text)
            return Decision(ok, "equal" if ok else "not_equal", "string")
        return Decision(False, "not_equal", "string")
    if isinstance(g, Expr):
        if not isinstance(r, Expr):
            return Decision(False, "not_equal", "structural")
        return expr_equal(r, g, ctx)
    return Decision(False, "not_equal", "structural")


#: Short words that are answers, never products of one-letter variables.
_WORD_ANSWERS = frozenset(
    "yes no odd even all none true false both neither never always zero one two six ten some any"
    " not and but nor yet top bet".split()
)


def _same_product(a: str, b: str) -> bool:
    """``ba`` = ``ab``: two short runs of letters that are products of the same variables."""
    if not (a.isalpha() and b.isalpha() and a.isascii() and b.isascii()):
        return False
    if len(a) > 3 or len(b) > 3 or a in _WORD_ANSWERS or b in _WORD_ANSWERS:
        return False
    return sorted(a) == sorted(b)


def _has_pi(v: Any) -> bool:
    return any(e.has(sympy.pi) for e in iter_exprs(v))


def _quant_equal(r: Any, g: Any, ctx: _Ctx) -> Decision:
    """Values with units: both units given must be the same unit; one may be left out.

    A degree sign on a value with ``\\pi`` in it (``\\frac{\\pi}{2}^\\circ``) is never equal
    to anything (degrees are not converted to radians).
    """
    ru = r.unit if isinstance(r, Quant) else None
    gu = g.unit if isinstance(g, Quant) else None
    rv = r.value if isinstance(r, Quant) else r
    gv = g.value if isinstance(g, Quant) else g
    if ru is not None and gu is not None and ru != gu:
        return Decision(False, "not_equal", "structural")
    if "degree" in (ru, gu) and (_has_pi(rv) or _has_pi(gv)):
        return Decision(False, "not_equal", "structural")
    return _equal(rv, gv, ctx)


def _all_equal(vals: Any, golds: Any, ctx: _Ctx) -> Decision:
    """Every value of an assignment chain must equal the gold."""
    g = golds[0]
    last = None
    for v in vals:
        last = _equal(v, g, ctx)
        if not last.equal:
            return last
    assert last is not None
    return last


def _matrix_as_seq(m: Matrix, like: Seq) -> Any:
    """A one-column or one-row matrix read as the vector ``(a, b, ...)``."""
    if like.open != "(" or like.close != ")":
        return m
    if len(m.rows[0]) == 1:
        return Seq("(", ")", tuple(r[0] for r in m.rows))
    if len(m.rows) == 1:
        return Seq("(", ")", m.rows[0])
    return m


def _relation_equal(r: Rel, g: Rel, ctx: _Ctx) -> Decision:
    """Two equations are equal when (lhs - rhs) agree up to a non-zero constant factor."""
    if len(r.ops) != 1 or len(g.ops) != 1 or r.ops[0] != "=" or g.ops[0] != "=":
        if r.ops == g.ops and len(r.sides) == len(g.sides):
            for x, y in zip(r.sides, g.sides):
                if not _equal(x, y, ctx).equal:
                    return Decision(False, "not_equal", "structural")
            return Decision(True, "equal", "structural")
        return Decision(False, "not_equal", "structural")
    if not all(isinstance(x, Expr) for x in r.sides + g.sides):
        return Decision(False, "not_equal", "structural")
    dr = sympy.Add(r.sides[0], -r.sides[1])
    dg = sympy.Add(g.sides[0], -g.sides[1])
    if dg == 0 or dr == 0 or not dr.free_symbols or not dg.free_symbols:
        return Decision(False, "not_equal", "structural")
    if not (_small(dr) and _small(dg)):
        return Decision(False, "undecided", "symbolic")
    ctx.deadline.check()
    q = sympy.cancel(sympy.together(dr / dg))
    ok = bool(q.is_number and q != 0 and not q.has(*_UNDEFINED))
    return Decision(ok, "equal" if ok else "not_equal", "symbolic")


# ---------------------------------------------------------------- the answer policy


def _final_value(v: Any) -> Any:
    """The value an answer states last: ``x = 68`` -> 68; ``23 + 45 = 68`` -> 68;
    ``68 = x`` -> 68 (a chain is read by its last link); anything else is itself."""
    if isinstance(v, Rel) and v.ops and all(op == "=" for op in v.ops):
        vals = _assignment_value(plain(v))
        if vals is not None:
            sides = list(v.sides)
            head_last = len(sides) == 2 and _is_label(plain(sides[-1]))
            return sides[0] if head_last else sides[-1]
    return v


def _written_as_literal(v: Any) -> bool:
    v = _final_value(v)
    if isinstance(v, Quant):
        v = v.value
    return isinstance(v, Lit) or (isinstance(v, Matrix) and v.literal)


def _items_of(v: Any) -> tuple[Any, ...] | None:
    v = _final_value(v)
    if isinstance(v, Quant):
        v = v.value
    if isinstance(v, (Seq, SetV, Answers, Ratio)):
        return v.items
    return None


def _unevaluated(answer: Any, gold: Any) -> bool:
    """Whether a plain-number gold is answered by something that still needs arithmetic.

    Read on the parsed structures: a gold written as a number literal (:class:`Lit`) requires
    an answer written as one; tuples, sets, lists and ratios of literals require literals item
    by item, whatever wraps them (``(x, y) = (3, 23+45)`` for ``(3, 68)`` is unevaluated).
    """
    if _written_as_literal(gold):
        return not _written_as_literal(answer)
    gi = _items_of(gold)
    if gi is None or not all(_written_as_literal(x) for x in gi):
        return False
    ai = _items_of(answer)
    if ai is None:
        return not _written_as_literal(answer)
    return not all(_written_as_literal(x) for x in ai)


# ---------------------------------------------------------------- entry point

_BASED = re.compile(r"^([0-9A-Za-z]+)_\{?(\d{1,2})\}?$")
_CHOICE_VALUE = re.compile(r"^\(([A-E])\)(.+)$")
_CHOICE = re.compile(r"^\(?\s*([A-Ea-e])\s*\)?$")
_DECIMAL = re.compile(r"^-?\d*\.(\d+)$")
#: a decimal comma: 1000,99 and 0,111, never a thousands group (1,001 and 58,500 are numbers)
_DEC_COMMA = re.compile(r"-?(?:0,\d+|\d+,(?:\d{1,2}|\d{4,})|\d{4,},\d+)")


def _valid_in_base(digits: str, base: int) -> bool:
    """Whether ``digits`` is a numeral in ``base`` (2..36): ``1011_2`` yes, ``x_1``/``a_{10}`` no."""
    if not 2 <= base <= 36 or not digits[0].isdigit():
        return False
    try:
        int(digits, base)
    except ValueError:
        return False
    return True


def _plain_words(key: str) -> str | None:
    """Lower-cased letters of a key made only of words (``\\text{}`` wrappers removed)."""
    k = re.sub(r"\\text\{([^{}]*)\}", r"\1", key)
    if not re.fullmatch(r"[A-Za-z][A-Za-z ]*", k):
        return None
    return k.replace(" ", "").lower()


def _choice(key: str) -> str | None:
    k = re.sub(r"\\text\{([^{}]*)\}", r"\1", key)
    m = _CHOICE.match(k)
    return m.group(1).upper() if m else None


def _unbox(s: str) -> str:
    """``\\boxed{x}`` (the whole answer) -> ``x``."""
    for _ in range(3):
        m = re.fullmatch(r"\s*\\(?:boxed|fbox)\s*\{(.*)\}\s*", s, re.S)
        if not m:
            break
        s = m.group(1)
    return s


def _choice_value(rest: str, deadline: Deadline) -> bool:
    """Whether the text after a choice letter is one plain value (``(B) 12``), not more choices."""
    try:
        v = plain(parse(rest, deadline))
    except ParseError:
        return False
    return isinstance(v, Expr) and not v.free_symbols


def compare_answers(
    answer: str,
    gold: str,
    *,
    mode: str,
    deadline: Deadline,
    policy: str = "closed_form",
    short_groups: bool = True,
) -> Decision:
    """Compares one extracted answer with a gold answer string (both raw text).

    With ``policy="literal"``, a gold that is written as a plain number literal is matched only
    by an answer written as one: an equal value that still needs arithmetic (``23 + 45`` for
    ``68``) is ``unevaluated``. ``"closed_form"`` accepts any exact closed form.

    Raises:
        UnsafeInput, TooLarge, Timeout: handled by the caller.
    """
    check_input(answer)
    check_input(gold)
    d = _compare(answer, gold, mode=mode, deadline=deadline, policy=policy, short_groups=True)
    if not d.equal and is_ambiguous_grouping(answer):
        # "1,100" is 1100 against a number gold, the list 1, 100 against a list gold
        d2 = _compare(answer, gold, mode=mode, deadline=deadline, policy=policy, short_groups=False)
        if d2.equal:
            return d2
    return d


def _compare(
    answer: str, gold: str, *, mode: str, deadline: Deadline, policy: str, short_groups: bool
) -> Decision:
    answer, gold = _unbox(answer), _unbox(gold)
    na, ng = normalize(answer, short_groups=short_groups), normalize(gold)
    if not na:
        return Decision(False, "empty_answer", "extract")
    ka, kg = comparison_key(na), comparison_key(ng)
    if ka == kg:
        return Decision(True, "equal", "string")
    # a decimal comma: 1000,99 = 1000.99, 0,111 = 0.111 (the same digits; a three-digit group
    # after a non-zero lead is a thousands separator, read by normalize)
    ra, rg = answer.strip(), gold.strip()
    if _DEC_COMMA.fullmatch(ra) and ra.replace(",", ".") == rg:
        return Decision(True, "equal", "string")
    if _DEC_COMMA.fullmatch(rg) and rg.replace(",", ".") == ra:
        return Decision(True, "equal", "string")
    # a word gold: \text{Evelyn} vs evelyn (case and \text wrappers do not matter)
    if "\\text{" in kg:
        pg_, pa_ = _plain_words(kg), _plain_words(ka)
        if pg_ is not None and pg_ == pa_:
            return Decision(True, "equal", "string")
    # multiple choice with its value: "(B) 12" is choice B, whose value is 12
    cg = _choice(kg)
    mc = _CHOICE_VALUE.match(re.sub(r"\\text\{([^{}]*)\}", r"\1", ka))
    if mc:
        if not _choice_value(mc.group(2), deadline):
            # "(B) or (C)", "(B)(C)(D)": more than one choice, or a choice with words
            return Decision(False, "multiple_answers" if cg else "unparseable", "string")
        if cg is None:
            return _compare(
                mc.group(2),
                gold,
                mode=mode,
                deadline=deadline,
                policy=policy,
                short_groups=short_groups,
            )
        ka = mc.group(1)
    # multiple choice: (C) vs C vs \text{(C)}
    ca = _choice(ka)
    if cg is not None and cg.isupper() and re.search(r"[A-E]", kg):
        ok = ca == cg
        return Decision(ok, "equal" if ok else "not_equal", "string")
    # base-n gold: the same digits, with or without the subscript
    mb = _BASED.match(kg)
    if mb and _valid_in_base(mb.group(1), int(mb.group(2))):
        digits = mb.group(1)
        ma = _BASED.match(ka)
        ok = (ma.group(1) if ma else ka) == digits and (not ma or ma.group(2) == mb.group(2))
        return Decision(ok, "equal" if ok else "not_equal", "string")
    deadline.check()
    ctx = _Ctx(deadline=deadline, mode=mode)
    na2, pa = split_percent(na)
    ng2, pg = split_percent(ng)
    md = _DECIMAL.match(comparison_key(ng2))
    if md and mode == "eval":
        ctx.gold_decimals = len(md.group(1))
    try:
        graw, gsyms, _ = parse_written(ng2, deadline)
    except ParseError:
        # an unparseable gold can only match as text
        ok = ka.lower() == kg.lower() and bool(re.fullmatch(r"[A-Za-z ]+", ka))
        return Decision(ok, "equal" if ok else "gold_unparseable", "string")
    deadline.check()
    try:
        araw, asyms, alabels = parse_written(na2, deadline)
    except Undefined:
        return Decision(False, "undefined", "numeric")
    except ParseError:
        return Decision(False, "unparseable", "string")
    deadline.check()
    # i is the imaginary unit only when the gold is complex: read both again with i = I
    if is_mathy_i(graw):
        try:
            graw, gsyms, _ = parse_written(ng2, deadline, imaginary=True)
        except ParseError:
            return Decision(False, "gold_unparseable", "string")
        try:
            araw, asyms, alabels = parse_written(na2, deadline, imaginary=True)
        except ParseError:
            return Decision(False, "unparseable", "string")
        deadline.check()
    av, gv = plain(araw), plain(graw)
    if pa or pg:
        if isinstance(av, Quant) or isinstance(gv, Quant):
            return Decision(False, "not_equal", "structural")
        if not (isinstance(av, Expr) and isinstance(gv, Expr)):
            return Decision(False, "not_equal", "structural")
        hundred = Integer(100)
        cands = [(av, gv)]
        if pa and not pg:
            cands.append((av / hundred, gv))
        elif pg and not pa:
            cands.append((av, gv / hundred))
        last = Decision(False, "not_equal", "numeric")
        for x, y in cands:
            last = expr_equal(x, y, ctx)
            if last.equal:
                break
    else:
        last = _equal(av, gv, ctx)
    if last.equal and _cancelled_variables(araw, asyms, gsyms, alabels):
        return Decision(False, "free_variables", "structural")
    if policy == "literal" and last.equal and _unevaluated(araw, graw):
        return Decision(False, "unevaluated", "structural")
    return last


def _cancelled_variables(
    answer: Any,
    written: frozenset[Symbol],
    gold_written: frozenset[Symbol],
    label_written: frozenset[Symbol] = frozenset(),
) -> bool:
    """Whether the answer names a variable the gold does not have and sympy cancelled it.

    ``x - x + 5``, ``0 \\cdot y`` and ``not 0`` (n*o*t*0) are built as ``5``, ``0``, ``0``:
    the variable is gone from the value but not from what was written. Symbols that survive
    in the structure (labels ``x = 3``, the variable of ``x \\geq 5``) were compared already,
    and so were the letters of a label that cancel in it (``\\frac{NO}{BO} = ...`` is N/B).
    """
    extra = written - gold_written
    if extra and _has_label_relation(plain(answer)):
        extra = extra - label_written
    if not extra:
        return False
    surviving: set[Any] = set()
    for e in iter_exprs(answer):
        surviving |= e.free_symbols
    return bool(extra - surviving)


def parses(answer: str) -> bool:
    """Whether an answer normalises and parses (used by tests and the benchmark)."""
    try:
        check_input(answer)
        parse(split_percent(normalize(answer))[0])
        return True
    except (ParseError, TooLarge, ValueError):
        return False


_ = (Text, iter_exprs, TooLarge)
