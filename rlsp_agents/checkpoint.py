"""Crash-safe checkpoints: a process killed at any instant (SIGKILL) resumes from the newest
complete checkpoint, losing at most the iterations since it was written.

Layout under a run directory::

    out/checkpoints/step-000012/       one complete checkpoint
        policy/                        save_pretrained (safetensors) + tokenizer
        trainer.pt                     value heads, optimizer, RNG states
        state.json                     step, elapsed seconds, correctness EMA, config
        COMPLETE                       written last; a directory without it is ignored

A checkpoint is written into ``step-XXXXXX.tmp`` and renamed when complete (an atomic rename on
one file system); older checkpoints are deleted only after the new one is in place.

Example:
    >>> from rlsp_agents.checkpoint import latest_checkpoint
    >>> latest_checkpoint("/nonexistent") is None
    True
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "save_checkpoint",
    "latest_checkpoint",
    "load_trainer_state",
    "rng_state",
    "set_rng_state",
]

_MARK = "COMPLETE"


def _ckpt_root(out: str | os.PathLike[str]) -> Path:
    return Path(out) / "checkpoints"


def rng_state() -> dict[str, Any]:
    """The Python, NumPy and torch RNG states."""
    import numpy as np
    import torch

    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restores what :func:`rng_state` returned."""
    import numpy as np
    import torch

    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def save_checkpoint(
    out: str | os.PathLike[str],
    step: int,
    *,
    policy: Any,
    tokenizer: Any,
    trainer_state: dict[str, Any],
    state: dict[str, Any],
    keep: int = 1,
) -> Path:
    """Writes checkpoint ``step`` atomically and prunes older ones (keeping ``keep``).

    Args:
        out: the run directory.
        step: number of completed iterations.
        policy: a transformers model (saved with ``save_pretrained``).
        tokenizer: saved beside it so the checkpoint is a usable model directory.
        trainer_state: tensors (value heads, optimizer, RNG) for ``torch.save``.
        state: JSON-able run state (``elapsed_s``, ``acc_ema``, ``config``, ...); ``step`` is
            added.
        keep: complete checkpoints to keep.

    Returns:
        The checkpoint directory.
    """
    import torch

    root = _ckpt_root(out)
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{step:06d}"
    tmp = root / f"step-{step:06d}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    policy.save_pretrained(tmp / "policy", safe_serialization=True)
    tokenizer.save_pretrained(tmp / "policy")
    torch.save(trainer_state, tmp / "trainer.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step, **state}, indent=2, default=str))
    (tmp / _MARK).write_text(str(step))
    _fsync_dir(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    _fsync_dir(root)
    complete = sorted(
        p for p in root.glob("step-*") if (p / _MARK).is_file() and p.suffix != ".tmp"
    )
    for old in complete[: max(len(complete) - keep, 0)]:
        shutil.rmtree(old, ignore_errors=True)
    for stale in root.glob("step-*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    return final


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def latest_checkpoint(out: str | os.PathLike[str]) -> Path | None:
    """The newest complete checkpoint directory under ``out``, or ``None``."""
    root = _ckpt_root(out)
    if not root.is_dir():
        return None
    done = [p for p in root.glob("step-*") if p.suffix != ".tmp" and (p / _MARK).is_file()]
    if not done:
        return None
    return max(done, key=lambda p: int(p.name.split("-")[1]))


def load_trainer_state(ckpt: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(state.json contents, trainer.pt contents)`` of a checkpoint directory."""
    import torch

    state = json.loads((ckpt / "state.json").read_text())
    trainer = torch.load(ckpt / "trainer.pt", map_location="cpu", weights_only=False)
    return state, trainer
