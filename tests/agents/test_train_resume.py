"""Checkpoints and resume: a training process killed with SIGKILL mid-run resumes from its newest
complete checkpoint, losing at most one iteration, and then keeps training."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_train_helpers import tiny_model_dir

from rlsp_agents.checkpoint import latest_checkpoint, load_trainer_state, save_checkpoint
from rlsp_agents.metrics import MetricsLog, read_metrics

pytestmark = pytest.mark.slow


def _train_cmd(out: Path, total_steps: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "rlsp_agents.cli", "train",
        "--model", tiny_model_dir(), "--env-id", "rlsp/Arithmetic-v0", "--sampler", "transformers",
        "--total-steps", str(total_steps), "--prompts-per-step", "2", "--samples-per-prompt", "2",
        "--max-new-tokens", "6", "--micro-batch-size", "4", "--out", str(out), "--threads", "1",
        "--no-progress", "--log-samples", "0", "--no-plots", "--checkpoint-every", "1", *extra,
    ]  # fmt: skip


def _newest_step(out: Path) -> int:
    """The step of the newest complete checkpoint under ``out``, -1 when there is none."""
    c = latest_checkpoint(out)
    return -1 if c is None else int(c.name.split("-")[1])


def test_sigkill_mid_run_then_resume(tmp_path: Path) -> None:
    out = tmp_path / "run"
    log1 = (tmp_path / "first.log").open("w")
    proc = subprocess.Popen(_train_cmd(out, 500), stdout=log1, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 240
        while _newest_step(out) < 3:  # not step-000003 itself: it is pruned two iterations later
            assert proc.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.time() < deadline, "no third checkpoint within 240 s"
            time.sleep(0.2)
        time.sleep(0.7)  # land somewhere inside a later iteration
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log1.close()
    assert proc.returncode == -signal.SIGKILL
    k = _newest_step(out)
    logged = [r["step"] for r in read_metrics(out / "metrics.jsonl")]
    assert k >= 3
    assert max(logged) - k <= 1, (logged, k)  # at most one iteration lost

    res = subprocess.run(
        _train_cmd(out, k + 2, "--resume"), capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"(step {k})" in res.stderr and "resumed from" in res.stderr
    steps = [r["step"] for r in read_metrics(out / "metrics.jsonl")]
    assert steps == list(range(1, k + 3))  # no duplicate, no gap
    final = latest_checkpoint(out)
    assert final is not None and final.name == f"step-{k + 2:06d}"
    state, trainer = load_trainer_state(final)
    assert state["step"] == k + 2 and trainer["optimizer"] is not None
    assert json.loads(res.stdout)["steps"] == k + 2
    assert not list((out / "checkpoints").glob("*.tmp"))


def test_resume_without_checkpoint_starts_fresh(tmp_path: Path) -> None:
    res = subprocess.run(
        _train_cmd(tmp_path / "fresh", 1, "--resume"), capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "no complete checkpoint" in res.stderr
    assert [r["step"] for r in read_metrics(tmp_path / "fresh" / "metrics.jsonl")] == [1]


class _FakeModel:
    """Stands in for a transformers model/tokenizer in the pure file-layout tests."""

    def save_pretrained(self, path: Path, **_: object) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "config.json").write_text("{}")


def test_checkpoint_layout_is_atomic_and_pruned(tmp_path: Path) -> None:
    m = _FakeModel()
    for step in (1, 2, 3):
        save_checkpoint(
            tmp_path, step, policy=m, tokenizer=m, trainer_state={"rng": None}, state={"x": step}
        )
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["step-000003"]
    # a torn write (no COMPLETE marker) and a stale temp dir are never picked
    (tmp_path / "checkpoints" / "step-000009").mkdir()
    (tmp_path / "checkpoints" / "step-000010.tmp").mkdir()
    assert latest_checkpoint(tmp_path) == tmp_path / "checkpoints" / "step-000003"
    state, trainer = load_trainer_state(latest_checkpoint(tmp_path))
    assert state == {"step": 3, "x": 3} and trainer == {"rng": None}


def test_metrics_log_truncates_on_resume_and_skips_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    log = MetricsLog(path)
    for s in (1, 2, 3):
        log.write({"step": s, "losses/policy": float(s)})
    with path.open("a") as f:
        f.write('{"step": 4, "losses/pol')  # killed mid-write
    assert [r["step"] for r in read_metrics(path)] == [1, 2, 3]
    MetricsLog(path, truncate_after_step=2)
    assert [r["step"] for r in read_metrics(path)] == [1, 2]
    MetricsLog(path)  # a fresh run starts an empty file
    assert read_metrics(path) == []
    log = MetricsLog(path)
    log.write({"step": 1, "x": float("nan")})
    assert read_metrics(path) == [{"step": 1, "x": None}]


def test_a_damaged_metrics_line_that_is_not_the_last_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text('{"step": 1}\n{"step": 2, "lo\n{"step": 3}\n')
    with pytest.raises(ValueError, match=r"m.jsonl:2 is not JSON"):
        read_metrics(path)
    path.write_text('{"step": 1}\n[1, 2]\n{"step": 3}\n')
    with pytest.raises(ValueError, match=r"m.jsonl:2 is not a JSON object"):
        read_metrics(path)
    with pytest.raises(ValueError, match="damaged"):  # a resume refuses, it does not drop a row
        MetricsLog(path, truncate_after_step=3)
    assert path.read_text().count("\n") == 3  # and leaves the file as it was
