"""The correctness gate: in groups with no correct response only the correctness channel moves
the policy (the failure of the first RLSP main-job run: four iterations with nothing correct, where
the normalised exploration advantage alone lengthened the responses)."""

from __future__ import annotations

import pytest
import torch

from rlsp_agents.config import TrainConfig
from rlsp_agents.rollouts import Rollout
from rlsp_agents.train import OldPolicy, compute_advantages, correctness_gate


def _rows() -> list[Rollout]:
    # group 0: one right, one wrong; group 1: both wrong, different exploration
    spec = [(0, True, -0.2), (0, False, -0.8), (1, False, -0.1), (1, False, -0.9)]
    return [
        Rollout(
            g, [1], [2, 3], "", "stop", 2, {"correctness": float(ok), "exploration": e}, 0.0, ok
        )
        for g, ok, e in spec
    ]


@pytest.mark.parametrize("gate", [False, True])
def test_group_mode_gate(gate: bool) -> None:
    cfg = TrainConfig(advantage="group", samples_per_prompt=2, correctness_gate=gate)
    adv, _, mask = compute_advantages(
        cfg, _rows(), None, ["correctness", "exploration"], {"correctness": 1.0, "exploration": 1.0}
    )
    per_row = adv[:, 0]
    assert per_row[0] > per_row[1]  # the correct response wins in the solved group
    if gate:
        assert per_row[2].item() == 0.0 and per_row[3].item() == 0.0
    else:  # without the gate, exploration alone ranks the unsolved group's responses
        assert per_row[2] > 0 > per_row[3]


@pytest.mark.parametrize("gate", [False, True])
def test_decoupled_mode_gate(gate: bool) -> None:
    cfg = TrainConfig(advantage="decoupled", samples_per_prompt=2, correctness_gate=gate)
    rows = _rows()
    old = OldPolicy(
        logprobs=[torch.zeros(2)] * 4, values=[torch.zeros(2, 2)] * 4, ref_logprobs=[None] * 4
    )
    w = {"correctness": 0.0, "exploration": 1.0}  # look at exploration's share alone
    adv, _, mask = compute_advantages(cfg, rows, old, ["correctness", "exploration"], w)
    unsolved = adv[2:].abs().sum().item()
    assert (unsolved == 0.0) == gate
    assert adv[:2].abs().sum().item() > 0.0  # the solved group keeps its exploration signal


def test_gate_mask() -> None:
    assert correctness_gate(_rows()).tolist() == [1.0, 1.0, 0.0, 0.0]
