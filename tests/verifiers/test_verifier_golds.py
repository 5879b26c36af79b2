"""Gold self-consistency: every gold answer of every dataset in ``$RLSP_DATA_DIR``, boxed, verifies
against itself (100%), and every gold is read by the parser except the explained few below.

Gold fields: math500 ``answer``; math ``solution`` (last box); gsm8k after ``####``; aime24
``answer``; amc23 ``answer``; minerva ``solution`` (last box); olympiadbench ``final_answer`` (a
list, joined with ", ").
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rlsp_verifiers import verify
from rlsp_verifiers.compare import Deadline, _Ctx, _equal
from rlsp_verifiers.extract import extract_boxes
from rlsp_verifiers.normalize import normalize, split_percent
from rlsp_verifiers.parse import ParseError, parse, plain

DATA = os.environ.get("RLSP_DATA_DIR")
pytestmark = pytest.mark.skipif(not DATA, reason="RLSP_DATA_DIR is not set (see docs/verifier.md)")

DATASETS = {
    "math500": ("math500/test.jsonl", "answer"),
    "math": ("math/test.jsonl", "solution"),
    "gsm8k": ("gsm8k/test.jsonl", "answer"),
    "aime24": ("aime24/test.jsonl", "answer"),
    "amc23": ("amc23/test.jsonl", "answer"),
    "minerva_math": ("minerva_math/test.jsonl", "solution"),
    "olympiadbench": ("olympiadbench/test.jsonl", "final_answer"),
}

#: Golds the parser does not read as math, each compared as text only (still 100% self-match).
UNREAD = {
    "3:1": "a ratio: ':' is not read (compared as text)",
    "1:2": "a ratio",
    "1:1": "a ratio",
    "\\text{1:03 PM}": "a clock time",
    "\\text{4:30 p.m.}": "a clock time",
    "0.0011_{2}": "a base-2 fraction: only integer base-n numbers are read",
    "np.arcsin(10/13)": "Python code as a Minerva gold",
    "$t(0,4]$": "an OlympiadBench gold with a stray variable before an interval",
    "\\text{June 20}": "a date: compared as text",
}


def gold_answers(name: str) -> list[str]:
    rel, field = DATASETS[name]
    path = Path(DATA or "") / rel
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            v = row[field]
            if name in ("math", "minerva_math"):
                boxes = [b for b in extract_boxes(v) if b is not None]
                assert boxes, f"{name}: a solution without a box"
                v = boxes[-1]
            elif name == "gsm8k":
                v = v.split("####")[-1].strip()
            elif name == "olympiadbench":
                v = ", ".join(v)
            out.append(str(v))
    return out


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_gold_verifies_against_itself(name: str) -> None:
    golds = gold_answers(name)
    assert golds
    bad = [g for g in golds if not verify("\\boxed{" + g + "}", g, timeout_s=10).correct]
    assert bad == [], bad[:10]


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_gold_is_read_or_explained(name: str) -> None:
    """Beyond text equality: each gold parses, and its value equals itself structurally."""
    unread, unequal = [], []
    for g in set(gold_answers(name)):
        try:
            value = plain(parse(split_percent(normalize(g))[0]))
        except ParseError:
            if g not in UNREAD:
                unread.append(g)
            continue
        d = _equal(value, value, _Ctx(Deadline(10), "strict"))
        if not d.equal:
            unequal.append((g, d.reason))
    assert unread == [], unread[:10]
    assert unequal == [], unequal[:10]


def test_gold_renderings_verify() -> None:
    """Re-rendered MATH-500 golds (dfrac, spacing, delimiters, \\left/\\right) still verify."""
    failures = []
    for g in gold_answers("math500"):
        r = g.replace("\\frac", "\\dfrac").replace("(", "\\left(").replace(")", "\\right)")
        r = f"$ {r} $"
        if not verify("The answer is \\boxed{" + r + "}.", g, timeout_s=10).correct:
            failures.append((r, g))
    assert failures == [], failures[:10]


def _rows(rel: str) -> list[dict]:
    with open(Path(DATA or "") / rel, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_reference_solutions_verify() -> None:
    """Real worked solutions as responses: MATH-500 (strict) and AIME 2024 (eval mode)."""
    bad = [
        r["unique_id"]
        for r in _rows("math500/test.jsonl")
        if not verify(r["solution"], r["answer"]).correct
    ]
    assert bad == []
    bad = [
        r["id"]
        for r in _rows("aime24/test.jsonl")
        if not verify(r["solution"], str(r["answer"]), mode="eval").correct
    ]
    assert bad == []


def test_full_math_solutions_with_intermediate_boxes_are_the_only_rejections() -> None:
    """Of the 5,000 MATH reference solutions, the few rejected box several different values (the
    strict multiple-answer policy), never anything else."""
    reasons = []
    for r in _rows("math/test.jsonl"):
        boxes = [b for b in extract_boxes(r["solution"]) if b]
        v = verify(r["solution"], boxes[-1])
        if not v.correct:
            reasons.append(v.reason)
    assert set(reasons) <= {"multiple_answers"}
    assert len(reasons) < 30
