"""Where the reference datasets live. The only module that knows the on-disk layout.

Resolution order for a dataset:

1. an explicit ``data_dir`` argument;
2. the ``RLSP_DATA_DIR`` environment variable;
3. the Hugging Face Hub through the ``datasets`` package (``pip install datasets``).

The local layout is one folder per dataset with a ``test.jsonl`` inside (see :data:`DATASETS`).
Files whose bytes are known (MATH-500) are checked by sha256.

Example:
    >>> import os
    >>> rows = read_rows("math500", data_dir=os.environ.get("RLSP_DATA_DIR"))  # doctest: +SKIP
    >>> rows[0]["answer"]  # doctest: +SKIP
    '\\left( 3, \\frac{\\pi}{2} \\right)'
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DATASETS", "DatasetInfo", "DataNotFoundError", "read_rows", "resolve_data_dir"]

ENV_VAR = "RLSP_DATA_DIR"


@dataclass(frozen=True)
class DatasetInfo:
    """Where one dataset lives locally and on the Hub."""

    name: str
    relpath: str
    hub_id: str
    hub_config: str | None = None
    hub_split: str = "test"
    sha256: str | None = None
    #: extra Hub splits to append (``MATH`` train is only on the Hub)
    extra_hub_splits: tuple[str, ...] = ()
    #: Hub configs to concatenate when the dataset is split into configs (MATH: one per subject)
    hub_configs: tuple[str, ...] = ()


DATASETS: dict[str, DatasetInfo] = {
    "math500": DatasetInfo(
        "math500",
        "math500/test.jsonl",
        "HuggingFaceH4/MATH-500",
        sha256="35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
    ),
    "math": DatasetInfo(
        "math",
        "math/test.jsonl",
        "EleutherAI/hendrycks_math",
        extra_hub_splits=("train",),
        hub_configs=(
            "algebra",
            "counting_and_probability",
            "geometry",
            "intermediate_algebra",
            "number_theory",
            "prealgebra",
            "precalculus",
        ),
    ),
    "gsm8k": DatasetInfo("gsm8k", "gsm8k/test.jsonl", "openai/gsm8k", hub_config="main"),
    "aime24": DatasetInfo(
        "aime24", "aime24/test.jsonl", "HuggingFaceH4/aime_2024", hub_split="train"
    ),
    "amc23": DatasetInfo("amc23", "amc23/test.jsonl", "math-ai/amc23"),
    "minerva_math": DatasetInfo("minerva_math", "minerva_math/test.jsonl", "math-ai/minervamath"),
    "olympiadbench": DatasetInfo(
        "olympiadbench", "olympiadbench/test.jsonl", "Hothan/OlympiadBench", hub_split="train"
    ),
}


class DataNotFoundError(FileNotFoundError):
    """A dataset is neither in a local data directory nor reachable on the Hub."""


def resolve_data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Returns the local data directory to use, or ``None`` if neither argument nor env var is set.

    Raises:
        DataNotFoundError: if a directory was named but does not exist.
    """
    chosen = data_dir if data_dir is not None else os.environ.get(ENV_VAR) or None
    if chosen is None:
        return None
    path = Path(chosen).expanduser()
    if not path.is_dir():
        source = "data_dir argument" if data_dir is not None else f"${ENV_VAR}"
        raise DataNotFoundError(f"{source} points at {str(path)!r}, which is not a directory.")
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
    return rows


def _from_hub(info: DatasetInfo) -> list[dict[str, Any]]:
    try:
        import datasets  # type: ignore[import-not-found]
    except ImportError as e:
        raise DataNotFoundError(
            _missing_message(info, hub_error="the `datasets` package is not installed")
        ) from e
    try:
        splits = (info.hub_split, *info.extra_hub_splits)
        configs = info.hub_configs or (info.hub_config,)
        rows: list[dict[str, Any]] = []
        for split in splits:
            for config in configs:
                ds = datasets.load_dataset(info.hub_id, config, split=split)
                # which Hub split a row came from (MATH: "test" rows vs the Hub-only "train" rows)
                rows.extend({**dict(r), "_hub_split": split} for r in ds)
        return rows
    except Exception as e:  # network, auth, missing dataset: all become one clear error
        raise DataNotFoundError(_missing_message(info, hub_error=f"{type(e).__name__}: {e}")) from e


def _missing_message(
    info: DatasetInfo, *, local: Path | None = None, hub_error: str | None = None
) -> str:
    parts = [f"Dataset {info.name!r} is not available."]
    if local is not None:
        parts.append(f"It is not at {str(local)!r}.")
    parts.append(
        f"Supply it either (1) locally: pass data_dir=... or set {ENV_VAR} to a folder holding "
        f"{info.relpath!r}, or (2) from the Hugging Face Hub: install `datasets` and unset {ENV_VAR} "
        f"so that {info.hub_id!r} is downloaded."
    )
    if hub_error:
        parts.append(f"Hub attempt failed: {hub_error}")
    return " ".join(parts)


def read_rows(name: str, data_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """Reads the raw rows of dataset ``name`` (fields exactly as the source writes them).

    Args:
        name: one of :data:`DATASETS` (``"math500"``, ``"math"``, ``"gsm8k"``, ...).
        data_dir: local data folder; defaults to ``$RLSP_DATA_DIR``, then the Hub.

    Raises:
        KeyError: unknown dataset name.
        DataNotFoundError: not found locally and not reachable on the Hub.
        ValueError: a local file failed its sha256 check or is not JSONL.
    """
    if name not in DATASETS:
        raise KeyError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}")
    info = DATASETS[name]
    root = resolve_data_dir(data_dir)
    if root is None:
        return _from_hub(info)
    path = root / info.relpath
    if not path.is_file():
        raise DataNotFoundError(_missing_message(info, local=path))
    if info.sha256 is not None:
        digest = _sha256(path)
        if digest != info.sha256:
            raise ValueError(
                f"{path} has sha256 {digest}, expected {info.sha256}: the file is not the "
                f"published {info.name} set (corrupted or edited)."
            )
    return _read_jsonl(path)
