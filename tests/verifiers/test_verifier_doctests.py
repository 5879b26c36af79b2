"""The runnable examples in rlsp_verifiers' docstrings stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "rlsp_verifiers",
    "rlsp_verifiers.api",
    "rlsp_verifiers.compare",
    "rlsp_verifiers.extract",
    "rlsp_verifiers.normalize",
    "rlsp_verifiers.parse",
    "rlsp_verifiers.pool",
    "rlsp_verifiers.verdict",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
