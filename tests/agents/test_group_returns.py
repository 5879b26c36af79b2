"""``group_returns``: the critic modes train on each channel's group advantage, so the first
update (value heads at 0, ``lam=1``) is the group-normalised one, and the returns the value heads
learn are the group-centred ones."""

from __future__ import annotations

import pytest
import torch

from rlsp_agents import losses as L
from rlsp_agents.config import TrainConfig
from rlsp_agents.rollouts import Rollout
from rlsp_agents.train import OldPolicy, compute_advantages

CH = ["correctness", "exploration"]


def _rows(lengths: list[int]) -> list[Rollout]:
    # group 0 mixed, group 1 all correct (uninformative about correctness), consecutive groups
    spec = [(0, True, -0.2), (0, False, -0.8), (1, True, -0.1), (1, True, -0.9)]
    return [
        Rollout(
            g, [1], [2] * n, "", "stop", n, {"correctness": float(ok), "exploration": e}, 0.0, ok
        )
        for (g, ok, e), n in zip(spec, lengths, strict=True)
    ]


def _old(lengths: list[int], value: float = 0.0) -> OldPolicy:
    return OldPolicy(
        logprobs=[torch.zeros(n) for n in lengths],
        values=[torch.full((n, len(CH)), value) for n in lengths],
        ref_logprobs=[None] * len(lengths),
    )


def test_first_update_is_the_group_normalised_one() -> None:
    lengths = [3, 5, 2, 4]
    cfg = TrainConfig(advantage="decoupled", samples_per_prompt=2, group_returns=True, lam=1.0)
    w = {"correctness": 1.0, "exploration": 0.0}
    adv, returns, mask = compute_advantages(cfg, _rows(lengths), _old(lengths), CH, w)
    # every token of a response carries its group advantage (scaled by the batch's token RMS)
    for i, n in enumerate(lengths):
        assert torch.allclose(adv[i, :n], adv[i, 0].expand(n))
    # the all-correct group is uninformative: its responses get exactly 0, as in GRPO
    scores = torch.tensor([[1.0], [0.0], [1.0], [1.0]])
    g = L.group_advantages(scores, 2)[:, 0]
    tok = torch.cat([g[i].expand(n) for i, n in enumerate(lengths)])
    expect = g / (tok.pow(2).mean().sqrt() + 1e-8)
    assert torch.allclose(adv[:, 0], expect, atol=1e-4)
    assert adv[0, 0] > 0 > adv[1, 0]
    assert torch.equal(adv[2:, 0], torch.zeros(2))
    # the older whitening shifts that zero by the batch's token mean (length-weighted)
    white = TrainConfig(
        advantage="decoupled", samples_per_prompt=2, group_returns=True, lam=1.0, adv_norm="whiten"
    )
    adv_w, _, _ = compute_advantages(white, _rows(lengths), _old(lengths), CH, w)
    expect_w = (g - tok.mean()) / (tok.std(unbiased=False) + 1e-8)
    assert torch.allclose(adv_w[:, 0], expect_w, atol=1e-4)
    # the value heads' targets are the group-centred returns, not the raw rewards
    assert torch.allclose(returns[2, :2, 0], torch.zeros(2))
    assert returns[0, 0, 0] > 0 > returns[1, 0, 0]


def test_without_group_returns_the_solved_group_is_not_neutral() -> None:
    """The contrast that motivates the option: with a batch baseline only, an all-correct group
    is pushed up as a whole, with the same value heads at 0."""
    lengths = [3, 3, 3, 3]
    w = {"correctness": 1.0, "exploration": 0.0}
    on = TrainConfig(advantage="decoupled", samples_per_prompt=2, group_returns=True, lam=1.0)
    off = TrainConfig(advantage="decoupled", samples_per_prompt=2, group_returns=False, lam=1.0)
    a_on, _, _ = compute_advantages(on, _rows(lengths), _old(lengths), CH, w)
    a_off, _, _ = compute_advantages(off, _rows(lengths), _old(lengths), CH, w)
    assert a_off[2, 0] > 0 and a_off[3, 0] > 0  # batch baseline: rewarded for an easy prompt
    assert a_on[2, 0] == pytest.approx(a_on[3, 0])  # group: the two are alike
    assert a_on[2, 0] < a_on[0, 0]  # and below the mixed group's correct response


def test_rlsp_mode_uses_the_total() -> None:
    lengths = [2, 2, 2, 2]
    rows = _rows(lengths)
    for r, t in zip(rows, [1.0, 0.0, 0.5, 0.5], strict=True):
        r.total = t
    cfg = TrainConfig(advantage="rlsp", samples_per_prompt=2, group_returns=True, lam=1.0)
    old = OldPolicy(
        logprobs=[torch.zeros(2)] * 4, values=[torch.zeros(2, 1)] * 4, ref_logprobs=[None] * 4
    )
    adv, _, _ = compute_advantages(cfg, rows, old, ["total"], {"total": 1.0})
    assert adv[0, 0] > 0 > adv[1, 0]
    assert adv[2, 0] == pytest.approx(adv[3, 0])


@pytest.mark.parametrize(
    "kw, msg",
    [
        ({"advantage": "group"}, "critic modes"),
        ({"advantage": "decoupled", "samples_per_prompt": 1}, "samples_per_prompt >= 2"),
    ],
)
def test_validation(kw: dict, msg: str) -> None:
    cfg = TrainConfig(group_returns=True, **kw)
    with pytest.raises(ValueError, match=msg):
        cfg.validate()
