"""verl: the compute_score contract, and loading it through verl 0.9.1's own reward loader.

verl is installed by the set-up without its GPU stack (``scripts/thirdparty.py``: ``pip install
--no-deps --target`` of verl 0.9.1 and the few pure packages it imports, inside the venv); the
loader test runs the documented example docs/integrations/examples/verl_check_reward.py against it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from integrations_helpers import run_with_path, thirdparty_path

from rlsp_env import rewards
from rlsp_env.integrations.verl import (
    compute_score,
    gdpo_config,
    resolve_verl_weights,
    write_verl_dataset,
)

ROOT = Path(__file__).resolve().parents[2]
ENV = "rlsp/Arithmetic-v0"


def test_compute_score_returns_score_and_every_channel():
    out = compute_score(ENV, "12 + 30 = 42, so \\boxed{42}", "42", weights="default")
    direct = rewards.score("12 + 30 = 42, so \\boxed{42}", "42", weights="default")
    assert out["score"] == pytest.approx(direct.reward)
    assert out["acc"] == 1.0
    assert set(out) == {"score", "acc", *rewards.CHANNELS}
    for channel, value in direct.rewards.items():
        assert out[channel] == pytest.approx(value)
    assert all(isinstance(v, float) for v in out.values())
    wrong = compute_score(ENV, "I think 41", "42", weights="default")
    assert wrong["acc"] == 0.0 and wrong["format"] == rewards.FORMAT_PENALTY
    assert set(wrong) == set(out)  # the same keys for every row, as gdpo_reward_keys needs


@pytest.mark.parametrize(
    "gold", [42, "42", np.int64(42), np.array(["42"], dtype=object), ["42"], 42.0]
)
def test_ground_truth_forms_verl_datasets_carry(gold):
    assert compute_score(ENV, "\\boxed{42}", gold, weights="correctness")["acc"] == 1.0


@pytest.mark.parametrize("gold", [None, ["1", "2"], float("nan"), {"a": 1}, True])
def test_bad_ground_truth_is_refused_clearly(gold):
    with pytest.raises(ValueError, match="ground_truth"):
        compute_score(ENV, "\\boxed{1}", gold)


def test_bad_solution_and_weights_are_refused():
    with pytest.raises(TypeError, match="solution_str"):
        compute_score(ENV, None, "1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown reward preset"):
        compute_score(ENV, "x", "1", weights="nope")


def test_weights_resolution_order():
    w = resolve_verl_weights(ENV, {"reward_weights": "correctness"}, weights={"format": 1.0})
    assert w["format"] == 1.0 and w["correctness"] == 0.0  # explicit weights win
    w = resolve_verl_weights(ENV, {"reward_weights": "correctness"})
    assert w["correctness"] == 1.0 and w["format"] == 0.0  # then the row's extra_info
    w = resolve_verl_weights("not-an-env", None)
    assert w == rewards.resolve_weights("default")  # then the default preset
    # the row's choice reaches compute_score
    out = compute_score(ENV, "no box", "1", {"reward_weights": "correctness"})
    assert out["score"] == 0.0 and out["format"] == rewards.FORMAT_PENALTY


def test_gdpo_config_lists_the_weighted_channels():
    cfg = gdpo_config("rlsp")
    preset = rewards.PRESETS["rlsp"]
    assert cfg["adv_estimator"] == "gdpo"
    assert cfg["gdpo_reward_keys"] == [c for c, v in preset.items() if v != 0.0]
    assert cfg["gdpo_reward_weights"] == [preset[c] for c in cfg["gdpo_reward_keys"]]


def test_write_verl_dataset(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "sub" / "arith.parquet"
    assert write_verl_dataset(ENV, path, 5) == 5
    table = pq.read_table(path).to_pylist()
    assert len(table) == 5
    row = table[0]
    assert row["data_source"] == ENV and row["ability"] == "math"
    assert row["prompt"][-1]["role"] == "user" and row["prompt"][-1]["content"]
    assert row["reward_model"]["style"] == "rule"
    assert row["extra_info"]["index"] == 0 and row["extra_info"]["problem_id"]
    assert len({r["extra_info"]["problem_id"] for r in table}) == 5
    # the gold it wrote scores 1 through compute_score
    gold = row["reward_model"]["ground_truth"]
    assert compute_score(ENV, f"\\boxed{{{gold}}}", gold)["acc"] == 1.0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_verl_loads_compute_score_and_computes_gdpo_advantages():
    path = thirdparty_path("verl")
    script = (ROOT / "docs" / "integrations" / "examples" / "verl_check_reward.py").read_text()
    out = json.loads(run_with_path(path, script).strip().splitlines()[-1])
    assert out["manager"] == "GDPORewardManager"
    # correct, no box, correct, wrong with a box (the "default" preset: r_c = 1 / -0.5 / 0)
    assert out["scores"] == [1.0, -0.5, 1.0, 0.0]
    assert out["extra"]["acc"] == [1.0, 0.0, 1.0, 0.0]
    assert out["extra"]["format"] == [0.0, -0.5, 0.0, 0.0]
    assert out["gdpo"]["gdpo_reward_keys"] == ["correctness", "format"]
    adv = out["advantage"]
    assert adv[0] > adv[1] and adv[2] > adv[3]  # the better response of each group wins
    assert all(np.isfinite(adv))
