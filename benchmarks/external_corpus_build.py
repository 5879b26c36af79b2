"""Builds the external verifier corpus ``benchmarks/data/external_corpus.jsonl``.

The external corpus is a fair test because it was not written alongside the verifier: its cases
come from other graders' public test suites and from MATH-500 golds rewritten in renderings found
in real model output. It is kept apart from our own ``verifier_corpus.jsonl`` (never merged).

Sources (each case records ``source``, ``source_file``, ``source_line`` and ``source_commit``):

- ``math-verify``: the ``pytest.mark.parametrize`` tables of Math-Verify's test suite
  (``tests/test_*.py`` of github.com/huggingface/Math-Verify), read with ``ast`` (no test code
  runs), plus the cases a public Math-Verify issue reported as wrong (issue #14, #37).
- ``hendrycks-math``: ``modeling/math_equivalence_test.py`` of github.com/hendrycks/math.
- ``qwen2.5-math``: the pairs in ``_test_math_equal`` of ``evaluation/grader.py`` of
  github.com/QwenLM/Qwen2.5-Math that Math-Verify's suite does not already hold (the source gives
  no expected value; we label them, see ``comment``).
- ``math500-renderings``: every MATH-500 gold (``$RLSP_DATA_DIR/math500/test.jsonl``, the
  PRM800K split) rewritten as positives in the renderings the verifier issue lists (thousands
  separators, ``\\dfrac``, ``.5``, ``1000.0``, units, percent, ``\\text{}`` wrappers, intervals,
  commuted sums and products, degrees, currency) and as near misses (off by one, wrong sign, a
  reciprocal, swapped interval ends or tuple entries, an extra element). Only these derived
  cases are written, never the dataset.

Each case: ``{id, source, source_file, source_line, source_commit, category, kind, expected,
mode, answer_policy, response, gold, note, comment?, repairs?}``. ``kind`` is ``pos``/``neg``
(``expected`` true/false). External cases are dataset-style: ``mode="eval"``,
``answer_policy="closed_form"``.

Label fixes and exclusions are listed in this file (``LABEL_FIXES``, ``EXCLUDE``) and carried in
the cases' ``comment`` field; excluded cases go to ``external_corpus_excluded.jsonl`` with their
reason. The script fails loudly if a fix or an exclusion no longer matches its source line (a newer
checkout moved the tables): re-check them then.

    # the repositories as git directories (e.g. ``git clone --bare``) or work trees
    RLSP_DATA_DIR=../shared/data python benchmarks/external_corpus_build.py \\
        --math-verify ~/src/Math-Verify --hendrycks ~/src/math --qwen ~/src/Qwen2.5-Math
    python benchmarks/external_corpus_build.py --help
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "data" / "external_corpus.jsonl"
OUT_EXCLUDED = ROOT / "data" / "external_corpus_excluded.jsonl"
OUT_HOLDOUT = ROOT / "data" / "external_holdout.jsonl"
MIRRORS = Path("/work/.mirror")
M5_CAP_DEFAULT = 150  # MATH-500 renderings per category at most
M5_CAP = {"m5_near_miss": 450, "m5_unboxed": 200, "m5_bare": 200}

MV_FILES = (
    "tests/test_all.py",
    "tests/test_boxed.py",
    "tests/test_numina_cases.py",
    "tests/test_open_thoughts.py",
    "tests/test_strict.py",
    "tests/test_yujianll.py",
)
MV_CATEGORY = {  # test function -> category
    "test_number_extraction": "mv_numbers",
    "test_simple_fraction_notation": "mv_numbers",
    "test_sets_handling": "mv_sets_intervals",
    "test_latex_notation": "mv_latex_notation",
    "test_percent_notation": "mv_percent",
    "test_latex_notation_math": "mv_math_solutions",
    "test_relations_math": "mv_relations",
    "test_matrix_extraction": "mv_matrices",
    "test_complex_math_expressions": "mv_expressions",
    "test_math_extraction_edge_cases": "mv_model_outputs",
    "test_math_extraction_additional_cases": "mv_model_outputs",
    "test_set_rel_assymetry": "mv_relations",
    "test_float_precision": "mv_expressions",
    "test_sqrt_precision": "mv_expressions",
    "test_symbols": "mv_text",
    "test_boxed": "mv_boxed",
    "test_numina_cases": "mv_numina",
    "test_open_thoughts": "mv_open_thoughts",
    "test_strict_variable_comparison": "mv_expressions",
    "test_string_extraction": "mv_issue_reports",
}

# (file, line, index among the rows of that line) -> reason. Cases whose label is a parser
# convention or depends on a non-default Math-Verify option, not a grading fact.
EXCLUDE: dict[tuple[str, int, int], str] = {
    ("tests/test_all.py", 70, 0): "decimal comma ('1000,99' for 1000.99): locale-dependent, a list "
    "1000, 99 in English-language data; the label is a convention, not a grading fact",
    (
        "tests/test_all.py",
        71,
        0,
    ): "decimal comma in the gold ('1,22'): a list 1, 22 or 1.22 (see line 70)",
    ("tests/test_all.py", 72, 0): "decimal comma ('2,74' for 2.74, see line 70)",
    ("tests/test_all.py", 87, 0): "decimal comma in the gold ('0,111', see line 70)",
    ("tests/test_all.py", 132, 0): "parser convention: Math-Verify rejects inline $...$ spanning "
    "newlines; the answer (9) is correct, so the label is not a grading fact",
    (
        "tests/test_all.py",
        133,
        0,
    ): "parser convention: inline \\( \\) spanning newlines (see line 132)",
    ("tests/test_all.py", 138, 0): "contradictory chain '1/2 \\$ = 10/9' (the test checks that an "
    "escaped dollar does not end the math span, not a grading fact)",
    ("tests/test_all.py", 754, 0): "'{1,3}' is a TeX group (the list 1, 3) or a set without its "
    "backslashes: equal to the pair (1,3) in one reading only (line 753, unequal in both, is kept)",
    ("tests/test_all.py", 388, 0): "contradictory chain 'x = 5+5+1 = 7 = 11': either verdict is "
    "defensible",
    ("tests/test_all.py", 399, 0): "contradictory chain (duplicate of line 388)",
    ("tests/test_all.py", 405, 0): "contradictory chain 'x = 5+5+1 = 1/3 \\approx 11'",
    ("tests/test_all.py", 423, 0): "contradictory chain 'x = 1/3 \\approx 1.3'",
    ("tests/test_all.py", 452, 0): "gold '1 = \\zzz = x = 0' is not a well-defined answer",
    ("tests/test_all.py", 461, 0): "contradictory chain 'z = 3+3 = 2'",
    ("tests/test_all.py", 462, 0): "contradictory chain 'z = 3+3 = 2' (duplicate)",
    ("tests/test_all.py", 586, 0): "label holds only with float_rounding=2 (0.33 for 1/3); with "
    "Math-Verify's defaults Math-Verify itself rejects it",
    ("tests/test_all.py", 605, 0): "label holds only with float_rounding=2 (2.6667 for 8/3)",
    ("tests/test_all.py", 907, 0): "config test: allow_set_relation_comp=False makes an equal pair "
    "unequal; the True variant (line 901) is kept",
    ("tests/test_strict.py", 8, 1): "config test: strict=False makes f(y) equal f(x); the strict "
    "variant is kept",
    ("tests/test_open_thoughts.py", 154, 0): "gold '\\boxed{1} no no no no no \\boxed{2}' tests "
    "Math-Verify's box-joining rule, not an answer",
}

# (file, line, index) -> (new expected, reason)
LABEL_FIXES: dict[tuple[str, int, int], tuple[bool, str]] = {
    ("tests/test_yujianll.py", 28, 0): (
        False,
        "label fixed 1 -> 0: 1 - 1/e and 1 + 1/e differ (reported as wrong in Math-Verify issue #14; "
        "Math-Verify pull request #82 corrects the same expectation)",
    ),
    ("tests/test_all.py", 951, 0): (
        True,
        "label fixed 0 -> 1 and gold repaired: the source's non-raw '$\\text{13}$' holds a TAB "
        "('\\t'), so the test compared 13 with 'TAB ext{13}'; the intended case \\text{13} vs 13 "
        "is equal (Math-Verify issue #37, 'Fixed in 0.8.0')",
    ),
}

# (file, line, index) -> gold answer written by hand where the source gold is a whole solution
# without a box or several $...$ spans.
GOLD_OVERRIDES: dict[tuple[str, int, int], str] = {
    ("tests/test_all.py", 195, 0): "28\\%",
    ("tests/test_all.py", 313, 0): "125 \\text{ miles}",
    ("tests/test_numina_cases.py", 95, 0): "1, 2, 3",
    ("tests/test_numina_cases.py", 121, 0): "W(n) = 1 \\text{ and } W(n) = -1",
    ("tests/test_numina_cases.py", 126, 0): "21, 16 \\text{ or } 11",
}

# Math-Verify issue #14 (github.com/huggingface/Math-Verify/issues/14): pairs the reporter says
# must not verify and the suite does not hold. (gold, prediction)
MV_ISSUE14 = [
    ("\\frac{1}{2004!}", "\\frac{1}{2006!}"),
    ("\\frac{1}{2^{99}}", "\\frac{1}{2^{98}}"),
    ("\\frac{2^{2005}+1}{3 \\cdot 2^{2006}}", "\\frac{1}{3 \\cdot 2^{2006}}"),
    ("1, 2, \\ldots, n", "1, 3, 5, \\ldots, 2n-1"),
    ("1:2:3:\\ldots", "1:4:9:\\ldots"),
]

# Other public Math-Verify issue reports: (issue, gold, response, expected, mode, note). The
# reporters' Python strings are written as the LaTeX they denote; labels are the mathematically
# right verdict (the reporter's expectation where it is one).
MV_ISSUE_CASES = [
    (
        60,
        "3x + 4y + 14 = 0",
        "The answer is $\\boxed{3x - y + 13 = 0}$.",
        False,
        "strict",
        "two different lines (Math-Verify said equal: both parsed to 0)",
    ),
    (
        64,
        "\\sqrt{1/n}",
        "The answer is $\\boxed{\\frac{1}{\\sqrt{n}}}$.",
        True,
        "strict",
        "equal for the positive n the problem has (Math-Verify said unequal)",
    ),
    (
        41,
        "4",
        "The answer is $\\boxed{4\\sqrt(2)}$.",
        False,
        "strict",
        "4 times a root is not 4 (Math-Verify said equal)",
    ),
    (
        56,
        "\\left( 3, \\frac{\\pi}{2} \\right)",
        "The answer is $\\boxed{(3, \\frac{2\\pi}{3})}$.",
        False,
        "strict",
        "a different second coordinate",
    ),
    (
        25,
        "m \\geq \\sqrt{2}",
        "the solution to the problem is $m \\in [\\sqrt{2}, +\\infty)$",
        True,
        "eval",
        "a relation and the same set as an interval",
    ),
    (
        76,
        "73",
        "Right: 122 + 294 + 489 = 905\n\nSo answer is consistent.\n\nThus, the number of "
        "residents who own all four of the things is **73**.\n\n---\n\nFinal Answer: **73**",
        True,
        "eval",
        "a Markdown-bold final answer (Math-Verify read 234)",
    ),
    (
        35,
        "\\frac12",
        "The answer is $\\boxed{\\frac{1}{2}}$.",
        True,
        "strict",
        "\\frac without braces",
    ),
    (1, "2/3", "The answer is $\\boxed{\\frac{2}{3}}$.", True, "strict", "a slash fraction gold"),
]

# Hendrycks' is_equiv(output, gold): test_in is the output, test_out the gold.
HENDRYCKS_EXCLUDE = {
    "test_order": "order-only difference of a comma list; Hendrycks' string match calls it "
    "unequal, but a list of solutions is usually unordered: not decidable without the problem",
    "test_decimals": "order-only difference of a comma list (see test_order)",
}

# Qwen2.5-Math grader.py `_test_math_equal`: commented pairs without an expected value that
# Math-Verify's suite does not already hold. Our labels, with the reason.
QWEN_PAIRS = [
    (
        "-\\frac{2(x^2+6)}{9(x^2-2)\\sqrt[3]{x^2-2}^2}",
        "-\\frac{8x^2}{9(x^2-2)^{5/3}}+\\frac{2}{3(x^2-2)^{2/3}}",
        True,
        "equal: over 9(x^2-2)^{5/3} the prediction is -8x^2 + 6(x^2-2) = -2(x^2+6)",
    ),
    (
        "33.3",
        "\\frac{100}{3}",
        True,
        "exact value for a decimal gold that it rounds to (the eval convention: answers that "
        "round to a decimal gold's precision are accepted)",
    ),
    (
        "(\\begin{pmatrix}0.29\\\\0.196\\\\-0.186\\\\\\end{pmatrix})",
        "\\begin{pmatrix}0.290243531202435\\\\0.196008371385084\\\\-0.186381278538813\\end{pmatrix}",
        True,
        "each entry rounds to the gold's decimal (the eval convention)",
    ),
]


# Reward-function tests of RL libraries: (needle on the source line, response, gold, expected,
# note). Strict mode (these are RL rewards: boxed answers).
RLLM_ROWS = [
    (
        '\\boxed{4}."',
        "<think>2 + 2 = 4</think>\nThe answer is \\boxed{4}.",
        "4",
        True,
        "test_correct_answer_simple",
    ),
    (
        "\\boxed{0.5}",
        "<think>The answer could be written as a fraction or decimal</think>\nThe answer is \\boxed{0.5}.",
        "1/2",
        True,
        "test_correct_answer_multiple_ground_truths (gold 1/2 of its three)",
    ),
    (
        "\\boxed{5}",
        "<think>2 + 2 = 5</think>\nThe answer is \\boxed{5}.",
        "4",
        False,
        "test_incorrect_answer",
    ),
    (
        "\\boxed{x = 2, x = -3}",
        "<think>Let me solve this quadratic equation</think>\nThe answer is \\boxed{x = 2, x = -3}.",
        "x = 2, x = -3",
        True,
        "test_complex_mathematical_expression",
    ),
    (
        "\\boxed{24}",
        "<think>Let me calculate this carefully</think>\nThe answer is \\boxed{24}.",
        "\\boxed{24}",
        True,
        "test_answer_with_latex_in_ground_truth",
    ),
    (
        "\\boxed{3.14159}",
        "<think>The answer is approximately pi</think>\nThe answer is \\boxed{3.14159}.",
        "3.14159",
        True,
        "test_numerical_tolerance",
    ),
    (
        "\\boxed{\\\\frac{1}{2}}",
        "<think>Let me simplify this fraction</think>\nThe answer is \\boxed{\\frac{1}{2}}.",
        "1/2",
        True,
        "test_fraction_equivalence",
    ),
    (
        "\\boxed{11}",
        "<think>5 + 5 = 11</think>\nThe answer is \\boxed{11}.",
        "10",
        False,
        "test_custom_config_values (incorrect)",
    ),
]
OPEN_R1_ROWS = [
    (
        '\\boxed{\\frac{63}{400}}"}]]',
        "\\boxed{\\frac{63}{400}}",
        "\\frac{63}{400}",
        True,
        "test_accuracy_reward_correct_answer",
    ),
    (
        '\\boxed{\\frac{64}{400}}"}]]',
        "\\boxed{\\frac{64}{400}}",
        "\\frac{63}{400}",
        False,
        "test_accuracy_reward_wrong_answer",
    ),
    ('\\boxed{3}"}]]', "\\boxed{3}", "6", False, "test_accuracy_reward_wrong_answer_no_latex"),
]


# ---------------------------------------------------------------- reading repositories


class Repo:
    """A git checkout or bare git directory read at one commit (``git show``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.commit = self._git("rev-parse", "HEAD").strip()

    def _git(self, *args: str) -> str:
        r = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"git {' '.join(args)} failed in {self.path}: {r.stderr.strip()}")
        return r.stdout

    def read(self, rel: str) -> str:
        return self._git("show", f"HEAD:{rel}")


def _repo(arg: str | None, mirror: str, name: str) -> Repo | None:
    path = Path(arg).expanduser() if arg else MIRRORS / mirror / "repo"
    if not path.exists():
        print(f"[build] {name}: {path} not found, source skipped (pass its path)", file=sys.stderr)
        return None
    return Repo(path)


# ---------------------------------------------------------------- string repairs

_CTRL = {"\x0c": "\\f", "\t": "\\t", "\x08": "\\b", "\x07": "\\a", "\x0b": "\\v"}


def _repair(value: str, source_segment: str) -> tuple[str, list[str]]:
    """Undoes escaping slips in the source literals; returns the text and what was repaired."""
    notes = []
    out = value
    if any(c in out for c in _CTRL):
        for c, rep in _CTRL.items():
            # "\\\frac" in a non-raw literal is a backslash then a form feed: one macro meant
            out = out.replace("\\" + c, rep).replace(c, rep)
        notes.append("control character from a non-raw '\\f'/'\\t' escape restored as a macro")
    raw = source_segment.lstrip()[:1] in ("r", "R")
    if raw and re.search(r"\\\\[A-Za-z]", out):
        # a raw string written as if it were not raw: \\frac means \frac, \n a newline
        out = re.sub(r"\\\\(?=[A-Za-z])", r"\\", out.replace('\\"', '"'))
        out = re.sub(r"\\n(?=[\\\[\*A-Z\s]|$)", "\n", out)
        notes.append("raw string written with doubled backslashes: '\\\\x' read as '\\x'")
    if re.search(r"\\quad(?=[a-z])", out):
        out = re.sub(r"\\quad(?=[a-z])", r"\\quad ", out)
        notes.append("unknown macro '\\quadx' (a space missing) read as '\\quad x'")
    return out, notes


# ---------------------------------------------------------------- gold text


def _boxes(s: str) -> list[str | None]:
    """Contents of every \\boxed{...} in ``s`` (None for an unclosed one)."""
    out: list[str | None] = []
    for m in re.finditer(r"\\boxed\s*\{", s):
        depth, i = 0, m.end() - 1
        for j in range(i, len(s)):
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    out.append(s[i + 1 : j].strip())
                    break
        else:
            out.append(None)
    return out


def gold_answer(gold: str) -> tuple[str | None, str]:
    """The answer a source gold denotes, and how it was read; None where a hand override is due."""
    boxes = _boxes(gold)
    if boxes and all(b is not None for b in boxes):
        uniq = list(dict.fromkeys(boxes))
        if len(uniq) == 1:
            return uniq[0], "the gold's box" if gold.strip() != f"\\boxed{{{uniq[0]}}}" else ""
        return ", ".join(uniq), "the gold's boxes joined with commas"
    if boxes:
        return None, "unclosed box"
    s = gold.strip()
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if s.startswith(left) and s.endswith(right) and len(s) > len(left) + len(right):
            inner = s[len(left) : len(s) - len(right)]
            if "$" not in inner:
                return inner.strip(), ""
    if "$" in s or len(s) > 120:
        return None, "prose or several math spans"
    return s, ""


# ---------------------------------------------------------------- sources


def _case(**kw) -> dict:
    kw.setdefault("mode", "eval")
    kw.setdefault("answer_policy", "closed_form")
    kw["kind"] = "pos" if kw["expected"] else "neg"
    return kw


def math_verify_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    cases, excluded = [], []
    used_fix, used_excl, used_override = set(), set(), set()
    seen: dict[tuple[str, str], dict] = {}
    for rel in MV_FILES:
        src = repo.read(rel)
        tree = ast.parse(src)
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for dec in fn.decorator_list:
                if not (
                    isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"
                ):
                    continue
                names = [n.strip() for n in ast.literal_eval(dec.args[0]).split(",")]
                per_line: Counter = Counter()
                for elt in dec.args[1].elts:
                    line = elt.lineno
                    idx = per_line[line]
                    per_line[line] += 1
                    key = (rel, line, idx)
                    vals, repairs = [], []
                    for node in elt.elts:
                        seg = ast.get_source_segment(src, node) or ""
                        if fn.name == "test_float_precision" and isinstance(node, ast.JoinedStr):
                            # f"{math.sqrt(17):.15f}": the one computed literal in the tables
                            import math

                            if "math.sqrt(17)" in seg:
                                vals.append(f"{math.sqrt(17):.15f}")
                            elif seg == 'f"$\\\\sqrt{{17}}$"':
                                vals.append("$\\sqrt{17}$")
                            else:
                                raise SystemExit(f"{rel}:{line}: unexpected f-string {seg}")
                            continue
                        v = ast.literal_eval(node)
                        if isinstance(v, str):
                            v, notes = _repair(v, seg)
                            repairs += notes
                        vals.append(v)
                    row = dict(zip(names, vals))
                    expected = bool(row.get("expected", row.get("result")))
                    gold_raw, pred = row["gold"], row["pred"]
                    options = {
                        k: row[k] for k in row if k not in ("gold", "pred", "expected", "result")
                    }
                    base = {
                        "source": "math-verify",
                        "source_file": rel,
                        "source_line": line,
                        "source_commit": repo.commit,
                        "source_test": fn.name,
                    }
                    if options:
                        base["source_options"] = options
                    if key in EXCLUDE:
                        used_excl.add(key)
                        excluded.append(
                            {**base, "gold": gold_raw, "pred": pred, "reason": EXCLUDE[key]}
                        )
                        continue
                    comment = []
                    if key in LABEL_FIXES:
                        used_fix.add(key)
                        expected, why = LABEL_FIXES[key]
                        comment.append(why)
                    if key in GOLD_OVERRIDES:
                        used_override.add(key)
                        gold, how = (
                            GOLD_OVERRIDES[key],
                            "gold answer written by hand from the source's gold text",
                        )
                    else:
                        gold, how = gold_answer(gold_raw)
                        if gold is None:
                            raise SystemExit(f"{rel}:{line}: gold needs a hand override ({how})")
                    dup = seen.get((gold, pred))
                    if dup is not None:
                        dup.setdefault("also_at", []).append(f"{rel}:{line}")
                        continue
                    c = _case(
                        **base,
                        category=MV_CATEGORY[fn.name],
                        expected=expected,
                        response=pred,
                        gold=gold,
                        note=f"Math-Verify test {fn.name}" + (f"; {how}" if how else ""),
                    )
                    if gold != gold_raw:
                        c["gold_source"] = (
                            gold_raw if len(gold_raw) < 400 else gold_raw[:400] + "..."
                        )
                    if comment:
                        c["comment"] = "; ".join(comment)
                    if repairs:
                        c["repairs"] = sorted(set(repairs))
                    seen[(gold, pred)] = c
                    cases.append(c)
    for name, table, used in (
        ("EXCLUDE", EXCLUDE, used_excl),
        ("LABEL_FIXES", LABEL_FIXES, used_fix),
        ("GOLD_OVERRIDES", GOLD_OVERRIDES, used_override),
    ):
        stale = set(table) - used
        if stale:
            raise SystemExit(f"{name} entries match no source row (tables moved?): {sorted(stale)}")
    for gold, pred in MV_ISSUE14:
        cases.append(
            _case(
                source="math-verify",
                source_file="issues/14",
                source_line=0,
                source_commit="https://github.com/huggingface/Math-Verify/issues/14",
                category="mv_issue_reports",
                expected=False,
                response=f"The answer is $\\boxed{{{pred}}}$.",
                gold=gold,
                note="a pair the issue reporter says must not verify",
            )
        )
    for num, gold, response, expected, mode, note in MV_ISSUE_CASES:
        url = f"https://github.com/huggingface/Math-Verify/issues/{num}"
        cases.append(
            _case(
                source="math-verify",
                source_file=f"issues/{num}",
                source_line=0,
                source_commit=url,
                category="mv_issue_reports",
                expected=expected,
                mode=mode,
                response=response,
                gold=gold,
                note=note,
            )
        )
    return cases, excluded


def hendrycks_cases(repo: Repo) -> tuple[list[dict], list[dict]]:
    rel = "modeling/math_equivalence_test.py"
    src = repo.read(rel)
    tree = ast.parse(src)
    cases, excluded = [], []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test_"):
            continue
        env: dict[str, tuple[str, str]] = {}
        for st in fn.body:
            if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name):
                seg = ast.get_source_segment(src, st.value) or ""
                env[st.targets[0].id] = (ast.literal_eval(st.value), seg)
            elif isinstance(st, ast.Expr) and isinstance(st.value, ast.Call):
                meth = getattr(st.value.func, "attr", "")
                if meth not in ("assertTrue", "assertFalse"):
                    continue
                (out, out_seg), (gold, gold_seg) = env["test_in"], env["test_out"]
                repairs = []
                out, n1 = _repair(out, out_seg)
                gold, n2 = _repair(gold, gold_seg)
                # a non-raw "\\\\frac" is the two characters \\ then frac: a doubled backslash
                for s in (out, gold):
                    if re.search(r"\\\\[A-Za-z]", s):
                        repairs.append("doubled backslash before a macro ('\\\\frac') read as one")
                out = re.sub(r"\\\\(?=[A-Za-z])", r"\\", out)
                gold = re.sub(r"\\\\(?=[A-Za-z])", r"\\", gold)
                base = {
                    "source": "hendrycks-math",
                    "source_file": rel,
                    "source_line": st.lineno,
                    "source_commit": repo.commit,
                    "source_test": fn.name,
                }
                expected = meth == "assertTrue"
                if fn.name in HENDRYCKS_EXCLUDE:
                    excluded.append(
                        {**base, "gold": gold, "pred": out, "reason": HENDRYCKS_EXCLUDE[fn.name]}
                    )
                    continue
                c = _case(
                    **base,
                    category="hendrycks_equiv",
                    expected=expected,
                    response=f"The final answer is $\\boxed{{{out.strip()}}}$.",
                    gold=gold.strip(),
                    note=f"hendrycks/math is_equiv test {fn.name} (output boxed)",
                )
                if repairs + n1 + n2:
                    c["repairs"] = sorted(set(repairs + n1 + n2))
                cases.append(c)
    return cases, excluded


def qwen_cases(repo: Repo) -> list[dict]:
    rel = "evaluation/grader.py"
    src = repo.read(rel)
    lines = src.splitlines()
    out = []
    for gold, pred, expected, why in QWEN_PAIRS:
        # locate the pair in the commented test body (source line of the prediction)
        needle = pred.replace("\\", "\\\\")[:30]
        hit = [k + 1 for k, ln in enumerate(lines) if needle in ln]
        if not hit:
            raise SystemExit(f"{rel}: pair not found ({pred[:40]}); update QWEN_PAIRS")
        out.append(
            _case(
                source="qwen2.5-math",
                source_file=rel,
                source_line=hit[0],
                source_commit=repo.commit,
                category="qwen_grader_pairs",
                expected=expected,
                response=f"The final answer is $\\boxed{{{pred}}}$.",
                gold=gold,
                note="a pair from Qwen2.5-Math's _test_math_equal (prediction boxed)",
                comment="label ours (the source prints the result, no expected value): " + why,
            )
        )
    return out


def reward_test_cases(repo: Repo, source: str, rel: str, rows: list) -> list[dict]:
    """Cases from a reward-function test file, each located by a needle on its source line."""
    lines = repo.read(rel).splitlines()
    out = []
    for needle, response, gold, expected, note in rows:
        hit = [k + 1 for k, ln in enumerate(lines) if needle in ln]
        if not hit:
            raise SystemExit(f"{source} {rel}: {needle!r} not found; update the table")
        out.append(
            _case(
                source=source,
                source_file=rel,
                source_line=hit[0],
                source_commit=repo.commit,
                category="rl_reward_tests",
                expected=expected,
                mode="strict",
                response=response,
                gold=gold,
                note=f"{source} {note}",
            )
        )
    return out


# ---------------------------------------------------------------- MATH-500 renderings

INT_RE = re.compile(r"^-?\d+$")
DEC_RE = re.compile(r"^-?\d*\.\d+$")
FRAC_RE = re.compile(r"^(-?)\\[dt]?frac\{?(\d+)\}?\{?(\d+)\}?$")
PCT_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*\\%$")
DEG_RE = re.compile(r"^(-?\d+(?:\.\d+)?)\s*\^\s*\{?\\circ\}?$")
TEXT_RE = re.compile(r"^\\text\{([^{}]+)\}$")
KROOT_RE = re.compile(r"^(\d+)\s*(\\sqrt\{?\d+\}?|\\pi)$")
BASE_RE = re.compile(r"_\{?\d+\}?$")
SEP_INT_RE = re.compile(r"^(\\\$)?(\d{1,3}(?:,(?:\\!)?\s?\d{3})+)$")
UNIT_GOLD_RE = re.compile(r"^(.+?)\s*\\(?:text|mbox|textnormal)\{\s*([a-z ]+?)\s*\}(\^2)?$")
UNIT_SYNONYMS = {
    "inches": ["in", "inch"],
    "cm": ["centimeters"],
    "cents": ["cent"],
    "degrees": ["degree"],
}
HEDGES = [
    "{n} \\text{{ or }} {m}",
    "{n} \\text{{ is not the answer}}",
    "\\text{{at least }} {n}",
    "{n} \\pm 1",
    "\\text{{not }} {n}",
    "{n} \\text{{ or more}}",
    "{n}, {m}",
]
CHOICE_RE = re.compile(r"^\\text\{\(([A-E])\)\}$|^\(([A-E])\)$")


def _split_top(s: str, seps: str) -> list[str]:
    """Splits at top-level characters in ``seps`` (outside braces, parentheses, brackets)."""
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        if ch in seps and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def _terms(s: str) -> list[str] | None:
    """Signed top-level terms of a sum (``6 - 5i`` -> ['+6', '-5i']), or None."""
    bad = ("=", ",", "\\pm", "<", ">", "\\le", "\\ge", "\\cup", "\\text", "\\begin", "&", "\\\\")
    if any(t in s for t in bad):
        return None
    terms, depth, cur = [], 0, ""
    for k, ch in enumerate(s):
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        prev = s[:k].rstrip()
        if (
            ch in "+-"
            and depth == 0
            and prev
            and prev[-1] not in "^_{(*/"
            and not prev.endswith(("\\cdot", "\\times"))
        ):
            terms.append(cur.strip())
            cur = ch
        else:
            cur += ch
    terms.append(cur.strip())
    terms = [t for t in terms if t]
    if len(terms) < 2:
        return None
    return [t if t[0] in "+-" else "+" + t for t in terms]


def _join_terms(terms: list[str]) -> str:
    out = ""
    for k, t in enumerate(terms):
        sign, body = t[0], t[1:].strip()
        if k == 0:
            out = body if sign == "+" else "-" + body
        else:
            out += f" {sign} {body}"
    return out


def _group(n: int, sep: str) -> str:
    s = f"{abs(n):,}".replace(",", sep)
    return ("-" if n < 0 else "") + s


def _interval_kind(g: str, problem: str) -> str | None:
    s = g.replace("\\left", "").replace("\\right", "").strip()
    if "\\cup" in s or "\\infty" in s:
        return "interval"
    if s[:1] in "([" and s[-1:] in ")]" and len(_split_top(s[1:-1], ",")) == 2:
        if s[0] != "(" or s[-1] != ")":
            return "interval"
        if "interval" in problem.lower():
            return "interval"
        return "tuple"
    if s[:1] == "(" and s[-1:] == ")" and len(_split_top(s[1:-1], ",")) >= 2:
        return "tuple"
    return None


def renderings(gold: str, problem: str) -> list[tuple[str, bool, str, str]]:
    """(answer, expected, category, note) for one MATH-500 gold."""
    g = gold.strip()
    out: list[tuple[str, bool, str, str]] = []
    money = "\\$" in problem or "dollar" in problem.lower()

    def pos(a, cat, note):
        out.append((a, True, cat, note))

    def neg(a, cat, note):
        out.append((a, False, cat, note))

    m = UNIT_GOLD_RE.match(g)
    if m:  # a gold with a unit: the bare value, and the unit in other words
        val, unit, sq = m.group(1).strip(), m.group(2).strip(), m.group(3) or ""
        pos(val, "m5_unit_golds", "the value without the gold's unit")
        for alt in UNIT_SYNONYMS.get(unit, []):
            pos(f"{val}\\text{{ {alt}}}{sq}", "m5_unit_golds", f"the unit written as {alt}")
        if unit == "degrees":
            pos(val + "^\\circ", "m5_unit_golds", "degrees as ^\\circ")
        if INT_RE.match(val) or DEC_RE.match(val):
            off = str(Fraction(val) + 1) if INT_RE.match(val) else str(float(val) + 1)
            neg(f"{off}\\text{{ {unit}}}{sq}", "m5_near_miss", "off by one, same unit")
        elif FRAC_RE.match(val):
            fm = FRAC_RE.match(val)
            neg(
                f"\\frac{{{int(fm.group(2)) + 1}}}{{{fm.group(3)}}}\\text{{ {unit}}}",
                "m5_near_miss",
                "numerator off by one, same unit",
            )
        return out
    m = SEP_INT_RE.match(g)
    if m:  # a gold written with thousands separators (10,\!080): its plain digits must verify
        n = int(re.sub(r"\D", "", m.group(2)))
        cur = m.group(1) or ""
        pos(cur + str(n), "m5_thousands", "the plain digits of a gold with separators")
        pos(cur + _group(n, ","), "m5_thousands", "comma separators")
        pos(cur + _group(n, "{,}"), "m5_thousands", "{,} separators")
        neg(cur + _group(n + 1, ",\\!"), "m5_near_miss", "off by one with separators")
        neg(cur + str(n - 1), "m5_near_miss", "off by one (-1)")
        return out
    if INT_RE.match(g):
        n = int(g)
        if abs(n) >= 1000:
            pos(_group(n, ","), "m5_thousands", "comma thousands separators")
            pos(_group(n, "{,}"), "m5_thousands", "{,} thousands separators")
            pos(_group(n, ",\\!"), "m5_thousands", ",\\! thousands separators")
            pos(_group(n, "\\,"), "m5_thousands", "thin-space thousands separators")
            if abs(n) < 10**6:
                pos(_group(n, " "), "m5_thousands", "a space as thousands separator")
        pos(f"{n}.0", "m5_decimal_forms", "an integer written with .0")
        if n != 0 and abs(n) < 10**6:
            pos(f"{n}.00", "m5_decimal_forms", "an integer written with .00")
        pos(f"\\text{{{n}}}", "m5_text_wrapper", "\\text{} around a number")
        pos(f"\\mathbf{{{n}}}", "m5_text_wrapper", "\\mathbf{} around a number")
        unit = "\\text{ dollars}" if money else "\\text{ units}"
        pos(
            f"{n} {unit}" if not money else f"\\${_group(n, ',')}", "m5_units", "a unit or currency"
        )
        if "cm" in problem or "centimeter" in problem:
            pos(f"{n}\\text{{ cm}}", "m5_units", "a cm unit from the problem")
        for h in HEDGES:
            neg(h.format(n=n, m=n + 1), "m5_hedges", "a hedge around the right number")
        neg(str(n + 1), "m5_near_miss", "off by one (+1)")
        neg(str(n - 1), "m5_near_miss", "off by one (-1)")
        if n != 0:
            neg(str(-n), "m5_near_miss", "wrong sign")
        if abs(n) >= 1000:
            neg(_group(n + 1, ","), "m5_near_miss", "off by one with thousands separators")
            d = str(abs(n))
            if len(set(d)) > 1:
                swapped = d[:-2] + d[-1] + d[-2]
                if swapped != d:
                    neg(("-" if n < 0 else "") + swapped, "m5_near_miss", "two digits swapped")
        return out
    if DEC_RE.match(g):
        sign = "-" if g.startswith("-") else ""
        body = g.lstrip("-")
        if body.startswith("0."):
            pos(sign + body[1:], "m5_decimal_forms", "a decimal without its leading 0")
        pos(g + "0", "m5_decimal_forms", "a trailing zero")
        if money:
            pos(sign + "\\$" + body, "m5_units", "a currency sign")
        else:
            pos(f"{g}\\text{{ units}}", "m5_units", "a trailing unit")
        fr = Fraction(g)
        if fr.denominator != 1:
            pos(
                f"{'-' if fr < 0 else ''}\\frac{{{abs(fr.numerator)}}}{{{fr.denominator}}}",
                "m5_fraction_forms",
                "the decimal as a fraction",
            )
        neg(("" if sign else "-") + body, "m5_near_miss", "wrong sign")
        last = int(body[-1])
        neg(sign + body[:-1] + str((last + 1) % 10), "m5_near_miss", "last digit off by one")
        return out
    m = FRAC_RE.match(g)
    if m and "{" in g:
        sign, a, b = m.group(1), int(m.group(2)), int(m.group(3))
        pos(f"{sign}\\dfrac{{{a}}}{{{b}}}", "m5_fraction_forms", "\\dfrac")
        pos(f"{sign}\\tfrac{{{a}}}{{{b}}}", "m5_fraction_forms", "\\tfrac")
        pos(f"{sign}{a}/{b}", "m5_fraction_forms", "a slash fraction")
        if sign:
            pos(f"\\frac{{-{a}}}{{{b}}}", "m5_fraction_forms", "the sign in the numerator")
        pos(f"{sign}\\frac{{{2 * a}}}{{{2 * b}}}", "m5_fraction_forms", "an unreduced fraction")
        if b in (2, 4, 5, 8, 10, 16, 20, 25, 40, 50):
            dec = str(Fraction(a, b).numerator / Fraction(a, b).denominator)
            pos(sign + dec, "m5_decimal_forms", "the exact decimal of the fraction")
            if dec.startswith("0."):
                pos(sign + dec[1:], "m5_decimal_forms", "the exact decimal without its leading 0")
        if a != b:
            neg(f"{sign}\\frac{{{b}}}{{{a}}}", "m5_near_miss", "the reciprocal")
        neg(f"{'' if sign else '-'}\\frac{{{a}}}{{{b}}}", "m5_near_miss", "wrong sign")
        neg(f"{sign}\\frac{{{a + 1}}}{{{b}}}", "m5_near_miss", "numerator off by one")
        return out
    m = PCT_RE.match(g)
    if m:
        v = m.group(1)
        pos(f"{v}\\text{{ percent}}", "m5_percent", "percent as a word")
        pos(f"{v} \\%", "m5_percent", "a space before \\%")
        pos(v, "m5_percent", "the number without the percent sign")
        neg(f"{Fraction(v) + 1}\\%", "m5_near_miss", "off by one percent")
        return out
    m = DEG_RE.match(g)
    if m:
        v = m.group(1)
        pos(f"{v}^{{\\circ}}", "m5_degrees", "degrees with braces")
        pos(v, "m5_degrees", "degrees without the sign")
        pos(f"{v}\\text{{ degrees}}", "m5_degrees", "degrees as a word")
        neg(f"{Fraction(v) + 1}^\\circ", "m5_near_miss", "off by one degree")
        return out
    m = CHOICE_RE.match(g)
    if m:
        letter = m.group(1) or m.group(2)
        pos(f"({letter})", "m5_text_wrapper", "a choice without \\text")
        pos(f"\\text{{{letter}}}", "m5_text_wrapper", "a choice letter in \\text")
        other = "B" if letter != "B" else "C"
        neg(f"({other})", "m5_near_miss", "another choice")
        return out
    m = TEXT_RE.match(g)
    if m:
        word = m.group(1).strip()
        pos(f"\\textbf{{{word}}}", "m5_text_wrapper", "\\textbf instead of \\text")
        pos(f"\\mathrm{{{word}}}", "m5_text_wrapper", "\\mathrm instead of \\text")
        if re.fullmatch(r"[A-Za-z]+", word):
            pos(word, "m5_text_wrapper", "the word without \\text")
            neg(
                f"\\text{{{word}s}}" if not word.endswith("s") else f"\\text{{{word[:-1]}}}",
                "m5_near_miss",
                "another word",
            )
        return out
    m = KROOT_RE.match(g)
    if m:
        k, r = m.group(1), m.group(2)
        if r.startswith("\\sqrt") and "{" not in r:
            r = "\\sqrt{" + r[5:] + "}"
        pos(f"{r} \\cdot {k}", "m5_commuted", "a commuted product")
        pos(
            f"{k}\\,{r}" if r == "\\pi" else f"{k} {r}",
            "m5_commuted",
            "a product with other spacing",
        )
        neg(f"-{k}{r}", "m5_near_miss", "wrong sign")
        neg(f"{int(k) + 1}{r}", "m5_near_miss", "coefficient off by one")
        return out
    if BASE_RE.search(g):
        return out  # base-n numbers: no value-preserving rendering is obvious
    kind = _interval_kind(g, problem)
    if kind:
        s = g.replace("\\left", "").replace("\\right", "").strip()
        if kind == "interval" and "\\cup" not in s:
            inner = _split_top(s[1:-1], ",")
            a, b = inner[0].strip(), inner[1].strip()
            pos(
                f"\\left{s[0]} {a}, {b} \\right{s[-1]}", "m5_intervals", "\\left \\right and spaces"
            )
            if "\\infty" in b and "+" not in b:
                pos(f"{s[0]}{a}, +\\infty{s[-1]}", "m5_intervals", "+\\infty")
            le = {"(": "<", "[": "\\le", ")": "<", "]": "\\le"}
            if "\\infty" not in a and "\\infty" not in b:
                pos(
                    f"{a} {le[s[0]]} x {le[s[-1]]} {b}",
                    "m5_relations",
                    "the interval as an inequality",
                )
                pos(f"x \\in {s}", "m5_relations", "x \\in the interval")
                wrong = "\\le" if s[0] == "(" else "<"
                neg(
                    f"{a} {wrong} x {le[s[-1]]} {b}",
                    "m5_near_miss",
                    "an inequality with one end wrong",
                )
            elif "\\infty" in b and "\\infty" not in a:
                pos(
                    "x " + (">" if s[0] == "(" else "\\ge") + f" {a}",
                    "m5_relations",
                    "a ray as an inequality",
                )
                neg(
                    "x " + ("\\ge" if s[0] == "(" else ">") + f" {a}",
                    "m5_near_miss",
                    "a ray with its end wrong",
                )
            elif "\\infty" in a and "\\infty" not in b:
                pos(
                    "x " + ("<" if s[-1] == ")" else "\\le") + f" {b}",
                    "m5_relations",
                    "a ray as an inequality",
                )
                neg(
                    "x " + (">" if s[-1] == ")" else "\\ge") + f" {b}",
                    "m5_near_miss",
                    "the opposite ray",
                )
            flip = {"(": "[", "[": "(", ")": "]", "]": ")"}
            if "\\infty" not in a and "\\infty" not in b:
                neg(
                    f"{flip[s[0]]}{a}, {b}{flip[s[-1]]}",
                    "m5_near_miss",
                    "swapped interval end types",
                )
            elif "\\infty" not in a:
                neg(f"{flip[s[0]]}{a}, {b}{s[-1]}", "m5_near_miss", "open/closed end swapped")
            elif "\\infty" not in b:
                neg(f"{s[0]}{a}, {b}{flip[s[-1]]}", "m5_near_miss", "open/closed end swapped")
        elif kind == "interval":
            pos(s.replace("\\cup", " \\cup "), "m5_intervals", "spaces around \\cup")
            parts = [p.strip() for p in s.split("\\cup")]
            ends = [_split_top(p[1:-1], ",") for p in parts]
            if (
                len(parts) == 2
                and parts[0].startswith("(-\\infty")
                and parts[1].endswith("\\infty)")
                and parts[0][-1] == ")"
                and parts[1][0] == "("
            ):
                lo, hi = ends[0][1].strip(), ends[1][0].strip()
                pos(
                    f"x < {lo} \\text{{ or }} x > {hi}",
                    "m5_relations",
                    "a union of rays as an or-relation",
                )
                neg(f"x > {lo} \\text{{ or }} x < {hi}", "m5_near_miss", "the complementary rays")
            if len(parts) == 2:
                pos(f"{parts[1]} \\cup {parts[0]}", "m5_intervals", "a commuted union")
                neg(parts[0], "m5_near_miss", "one part of a union")
        else:
            inner = [x.strip() for x in _split_top(s[1:-1], ",")]
            pos(
                "\\left( " + ", ".join(inner) + " \\right)",
                "m5_tuples",
                "\\left( \\right) and spaces",
            )
            pos("(" + ",".join(inner) + ")", "m5_tuples", "no spaces")
            if len(inner) == 2 and inner[0] != inner[1]:
                neg(f"({inner[1]}, {inner[0]})", "m5_near_miss", "swapped tuple entries")
            neg("(" + ", ".join(inner + ["0"]) + ")", "m5_near_miss", "an extra element")
        return out
    items = [x.strip() for x in _split_top(g, ",")]
    if len(items) >= 2 and all(items):
        pos(", ".join(items), "m5_lists", "spaces after commas")
        unordered = "separated by commas" in problem and any(
            w in problem.lower() for w in ("all ", "solutions", "roots", "values")
        )
        if unordered and len(set(items)) == len(items):
            pos(", ".join(reversed(items)), "m5_lists", "the solutions in another order")
        neg(", ".join(items + [str(len(items) + 100)]), "m5_near_miss", "an extra element")
        neg(", ".join(items[:-1]), "m5_near_miss", "a missing element")
        return out
    terms = _terms(g)
    if terms:
        pos(_join_terms(list(reversed(terms))), "m5_commuted", "the terms of a sum reversed")
        pos(_join_terms(terms[1:] + terms[:1]), "m5_commuted", "the terms of a sum rotated")
        flipped = [("-" if t[0] == "+" else "+") + t[1:] for t in terms]
        neg(_join_terms(flipped), "m5_near_miss", "every term's sign flipped (the negation)")
        last = terms[-1]
        neg(
            _join_terms(terms[:-1] + [("-" if last[0] == "+" else "+") + last[1:]]),
            "m5_near_miss",
            "one term's sign flipped",
        )
        return out
    if "\\frac" in g and "\\dfrac" not in g:
        pos(g.replace("\\frac", "\\dfrac"), "m5_fraction_forms", "\\dfrac for \\frac")
    if g and g[0] != "-" and "=" not in g and "," not in g and "\\text" not in g:
        neg(f"-{g}" if not _terms(g) else f"-({g})", "m5_near_miss", "wrong sign")
    return out


def _variable(problem: str) -> str | None:
    """The variable a problem asks for, when it names one (``Find $x$``, ``What is $n$``)."""
    m = re.search(
        r"(?:[Ff]ind|[Cc]ompute|[Ww]hat is|[Dd]etermine|[Ss]olve for) \$([a-z])\$", problem
    )
    return m.group(1) if m else None


def math500_cases(data: Path) -> list[dict]:
    rel = "math500/test.jsonl"
    rows = [json.loads(line) for line in (data / rel).open(encoding="utf-8")]
    for k, r in enumerate(rows):
        r["line"] = k + 1
    return rendering_cases(rows, rel, "math500-renderings")


def math_holdout_cases(data: Path, n: int = 500) -> list[dict]:
    """The same renderings of golds from the rest of the MATH test set (not MATH-500): a held-out
    corpus written to its own file, so that a verifier tuned on the external corpus can be
    measured on golds it was never shown."""
    m500 = {
        json.loads(line)["problem"].strip()
        for line in (data / "math500/test.jsonl").open(encoding="utf-8")
    }
    rel = "math/test.jsonl"
    rows = []
    for k, line in enumerate((data / rel).open(encoding="utf-8")):
        r = json.loads(line)
        if r["problem"].strip() in m500:
            continue
        boxes = [b for b in _boxes(r["solution"]) if b]
        if not boxes:
            continue
        rows.append(
            {
                "answer": boxes[-1],
                "problem": r["problem"],
                "unique_id": f"math/test idx {r.get('idx', k)}",
                "line": k + 1,
            }
        )
    rows = sorted(random.Random(1).sample(rows, min(n, len(rows))), key=lambda r: r["line"])
    return rendering_cases(rows, rel, "math-holdout-renderings")


def rendering_cases(rows: list[dict], rel: str, source: str) -> list[dict]:
    """Renderings, near misses, unboxed, bare and labelled answers of each row's gold."""
    out = []
    for r in rows:
        k = r["line"] - 1
        seen = {r["answer"].strip()}
        for ans, expected, cat, note in renderings(r["answer"], r["problem"]):
            if ans.strip() in seen:
                continue
            seen.add(ans.strip())
            out.append(
                _case(
                    source=source,
                    source_file=rel,
                    source_line=r["line"],
                    source_commit=r["unique_id"],
                    category=cat,
                    expected=expected,
                    response=f"Therefore, the final answer is $\\boxed{{{ans}}}$.",
                    gold=r["answer"],
                    note=note,
                )
            )
    # unboxed final answers in eval mode (the harness-style "Final Answer: ..." line)
    for r in rows:
        rend = renderings(r["answer"], r["problem"])
        misses = [a for a, e, cat, _n in rend if not e and cat == "m5_near_miss"]
        for ans, expected, note in [(r["answer"], True, "the gold itself, unboxed")] + [
            (a, False, "a near miss, unboxed") for a in misses[:1]
        ]:
            out.append(
                _case(
                    source=source,
                    source_file=rel,
                    source_line=r["line"],
                    source_commit=r["unique_id"],
                    category="m5_unboxed",
                    expected=expected,
                    response=f"So we are done. Final Answer: The final answer is ${ans}$. "
                    "I hope it is correct.",
                    gold=r["answer"],
                    note=note,
                )
            )
    # a response that is only the answer (eval), and an answer labelled with its variable
    for r in rows:
        g = r["answer"].strip()
        rend = renderings(g, r["problem"])
        misses = [a for a, e, cat, _n in rend if not e and cat == "m5_near_miss"]
        var = _variable(r["problem"])
        extra = [("m5_bare", f"${g}$", True, "the response is only the answer", "eval")]
        if misses:
            extra.append(("m5_bare", f"${misses[0]}$", False, "only a near miss", "eval"))
        if (
            var
            and "=" not in g
            and "," not in g
            and "\\text" not in g
            and not g.startswith("\\begin")
        ):
            extra.append(
                ("m5_labelled", f"\\boxed{{{var} = {g}}}", True, f"labelled {var} = ...", "strict")
            )
            if misses:
                extra.append(
                    (
                        "m5_labelled",
                        f"\\boxed{{{var} = {misses[0]}}}",
                        False,
                        "a labelled near miss",
                        "strict",
                    )
                )
        tup = re.search(r"\$\(([a-z]),\s*([a-z])\)\$", r["problem"])
        if tup and _interval_kind(g, r["problem"]) == "tuple":
            pair = f"({tup.group(1)}, {tup.group(2)})"
            extra.append(
                (
                    "m5_labelled",
                    f"\\boxed{{{pair} = {g}}}",
                    True,
                    "a labelled ordered pair",
                    "strict",
                )
            )
        for cat, resp, expected, note, mode in extra:
            out.append(
                _case(
                    source=source,
                    source_file=rel,
                    source_line=r["line"],
                    source_commit=r["unique_id"],
                    category=cat,
                    expected=expected,
                    mode=mode,
                    response=resp if resp.startswith("$") else f"Hence {resp}.",
                    gold=r["answer"],
                    note=note,
                )
            )
    # integer golds are most of MATH-500: cap each category so one family does not swamp the
    # rest (a seeded sample, in source order)
    by_cat: dict[str, list[int]] = {}
    for k, c in enumerate(out):
        by_cat.setdefault(c["category"], []).append(k)
    rng = random.Random(0)
    keep = set()
    for cat, ks in by_cat.items():
        cap = M5_CAP.get(cat, M5_CAP_DEFAULT)
        keep |= set(ks if len(ks) <= cap else rng.sample(ks, cap))
    return [c for k, c in enumerate(out) if k in keep]


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--math-verify", help="Math-Verify checkout or git dir (default: the mirror)")
    ap.add_argument("--hendrycks", help="hendrycks/math checkout or git dir")
    ap.add_argument("--qwen", help="QwenLM/Qwen2.5-Math checkout or git dir")
    ap.add_argument("--rllm", help="rllm-org/rllm checkout or git dir")
    ap.add_argument("--open-r1", help="huggingface/open-r1 checkout or git dir")
    ap.add_argument("--data-dir", default=os.environ.get("RLSP_DATA_DIR"), help="dataset dir")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument(
        "--holdout",
        action="store_true",
        help=f"also write the held-out corpus {OUT_HOLDOUT.name} (renderings of 500 MATH golds "
        "outside MATH-500)",
    )
    args = ap.parse_args(argv)
    if not args.data_dir:
        ap.error("set RLSP_DATA_DIR or pass --data-dir (MATH-500 is read from it)")
    data = Path(args.data_dir)
    if not (data / "math500" / "test.jsonl").exists():
        ap.error(f"{data}/math500/test.jsonl not found")
    cases: list[dict] = []
    excluded: list[dict] = []
    mv = _repo(args.math_verify, "huggingface+Math-Verify", "Math-Verify")
    if mv is None:
        ap.error(
            "Math-Verify's repository is required (git clone https://github.com/huggingface/Math-Verify)"
        )
    c, e = math_verify_cases(mv)
    cases += c
    excluded += e
    hd = _repo(args.hendrycks, "hendrycks+math", "hendrycks/math")
    if hd is not None:
        c, e = hendrycks_cases(hd)
        cases += c
        excluded += e
    qw = _repo(args.qwen, "QwenLM+Qwen2.5-Math", "Qwen2.5-Math")
    if qw is not None:
        cases += qwen_cases(qw)
    for name, mirror, source, rel, rows in (
        (args.rllm, "rllm-org+rllm", "rllm", "tests/rewards/test_math_reward.py", RLLM_ROWS),
        (args.open_r1, "huggingface+open-r1", "open-r1", "tests/test_rewards.py", OPEN_R1_ROWS),
    ):
        r = _repo(name, mirror, source)
        if r is not None:
            cases += reward_test_cases(r, source, rel, rows)
    cases += math500_cases(data)
    for k, c in enumerate(cases):
        c["id"] = k
    order = [
        "id",
        "source",
        "category",
        "kind",
        "expected",
        "mode",
        "answer_policy",
        "gold",
        "response",
        "note",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as f:
        for c in cases:
            row = {k: c[k] for k in order} | {k: v for k, v in c.items() if k not in order}
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    excl_path = args.out.with_name(OUT_EXCLUDED.name) if args.out != OUT else OUT_EXCLUDED
    with excl_path.open("w", encoding="utf-8") as f:
        for e in excluded:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
    if args.holdout:
        hold = math_holdout_cases(data)
        with OUT_HOLDOUT.open("w", encoding="utf-8") as f:
            for k, c in enumerate(hold):
                c["id"] = k
                row = {k2: c[k2] for k2 in order} | {
                    k2: v for k2, v in c.items() if k2 not in order
                }
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"[build] held-out corpus: {len(hold)} cases -> {OUT_HOLDOUT}")
    by_src = Counter((c["source"], c["kind"]) for c in cases)
    print(f"[build] {len(cases)} cases -> {args.out}; {len(excluded)} excluded -> {excl_path}")
    for (src, kind), n in sorted(by_src.items()):
        print(f"  {src:20s} {kind}: {n}")
    fixed = [c for c in cases if "label fixed" in c.get("comment", "")]
    print(f"  labels fixed: {len(fixed)}; repaired strings: {sum('repairs' in c for c in cases)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
