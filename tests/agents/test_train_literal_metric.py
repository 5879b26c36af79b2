"""``charts/literal_accuracy``: the logged share of sampled responses that are correct and state
the gold as written, so that a drift onto accepted non-literal forms shows during training."""

from __future__ import annotations

import torch

from rlsp_agents import train as T
from rlsp_agents.config import TrainConfig
from rlsp_agents.rollouts import Rollout


def _rollout(extracted: str | None, correct: bool, gold: str = "118") -> Rollout:
    return Rollout(
        group=0,
        prompt_ids=[1, 2],
        response_ids=[3, 4, 5],
        text=f"\\boxed{{{extracted}}}",
        finish_reason="stop",
        num_tokens=3,
        rewards={"correctness": float(correct), "format": 0.0},
        total=float(correct),
        correct=correct,
        extracted=extracted,
        problem={"gold": gold},
    )


def test_literal_accuracy_counts_only_correct_answers_written_as_the_gold() -> None:
    rows = [
        _rollout("118", True),  # literal
        _rollout("29 + 89 = 118", True),  # a chain ending in the gold: literal
        _rollout("118.", True),  # accepted by the verifier, not the number as written
        _rollout("\\frac{236}{2}", True),  # the same
        _rollout("117", False),
        _rollout(None, False),
    ]
    cfg = TrainConfig(advantage="group", channel_weights="correctness=1,format=0.5")
    stats = dict.fromkeys(("policy", "entropy", "approx_kl", "clipfrac", "tokens"), 1.0)
    stats["grad_norm"] = 1.0
    row = T._metrics(
        cfg, rows, weights=cfg.weights(), stats=stats, kept=list(range(len(rows))),
        sample_mag=torch.ones(len(rows)), has_critic=False, has_ref=False,
    )  # fmt: skip
    assert row["charts/accuracy"] == 4 / 6
    assert row["charts/literal_accuracy"] == 2 / 6
