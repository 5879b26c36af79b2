"""Precision and dtype defaults follow the hardware: bf16 only where it is native (on an
AVX2-only CPU bf16 autocast measured 24x slower than fp32, ``rlsp_agents.hardware``)."""

from __future__ import annotations

import pytest

from rlsp_agents import hardware as H
from rlsp_agents.config import SFTConfig, TrainConfig


@pytest.fixture
def cpu_bf16(monkeypatch: pytest.MonkeyPatch):
    def set_(native: bool) -> None:
        monkeypatch.setattr(H, "_cpu_bf16", lambda: native)

    return set_


@pytest.mark.parametrize(
    "native, precision, dtype", [(True, "bf16-autocast", "bfloat16"), (False, "fp32", "float32")]
)
def test_auto_follows_the_cpu(cpu_bf16, native: bool, precision: str, dtype: str) -> None:
    cpu_bf16(native)
    assert H.bf16_native("cpu") is native
    assert H.resolve_precision("auto", "cpu") == precision
    assert H.resolve_dtype("native", "cpu") == dtype
    assert H.resolve_dtype(None, "cpu") == dtype
    assert ("native" in H.describe("cpu")) is native


@pytest.mark.parametrize("native", [True, False])
def test_explicit_values_are_honoured(cpu_bf16, native: bool) -> None:
    cpu_bf16(native)
    for p in ("bf16-autocast", "fp32", "bf16"):
        assert H.resolve_precision(p, "cpu") == p
    for d in ("bfloat16", "float16", "float32", "auto"):
        assert H.resolve_dtype(d, "cpu") == d


def test_cuda_absent_is_not_native() -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    assert H.bf16_native("cuda") is False
    assert H.bf16_native("cuda:0") is False


def test_the_real_probe_answers() -> None:
    H._cpu_bf16.cache_clear()
    assert isinstance(H._cpu_bf16(), bool)


def test_configs_default_to_auto() -> None:
    assert TrainConfig().precision == "auto"
    assert SFTConfig().precision == "auto"


def test_sampler_rejects_an_unknown_dtype() -> None:
    from rlsp_agents.sampler import TransformersSampler

    with pytest.raises(ValueError, match="dtype must be one of"):
        TransformersSampler("smollm2-135m", dtype="int3")
