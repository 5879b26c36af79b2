"""The critic modes' advantages keep the sign the rewards give them.

With value heads that do not yet track the returns (they start at one value and get one update
per iteration), PPO's usual token whitening (mean 0, std 1) subtracts the batch's token mean from
every token: GAE with ``lam < 1`` gives the opening tokens of a response almost none of its
terminal reward, so after the shift the opening tokens of *every* response, correct ones
included, share one negative advantage. The default scaling (``adv_norm="rms"``) divides by the
root mean square instead, and the heads start at the first batch's mean (``critic_init``), so a
response above the batch mean is pushed up at every token and one below it down.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_agents import losses as L
from rlsp_agents.config import TrainConfig
from rlsp_agents.critic import ValueHeads
from rlsp_agents.rollouts import Rollout
from rlsp_agents.train import OldPolicy, channel_scores, compute_advantages, init_value_baseline

CH = ["correctness", "format"]


def _rows(spec: list[tuple[float, float, int]]) -> list[Rollout]:
    return [
        Rollout(i // 2, [1], [2] * n, "", "stop", n, {"correctness": c, "format": f}, 0.0, c > 0)
        for i, (c, f, n) in enumerate(spec)
    ]


def _old(rows: list[Rollout], value: torch.Tensor) -> OldPolicy:
    n = [len(r.response_ids) for r in rows]
    return OldPolicy(
        logprobs=[torch.zeros(k) for k in n],
        values=[value.expand(k, len(CH)).clone() for k in n],
        ref_logprobs=[None] * len(n),
    )


def _per_channel(cfg: TrainConfig, rows: list[Rollout], old: OldPolicy, channel: str):
    w = {c: float(c == channel) for c in CH}
    adv, _, mask = compute_advantages(cfg, rows, old, CH, w)
    return adv, mask


@settings(max_examples=60, deadline=None)
@given(
    spec=st.lists(
        st.tuples(
            st.sampled_from([0.0, 1.0]),
            st.sampled_from([-1.0, -0.5, 0.0]),
            st.integers(min_value=1, max_value=60),
        ),
        min_size=2,
        max_size=12,
    ),
    lam=st.sampled_from([0.0, 0.5, 0.95, 1.0]),
)
def test_every_token_keeps_the_sign_of_reward_minus_baseline(spec, lam) -> None:
    rows = _rows(spec)
    cfg = TrainConfig(advantage="decoupled", samples_per_prompt=2, lam=lam)
    heads = ValueHeads(8, CH, width=4)
    mean = init_value_baseline(heads, channel_scores(cfg, rows, CH))
    # the heads' estimate is now the batch mean everywhere (their last layer starts at 0)
    v = heads(torch.randn(1, 1, 8))[0, 0].detach()
    assert torch.allclose(v, mean, atol=1e-6)
    old = _old(rows, v)
    for k, c in enumerate(CH):
        adv, mask = _per_channel(cfg, rows, old, c)
        for i, r in enumerate(rows):
            n = len(r.response_ids)
            gap = r.rewards[c] - float(mean[k])
            a = adv[i, :n]
            if gap > 1e-6:
                assert bool((a >= 0).all()), (c, i, a)
            elif gap < -1e-6:
                assert bool((a <= 0).all()), (c, i, a)


def test_whitening_with_untrained_heads_pushes_down_correct_openings() -> None:
    """The failure the default avoids, on a batch like the main job's (half correct, ~80-96
    tokens, heads at 0, lam 0.95): the opening tokens of correct responses get a negative
    advantage under whitening, and a positive one under RMS scaling from the batch mean."""
    spec = [(1.0, 0.0, 80 + (i % 7)) if i % 2 == 0 else (0.0, 0.0, 96) for i in range(16)]
    rows = _rows(spec)
    correct = [i for i, r in enumerate(rows) if r.correct]
    white = TrainConfig(advantage="decoupled", samples_per_prompt=2, adv_norm="whiten")
    adv, _ = _per_channel(white, rows, _old(rows, torch.zeros(len(CH))), "correctness")
    assert float(adv[correct, :20].max()) < 0  # every opening token of every correct response
    rms = TrainConfig(advantage="decoupled", samples_per_prompt=2)
    heads = ValueHeads(8, CH, width=4)
    mean = init_value_baseline(heads, channel_scores(rms, rows, CH))
    adv, _ = _per_channel(rms, rows, _old(rows, mean), "correctness")
    assert float(adv[correct, :20].min()) > 0


def test_a_channel_that_did_not_vary_contributes_nothing() -> None:
    """Every response has format 0, but the heads' estimates differ per token: without the rule
    their error alone, rescaled to unit size, would move the policy."""
    rows = _rows([(1.0, 0.0, 5), (0.0, 0.0, 7), (1.0, 0.0, 3), (0.0, 0.0, 4)])
    n = [len(r.response_ids) for r in rows]
    g = torch.Generator().manual_seed(0)
    old = OldPolicy(
        logprobs=[torch.zeros(k) for k in n],
        values=[torch.randn(k, len(CH), generator=g) * 0.01 for k in n],
        ref_logprobs=[None] * len(n),
    )
    for norm in ("rms", "whiten"):
        cfg = TrainConfig(advantage="decoupled", samples_per_prompt=2, adv_norm=norm)
        adv, _ = _per_channel(cfg, rows, old, "format")
        assert torch.equal(adv, torch.zeros_like(adv)), norm
        adv, mask = _per_channel(cfg, rows, old, "correctness")
        assert float((adv.abs() * mask).sum()) > 0


@pytest.mark.parametrize("group_returns", [False, True])
def test_float_rounding_is_not_variation(group_returns) -> None:
    """Rewards equal up to float rounding (a sum of terms in a different order: 0.3 against the
    next float32) are equal: under ``group_returns`` their group advantages would otherwise be
    ~0.01 each, and the per-channel scaling would blow that residue up to unit size."""
    eps = float(torch.tensor(0.3).nextafter(torch.tensor(1.0))) - 0.3
    rows = _rows([(1.0, 0.3, 5), (0.0, 0.3 + eps, 7), (1.0, 0.3 + eps, 3), (0.0, 0.3, 4)])
    cfg = TrainConfig(
        advantage="decoupled", samples_per_prompt=2, lam=1.0, group_returns=group_returns
    )
    heads = ValueHeads(8, CH, width=4)
    mean = init_value_baseline(heads, channel_scores(cfg, rows, CH))
    old = _old(rows, mean)
    adv, _ = _per_channel(cfg, rows, old, "format")
    assert torch.equal(adv, torch.zeros_like(adv))
    adv, mask = _per_channel(cfg, rows, old, "correctness")
    assert float((adv.abs() * mask).sum()) > 0


def test_group_advantages_treat_rounding_residue_as_equal() -> None:
    x = torch.tensor([0.1 + 0.2, 0.3, 1.0, 0.0], dtype=torch.float64)  # 0.1 + 0.2 != 0.3
    for baseline in ("grpo", "rloo"):
        adv = L.group_advantages(x, 2, baseline=baseline)
        assert adv[:2].tolist() == [0.0, 0.0], baseline
        assert adv[2] > 0 > adv[3], baseline
    big = torch.tensor([1e6, 1e6 + 0.5, 1e6, 1e6 + 2.0])  # large scores: a relative tolerance
    adv = L.group_advantages(big, 2)
    assert adv[:2].tolist() == [0.0, 0.0] and adv[3] > 0 > adv[2]


def test_rms_scale_properties() -> None:
    x = torch.tensor([[2.0, -1.0, 5.0], [0.5, 0.0, 0.0]])
    m = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    out = L.masked_rms_scale(x, m)
    assert out[0, 2] == 0 and out[1, 1] == 0  # padding
    assert torch.equal(torch.sign(out) * m, torch.sign(x) * m)  # signs kept
    assert float(L.masked_mean(out * out, m)) == pytest.approx(1.0)  # unit RMS
    assert torch.equal(L.masked_rms_scale(torch.zeros(2, 3), m), torch.zeros(2, 3))
    # scale-invariant
    assert torch.allclose(L.masked_rms_scale(7.0 * x, m), out)


def test_new_options_are_validated() -> None:
    with pytest.raises(ValueError, match="adv_norm"):
        TrainConfig(adv_norm="median").validate()
