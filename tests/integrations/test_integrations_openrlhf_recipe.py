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


def _recipe_args(*args: str, **extra_env: str) -> list[str]:
    """The exact train_ppo_ray flags run.sh would pass (RLSP_PRINT_ARGS=1), nothing run."""
    env = _env() | extra_env | {"RLSP_PRINT_ARGS": "1"}
    proc = subprocess.run(
        ["bash", str(RECIPE / "run.sh"), *args],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )  # fmt: skip
    return proc.stdout.split("\0")[:-1]


SIZES = {
    "7b": ("Qwen/Qwen2.5-7B-Instruct", 8, 4, 2),
    "0.5b": ("Qwen/Qwen2.5-0.5B-Instruct", 1, 1, 1),
}


@pytest.fixture(scope="module")
def parsed(tmp_path_factory):
    """OpenRLHF's own parser on the recipe's command lines, in one interpreter."""
    lines = {
        "7b": _recipe_args("7b", RLSP_DATA_OUT="/data/x", RLSP_PORT="8123"),
        "0.5b": _recipe_args("0.5b", RLSP_DATA_OUT="/data/x", RLSP_PORT="8123"),
        "seed": _recipe_args("0.5b", "--train.seed", "7"),
        # the pre-0.10.2 flags our docs used to give
        "old_url": _recipe_args("0.5b", "--remote_rm_url", "http://x/get_reward"),
        "old_label": _recipe_args("0.5b", "--label_key", "label"),
        # OpenRLHF's own checks run: group_norm needs n_samples_per_prompt > 1
        "group_norm": _recipe_args("0.5b", "--algo.advantage.estimator", "group_norm"),
        "writer": ["--actor.model_name_or_path", "m", *openrlhf_flags("d.jsonl", URL)],
    }
    path = tmp_path_factory.mktemp("orlhf") / "lines.json"
    path.write_text(json.dumps(list(lines.values())))
    script = (RECIPE / "check_args.py").read_text()
    out = run_with_path(thirdparty_path("openrlhf"), script, "--batch", str(path))
    return dict(zip(lines, json.loads(out.strip().splitlines()[-1])))


URL = "http://h:1/get_reward"


@pytest.mark.parametrize("size", sorted(SIZES))
def test_recipe_command_line_parses_with_openrlhfs_own_parser(parsed, size):
    model, gpus, engines, tp = SIZES[size]
    assert "args" in parsed[size], parsed[size]
    a = parsed[size]["args"]
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


def test_extra_flags_pass_through_and_bad_ones_are_rejected_by_openrlhf(parsed):
    assert parsed["seed"]["args"]["train"]["seed"] == 7
    for old in ("old_url", "old_label"):
        assert parsed[old]["code"] == 2 and "unrecognized arguments" in parsed[old]["error"]
    assert parsed["group_norm"]["code"] == 1
    assert "n_samples_per_prompt" in parsed["group_norm"]["error"]
    usage = subprocess.run(
        ["bash", str(RECIPE / "run.sh")], capture_output=True, text=True, env=_env(), timeout=60
    )
    assert usage.returncode == 2 and "usage" in usage.stderr


def test_dry_run_runs_openrlhfs_parser_on_the_script():
    env = _env() | {"RLSP_DRY_RUN": "1"}
    proc = subprocess.run(
        ["bash", str(RECIPE / "run.sh"), "0.5b"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    a = json.loads(proc.stdout.strip().splitlines()[-1])
    assert a["actor"]["model_name_or_path"] == "Qwen/Qwen2.5-0.5B-Instruct"


def test_openrlhf_flags_match_the_writer(parsed):
    flags = openrlhf_flags("d.jsonl", URL)
    assert flags[flags.index("--data.label_key") + 1] == "label"
    assert flags[flags.index("--reward.remote_url") + 1] == URL
    with pytest.raises(ValueError, match="get_reward"):
        openrlhf_flags("d.jsonl", "h:1")
    a = parsed["writer"]["args"]
    assert a["data"]["label_key"] == "label" and a["reward"]["remote_url"] == [URL]


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
