"""The PPO loop end to end on a tiny random Llama: every advantage mode on the real
``rlsp/Arithmetic-v0`` environment, and the direction of one update on a toy environment."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from test_train_helpers import TOY_ENV_ID, tiny_model_dir

from rlsp_agents.config import TrainConfig
from rlsp_agents.metrics import read_metrics
from rlsp_agents.train import train

pytestmark = pytest.mark.slow


def _cfg(tmp: Path, **kw) -> TrainConfig:
    base = dict(
        model=tiny_model_dir(),
        env_id="rlsp/Arithmetic-v0",
        sampler="transformers",
        total_steps=2,
        prompts_per_step=2,
        samples_per_prompt=2,
        max_new_tokens=8,
        micro_batch_size=3,
        out=str(tmp / "run"),
        progress=False,
        log_samples=0,
        threads=2,
    )
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize(
    "mode,extra",
    [
        ("decoupled", {}),
        ("rlsp", {}),
        ("group", {"group_baseline": "rloo"}),
        (
            "decoupled",
            {
                "kl_coef": 0.05,
                "update_epochs": 2,
                "num_minibatches": 2,
                "weight_schedule": "correctness",
            },
        ),
    ],
)
def test_every_mode_runs_on_the_real_environment(tmp_path: Path, mode: str, extra: dict) -> None:
    cfg = _cfg(
        tmp_path,
        advantage=mode,
        channel_weights="correctness=1,format=0.5,exploration=0.1",
        **extra,
    )
    summary = train(cfg)
    rows = read_metrics(Path(cfg.out) / "metrics.jsonl")
    assert [r["step"] for r in rows] == [1, 2]
    last = rows[-1]
    for key in (
        "reward/correctness", "reward/format", "reward/exploration", "reward/total",
        "behaviour/backtracking", "behaviour/verification", "charts/accuracy",
        "charts/entropy", "charts/approx_kl", "charts/response_len", "losses/policy",
        "time/sample", "time/verify", "time/train", "time/sync", "charts/tokens_per_s",
    ):  # fmt: skip
        assert key in last, key
    assert (mode == "group") == ("losses/value" not in last)
    assert ("losses/kl_ref" in last) == (cfg.kl_coef > 0)
    assert 0 < last["charts/response_len"] <= cfg.max_new_tokens + 1
    assert last["charts/entropy"] > 0
    if extra.get("num_minibatches", 1) > 1:
        assert last["charts/approx_kl"] >= 0.0  # a second minibatch sees a moved policy
    assert Path(summary["final_model"], "config.json").is_file()
    assert (Path(cfg.out) / "checkpoints" / "step-000002" / "COMPLETE").is_file()
    assert {p.name for p in (Path(cfg.out) / "plots").iterdir()} >= {
        "accuracy.png", "rewards.png", "response_length.png", "behaviour.png",
        "kl_entropy.png", "time_per_phase.png",
    }  # fmt: skip
    assert json.loads((Path(cfg.out) / "config.json").read_text())["advantage"] == mode


def test_unknown_channel_is_a_clear_error(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, total_steps=1, channel_weights="correctness=1,nonsense=1")
    with pytest.raises(ValueError, match="nonsense"):
        train(cfg)


def _response_logprobs(model_dir: str, rollouts) -> list[float]:
    import torch
    from transformers import AutoModelForCausalLM

    from rlsp_agents.batching import collate, forward

    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    batch = collate(rollouts, 0)
    with torch.no_grad():
        lp, _, _ = forward(
            model,
            None,
            batch,
            autocast=contextlib.nullcontext,
            detach_critic=True,
            with_entropy=False,
        )
    return (lp * batch["mask"]).sum(1).tolist()


@pytest.mark.parametrize("mode", ["group", "decoupled", "rlsp"])
def test_one_update_moves_log_probs_along_the_advantages(tmp_path: Path, mode: str) -> None:
    """After one PPO step, responses with positive advantage became more likely and responses
    with negative advantage less likely (the direction of the update is right in every mode)."""
    seen: list[dict] = []
    cfg = _cfg(
        tmp_path,
        env_id=TOY_ENV_ID,
        difficulty=None,
        advantage=mode,
        channel_weights="correctness=1,format=0.5",
        total_steps=1,
        prompts_per_step=3,
        samples_per_prompt=4,
        max_new_tokens=6,
        micro_batch_size=6,
        temperature=1.0,
        lr=1e-3,
        filter_tau=-1.0,
        precision="fp32",
        plots=False,
    )
    train(cfg, on_step=seen.append)
    (it,) = seen
    rollouts, adv = it["rollouts"], it["advantages"]
    assert len(rollouts) == 12 and len(adv) == 12 and it["kept"] == list(range(12))
    before = _response_logprobs(cfg.model, rollouts)
    after = _response_logprobs(str(Path(cfg.out) / "final"), rollouts)
    delta = [a - b for a, b in zip(after, before)]
    up = [d for d, a in zip(delta, adv) if a > 0.05]
    down = [d for d, a in zip(delta, adv) if a < -0.05]
    assert up and down
    assert sum(up) / len(up) > 0 > sum(down) / len(down), (up, down)


def test_gradient_filter_drops_low_advantage_samples(tmp_path: Path) -> None:
    seen: list[dict] = []
    cfg = _cfg(
        tmp_path, env_id=TOY_ENV_ID, difficulty=None, advantage="group",
        channel_weights="correctness=1", total_steps=1, prompts_per_step=2,
        samples_per_prompt=4, filter_tau=0.8, plots=False, save_final=False,
    )  # fmt: skip
    train(cfg, on_step=seen.append)
    (it,) = seen
    kept_mag = [abs(it["advantages"][i]) for i in it["kept"]]
    dropped = [abs(a) for i, a in enumerate(it["advantages"]) if i not in it["kept"]]
    assert kept_mag and all(m > 0.8 for m in kept_mag) or len(it["kept"]) == 1
    assert all(m <= 0.8 for m in dropped)
    assert it["metrics"]["charts/kept_frac"] == len(it["kept"]) / 8


class GroupScriptSampler:
    """A real ``Sampler`` that answers from a script instead of a model: every problem's group of
    4 responses is, by iteration, all the same text (1), three the same and one different (2),
    all different (3). Token ids are the tokenizer's, so the update trains on them."""

    SCRIPT = (
        ("a b c d",) * 4,
        ("a b c d",) * 3 + ("w x y z",),
        ("a b c d", "e f g h", "i j k l", "m n o p"),
    )

    def __init__(self, model_dir: str) -> None:
        from transformers import AutoTokenizer

        from rlsp_agents.sampler import BaseSampler

        self.tok = AutoTokenizer.from_pretrained(model_dir)
        self.encoder = BaseSampler(self.tok, max_model_len=1024, seed=0)
        self.calls = 0

    def generate(self, prompts, *, n, **kw):
        from rlsp_agents.sampler import Completion

        texts = self.SCRIPT[self.calls]
        self.calls += 1
        assert n == len(texts)
        out = []
        for ids in self.encoder.encode_prompts(prompts):
            row = []
            for t in texts:
                resp = self.tok(t, add_special_tokens=False)["input_ids"] + [self.tok.eos_token_id]
                row.append(Completion(t, resp, ids, "stop"))
            out.append(row)
        return out

    def sync_weights(self, model) -> None:
        pass

    def close(self) -> None:
        pass


def test_diversity_is_live_in_training(tmp_path: Path) -> None:
    """The trainer steps a vector env with group_size = samples_per_prompt, so the group channel
    ``diversity`` sees each group's responses: its logged mean and within-batch spread follow the
    script (0 for identical groups, 1 for disjoint ones), and it can be trained on."""
    cfg = _cfg(
        tmp_path,
        advantage="group",
        channel_weights={"correctness": 1.0, "diversity": 0.5},
        total_steps=3,
        prompts_per_step=2,
        samples_per_prompt=4,
        plots=False,
        save_final=False,
        checkpoint_every=0,
    )
    seen: list[dict] = []
    train(cfg, sampler=GroupScriptSampler(cfg.model), on_step=seen.append)
    rows = read_metrics(Path(cfg.out) / "metrics.jsonl")
    assert [r["reward/diversity"] for r in rows] == pytest.approx([0.0, 0.5, 1.0])
    # iteration 2: three responses at distance 1/3 from their group, one at distance 1
    assert [r["reward/diversity_std"] for r in rows] == pytest.approx([0.0, 12**0.5 / 12, 0.0])
    per_response = [r.rewards["diversity"] for r in seen[1]["rollouts"]]
    assert per_response == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1.0] * 2)
    # the odd one out of iteration 2 gets the positive advantage (diversity is weighted)
    adv = seen[1]["advantages"]
    assert adv[3] > 0 > adv[0] and adv[7] > 0 > adv[4]
    for key in ("reward/correctness_std", "reward/format_std", "reward/exploration_std"):
        assert key in rows[0], key


def test_critic_mode_advantages_follow_the_rewards_from_the_first_iteration(
    tmp_path: Path, capsys
) -> None:
    """A fresh decoupled run: the value heads start at the first batch's mean (logged), so every
    response's advantage has the sign of its reward minus that mean, with ``lam`` < 1 too."""
    seen: list[dict] = []
    cfg = _cfg(
        tmp_path,
        env_id=TOY_ENV_ID,
        difficulty=None,
        advantage="decoupled",
        channel_weights="format=1",
        total_steps=1,
        prompts_per_step=3,
        samples_per_prompt=4,
        max_new_tokens=6,
        micro_batch_size=6,
        temperature=1.0,
        lam=0.95,
        filter_tau=-1.0,
        precision="fp32",
        plots=False,
    )
    train(cfg, on_step=seen.append)
    (it,) = seen
    scores = [r.rewards["format"] for r in it["rollouts"]]
    mean = sum(scores) / len(scores)
    assert max(scores) > min(scores), scores  # the batch is informative
    assert "value heads start at the first batch's means: format" in capsys.readouterr().err
    for s, a in zip(scores, it["advantages"], strict=True):
        if s > mean + 1e-6:
            assert a > 0, (s, mean, a)
        elif s < mean - 1e-6:
            assert a < 0, (s, mean, a)
