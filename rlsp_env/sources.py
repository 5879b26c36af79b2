"""Problem sources: where an environment's problems come from (a dataset, a procedural family or a
list), behind one indexable interface.

Example:
    >>> src = ProceduralSource("arithmetic", difficulty=1, split="test", num_problems=10)
    >>> len(src), src.get(0).meta["split"]
    (10, 'test')
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence

from rlsp_env.datasets import load_problems
from rlsp_env.problem import Problem, content_hash
from rlsp_env.procedural import FAMILIES, TEST_FRACTION_PERCENT, generate_problem

__all__ = ["DatasetSource", "ListSource", "ProblemSource", "ProceduralSource", "UNBOUNDED"]

#: index space of an unbounded procedural stream
UNBOUNDED = 2**31 - 1


class ProblemSource:
    """An indexable collection of problems. ``len()`` is the number of distinct indices."""

    name: str = "problems"
    #: what a plain-number gold accepts (:data:`rlsp_env.spec.ANSWER_POLICIES`): datasets and lists
    #: accept any exact closed form; procedural families declare theirs
    answer_policy: str = "closed_form"

    def __len__(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def get(self, index: int) -> Problem:  # pragma: no cover - abstract
        """Returns problem ``index`` (``0 <= index < len(self)``)."""
        raise NotImplementedError

    def _check_index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            try:
                import numpy as np

                if isinstance(index, np.integer):
                    index = int(index)
                else:
                    raise TypeError
            except TypeError:
                raise TypeError(
                    f"problem index must be an int, got {type(index).__name__}"
                ) from None
        if not 0 <= index < len(self):
            raise IndexError(f"{self.name}: problem index {index} out of range [0, {len(self)})")
        return index


def _split_of_problem(p: Problem) -> str:
    h = int(content_hash("split", p.source, " ".join(p.problem.split()))[:8], 16)
    return "test" if h % 100 < TEST_FRACTION_PERCENT else "train"


class ListSource(ProblemSource):
    """A fixed list of problems (your own set)."""

    def __init__(self, problems: Sequence[Problem], name: str = "problems") -> None:
        probs = list(problems)
        if not probs:
            raise ValueError("a problem list must not be empty")
        for p in probs:
            if not isinstance(p, Problem):
                raise TypeError(
                    f"problems must be rlsp_env.Problem objects, got {type(p).__name__}"
                )
        self.problems = probs
        self.name = name

    def __len__(self) -> int:
        return len(self.problems)

    def get(self, index: int) -> Problem:
        return self.problems[self._check_index(index)]


class DatasetSource(ListSource):
    """A dataset loaded through :func:`rlsp_env.datasets.load_problems`.

    Args:
        dataset: dataset name (``"math500"``, ...).
        split: ``"all"`` (default), or ``"train"`` / ``"test"``: a content-hash partition (80/20)
            for holding out part of a dataset.
        levels, subjects: filters.
        data_dir: local data folder.
    """

    def __init__(
        self,
        dataset: str,
        *,
        split: str = "all",
        levels: Iterable[int] | int | None = None,
        subjects: Iterable[str] | str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if split not in ("all", "train", "test"):
            raise ValueError(f"split must be 'all', 'train' or 'test', got {split!r}")
        probs = load_problems(dataset, data_dir=data_dir, levels=levels, subjects=subjects)
        if split != "all":
            probs = [p for p in probs if _split_of_problem(p) == split]
            if not probs:
                raise ValueError(f"{dataset}: the {split!r} split is empty after filtering")
        super().__init__(probs, name=dataset)
        self.split = split


class ProceduralSource(ProblemSource):
    """A procedural family's stream (:func:`rlsp_env.procedural.generate_problem`).

    Args:
        family: a key of :data:`rlsp_env.procedural.FAMILIES`.
        difficulty: 1 to 5.
        split: ``"train"`` (default) or ``"test"`` (disjoint by content), or ``"all"``.
        seed: the stream's seed.
        num_problems: a finite number of indices (``None``: unbounded, 2**31 - 1).
    """

    def __init__(
        self,
        family: str,
        *,
        difficulty: int = 1,
        split: str = "train",
        seed: int = 0,
        num_problems: int | None = None,
    ) -> None:
        if family not in FAMILIES:
            raise KeyError(f"unknown procedural family {family!r}; known: {sorted(FAMILIES)}")
        if num_problems is not None and (isinstance(num_problems, bool) or int(num_problems) < 1):
            raise ValueError(f"num_problems must be a positive int or None, got {num_problems!r}")
        generate_problem(family, 0, difficulty=difficulty, split=split, seed=seed)  # validates
        self.family = family
        self.name = family
        self.answer_policy = FAMILIES[family].answer_policy
        self.difficulty = int(difficulty)
        self.split = split
        self.seed = int(seed)
        self.num_problems = None if num_problems is None else int(num_problems)
        self._get = functools.lru_cache(maxsize=4096)(self._generate)

    def __len__(self) -> int:
        return UNBOUNDED if self.num_problems is None else self.num_problems

    def _generate(self, index: int) -> Problem:
        return generate_problem(
            self.family, index, difficulty=self.difficulty, split=self.split, seed=self.seed
        )

    def get(self, index: int) -> Problem:
        return self._get(self._check_index(index))
