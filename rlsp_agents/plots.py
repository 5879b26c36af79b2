"""PNG plots of a run's metrics (matplotlib, Agg back end; no display needed).

``plot_training(rows, out_dir)`` writes, when the metrics exist:

- ``accuracy.png``: training-sample accuracy and held-out ``eval/accuracy`` per iteration;
- ``rewards.png``: every ``reward/<channel>``, one panel each, with its within-batch spread
  (``reward/<channel>_std``) as a band;
- ``response_length.png``: mean response length in tokens;
- ``behaviour.png``: behaviour counts (backtracking, verification, alternatives);
- ``kl_entropy.png``: approximate KL, entropy, clip fraction;
- ``time_per_phase.png``: seconds per iteration in sample / verify / train / sync / checkpoint.

Example:
    >>> import tempfile
    >>> rows = [{"step": 1, "charts/accuracy": 0.1}, {"step": 2, "charts/accuracy": 0.3}]
    >>> sorted(p.name for p in plot_training(rows, tempfile.mkdtemp()))
    ['accuracy.png']
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["plot_training", "plot_sft", "plot_before_after"]


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _series(rows: Sequence[dict[str, Any]], key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for r in rows:
        v = r.get(key)
        if isinstance(v, int | float) and v is not None:
            xs.append(float(r.get("step", len(xs))))
            ys.append(float(v))
    return xs, ys


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def plot_training(rows: Sequence[dict[str, Any]], out_dir: str | os.PathLike[str]) -> list[Path]:
    """Writes the training plots for metric ``rows`` into ``out_dir``; returns the files."""
    plt = _plt()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for r in rows for k in r})
    written: list[Path] = []

    acc_keys = [k for k in ("charts/accuracy", "eval/accuracy") if _series(rows, k)[0]]
    if acc_keys:
        fig, ax = plt.subplots(figsize=(6, 4))
        for k in acc_keys:
            xs, ys = _series(rows, k)
            ax.plot(xs, [100 * y for y in ys], marker="o", label=k)
        ax.set(xlabel="iteration", ylabel="accuracy (%)", title="Accuracy")
        ax.grid(alpha=0.3)
        ax.legend()
        written.append(_save(fig, out / "accuracy.png"))

    reward_keys = [
        k
        for k in keys
        if k.startswith("reward/") and not k.endswith("_std") and _series(rows, k)[0]
    ]
    if reward_keys:
        n = len(reward_keys)
        cols = min(3, n)
        nrows = (n + cols - 1) // cols
        fig, axes = plt.subplots(nrows, cols, figsize=(4 * cols, 3 * nrows), squeeze=False)
        for ax, k in zip(axes.flat, reward_keys):
            xs, ys = _series(rows, k)
            ax.plot(xs, ys, marker=".")
            sx, sd = _series(rows, f"{k}_std")  # the within-batch spread, when logged
            if sx == xs:
                lo = [y - d for y, d in zip(ys, sd)]
                hi = [y + d for y, d in zip(ys, sd)]
                ax.fill_between(xs, lo, hi, alpha=0.2, label="mean +- std over the batch")
            ax.set(title=k, xlabel="iteration")
            ax.grid(alpha=0.3)
        for ax in list(axes.flat)[n:]:
            ax.axis("off")
        written.append(_save(fig, out / "rewards.png"))

    if _series(rows, "charts/response_len")[0]:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(*_series(rows, "charts/response_len"), marker="o")
        ax.set(xlabel="iteration", ylabel="tokens", title="Mean response length")
        ax.grid(alpha=0.3)
        written.append(_save(fig, out / "response_length.png"))

    beh = [
        k
        for k in keys
        if k.startswith("behaviour/") and not k.endswith("_std") and _series(rows, k)[0]
    ]
    if beh:
        fig, ax = plt.subplots(figsize=(6, 4))
        for k in beh:
            ax.plot(*_series(rows, k), marker=".", label=k.split("/", 1)[1])
        ax.set(xlabel="iteration", ylabel="mean count per response", title="Behaviour counts")
        ax.grid(alpha=0.3)
        ax.legend()
        written.append(_save(fig, out / "behaviour.png"))

    kl_keys = [
        k
        for k in ("charts/approx_kl", "charts/entropy", "charts/clipfrac", "charts/kl_ref")
        if _series(rows, k)[0]
    ]
    if kl_keys:
        fig, axes = plt.subplots(1, len(kl_keys), figsize=(4 * len(kl_keys), 3.2), squeeze=False)
        for ax, k in zip(axes.flat, kl_keys):
            ax.plot(*_series(rows, k), marker=".")
            ax.set(title=k, xlabel="iteration")
            ax.grid(alpha=0.3)
        written.append(_save(fig, out / "kl_entropy.png"))

    phases = [
        k
        for k in (
            "time/sample",
            "time/verify",
            "time/advantage",
            "time/train",
            "time/sync",
            "time/checkpoint",
            "time/eval",
        )
        if _series(rows, k)[0]
    ]
    if phases:
        fig, ax = plt.subplots(figsize=(7, 4))
        steps = [float(r.get("step", i)) for i, r in enumerate(rows)]
        bottom = [0.0] * len(rows)
        for k in phases:
            vals = [float(r.get(k) or 0.0) for r in rows]
            ax.bar(steps, vals, bottom=bottom, label=k.split("/", 1)[1])
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set(xlabel="iteration", ylabel="seconds", title="Time per phase")
        ax.legend(fontsize=8)
        written.append(_save(fig, out / "time_per_phase.png"))
    return written


def plot_sft(rows: Sequence[dict[str, Any]], out_dir: str | os.PathLike[str]) -> Path | None:
    """``sft_loss.png``: the SFT loss per optimizer step; ``None`` when there is no loss."""
    xs, ys = _series(rows, "losses/sft")
    if not xs:
        return None
    plt = _plt()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, ys)
    ax.set(xlabel="optimizer step", ylabel="loss (response tokens)", title="SFT loss")
    ax.grid(alpha=0.3)
    return _save(fig, out / "sft_loss.png")


def plot_before_after(
    stages: Sequence[tuple[str, float]],
    path: str | os.PathLike[str],
    *,
    title: str = "Held-out accuracy",
) -> Path:
    """A bar chart of accuracy per stage (``[("base", 0.06), ("after SFT", 0.3), ...]``)."""
    plt = _plt()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    names = [s for s, _ in stages]
    vals = [100 * v for _, v in stages]
    bars = ax.bar(names, vals, color=["#999999", "#4c72b0", "#dd8452", "#55a868"][: len(vals)])
    for b, v in zip(bars, vals):
        ax.text(b.get_x() + b.get_width() / 2, v + 0.5, f"{v:.1f}%", ha="center")
    ax.set(ylabel="accuracy (%)", title=title, ylim=(0, max(vals + [10]) * 1.2))
    return _save(fig, p)
