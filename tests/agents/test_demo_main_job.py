"""``rlsp demo`` end to end on a tiny random Llama with the transformers sampler: every stage runs,
the before/after table, JSON, Markdown and plots are written, and the numbers are consistent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_train_helpers import tiny_model_dir

from rlsp_agents.demo import DemoConfig, main, run_demo

pytestmark = pytest.mark.slow


def test_demo_runs_every_stage(tmp_path: Path) -> None:
    cfg = DemoConfig(
        model=tiny_model_dir(),
        eval_n=3,
        max_new_tokens=6,
        sampler="transformers",
        sft_examples=4,
        sft_batch_size=4,
        ppo_steps=1,
        ppo_prompts_per_step=2,
        ppo_samples_per_prompt=2,
        compare_samplers=False,
        out=str(tmp_path / "demo"),
        threads=2,
        ppo_preset="cpu-smollm2-rlsp",  # the RLSP configuration: decoupled, exploration weighted
    )
    report = run_demo(cfg)
    assert [s["stage"] for s in report["stages"]] == ["base", "after SFT", "after PPO"]
    for s in report["stages"]:
        assert 0.0 <= s["literal_accuracy"] <= s["accuracy"] <= 1.0 and s["problems"] == 3
        assert s["literal_accuracy"] + s["correct_as_expression"] == pytest.approx(s["accuracy"])
    assert report["ppo"]["steps"] == 1 and report["sft"]["steps"] == 1
    assert 0 < report["train_seconds"] < report["wall_seconds"]
    accs = [s["literal_accuracy"] for s in report["stages"]]
    assert report["gain_total_points"] == pytest.approx(100 * (accs[2] - accs[0]))
    assert report["gain_ppo_points"] == pytest.approx(100 * (accs[2] - accs[1]))
    out = Path(cfg.out)
    saved = json.loads((out / "demo.json").read_text())
    assert saved["stages"][0]["stage"] == "base"
    assert "| after PPO |" in (out / "demo.md").read_text()
    assert (out / "before_after.png").stat().st_size > 1000
    assert (out / "ppo" / "plots" / "time_per_phase.png").is_file()
    assert (out / "sft" / "plots" / "sft_loss.png").is_file()
    assert set(report["ppo"]["mean_time_split_s"]) >= {"sample", "verify", "train", "sync"}
    # RLSP: decoupled advantages with a weighted exploration channel, its spread logged per step
    assert report["ppo"]["advantage"] == "decoupled"
    assert report["ppo"]["channel_weights"]["exploration"] > 0
    assert report["ppo"]["env_kwargs"]["length_scale"] == cfg.max_new_tokens
    spread = report["ppo"]["channel_spread"]
    assert [r["step"] for r in spread] == [1] and spread[0]["n"] == 4
    assert spread[0]["exploration_std"] >= 0.0 and -1.0 <= spread[0]["exploration_mean"] <= 0.0
    lines = (out / "ppo" / "channel_spread.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [1]
    assert report["bars"]["exploration_std_gt_0_every_iteration"] == (
        spread[0]["exploration_std"] > 0
    )
    assert report["bars"]["literal_equals_verifier"] == all(
        s["literal_accuracy"] == s["accuracy"] for s in report["stages"]
    )
    assert all(-1.0 <= s["mean_exploration"] <= 0.0 for s in report["stages"])
    assert Path(report["engine_log"]) == out / "engine.log" and (out / "engine.log").is_file()


def test_demo_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "--no-sft" in text and "--eval-n" in text
