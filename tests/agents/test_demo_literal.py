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
