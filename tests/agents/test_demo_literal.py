"""The main job's literal metric: which boxed answers state the gold number (string reading)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("boxed", "gold", "form"),
    [
        ("118", "118", "bare"),
        ("$118$", 118, "bare"),
        ("29 + 89 = 118", "118", "chain"),
        ("x = 29 + 89 = 118", "118", "chain"),
        ("29 + 89", "118", None),  # the problem restated, unevaluated
        ("118 = 29 + 89", "118", None),  # the last link is the sum
        ("29 + 89 = 1180", "118", None),
        ("= 118", "118", None),  # an empty link
        ("118.0", "118", None),
        ("", "118", None),
        (None, "118", None),
    ],
)
def test_literal_form(boxed: str | None, gold: object, form: str | None) -> None:
    from rlsp_agents.evaluate import literal_form

    assert literal_form(boxed, gold) == form


def test_literal_accuracy_counts_verified_literal_completions() -> None:
    from rlsp_agents.evaluate import ProblemRecord, literal_accuracy, literal_correct

    def rec(gold: str, correct: list[bool], extracted: list[str | None]) -> ProblemRecord:
        n = len(correct)
        return ProblemRecord(
            index=0,
            problem_id="p",
            level=-1,
            subject="",
            gold=gold,
            correct=correct,
            extracted=extracted,
            reasons=[""] * n,
            num_tokens=[1] * n,
            finish_reasons=["stop"] * n,
            rewards=[{}] * n,
            texts=[""] * n,
        )

    a = rec("118", [True, True, False, True], ["118", "29 + 89", "118", "29 + 89 = 118"])
    b = rec("7", [False, True], [None, "7"])
    # "29 + 89" is refused even when marked correct; "118" marked wrong is not counted
    assert literal_correct(a) == [True, False, False, True]
    assert literal_correct(b) == [False, True]
    assert literal_accuracy([a, b]) == pytest.approx(3 / 6)
    assert literal_accuracy([]) == 0.0
