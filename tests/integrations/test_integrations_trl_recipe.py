"""The TRL 7B recipe on CPU: recipes/trl/grpo.py builds TRL 1.16's real ``GRPOConfig`` (bf16,
vLLM server or colocate mode, per-channel reward weights) without loading a model, the
accelerate configs load as DeepSpeed ZeRO-2/3 configs through accelerate's own loader, and the
``vllm-cuda`` extra is pinned to the vLLM range TRL supports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "trl"


def _dry(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(RECIPE / "grpo.py"), "--dry-run", "--env", "rlsp/Arithmetic-v0", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["colocate", "server", "none"])
def test_grpo_config_for_7b(mode):
    proc = _dry("--vllm-mode", mode, "--vllm-server-host", "10.0.0.1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    c = json.loads(proc.stdout.strip().splitlines()[-1])
    assert c["model"] == "Qwen/Qwen2.5-7B-Instruct"
    assert c["bf16"] is True and c["model_init_kwargs"] == {"dtype": "bfloat16"}
    assert c["gradient_checkpointing"] is True
    assert c["use_vllm"] is (mode != "none")
    if mode == "server":
        assert c["vllm_mode"] == "server" and c["vllm_server_host"] == "10.0.0.1"
    if mode == "colocate":
        assert c["vllm_mode"] == "colocate" and c["vllm_enable_sleep_mode"] is True
    weights = dict(zip(c["channels"], c["reward_weights"]))
    assert weights["correctness"] == 1.0 and weights["format"] == 0.5
    assert weights["exploration"] == 0.1
    assert c["multi_objective_aggregation"] == "normalize_then_sum"


@pytest.mark.slow
def test_bad_options_are_refused():
    for bad, word in [
        (["--num-generations", "1"], "--num-generations"),
        (["--weights", "{nope"], "--weights"),
        (["--vllm-mode", "magic"], "--vllm-mode"),
    ]:
        proc = _dry(*bad)
        assert proc.returncode == 2 and word in proc.stderr, (bad, proc.stderr[-500:])
    usage = subprocess.run(["bash", str(RECIPE / "run.sh"), "7b"], capture_output=True, text=True)
    assert usage.returncode == 2 and "usage" in usage.stderr


@pytest.mark.parametrize("stage", [2, 3])
def test_accelerate_configs_are_deepspeed_zero(stage):
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(RECIPE / "accelerate" / f"zero{stage}.yaml"))
    assert cfg.distributed_type == "DEEPSPEED" and cfg.deepspeed_config["zero_stage"] == stage
    assert cfg.mixed_precision == "bf16" and cfg.num_processes == 8 and cfg.use_cpu is False
    assert cfg.deepspeed_config["zero3_init_flag"] is (stage == 3)


def test_vllm_cuda_extra_is_pinned_to_trls_range():
    from packaging.requirements import Requirement

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (req,) = [Requirement(r) for r in extras["optional-dependencies"]["vllm-cuda"]]
    assert req.name == "vllm"
    assert all(req.specifier.contains(v) for v in ["0.22.0", "0.26.1", "0.31.0"])
    assert not any(req.specifier.contains(v) for v in ["0.21.9", "0.31.1", "0.32.0"])
    # the same range TRL itself checks at import
    import trl.import_utils as tiu

    src = Path(tiu.__file__).read_text()
    assert 'Version("0.22.0") <= _vllm_base_version <= Version("0.31.0")' in src
