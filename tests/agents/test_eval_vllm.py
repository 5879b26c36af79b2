"""``rlsp eval`` end to end through the ``rlsp`` dispatcher with the vLLM back end (real model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("vllm")
pytestmark = [pytest.mark.slow, pytest.mark.vllm]


def test_rlsp_eval_cli_with_vllm(tmp_path: Path, capsys) -> None:
    from rlsp_agents.cli import main

    out = tmp_path / "eval"
    rc = main(
        [
            "eval",
            "--env",
            "rlsp/Arithmetic-v0",
            "--env-arg",
            "split=test",
            "--env-arg",
            "difficulty=1",
            "--limit",
            "6",
            "--n",
            "2",
            "--max-new-tokens",
            "48",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "rlsp eval: rlsp/Arithmetic-v0" in printed and "pass@2" in printed
    summary = json.loads((out / "eval.json").read_text())
    assert summary["backend"] == "vllm" and summary["num_problems"] == 6 and summary["n"] == 2
    assert summary["temperature"] == 0.7  # the default for n > 1
    assert 0.0 <= summary["accuracy"] <= summary["pass_at_k"]["2"] <= 1.0
    assert 1 <= summary["mean_response_tokens"] <= 48
    assert summary["tokens_per_s"] > 0
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 6 and all(len(r["texts"]) == 2 for r in rows)
    assert all(t.strip() for r in rows for t in r["texts"]), "empty completions"
    assert all(n <= 48 for r in rows for n in r["num_tokens"])
    assert (out / "eval.png").stat().st_size > 10_000
    assert not list(Path("/tmp").glob(f"rlsp-vllm-{__import__('os').getpid()}-*")), (
        "the engine's private model copy was left behind"
    )
