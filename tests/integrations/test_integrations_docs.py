"""The integration pages show the example files verbatim (the files the other tests run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs" / "integrations"
BLOCK = re.compile(r"<!-- example: (\S+) -->\n```python\n(.*?)```", re.S)


@pytest.mark.parametrize("page", ["trl.md", "verl.md", "server.md"])
def test_pages_embed_the_tested_examples_verbatim(page):
    text = (DOCS / page).read_text()
    blocks = BLOCK.findall(text)
    assert blocks, f"{page} embeds no tested example"
    for rel, code in blocks:
        path = DOCS / rel
        assert path.is_file(), f"{page} names {rel}, which does not exist"
        assert code == path.read_text(), f"{page}: the block of {rel} is out of date"


def test_every_example_is_run_by_a_test():
    tests = "".join(p.read_text() for p in Path(__file__).parent.glob("test_integrations_*.py"))
    for example in (DOCS / "examples").glob("*.py"):
        assert example.name in tests, f"{example.name} is not run by any test"
