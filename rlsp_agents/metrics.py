"""Metrics as JSON lines with namespaced names (``reward/correctness``, ``losses/policy``, ...).

One line per iteration: ``{"step": 3, "reward/correctness": 0.41, ...}``. Every name is documented
in ``docs/agent.md``. On resume the file is cut back to the checkpoint's step, so a killed run
never leaves duplicated or orphaned steps.

Example:
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> log = MetricsLog(os.path.join(d, "m.jsonl"))
    >>> log.write({"step": 1, "losses/policy": 0.5})
    >>> read_metrics(os.path.join(d, "m.jsonl"))[0]["losses/policy"]
    0.5
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

__all__ = ["MetricsLog", "MetricsFileError", "read_metrics", "BEHAVIOUR_CHANNELS"]

#: Channels that count behaviours rather than reward; logged as ``behaviour/<name>``.
BEHAVIOUR_CHANNELS = ("backtracking", "verification", "alternatives")


class MetricsFileError(ValueError):
    """A metrics file with a damaged line (not a torn last line): named by path and line."""


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


class MetricsLog:
    """Appends one JSON object per line; flushed after every write.

    Args:
        path: the JSONL file.
        truncate_after_step: when resuming, drop existing lines whose ``step`` is greater.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, truncate_after_step: int | None = None
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if truncate_after_step is not None and self.path.exists():
            kept = [
                r for r in read_metrics(self.path) if int(r.get("step", 0)) <= truncate_after_step
            ]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
            os.replace(tmp, self.path)
        elif truncate_after_step is None and self.path.exists():
            self.path.unlink()

    def write(self, row: dict[str, Any]) -> None:
        """Appends ``row`` (non-finite floats become null)."""
        clean = {k: _clean(v) for k, v in row.items()}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(clean) + "\n")
            f.flush()


def read_metrics(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All rows of a metrics file (``[]`` if there is none).

    A torn last line (the run killed mid-write) is skipped; any other line that is not a JSON
    object means the file was damaged, and that is an error rather than a silently missing
    iteration.

    Raises:
        MetricsFileError: (a ``ValueError``) a line other than the last is not a JSON object;
            the message names the file and the line.
    """
    p = Path(path)
    if not p.exists():
        return []
    numbered = [
        (i, line)
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip()
    ]
    rows = []
    for k, (i, line) in enumerate(numbered):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            if k == len(numbered) - 1:
                break  # torn by a kill mid-write
            raise MetricsFileError(
                f"{p}:{i} is not JSON ({e}): the metrics file is damaged"
            ) from None
        if not isinstance(row, dict):
            raise MetricsFileError(f"{p}:{i} is not a JSON object: the metrics file is damaged")
        rows.append(row)
    return rows
