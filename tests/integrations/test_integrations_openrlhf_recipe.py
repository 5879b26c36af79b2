"""The OpenRLHF recipe with OpenRLHF 0.11.2's own code, on CPU: the launch script's command line
parsed and checked by OpenRLHF's ``train_ppo_ray`` parser (recipes/openrlhf/check_args.py runs
that file, starting nothing), the old flags rejected by it, and the dataset writer's rows read by
OpenRLHF's own prompt preprocessing.

OpenRLHF comes from the set-up (scripts/thirdparty.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from integrations_helpers import run_with_path, thirdparty_path

from rlsp_env import rewards
from rlsp_env.integrations.openrlhf import openrlhf_flags, write_openrlhf_dataset

ROOT = Path(__file__).resolve().parents[2]
RECIPE = ROOT / "recipes" / "openrlhf"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    path = [thirdparty_path("openrlhf"), str(ROOT), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, path))
    env["PYTHON"] = sys.executable
    return env


def _dry_run(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = _env() | extra_env | {"RLSP_DRY_RUN": "1"}
    return subprocess.run(
        ["bash", str(RECIPE / "run.sh"), *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize(
    "size, model, gpus, engines, tp", [
        ("7b", "Qwen/Qwen2.5-7B-Instruct", 8, 4, 2),
        ("0.5b", "Qwen/Qwen2.5-0.5B-Instruct", 1, 1, 1),
    ],
)  # fmt: skip
def test_recipe_command_line_parses_with_openrlhfs_own_parser(size, model, gpus, engines, tp):
    proc = _dry_run(size, RLSP_DATA_OUT="/data/x", RLSP_PORT="8123")
    assert proc.returncode == 0, proc.stderr[-3000:]
    a = json.loads(proc.stdout.strip().splitlines()[-1])
    assert a["actor"]["model_name_or_path"] == model
    # the reward: rlsp serve, through the current flags; OpenRLHF splits the URL list itself
    assert a["reward"]["remote_url"] == ["http://127.0.0.1:8123/get_reward"]
    assert a["data"]["prompt_dataset"] == "/data/x/train.jsonl"
    assert a["data"]["input_key"] == "prompt" and a["data"]["label_key"] == "label"
    assert a["data"]["apply_chat_template"] is True
    # the RLSP paper's PPO: a critic (OpenRLHF defaults it to the actor's model), GAE, KL 0.05
    assert a["algo"]["advantage"]["estimator"] == "gae"
    assert a["critic"]["model_name_or_path"] == model
    assert a["algo"]["advantage"]["lambd"] == 0.95 and a["algo"]["kl"]["init_coef"] == 0.05
    assert a["actor"]["adam"]["lr"] == 2e-7 and a["critic"]["adam"]["lr"] == 2e-6
    assert a["rollout"]["temperature"] == 0.7
    assert a["actor"]["num_gpus_per_node"] == gpus and a["critic"]["num_gpus_per_node"] == gpus
    assert a["vllm"]["num_engines"] == engines and a["vllm"]["tensor_parallel_size"] == tp
    assert a["train"]["colocate_all"] is True and a["vllm"]["enable_sleep"] is True


def test_extra_flags_pass_through_and_bad_ones_are_rejected_by_openrlhf():
    proc = _dry_run("0.5b", "--train.seed", "7")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["train"]["seed"] == 7
    # the pre-0.10.2 flags our docs used to give: OpenRLHF's argparse refuses them
    for old in (["--remote_rm_url", "http://x/get_reward"], ["--label_key", "label"]):
        bad = _dry_run("0.5b", *old)
        assert bad.returncode == 2 and "unrecognized arguments" in bad.stderr, bad.stderr[-500:]
    # and OpenRLHF's own argument checks run (n_samples_per_prompt must be > 1 for group_norm)
    bad = _dry_run("0.5b", "--algo.advantage.estimator", "group_norm")
    assert bad.returncode != 0 and "n_samples_per_prompt" in bad.stderr
    usage = subprocess.run(
        ["bash", str(RECIPE / "run.sh")], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_openrlhf_flags_match_the_writer():
    flags = openrlhf_flags("d.jsonl", "http://h:1/get_reward")
    assert flags[flags.index("--data.label_key") + 1] == "label"
    assert flags[flags.index("--reward.remote_url") + 1] == "http://h:1/get_reward"
    with pytest.raises(ValueError, match="get_reward"):
        openrlhf_flags("d.jsonl", "h:1")
    out = run_with_path(
        thirdparty_path("openrlhf"),
        (RECIPE / "check_args.py").read_text(),
        "--actor.model_name_or_path", "m", *flags,
    )  # fmt: skip
    a = json.loads(out.strip().splitlines()[-1])
    assert a["data"]["label_key"] == "label" and a["reward"]["remote_url"] == [flags[-1]]


def test_dataset_rows_through_openrlhfs_prompt_preprocessing(tmp_path):
    path = tmp_path / "arith.jsonl"
    assert write_openrlhf_dataset("rlsp/Arithmetic-v0", path, 4) == 4
    script = """
import json, sys
from datasets import load_dataset
from transformers import AutoTokenizer
from openrlhf.datasets.prompts_dataset import preprocess_data
from rlsp_agents.models import resolve_model
tok = AutoTokenizer.from_pretrained(resolve_model(None))
rows = load_dataset("json", data_files=sys.argv[1], split="train")
out = [preprocess_data(r, None, "prompt", "label", tok.apply_chat_template) for r in rows]
print(json.dumps(out))
"""
    got = json.loads(run_with_path(thirdparty_path("openrlhf"), script, str(path)).splitlines()[-1])
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for (prompt, label), row in zip(got, rows):
        assert row["prompt"][-1]["content"] in prompt and prompt.rstrip().endswith("assistant")
        assert label == row["label"]
        # the label OpenRLHF sends the reward server is a gold the verifier accepts
        assert rewards.score(f"\\boxed{{{label}}}", label, weights="default").verdict.correct
