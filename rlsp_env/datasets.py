"""Per-dataset loaders: the raw rows of :mod:`rlsp_env.data` normalised into :class:`Problem` records.

Every source names its fields differently (``problem`` / ``question``, ``answer`` / ``final_answer``
/ the last ``\\boxed{}`` of ``solution`` / ``#### 18``); this module turns each into one record:
id, problem text, gold answer, worked solution (when the source has one), subject and level.
:mod:`rlsp_env.data` stays the only module that knows where the files are.

Example:
    >>> problems = load_problems("math500")  # doctest: +SKIP
    >>> problems[0].answer  # doctest: +SKIP
    '\\left( 3, \\frac{\\pi}{2} \\right)'
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from rlsp_env import data
from rlsp_env.problem import Problem

__all__ = [
    "DATASET_LOADERS",
    "filter_problems",
    "load_problems",
]


def _level(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        m = re.search(r"\d+", value)
        return int(m.group(0)) if m else None
    return None


def _number_text(value: Any) -> str:
    """27.0 -> '27'; 0.5 -> '0.5'; strings pass through stripped."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _strip_dollars(s: str) -> str:
    return s.replace("$", "").strip()


def _need(row: dict[str, Any], key: str, name: str, i: int) -> Any:
    if key not in row or row[key] is None:
        raise ValueError(f"{name} row {i}: missing field {key!r} (fields: {sorted(row)})")
    return row[key]


def _with_final_answer(solution: Any, gold: str) -> str | None:
    """A source solution that ends without any box gets the line ``The final answer is \\boxed{gold}``
    (OlympiadBench and some AIME solutions), so every worked solution is usable as an SFT target."""
    if solution is None:
        return None
    text = str(solution).rstrip()
    if _final_box(text) is None:
        text = f"{text}\n\nThe final answer is \\boxed{{{gold}}}"
    return text


def _load_math500(rows: list[dict[str, Any]]) -> list[Problem]:
    out = []
    for i, r in enumerate(rows):
        uid = str(r.get("unique_id", i))
        out.append(
            Problem(
                id=f"math500/{uid}",
                problem=_need(r, "problem", "math500", i),
                answer=str(_need(r, "answer", "math500", i)).strip(),
                solution=r.get("solution"),
                subject=r.get("subject"),
                level=_level(r.get("level")),
                source="math500",
                meta={"unique_id": uid, "index": i},
            )
        )
    return out


def _final_box(text: str) -> str | None:
    """The last complete box of a solution, by the verifier's box grammar (``None``: none)."""
    from rlsp_verifiers.extract import extract_boxes

    boxes = [b.strip() for b in extract_boxes(text) if b is not None]
    return boxes[-1] if boxes else None


def _boxed_gold(solution: str, name: str, i: int) -> str:
    gold = _final_box(solution)
    if gold is None:
        raise ValueError(f"{name} row {i}: no \\boxed{{}} answer in its solution")
    return gold


@functools.cache
def _math500_problem_texts(data_dir: str | None) -> frozenset[str]:
    rows = data.read_rows("math500", data_dir=data_dir)
    return frozenset(" ".join(r["problem"].split()) for r in rows)


def _load_math(rows: list[dict[str, Any]], data_dir: str | None = None) -> list[Problem]:
    """MATH minus the MATH-500 rows (the usual RL training complement)."""
    try:
        held_out = _math500_problem_texts(data_dir)
    except (data.DataNotFoundError, ValueError):
        held_out = frozenset()
    out = []
    for i, r in enumerate(rows):
        text = _need(r, "problem", "math", i)
        if " ".join(text.split()) in held_out:
            continue
        solution = _need(r, "solution", "math", i)
        idx = r.get("idx", i)
        split = r.get("_hub_split", "test")  # Hub users also get the MATH train split
        out.append(
            Problem(
                id=f"math/{split}/{idx}",
                problem=text,
                answer=_boxed_gold(solution, "math", i),
                solution=solution,
                subject=r.get("type"),
                level=_level(r.get("level")),
                source="math",
                meta={"index": idx, "split": split},
            )
        )
    return out


_CALC_RE = re.compile(r"<<[^<>]*>>")


def _load_gsm8k(rows: list[dict[str, Any]]) -> list[Problem]:
    out = []
    for i, r in enumerate(rows):
        raw = str(_need(r, "answer", "gsm8k", i))
        if "####" not in raw:
            raise ValueError(f"gsm8k row {i}: answer has no '#### <number>' line")
        reasoning, _, final = raw.rpartition("####")
        gold = final.strip().replace(",", "")
        reasoning = _CALC_RE.sub("", reasoning).strip()
        idx = r.get("idx", i)
        out.append(
            Problem(
                id=f"gsm8k/test/{idx}",
                problem=_need(r, "question", "gsm8k", i),
                answer=gold,
                solution=f"{reasoning}\nThe final answer is \\boxed{{{gold}}}",
                subject="grade school math",
                level=None,
                source="gsm8k",
                meta={"index": idx},
            )
        )
    return out


def _competition_loader(name: str) -> Callable[[list[dict[str, Any]]], list[Problem]]:
    """The loader of a competition set (AIME, AMC): numeric answers, solutions where given."""

    def load(rows: list[dict[str, Any]]) -> list[Problem]:
        out = []
        for i, r in enumerate(rows):
            answer = _number_text(_need(r, "answer", name, i))
            out.append(
                Problem(
                    id=f"{name}/{r.get('id', i)}",
                    problem=r.get("problem") or _need(r, "question", name, i),
                    answer=answer,
                    solution=_with_final_answer(r.get("solution"), answer),
                    subject="competition",
                    level=None,
                    source=name,
                    meta={"url": r.get("url"), "index": i},
                )
            )
        return out

    return load


def _load_minerva(rows: list[dict[str, Any]]) -> list[Problem]:
    out = []
    for i, r in enumerate(rows):
        solution = _need(r, "solution", "minerva_math", i)
        idx = r.get("idx", i)
        out.append(
            Problem(
                id=f"minerva_math/{idx}",
                problem=_need(r, "problem", "minerva_math", i),
                answer=_boxed_gold(solution, "minerva_math", i),
                solution=solution,
                subject=r.get("type"),
                level=None,
                source="minerva_math",
                meta={"index": idx},
            )
        )
    return out


def _load_olympiadbench(rows: list[dict[str, Any]]) -> list[Problem]:
    out = []
    for i, r in enumerate(rows):
        final = _need(r, "final_answer", "olympiadbench", i)
        parts = final if isinstance(final, list) else [final]
        gold = ", ".join(_strip_dollars(str(p)) for p in parts)
        text = _need(r, "question", "olympiadbench", i)
        if r.get("context"):
            text = f"{r['context']}\n\n{text}"
        sol = r.get("solution")
        if isinstance(sol, list):
            sol = "\n\n".join(str(s) for s in sol)
        out.append(
            Problem(
                id=f"olympiadbench/{r.get('id', i)}",
                problem=text,
                answer=gold,
                solution=_with_final_answer(sol, gold),
                subject=r.get("subfield"),
                level=None,
                source="olympiadbench",
                meta={
                    "unit": r.get("unit"),
                    "answer_type": r.get("answer_type"),
                    "is_multiple_answer": r.get("is_multiple_answer"),
                    "index": i,
                },
            )
        )
    return out


#: dataset name -> normaliser of its raw rows
DATASET_LOADERS: dict[str, Callable[..., list[Problem]]] = {
    "math500": _load_math500,
    "math": _load_math,
    "gsm8k": _load_gsm8k,
    "aime24": _competition_loader("aime24"),
    "amc23": _competition_loader("amc23"),
    "minerva_math": _load_minerva,
    "olympiadbench": _load_olympiadbench,
}


@functools.lru_cache(maxsize=32)
def _load_cached(name: str, data_dir: str | None) -> tuple[Problem, ...]:
    rows = data.read_rows(name, data_dir=data_dir)
    loader = DATASET_LOADERS[name]
    problems = loader(rows, data_dir) if name == "math" else loader(rows)
    return tuple(problems)


def load_problems(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    levels: Iterable[int] | None = None,
    subjects: Iterable[str] | None = None,
) -> list[Problem]:
    """Loads dataset ``name`` as normalised problems, optionally filtered by level and subject.

    Args:
        name: one of :data:`DATASET_LOADERS` (``"math500"``, ``"math"``, ``"gsm8k"``, ``"aime24"``,
            ``"amc23"``, ``"minerva_math"``, ``"olympiadbench"``).
        data_dir: local data folder (default ``$RLSP_DATA_DIR``, then the Hub; see :mod:`rlsp_env.data`).
        levels: keep only these levels (MATH 1-5).
        subjects: keep only these subjects (case-insensitive; MATH ``"Algebra"``, ...).

    Returns:
        The problems in source order (cached per process; the list is a fresh copy).

    Raises:
        KeyError: unknown dataset.
        ValueError: a filter removes every problem, or a row lacks its gold answer.
        rlsp_env.data.DataNotFoundError: the data is not available.

    Example:
        >>> ps = load_problems("math500", levels=[1], subjects=["algebra"])  # doctest: +SKIP
        >>> {p.level for p in ps}  # doctest: +SKIP
        {1}
    """
    if name not in DATASET_LOADERS:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(DATASET_LOADERS)}")
    key = None if data_dir is None else str(data_dir)
    if key is None:
        env_dir = os.environ.get(data.ENV_VAR) or None
        key = env_dir
    problems = list(_load_cached(name, key))
    return filter_problems(problems, levels=levels, subjects=subjects, source=name)


def filter_problems(
    problems: Sequence[Problem],
    *,
    levels: Iterable[int] | None = None,
    subjects: Iterable[str] | None = None,
    source: str = "problems",
) -> list[Problem]:
    """Keeps the problems whose level is in ``levels`` and subject in ``subjects`` (case-insensitive).

    Raises:
        ValueError: when the filters leave nothing (the message lists what exists).

    Example:
        >>> ps = [Problem("a", "1+1", "2", level=1, subject="Algebra"), Problem("b", "x", "1", level=3)]
        >>> [p.id for p in filter_problems(ps, levels=[1])]
        ['a']
    """
    out = list(problems)
    if levels is not None:
        wanted = {int(lv) for lv in ([levels] if isinstance(levels, int) else levels)}
        out = [p for p in out if p.level in wanted]
        if not out:
            have = sorted({p.level for p in problems if p.level is not None})
            raise ValueError(
                f"{source}: no problem has a level in {sorted(wanted)}; levels: {have}"
            )
    if subjects is not None:
        wanted_s = {s.lower() for s in ([subjects] if isinstance(subjects, str) else subjects)}
        before = out
        out = [p for p in out if (p.subject or "").lower() in wanted_s]
        if not out:
            have_s = sorted({p.subject for p in before if p.subject})
            raise ValueError(
                f"{source}: no problem has a subject in {sorted(wanted_s)}; subjects: {have_s}"
            )
    return out
