"""``rlsp train`` itself under ``torchrun``: 2 gloo ranks on CPU, end to end.

``torchrun --nproc_per_node 2 -m rlsp_agents.cli train ...`` with the transformers sampler on a
tiny random Llama (no download): one iteration finishes, rank 0 alone wrote the checkpoint, the
metrics row and the summary, and ``--resume`` continues on both ranks from that checkpoint. (That
the update itself equals the single-process update is tests/agents/test_distributed.py.)
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from test_train_helpers import tiny_model_dir

from rlsp_agents.metrics import read_metrics

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun_train(out: Path, total_steps: int, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        "-m", "rlsp_agents.cli", "train",
        "--model", tiny_model_dir(), "--env-id", "rlsp/Arithmetic-v0", "--sampler", "transformers",
        "--total-steps", str(total_steps), "--prompts-per-step", "2", "--samples-per-prompt", "2",
        "--max-new-tokens", "6", "--micro-batch-size", "4", "--out", str(out), "--threads", "1",
        "--no-progress", "--log-samples", "0", "--no-plots", "--checkpoint-every", "1",
        "--no-save-final", *extra,
    ]  # fmt: skip
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"
    env["TOKENIZERS_PARALLELISM"] = "false"
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=400, check=False)


@pytest.mark.timeout(900)
def test_torchrun_two_gloo_ranks_train_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = _torchrun_train(out, 1)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-5000:]
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step-000001"]
    assert (out / "checkpoints" / "step-000001" / "COMPLETE").is_file()
    rows = read_metrics(out / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1]  # one row: written once, not once per rank
    assert 0.0 <= rows[0]["charts/kept_frac"] <= 1.0 and "reward/correctness" in rows[0]
    summary = json.loads(first.stdout[first.stdout.index("{") :])  # rank 0 alone reports
    assert summary["steps"] == 1 and first.stdout.count('"steps"') == 1

    second = _torchrun_train(out, 2, "--resume")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-5000:]
    assert second.stderr.count("resumed from") == 2  # every rank resumed, from the same step
    assert second.stderr.count("(step 1)") == 2
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["step-000002"]
    assert [r["step"] for r in read_metrics(out / "metrics.jsonl")] == [1, 2]
