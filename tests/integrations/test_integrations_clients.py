"""Real clients against a real ``rlsp serve``: the documented httpx example and OpenRLHF's own
remote-reward request code (openrlhf 0.11.2 imports here without its GPU stack: its
``openrlhf.utils.agent`` needs only torch, transformers, aiohttp and pylatexenc).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from integrations_helpers import run_with_path, running_server, thirdparty_path

from rlsp_env import rewards

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "integrations" / "examples"

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def server():
    with running_server("--env", "rlsp/Arithmetic-v0", "--workers", "2") as s:
        yield s


def test_documented_httpx_client(server):
    out = json.loads(run_with_path("", (EXAMPLES / "server_client.py").read_text(), server.url))
    g = out["get_reward"]
    assert g["scores"] == [1.0, 0.0]
    default = rewards.resolve_weights("default")  # the env's default weighting
    assert out["healthz"]["weights"] == default
    direct = [
        rewards.score(r, "42", weights="default")
        for r in ["12 + 30 = 42. So the answer is \\boxed{42}.", "It is 41."]
    ]
    assert g["rewards"] == pytest.approx([d.reward for d in direct])
    for channel in rewards.CHANNELS:
        assert g["extra_logs"][channel] == pytest.approx([d.rewards[channel] for d in direct])
    results = out["score"]["results"]
    assert [r["verdict"]["correct"] for r in results] == [True, False]
    assert [r["verdict"]["reason"] for r in results] == [d.verdict.reason for d in direct]
    assert "rlsp_items_total" in out["metrics"]


@pytest.mark.slow
def test_openrlhf_remote_reward_client(server):
    path = thirdparty_path("openrlhf")
    script = (EXAMPLES / "openrlhf_remote_rm.py").read_text()
    out = json.loads(run_with_path(path, script, server.url + "/get_reward").splitlines()[-1])
    responses = [
        "Let me add: 12 + 30 = 42. Wait, let me verify: 42 - 30 = 12. \\boxed{42}",
        "The answer is \\boxed{41}.",
        "I am not sure.",
    ]
    for item, response in zip(out, responses):
        direct = rewards.score(response, "42", weights="default")
        assert item["reward"] == pytest.approx([direct.reward])
        assert item["scores"] == [1.0 if direct.verdict.correct else 0.0]
        assert item["extra_logs"]["backtracking"] == [direct.rewards["backtracking"]]
    assert [i["scores"] for i in out] == [[1.0], [0.0], [0.0]]
    assert out[2]["extra_logs"]["format"] == [rewards.FORMAT_PENALTY]
    assert out[0]["extra_logs"]["backtracking"][0] >= 1.0  # "Wait" was counted


def test_rlsp_serve_cli_help_and_bad_options():
    import subprocess

    cmd = [sys.executable, "-m", "rlsp_agents.cli", "serve", "--help"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    assert "examples:" in out and "--reward.remote_url" in out and "--timeout-s" in out
    assert "--remote_rm_url" not in out  # OpenRLHF >= 0.10.2 rejects the old flag
    for bad, word in [
        (["--workers", "0"], "--workers"),
        (["--timeout-s", "-1"], "--timeout-s"),
        (["--env", "rlsp/Nope-v0"], "unknown environment"),
        (["--weights", "{bad json"], "--weights"),
        (["--weights", "nope"], "unknown reward preset"),
    ]:
        proc = subprocess.run(
            [sys.executable, "-m", "rlsp_agents.cli", "serve", *bad],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, (bad, proc.stderr)
        assert word in proc.stderr and "Traceback" not in proc.stderr, (bad, proc.stderr)
