"""Builds the labelled verifier corpus ``benchmarks/data/verifier_corpus.jsonl`` from real golds.

Every case is ``{id, category, kind, mode, response, gold, expected, note}``: ``expected`` is the
label by construction (a value-preserving rewrite of a gold is a positive; a value-changing one,
or a reward hack, is a negative); no verifier is consulted. Deterministic (seeded).

    RLSP_DATA_DIR=../shared/data python benchmarks/verifier_corpus_build.py

Categories (positives ``pos_*``, negatives ``neg_*``, adversarial ``adv_*``, eval mode ``eval_*``)
are listed in ``docs/verifier.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
from collections import Counter
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "data" / "verifier_corpus.jsonl"
PER_CATEGORY = 60

INT_RE = re.compile(r"^-?\d+$")
FRAC_RE = re.compile(r"^(-?)\\[dt]?frac\{(\d+)\}\{(\d+)\}$")
KSQRT_RE = re.compile(r"^(\d*)\\sqrt\{(\d+)\}$")
TUPLE_RE = re.compile(r"^\\left\(\s*(.+?)\s*\\right\)$|^\((.+)\)$")


def _rows(data: Path, rel: str) -> list[dict]:
    with open(data / rel, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def _last_box(s: str) -> str | None:
    k = s.rfind("\\boxed")
    if k < 0:
        return None
    i = s.find("{", k)
    depth = 0
    for j in range(i, len(s)):
        if s[j] == "{":
            depth += 1
        elif s[j] == "}":
            depth -= 1
            if depth == 0:
                return s[i + 1 : j]
    return None


def load_golds(data: Path) -> dict[str, list[dict]]:
    """Gold answers by source, with the problem text (for unit/percent/degree hints)."""
    out: dict[str, list[dict]] = {}
    out["math500"] = [
        {"gold": r["answer"], "problem": r["problem"]} for r in _rows(data, "math500/test.jsonl")
    ]
    out["gsm8k"] = [
        {"gold": r["answer"].split("####")[-1].strip(), "problem": r["question"]}
        for r in _rows(data, "gsm8k/test.jsonl")
    ]
    out["aime24"] = [
        {"gold": str(r["answer"]), "problem": r["problem"]}
        for r in _rows(data, "aime24/test.jsonl")
    ]
    out["amc23"] = [
        {"gold": str(r["answer"]), "problem": r["problem"]} for r in _rows(data, "amc23/test.jsonl")
    ]
    out["minerva"] = [
        {"gold": b, "problem": r["problem"]}
        for r in _rows(data, "minerva_math/test.jsonl")
        if (b := _last_box(r["solution"])) is not None
    ]
    out["olympiad"] = [
        {"gold": ", ".join(r["final_answer"]), "problem": r["question"]}
        for r in _rows(data, "olympiadbench/test.jsonl")
    ]
    math_rows = [r for r in _rows(data, "math/test.jsonl")]
    out["math"] = [
        {"gold": b, "problem": r["problem"]}
        for r in math_rows
        if (b := _last_box(r["solution"])) is not None
    ]
    return out


def box(s: str, lead: str = "So the final answer is ") -> str:
    return f"{lead}$\\boxed{{{s}}}$."


class Builder:
    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.cases: list[dict] = []
        self.seen: set[tuple[str, str, str]] = set()

    def add(
        self,
        category: str,
        response: str,
        gold: str,
        expected: bool,
        note: str,
        mode: str = "strict",
    ) -> None:
        key = (category, response, gold)
        if key in self.seen:
            return
        self.seen.add(key)
        kind = category.split("_", 1)[0]
        self.cases.append(
            {
                "category": category,
                "kind": kind,
                "mode": mode,
                "response": response,
                "gold": gold,
                "expected": expected,
                "note": note,
            }
        )

    def count(self, category: str) -> int:
        return sum(c["category"] == category for c in self.cases)


def int_renderings(n: int) -> list[tuple[str, str]]:
    out = [
        (f"{n}.0", "trailing .0"),
        (f"x = {n}", "an assignment"),
        (f"\\text{{{n}}}", "\\text wrapper"),
    ]
    if abs(n) >= 1000:
        out.append((f"{n:,}", "thousands separators"))
        out.append((f"{n:,}".replace(",", "{,}"), "braced separators"))
    if n > 0:
        out.append((f"\\frac{{{2 * n}}}{{2}}", "an unreduced fraction"))
        out.append((f"{n} \\text{{ units}}", "a trailing unit"))
    return out


def frac_renderings(sign: str, a: int, b: int) -> list[tuple[str, str]]:
    out = [
        (f"{sign}{a}/{b}", "slash fraction"),
        (f"{sign}\\dfrac{{{a}}}{{{b}}}", "\\dfrac"),
        (f"{sign}\\frac{{{2 * a}}}{{{2 * b}}}", "unreduced"),
        (f"\\frac{{{sign}{a}}}{{{b}}}", "sign inside"),
    ]
    q = Fraction(a, b)
    d = q.denominator
    for f in (2, 5):
        while d % f == 0:
            d //= f
    if d == 1 and q.denominator <= 1000:
        k = 0
        while (10**k) % q.denominator:
            k += 1
        num = q.numerator * (10**k // q.denominator)
        w, r = divmod(num, 10**k)
        out.append((f"{sign}{w}.{r:0{k}d}", "terminating decimal"))
    if a > b and Fraction(a, b).denominator == b:
        w, r = divmod(a, b)
        if r:
            out.append((f"{sign}{w}\\frac{{{r}}}{{{b}}}", "mixed number"))
    return out


_CALC = re.compile(r"<<([^<>=]+)=([^<>=]+)>>")


def unevaluated_arithmetic(data: Path) -> list[tuple[str, str, str]]:
    """GSM8K problems whose last calculator step computes the final answer: that step's
    expression boxed instead of its value (``<<16-3-4=9>>`` -> ``\\boxed{16 - 3 - 4}``)."""
    out = []
    for r in _rows(data, "gsm8k/test.jsonl"):
        gold = r["answer"].split("####")[-1].strip()
        steps = _CALC.findall(r["answer"])
        if not steps or not INT_RE.match(gold.replace(",", "")):
            continue
        expr, val = steps[-1]
        if val.strip() != gold.replace(",", "") or not re.search(r"\d\s*[-+*]\s*\d", expr):
            continue
        if re.fullmatch(r"[\d.]+/[\d.]+", expr.strip()):
            continue  # a bare fraction of two literals is itself a literal
        latex = expr.replace("*", " \\times ").replace("/", " \\div ")
        out.append((latex, gold, "GSM8K last calculator step, unevaluated"))
    return out


def wrong_int(n: int, rng: random.Random) -> list[tuple[str, str]]:
    return [
        (str(n + 1), "off by one"),
        (str(n - 1), "off by minus one"),
        (str(n * 10), "times ten"),
        (str(-n) if n else "1", "sign flipped"),
        (f"{n}.5", "half off"),
    ]


def build(data: Path) -> list[dict]:
    golds = load_golds(data)
    B = Builder()
    rng = B.rng
    int_golds = [
        g
        for src in ("gsm8k", "aime24", "math500")
        for g in golds[src]
        if INT_RE.match(g["gold"].strip())
    ]
    rng.shuffle(int_golds)
    math_all = golds["math500"] + golds["math"]
    frac_golds = [g for g in math_all if FRAC_RE.match(g["gold"].replace(" ", ""))]
    rng.shuffle(frac_golds)
    sqrt_golds = [g for g in math_all if "\\sqrt" in g["gold"] or "\\pi" in g["gold"]]
    rng.shuffle(sqrt_golds)

    # ---------------- positives
    for g in int_golds:
        n = int(g["gold"])
        for r, note in int_renderings(n):
            if B.count("pos_integer") < PER_CATEGORY:
                B.add("pos_integer", box(r), g["gold"], True, note)
    for g in golds["amc23"]:
        v = g["gold"]
        n = Fraction(v)
        if n.denominator == 1 and B.count("pos_integer") < PER_CATEGORY + 20:
            B.add("pos_integer", box(str(int(n))), v, True, "AMC float gold, integer answer")

    for g in frac_golds:
        m = FRAC_RE.match(g["gold"].replace(" ", ""))
        assert m
        sign, a, b = m.group(1), int(m.group(2)), int(m.group(3))
        for r, note in frac_renderings(sign, a, b):
            if B.count("pos_fraction") < PER_CATEGORY:
                B.add("pos_fraction", box(r), g["gold"], True, note)

    for g in sqrt_golds:
        s = g["gold"].strip()
        variants: list[tuple[str, str]] = []
        m = KSQRT_RE.match(s.replace(" ", ""))
        if m:
            k = int(m.group(1) or 1)
            rad = int(m.group(2))
            variants.append((f"\\sqrt{{{k * k * rad}}}", "radical absorbed"))
            variants.append((f"{k}\\cdot\\sqrt{{{rad}}}", "explicit product"))
            variants.append((f"\\sqrt{{{rad}}}\\cdot {k}", "factor order"))
        if "\\frac" in s:
            variants.append((s.replace("\\frac", "\\dfrac"), "\\dfrac"))
        if re.fullmatch(r"(\d+)\\pi", s.replace(" ", "")):
            k = s.replace(" ", "").replace("\\pi", "")
            variants.append((f"\\pi \\cdot {k}", "pi first"))
            variants.append((f"{k} \\pi", "spaced"))
        fm = re.fullmatch(r"\\frac\{(\d*)\\pi\}\{(\d+)\}", s.replace(" ", ""))
        if fm:
            k = fm.group(1) or "1"
            variants.append((f"\\frac{{{k}}}{{{fm.group(2)}}}\\pi", "coefficient outside"))
            variants.append((f"{k}\\pi/{fm.group(2)}", "slash form"))
        fm = re.fullmatch(r"\\frac\{(\d*)\\sqrt\{(\d+)\}\}\{(\d+)\}", s.replace(" ", ""))
        if fm:
            k = fm.group(1) or "1"
            variants.append(
                (f"\\frac{{{k}}}{{{fm.group(3)}}}\\sqrt{{{fm.group(2)}}}", "coefficient outside")
            )
        variants.append((f"\\left({s}\\right)", "\\left( \\right)"))
        for r, note in variants:
            if B.count("pos_radical_pi") < PER_CATEGORY:
                B.add("pos_radical_pi", box(r), s, True, note)

    # structures: tuples, intervals, sets, matrices, unions
    for g in math_all:
        s = g["gold"].strip()
        variants = []
        if s.startswith("\\begin{pmatrix}"):
            variants.append((s.replace("pmatrix", "bmatrix"), "bmatrix"))
            if "&" not in s:
                entries = re.findall(
                    r"(?:\\begin\{pmatrix\}|\\\\)\s*([^\\&]+?)\s*(?=\\\\|\\end)", s
                )
                if entries and all(e.strip() for e in entries):
                    variants.append(
                        (
                            "(" + ", ".join(e.strip() for e in entries) + ")",
                            "column vector as a tuple",
                        )
                    )
        elif "\\cup" in s and s.count("\\cup") == 1:
            a, b = s.split("\\cup")
            variants.append((f"{b.strip()} \\cup {a.strip()}", "union reordered"))
        elif re.fullmatch(r"\\\{[^{}]*\\\}", s) and "," in s:
            items = [x.strip() for x in s[2:-2].split(",")]
            variants.append(("\\{" + ", ".join(reversed(items)) + "\\}", "set reordered"))
        elif re.fullmatch(r"[\[(].*,.*[\])]", s) or s.startswith("\\left"):
            t = s.replace("\\left", "").replace("\\right", "")
            variants.append((t.replace(",", " , "), "spacing"))
            if not s.startswith("\\left"):
                variants.append((f"\\left{s[0]}{s[1:-1]}\\right{s[-1]}", "\\left \\right"))
        for r, note in variants:
            if B.count("pos_structure") < PER_CATEGORY:
                B.add("pos_structure", box(r), s, True, note)

    # several roots and equations
    for g in math_all:
        s = g["gold"].strip()
        if re.fullmatch(r"-?\d+(?:\s*,\s*-?\d+)+", s) and not re.fullmatch(
            r"\d{1,3}(?:,\d{3})+", s
        ):
            items = [x.strip() for x in s.split(",")]
            if len(set(items)) != len(items):
                continue
            rev = list(reversed(items))
            B.add("pos_roots_equations", box(", ".join(rev)), s, True, "roots reordered")
            B.add(
                "pos_roots_equations",
                box(" \\text{ or } ".join(f"x={x}" for x in rev)),
                s,
                True,
                "roots as equations",
            )
        if B.count("pos_roots_equations") >= PER_CATEGORY:
            break
    for g in int_golds[:20]:
        B.add("pos_roots_equations", box(f"n = {g['gold']}"), g["gold"], True, "assignment")

    # text answers, multiple choice, percent, degrees, units, base-n, complex
    for g in math_all:
        s = g["gold"].strip()
        m = re.fullmatch(r"\\text\{\s*\(?([A-E])\)?\s*\}|\(([A-E])\)", s)
        if m:
            L = m.group(1) or m.group(2)
            B.add("pos_text_choice", box(L), s, True, "choice letter")
            B.add("pos_text_choice", box(f"({L})"), s, True, "choice in parentheses")
        elif re.fullmatch(r"\\text\{[A-Za-z ]+\}", s):
            w = s[6:-1].strip()
            B.add("pos_text_choice", box(w), s, True, "word without \\text")
            B.add("pos_text_choice", box(f"\\text{{{w.lower()}}}"), s, True, "lower case")
        elif re.fullmatch(r"\d+_\{?\d+\}?", s):
            digits = s.split("_")[0]
            B.add("pos_forms_misc", box(digits), s, True, "base-n digits without subscript")
            B.add(
                "pos_forms_misc",
                box(s.replace("_", "_{") + "}" if "{" not in s else s),
                s,
                True,
                "braced base",
            )
        elif re.fullmatch(r"-?\d+[+-]\d*i", s.replace(" ", "")):
            t = s.replace(" ", "")
            mm = re.fullmatch(r"(-?\d*)([+-]\d*i)", t)
            if mm:
                B.add(
                    "pos_forms_misc",
                    box(f"{mm.group(2).lstrip('+')}+{mm.group(1)}".replace("+-", "-")),
                    s,
                    True,
                    "complex reordered",
                )
    for g in int_golds:
        p = g["problem"].lower()
        if "percent" in p and B.count("pos_forms_misc") < PER_CATEGORY:
            B.add("pos_forms_misc", box(f"{g['gold']}\\%"), g["gold"], True, "percent sign")
        if "degree" in p and B.count("pos_forms_misc") < PER_CATEGORY:
            B.add("pos_forms_misc", box(f"{g['gold']}^\\circ"), g["gold"], True, "degree sign")
        if ("$" in p or "dollar" in p) and B.count("pos_forms_misc") < PER_CATEGORY:
            B.add("pos_forms_misc", box(f"\\${g['gold']}"), g["gold"], True, "dollar sign")

    # ---------------- negatives (near misses)
    for g in int_golds[:15]:
        n = int(g["gold"])
        for r, note in wrong_int(n, rng):
            B.add("neg_near_miss", box(r), g["gold"], False, note)
    for g in frac_golds[:15]:
        m = FRAC_RE.match(g["gold"].replace(" ", ""))
        assert m
        sign, a, b = m.group(1), int(m.group(2)), int(m.group(3))
        B.add(
            "neg_near_miss",
            box(f"{sign}\\frac{{{a + 1}}}{{{b}}}"),
            g["gold"],
            False,
            "numerator off by one",
        )
        B.add(
            "neg_near_miss",
            box(f"{'' if sign else '-'}\\frac{{{a}}}{{{b}}}"),
            g["gold"],
            False,
            "sign flipped",
        )
        B.add(
            "neg_near_miss", box(f"{sign}\\frac{{{b}}}{{{a}}}"), g["gold"], False, "reciprocal"
        ) if a != b else None
    for g in sqrt_golds[:30]:
        s = g["gold"].strip()
        m = KSQRT_RE.match(s.replace(" ", ""))
        if m:
            B.add("neg_near_miss", box(m.group(1) or "1"), s, False, "radical dropped")
            B.add(
                "neg_near_miss",
                box(f"{m.group(1)}\\sqrt{{{int(m.group(2)) + 1}}}"),
                s,
                False,
                "radicand changed",
            )
    for g in math_all:
        s = g["gold"].strip()
        if re.fullmatch(r"[\[(][^,\[\]()]+,[^,\[\]()]+[\])]", s):
            flipped = {"(": "[", "[": "("}[s[0]] + s[1:]
            B.add("neg_near_miss", box(flipped), s, False, "interval end flipped")
            a, b = s[1:-1].split(",")
            if a.strip() != b.strip():
                B.add(
                    "neg_near_miss",
                    box(f"{s[0]}{b.strip()}, {a.strip()}{s[-1]}"),
                    s,
                    False,
                    "entries swapped",
                )
        if B.count("neg_near_miss") >= 2 * PER_CATEGORY:
            break

    # ---------------- adversarial (strict mode; all must be rejected)
    for g in int_golds[:25]:
        s = g["gold"]
        w = str(int(s) + 1)
        B.add(
            "adv_multiple_answers", box(s) + f" Or maybe $\\boxed{{{w}}}$.", s, False, "two boxes"
        )
        B.add("adv_multiple_answers", box(f"{w}, {s}"), s, False, "candidates in one box")
        B.add("adv_multiple_answers", box(f"{s} \\text{{ or }} {w}"), s, False, "'or' in the box")
        B.add(
            "adv_no_final_answer",
            f"We find that the answer is {s}.",
            s,
            False,
            "unboxed answer (strict)",
        )
        B.add(
            "adv_no_final_answer",
            f"First we get {s}, but then $\\boxed{{{w}}}$.",
            s,
            False,
            "gold only in reasoning",
        )
        B.add("adv_no_final_answer", f"<think>so $\\boxed{{{s}}}$", s, False, "unterminated think")
        B.add("adv_no_final_answer", f"{s} {s} {s} {s}", s, False, "gold repeated, no box")
        B.add("adv_empty_or_anything", f"The answer is {s}. $\\boxed{{}}$", s, False, "empty box")
        B.add("adv_macro_unicode", f"\\def\\a{{{s}}} $\\boxed{{\\a}}$", s, False, "\\def")
        B.add(
            "adv_macro_unicode",
            f"\\newcommand{{\\ans}}{{{s}}} $\\boxed{{\\ans}}$",
            s,
            False,
            "\\newcommand",
        )
        full = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in s)
        B.add("adv_macro_unicode", box(full), s, False, "full-width digits")
        arab = "".join(chr(0x0660 + int(c)) if c.isdigit() else c for c in s)
        B.add("adv_macro_unicode", box(arab), s, False, "Arabic-Indic digits")
        B.add("adv_tolerance", box(f"{s}.0000001"), s, False, "integer plus epsilon")
        B.add("adv_tolerance", box(f"{s} + 10^{{-30}}"), s, False, "integer plus tiny term")
        B.add("adv_tolerance", box(f"{int(s) * 100}"), s, False, "times 100")
        if int(s) != 0:
            B.add(
                "adv_tolerance",
                box(f"{Fraction(int(s), 100)}".replace("/", "/")),
                s,
                False,
                "over 100, no percent sign",
            )
        B.add(
            "adv_false_relation", box(f"{w} = {s}"), s, False, "false equation ending in the gold"
        )
        B.add("adv_false_relation", box(f"x = {w} = {s}"), s, False, "chain with a false link")
        B.add(
            "adv_false_relation", box(f"{s} \\neq {w}"), s, False, "a true but irrelevant relation"
        )
        B.add(
            "adv_false_relation",
            box(f"x > {int(s) - 1}"),
            s,
            False,
            "an inequality around the gold",
        )
    for g in frac_golds[:10]:
        s = g["gold"]
        m = FRAC_RE.match(s.replace(" ", ""))
        assert m
        sign, a, b = m.group(1), int(m.group(2)), int(m.group(3))
        B.add(
            "adv_tolerance",
            box(f"{sign}\\frac{{{a}}}{{{b}}} + \\frac{{1}}{{2^{{99}}}}"),
            s,
            False,
            "fraction plus 2^-99",
        )
        val = float(Fraction(int(sign + "1") * a, b))
        if Fraction(f"{val:.6f}") != Fraction(int(sign + "1") * a, b):
            B.add("adv_tolerance", box(f"{val:.6f}"), s, False, "6-digit decimal approximation")
    for s in ["5", "\\frac{1}{2}", "(1, 2)", "2\\sqrt{3}", "\\text{Evelyn}", "x^2 + 1"]:
        for r in ["x", "n", "\\text{answer}", "\\infty", "0/0", "\\frac{0}{0}", "a", "\\emptyset"]:
            B.add("adv_empty_or_anything", box(r), s, False, f"'{r}' equals anything?")
        B.add("adv_empty_or_anything", "$\\boxed{\\,}$ " + s, s, False, "blank box")
    for g in math_all:
        s = g["gold"].strip()
        if re.fullmatch(r"\\text\{[A-Za-z]+\}", s) and any(c in s for c in "aceopxy"):
            t = s[6:-1]
            cyr = (
                t.replace("a", "\u0430")
                .replace("e", "\u0435")
                .replace("o", "\u043e")
                .replace("c", "\u0441")
                .replace("p", "\u0440")
            )
            if cyr != t:
                B.add(
                    "adv_macro_unicode", box(f"\\text{{{cyr}}}"), s, False, "Cyrillic look-alikes"
                )

    # ---------------- the arithmetic restated instead of evaluated (a PPO run learned to box
    # "23 + 45" for "What is 23 + 45?"): GSM8K's own last calculator step, unevaluated
    for expr, gold, note in unevaluated_arithmetic(data):
        B.add("adv_unevaluated_arithmetic", box(expr), gold, False, note)
        if B.count("adv_unevaluated_arithmetic") >= 40:
            break
    for a, b in ((23, 45), (17, 4), (125, 375), (9, 81), (1234, 4321)):
        B.add("adv_unevaluated_arithmetic", box(f"{a} + {b}"), str(a + b), False, "What is a + b?")
        B.add(
            "adv_unevaluated_arithmetic",
            box(f"{a} \\times {b}"),
            f"{a * b:,}",
            False,
            "What is a times b? (gold with separators)",
        )
    B.add("adv_unevaluated_arithmetic", box("\\sqrt{144}"), "12", False, "a root left unevaluated")
    B.add("adv_unevaluated_arithmetic", box("2^{10}"), "1024", False, "a power left unevaluated")
    B.add(
        "adv_unevaluated_arithmetic",
        box("\\frac{3+4}{8}"),
        "\\frac{7}{8}",
        False,
        "a fraction gold, sum left in the numerator",
    )
    B.add(
        "adv_unevaluated_arithmetic",
        box("(1, 1+2)"),
        "(1, 3)",
        False,
        "a tuple element unevaluated",
    )
    # the same problems answered with literals stay correct
    for a, b in ((23, 45), (17, 4), (1234, 4321)):
        B.add("pos_integer", box(f"{a + b}"), str(a + b), True, "the evaluated sum")
        B.add(
            "pos_integer",
            box(f"{a} + {b} = {a + b}"),
            str(a + b),
            True,
            "a chain ending in the sum",
        )

    # ---------------- eval mode (unboxed answers the way harnesses read them)
    for g in int_golds[:20] + frac_golds[:10] + sqrt_golds[:10]:
        s = g["gold"]
        B.add(
            "eval_unboxed",
            f"Final Answer: The final answer is ${s}$. I hope it is correct.",
            s,
            True,
            "Minerva format",
            "eval",
        )
        B.add(
            "eval_unboxed",
            f"Putting it together, the answer is ${s}$.",
            s,
            True,
            "'the answer is'",
            "eval",
        )
        if INT_RE.match(s):
            B.add("eval_unboxed", f"3 + 4 = 7 apples\n#### {s}", s, True, "GSM8K marker", "eval")
            B.add(
                "eval_unboxed",
                f"Final Answer: The final answer is ${int(s) + 1}$. I hope it is correct.",
                s,
                False,
                "a wrong unboxed answer",
                "eval",
            )
    B.add(
        "eval_unboxed",
        "We solve it. Therefore $x \\geq 5$ is the solution.",
        "[5,\\infty)",
        True,
        "last inline math",
        "eval",
    )
    B.add(
        "eval_unboxed",
        "So the matrix is\n\\[\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}\\]",
        "\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}",
        True,
        "last displayed matrix",
        "eval",
    )
    # ---------------- hand-labelled rows of the test tables (real forms, one comment each)
    tables = _load_tables()
    for answer, gold, why in tables["ACCEPT"]:
        B.add("pos_handwritten", box(answer), gold, True, why)
    for answer, gold, why in tables["REJECT"]:
        B.add("neg_handwritten", box(answer), gold, False, why)
    for response, gold, _reason, why in tables["HACKS"]:
        B.add("adv_handwritten", response, gold, False, why)
    for k, c in enumerate(B.cases):
        c["id"] = k
    return B.cases


def _load_tables() -> dict[str, list]:
    """The hand-labelled rows of tests/verifiers (table and adversarial tests)."""
    import importlib.util

    out: dict[str, list] = {}
    tests = ROOT.parent / "tests" / "verifiers"
    for fname, names in (
        ("test_verifier_table.py", ("ACCEPT", "REJECT")),
        ("test_verifier_adversarial.py", ("HACKS",)),
    ):
        spec = importlib.util.spec_from_file_location(fname[:-3], tests / fname)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for n in names:
            out[n] = list(getattr(mod, n))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data-dir", default=os.environ.get("RLSP_DATA_DIR"), help="dataset directory")
    ap.add_argument("--output", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if not args.data_dir:
        ap.error("set RLSP_DATA_DIR or pass --data-dir")
    cases = build(Path(args.data_dir))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        for c in cases:
            f.write(
                json.dumps(
                    {"id": c["id"], **{k: v for k, v in c.items() if k != "id"}}, ensure_ascii=False
                )
                + "\n"
            )
    counts = Counter(c["category"] for c in cases)
    for k, v in sorted(counts.items()):
        print(f"{k:28s} {v}")
    print(f"total {len(cases)} -> {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
