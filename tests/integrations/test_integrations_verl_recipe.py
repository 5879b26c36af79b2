"""The verl recipe with verl 0.9.1's real code, on CPU: the "rlsp" advantage estimator found in
verl's registry and run by verl's ``compute_advantage`` on a real ``DataProto`` (it must equal the
bundled agent's own group advantage, ``rlsp_agents.losses``, on the same batch), the recipe's
Hydra configs composed with verl's trainer schema and validated by verl, its reward function run
over a batch by verl's reward manager, and the launch script's dry run.

verl comes from the set-up (scripts/thirdparty.py); each check runs in a subprocess with it on
the path (tests/integrations/verl_recipe_check.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from integrations_helpers import run_with_path, thirdparty_path

from rlsp_agents import losses as L

ROOT = Path(__file__).resolve().parents[2]
CHECK = Path(__file__).with_name("verl_recipe_check.py")
CONFIG_DIR = ROOT / "recipes" / "verl" / "config"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# 3 groups of 4, interleaved (verl's uid order is arbitrary), with a tie group for "b" in format
UID = ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c"]
CHANNELS = {
    "correctness": [1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1],
    "format": [0, 0, -0.5, -0.5, 0, 0, 0, 0, 0, 0, 0, -0.5],
    "exploration": [-0.9, -0.2, -0.5, -0.7, -0.1, -0.3, -0.4, -0.8, -0.6, -0.25, -0.35, -0.45],
    "acc": [1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1],
}
SCORE = [1.3, -0.7, 0.2, -1.1, 0.4, 0.9, 0.6, -0.2, -0.6, 0.1, 0.65, 0.05]
WEIGHTS = {"correctness": 1.0, "format": 0.5, "exploration": 0.1}
CASES = {
    "channels": {"mode": "channels", "weights": WEIGHTS},
    "rloo": {"mode": "channels", "weights": WEIGHTS, "baseline": "rloo"},
    "linear": {"mode": "channels", "weights": WEIGHTS, "schedule": "linear", "total_steps": 5},
    "correctness": {"mode": "channels", "weights": WEIGHTS, "schedule": "correctness"},
    "scalar": {"mode": "scalar"},
}
GLOBAL_STEP = 3


def _ours(case: dict) -> list[float]:
    """The bundled agent's group advantage (train.py's advantage='group' path) on the same batch."""
    order = sorted(range(len(UID)), key=lambda i: (UID[i], i))  # groups made contiguous
    k = UID.count("a")
    baseline = case.get("baseline", "grpo")
    if case["mode"] == "scalar":
        channels, weights = ["total"], {"total": 1.0}
        scores = torch.tensor([[SCORE[i]] for i in order])
    else:
        channels = list(WEIGHTS)
        scores = torch.tensor([[float(CHANNELS[c][i]) for c in channels] for i in order])
        correctness = sum(CHANNELS["acc"]) / len(UID)
        progress = (GLOBAL_STEP - 1) / max(case.get("total_steps", 1) - 1, 1)
        weights = L.scheduled_weights(
            WEIGHTS,
            schedule=case.get("schedule", "constant"),
            progress=progress,
            correctness=correctness,
            channel="exploration",
        )
    g_adv = L.group_advantages(scores, k, baseline=baseline)  # [N, C]
    per_sample = L.combine_channels({c: g_adv[:, j] for j, c in enumerate(channels)}, weights)
    out = [0.0] * len(UID)
    for pos, i in enumerate(order):
        out[i] = float(per_sample[pos])
    return out


@pytest.fixture(scope="module")
def estimator_run():
    spec = {
        "uid": UID,
        "T": 6,
        "lengths": [6, 3, 1, 5, 2, 6, 4, 4, 3, 1, 6, 2],
        "score": SCORE,
        "channels": CHANNELS,
        "cases": CASES,
        "global_steps": GLOBAL_STEP,
    }
    out = run_with_path(thirdparty_path("verl"), CHECK.read_text(), "estimator", json.dumps(spec))
    return json.loads(out.strip().splitlines()[-1])


def test_estimator_is_registered_in_verl_and_found_by_name(estimator_run):
    assert estimator_run["registered"] and estimator_run["found_by_name"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_estimator_matches_the_bundled_agents_advantage(estimator_run, case):
    expected = _ours(CASES[case])
    assert estimator_run["direct"][case] == pytest.approx(expected, abs=1e-5)
    # and through verl's own compute_advantage, as its trainer calls it (the install hook)
    assert estimator_run["verl_hooked"][case] == pytest.approx(expected, abs=1e-5)


def test_schedules_change_the_advantage(estimator_run):
    d = estimator_run["direct"]
    assert d["linear"] != pytest.approx(d["channels"])  # exploration's weight x 0.5 at step 3/5
    assert d["correctness"] != pytest.approx(d["channels"])
    assert d["rloo"] != pytest.approx(d["channels"])


def test_verl_compute_advantage_without_and_with_the_hook(estimator_run):
    # scalar mode needs no hook: verl's unmodified compute_advantage finds it by name
    assert estimator_run["verl_scalar"] == pytest.approx(_ours(CASES["scalar"]), abs=1e-5)
    # channels mode without the hook: a clear error, not silent zeros
    assert "install" in estimator_run["unhooked_error"]
    # the hook leaves every other estimator to verl
    assert estimator_run["verl_grpo_after"] == estimator_run["verl_grpo_before"]


@pytest.mark.parametrize(
    "name, model, gpus, tp", [
        ("rlsp_qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", [1, 8], 2),
        ("rlsp_qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B-Instruct", [1, 1], 1),
    ],
)  # fmt: skip
def test_recipe_config_composes_validates_and_scores_a_batch(name, model, gpus, tp):
    out = run_with_path(thirdparty_path("verl"), CHECK.read_text(), "recipe", str(CONFIG_DIR), name)
    got = json.loads(out.strip().splitlines()[-1])
    assert got["model"] == model and got["gpus"] == gpus
    assert got["actor_class"] == "FSDPActorConfig" and got["actor_strategy"] == "fsdp2"
    assert got["rollout"] == ["vllm", 8, tp]
    assert got["adv_estimator"] == "rlsp" and got["use_v1"] is False
    assert got["hook"] == "rlsp_env.integrations.verl_adv.install"
    assert got["need_critic"] is False
    assert got["manager"] == "NaiveRewardManager"
    # the scalar (rlsp-length preset) and every channel, from rlsp's compute_score via verl
    assert got["extra"]["correctness"] == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    assert got["extra"]["format"] == [0.0, -0.5, 0.0, 0.0, 0.0, 0.0]
    assert all(-1.0 <= x <= 0.0 for x in got["extra"]["exploration"])
    # the advantage verl computes from them equals the bundled agent's on the same channels
    rlsp = got["rlsp"]
    uid = ["a", "a", "b", "b", "a", "b"]
    order = [0, 1, 4, 2, 3, 5]
    channels = [c for c, w in rlsp["weights"].items() if w]
    scores = torch.tensor([[got["extra"][c][i] for c in channels] for i in order])
    g_adv = L.group_advantages(scores, 3)
    per = L.combine_channels({c: g_adv[:, j] for j, c in enumerate(channels)}, rlsp["weights"])
    expected = [0.0] * 6
    for pos, i in enumerate(order):
        expected[i] = float(per[pos])
    assert got["advantage"] == pytest.approx(expected, abs=1e-5)
    assert uid[0] == uid[1] and got["advantage"][0] > got["advantage"][1]  # right beats wrong


def test_launch_script_dry_run_composes(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [thirdparty_path("verl"), str(ROOT), env.get("PYTHONPATH", "")]
    )
    env.update(
        RLSP_DRY_RUN="1", RLSP_DATA_OUT=str(tmp_path), RLSP_N_TRAIN="8", RLSP_N_VAL="4",
        PYTHON=sys.executable,
    )  # fmt: skip
    proc = subprocess.run(
        ["bash", str(ROOT / "recipes" / "verl" / "run.sh"), "0.5b", "algorithm.rlsp.mode=scalar"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "adv_estimator: rlsp" in proc.stdout and "mode: scalar" in proc.stdout
    assert f"train_files: {tmp_path}/train.parquet" in proc.stdout
    assert (tmp_path / "train.parquet").is_file() and (tmp_path / "test.parquet").is_file()
    bad = subprocess.run(
        ["bash", str(ROOT / "recipes" / "verl" / "run.sh"), "70b"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2 and "usage" in bad.stderr


RAY_HOOK = """
import json, ray
ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
         runtime_env={"worker_process_setup_hook": HOOK})
try:
    @ray.remote
    def check():
        from verl.trainer.ppo import ray_trainer
        from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY
        return {"wrapped": hasattr(ray_trainer.compute_advantage, "__wrapped__"),
                "registered": "rlsp" in ADV_ESTIMATOR_REGISTRY}
    print(json.dumps(ray.get(check.remote(), timeout=240)))
finally:
    ray.shutdown()
"""


def test_recipe_hook_runs_in_a_real_ray_worker():
    """The recipe's worker_process_setup_hook, in a local Ray cluster (Ray from the set-up)."""
    import yaml

    base = yaml.safe_load((CONFIG_DIR / "rlsp_base.yaml").read_text())
    hook = base["ray_kwargs"]["ray_init"]["runtime_env"]["worker_process_setup_hook"]
    script = f"HOOK = {hook!r}\n" + RAY_HOOK
    out = run_with_path(thirdparty_path("verl"), script, timeout=300)
    assert json.loads(out.strip().splitlines()[-1]) == {"wrapped": True, "registered": True}
