"""Units: which words after a value are a unit, and their canonical names.

A unit is a typed attribute of a parsed answer (:class:`rlsp_verifiers.parse.Quant`), never text
that is stripped. :func:`unit_of` reads a unit phrase (``cm``, ``\\text{ inches}^2``,
``square feet``, ``miles per hour``, a single count noun such as ``apples``) or says it is not one
(``is not the answer``, ``squared``, ``thousand``, ``at least``, ``plus one``: words that change
or hedge the value are never units).
"""

from __future__ import annotations

import re

__all__ = ["NOT_UNITS", "UNITS", "unit_of"]

_GROUPS: dict[str, tuple[str, ...]] = {
    "mm": ("mm", "millimeter", "millimetre"),
    "cm": ("cm", "centimeter", "centimetre"),
    "m": ("m", "meter", "metre"),
    "km": ("km", "kilometer", "kilometre"),
    "inch": ("in", "inch", "inche"),
    "foot": ("ft", "foot", "feet"),
    "yard": ("yd", "yard"),
    "mile": ("mi", "mile"),
    "mg": ("mg", "milligram"),
    "g": ("g", "gram", "gm"),
    "kg": ("kg", "kilogram", "kilo"),
    "lb": ("lb", "lbs", "pound"),
    "oz": ("oz", "ounce"),
    "ton": ("ton", "tonne"),
    "second": ("s", "sec", "second"),
    "minute": ("min", "minute"),
    "hour": ("h", "hr", "hrs", "hour"),
    "day": ("day",),
    "week": ("week", "wk"),
    "month": ("month",),
    "year": ("year", "yr", "yrs"),
    "dollar": ("dollar", "usd", "buck"),
    "cent": ("cent",),
    "euro": ("euro",),
    "liter": ("l", "liter", "litre"),
    "ml": ("ml", "milliliter", "millilitre"),
    "gallon": ("gal", "gallon"),
    "quart": ("qt", "quart"),
    "pint": ("pt", "pint"),
    "cup": ("cup",),
    "degree": ("degree", "deg"),
    "radian": ("rad", "radian"),
    "unit": ("unit",),
    "mph": ("mph",),
    "kmh": ("kmh", "kph"),
    "calorie": ("cal", "calorie", "kcal"),
    "watt": ("watt",),
    "volt": ("volt",),
    "newton": ("newton",),
    "joule": ("joule",),
    "kelvin": ("kelvin",),
    "celsius": ("celsius",),
    "fahrenheit": ("fahrenheit",),
    "pascal": ("pa", "pascal"),
    "hertz": ("hz", "hertz"),
}
#: every known unit spelling (lower case, singular) -> its canonical name
UNITS: dict[str, str] = {w: c for c, ws in _GROUPS.items() for w in ws}

#: Words that are never a unit: they change, hedge or qualify the value before them.
NOT_UNITS = frozenset(
    """
    is are was be not no nor or and but if then else so thus hence therefore
    wrong incorrect false true right correct answer answers solution maybe perhaps probably
    possibly approximately approx about around roughly nearly almost close exactly only just
    at least most more less fewer greater smaller larger bigger than over under above below
    plus minus times divided by of per each total sum product difference quotient
    squared cubed square cubic root roots power powers th st nd rd
    zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty
    fifty sixty seventy eighty ninety hundred hundreds thousand thousands million millions
    billion billions trillion dozen dozens half halves twice double triple quarter third
    percent percentage pct a an the it this that these those which what or
    none all any some every infinite infinitely many undefined impossible unknown
    negative tenth tenths hundredth hundredths thousandth thousandths millionth millionths
    halfs thirds fourths fifths sixths sevenths eighths ninths score grand crore lakh gross
    k bn mn mio mil thou factorial factorials inverse reciprocal reciprocals log logs exp
    negated doubled tripled halved squares cubes mod modulo repeating recurring choose
    to from with without except excluding including exclusive inclusive
    x y z n k
    never cannot cant isnt also yes yet were final might must should could would
    """.split()
)

_WORD = re.compile(r"[a-z]+")


def _singular(w: str) -> str:
    if w in UNITS:
        return w
    for suf in ("es", "s"):
        if w.endswith(suf) and w[: -len(suf)] in UNITS:
            return w[: -len(suf)]
    return w


def _one(w: str) -> str | None:
    """A single known unit word's canonical name."""
    w = _singular(w.lower())
    return UNITS.get(w)


def unit_of(text: str, power: int = 1) -> str | None:
    """The canonical unit a phrase names (``None``: not a unit).

    Args:
        text: the phrase (the content of a ``\\text{}``, or a bare word), any case and spacing.
        power: a power written after it (``\\text{ cm}^2``).

    Example:
        >>> unit_of(" inches", 2), unit_of("in", 2), unit_of("square feet")
        ('inch^2', 'inch^2', 'foot^2')
        >>> unit_of("apples"), unit_of("is not the answer"), unit_of("squared")
        ('word:apple', None, None)
    """
    t = text.strip()
    if re.fullmatch(r"[ap]\.?\s?m\.?", t, re.I):  # 9 a.m., 4 pm
        return t[0].lower() + "m" if power == 1 else None
    t = t.strip(".").strip()
    if not t or len(t) > 40 or not re.fullmatch(r"[A-Za-z][A-Za-z ./]*", t):
        return None
    words = t.replace("/", " per ").replace(".", " ").split()
    low = [w.lower() for w in words]
    if low[0] in ("sq", "square") and len(low) > 1:
        power *= 2
        low = low[1:]
    elif low[0] == "cubic" and len(low) > 1:
        power *= 3
        low = low[1:]
    if len(low) == 3 and low[1] == "per":
        a, b = _one(low[0]), _one(low[2])
        if a is None or b is None:
            return None
        name = f"{a}/{b}"
    elif len(low) == 1 and _one(low[0]) is not None:
        name = _one(low[0])  # type: ignore[assignment]
    elif 1 <= len(low) <= 3:
        # count nouns ("apples", "children tickets"); never a value-changing or hedging word
        nouns = []
        for w in low:
            s = w[:-1] if w.endswith("s") and len(w) > 3 else w
            if w in NOT_UNITS or s in NOT_UNITS or len(w) < 2 or len(w) > 20:
                return None
            if w.endswith(("ths", "th")) and len(w) > 4:  # sixteenths, billionth: fractions
                return None
            nouns.append(s)
        name = "word:" + " ".join(nouns)
    else:
        return None
    if power < 1 or power > 3:
        return None
    return name if power == 1 else f"{name}^{power}"
