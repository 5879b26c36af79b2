"""The pure PPO math of ``rlsp_agents.losses`` against slow, obviously-correct reference loops."""

from __future__ import annotations

import doctest
import math
import random

import pytest
import torch

from rlsp_agents import losses as L


def _random_mask(bsz: int, t: int, rng: random.Random) -> torch.Tensor:
    mask = torch.zeros(bsz, t)
    for b in range(bsz):
        mask[b, : rng.randint(1, t)] = 1.0
    return mask


def _gae_reference(rewards, values, mask, gamma, lam):
    """Textbook GAE, one sequence and one token at a time, in Python floats."""
    bsz, t_len = mask.shape
    adv = [[0.0] * t_len for _ in range(bsz)]
    for b in range(bsz):
        n = int(mask[b].sum().item())
        running = 0.0
        for t in reversed(range(n)):
            v_next = float(values[b, t + 1]) if t + 1 < n else 0.0
            delta = float(rewards[b, t]) + gamma * v_next - float(values[b, t])
            running = delta + gamma * lam * running
            adv[b][t] = running
    adv_t = torch.tensor(adv)
    ret = (adv_t + values) * mask
    return adv_t, ret


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("gamma,lam", [(1.0, 0.95), (0.9, 1.0), (1.0, 0.0), (0.99, 0.5)])
def test_gae_matches_reference(seed: int, gamma: float, lam: float) -> None:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    mask = _random_mask(4, 9, rng)
    rewards = torch.randn(4, 9) * mask
    values = torch.randn(4, 9)
    adv, ret = L.gae(rewards, values, mask, gamma=gamma, lam=lam)
    ref_adv, ref_ret = _gae_reference(rewards, values * mask, mask, gamma, lam)
    torch.testing.assert_close(adv, ref_adv, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(ret, ref_ret, atol=1e-5, rtol=1e-5)
    assert float((adv * (1 - mask)).abs().sum()) == 0.0  # nothing leaks into padding


def test_gae_per_channel_equals_channelwise_calls() -> None:
    rng = random.Random(0)
    mask = _random_mask(3, 7, rng)
    rewards = torch.randn(3, 7, 2) * mask.unsqueeze(-1)
    values = torch.randn(3, 7, 2)
    adv, ret = L.gae(rewards, values, mask, gamma=1.0, lam=0.95)
    for c in range(2):
        a_c, r_c = L.gae(rewards[..., c], values[..., c], mask, gamma=1.0, lam=0.95)
        torch.testing.assert_close(adv[..., c], a_c)
        torch.testing.assert_close(ret[..., c], r_c)


def test_gae_lambda_one_gamma_one_is_monte_carlo_minus_value() -> None:
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    rewards = L.terminal_rewards(torch.tensor([3.0]), mask)
    values = torch.tensor([[0.5, 1.0, 2.0, 9.0]])
    adv, ret = L.gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert adv[0, :3].tolist() == [2.5, 2.0, 1.0]
    assert ret[0, :3].tolist() == [3.0, 3.0, 3.0]  # the return of every token is the outcome


def test_gae_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="differ"):
        L.gae(torch.zeros(2, 3), torch.zeros(2, 4), torch.ones(2, 3))


def test_terminal_rewards_places_scores_on_last_token_per_channel() -> None:
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
    out = L.terminal_rewards(torch.tensor([[1.0, -0.5], [2.0, 0.0]]), mask)
    assert out.shape == (2, 3, 2)
    assert out[0, 1].tolist() == [1.0, -0.5] and out[1, 2].tolist() == [2.0, 0.0]
    assert float(out.abs().sum()) == 3.5
    with pytest.raises(ValueError, match="at least one"):
        L.terminal_rewards(torch.tensor([1.0]), torch.zeros(1, 3))


@pytest.mark.parametrize("seed", range(3))
def test_masked_whiten_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    mask = _random_mask(3, 6, rng)
    x = torch.randn(3, 6) * 3 + 1
    vals = [float(x[b, t]) for b in range(3) for t in range(6) if mask[b, t] > 0]
    mean = sum(vals) / len(vals)
    std = math.sqrt(sum((v - mean) ** 2 for v in vals) / len(vals))
    out = L.masked_whiten(x, mask)
    for b in range(3):
        for t in range(6):
            want = (float(x[b, t]) - mean) / (std + 1e-8) if mask[b, t] > 0 else 0.0
            assert abs(float(out[b, t]) - want) < 1e-4


def test_masked_whiten_constant_channel_carries_no_signal() -> None:
    out = L.masked_whiten(torch.full((2, 3), 0.7), torch.ones(2, 3))
    assert float(out.abs().max()) < 1e-6


def _group_reference(scores: list[float], k: int, baseline: str) -> list[float]:
    out = []
    for g in range(0, len(scores), k):
        grp = scores[g : g + k]
        mean = sum(grp) / k
        std = math.sqrt(sum((s - mean) ** 2 for s in grp) / k)
        for i, s in enumerate(grp):
            if baseline == "grpo":
                out.append((s - mean) / (std + 1e-6))
            else:
                others = [x for j, x in enumerate(grp) if j != i]
                out.append(s - sum(others) / (k - 1))
    return out


@pytest.mark.parametrize("baseline", ["grpo", "rloo"])
@pytest.mark.parametrize("k", [2, 4])
def test_group_advantages_match_reference(baseline: str, k: int) -> None:
    rng = random.Random(k)
    scores = [float(rng.choice([0, 1, -0.5, 0.25])) for _ in range(3 * k)]
    got = L.group_advantages(torch.tensor(scores), k, baseline=baseline).tolist()
    want = _group_reference(scores, k, baseline)
    assert got == pytest.approx(want, abs=1e-5)


def test_group_advantages_per_channel_and_errors() -> None:
    scores = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 2.0], [1.0, 0.0]])
    adv = L.group_advantages(scores, 2)
    assert adv[:, 0].tolist() == pytest.approx([1.0, -1.0, 0.0, 0.0], abs=1e-5)
    assert adv[:, 1].tolist() == pytest.approx([0.0, 0.0, 1.0, -1.0], abs=1e-5)
    with pytest.raises(ValueError, match="group_size"):
        L.group_advantages(scores, 1)
    with pytest.raises(ValueError, match="groups of 3"):
        L.group_advantages(scores, 3)
    with pytest.raises(ValueError, match="unknown baseline"):
        L.group_advantages(scores, 2, baseline="nope")


def test_combine_channels_weighted_sum_and_errors() -> None:
    adv = {"correctness": torch.tensor([1.0, -1.0]), "exploration": torch.tensor([0.5, 0.5])}
    out = L.combine_channels(adv, {"correctness": 2.0, "exploration": -1.0, "effort": 0.0})
    assert out.tolist() == [1.5, -2.5]
    with pytest.raises(KeyError, match="format"):
        L.combine_channels(adv, {"format": 1.0})
    with pytest.raises(ValueError, match="nonzero"):
        L.combine_channels(adv, {"correctness": 0.0})


def test_filter_by_advantage_keeps_at_least_one() -> None:
    keep = L.filter_by_advantage(torch.tensor([0.3, -0.05, -0.2, 0.1]), 0.1)
    assert keep.tolist() == [True, False, True, False]
    keep = L.filter_by_advantage(torch.tensor([0.0, -0.02, 0.01]), 0.1)
    assert keep.tolist() == [False, True, False]
    assert L.filter_by_advantage(torch.tensor([0.0, 0.0]), -1.0).tolist() == [True, True]


def _policy_loss_reference(lp, old, adv, mask, clip):
    total, n, clipped_n = 0.0, 0, 0
    for b in range(lp.shape[0]):
        for t in range(lp.shape[1]):
            if mask[b, t] == 0:
                continue
            r = math.exp(float(lp[b, t]) - float(old[b, t]))
            a = float(adv[b, t])
            u, c = -a * r, -a * min(max(r, 1 - clip), 1 + clip)
            total += max(u, c)
            clipped_n += int(c > u)
            n += 1
    return total / n, clipped_n / n


@pytest.mark.parametrize("seed", range(4))
def test_policy_loss_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    torch.manual_seed(seed)
    mask = _random_mask(3, 5, rng)
    lp = torch.randn(3, 5) * 0.3 - 1
    old = lp + torch.randn(3, 5) * 0.3
    adv = torch.randn(3, 5)
    loss, clipfrac = L.policy_loss(lp, old, adv, mask, clip=0.2)
    ref_loss, ref_frac = _policy_loss_reference(lp, old, adv, mask, 0.2)
    assert float(loss) == pytest.approx(ref_loss, rel=1e-5)
    assert float(clipfrac) == pytest.approx(ref_frac, abs=1e-6)


def test_policy_loss_gradient_pushes_up_positive_advantage_tokens() -> None:
    lp = torch.tensor([[-1.0, -1.0]], requires_grad=True)
    loss, _ = L.policy_loss(lp, lp.detach(), torch.tensor([[1.0, -1.0]]), torch.ones(1, 2))
    loss.backward()
    assert lp.grad is not None
    assert float(lp.grad[0, 0]) < 0 < float(lp.grad[0, 1])  # descent raises token 0, lowers 1


def test_micro_batch_losses_add_up_to_full_batch() -> None:
    torch.manual_seed(0)
    mask = _random_mask(6, 5, random.Random(1))
    lp, old, adv = torch.randn(6, 5), torch.randn(6, 5), torch.randn(6, 5)
    full, _ = L.policy_loss(lp, old, adv, mask)
    denom = mask.sum()
    parts = [
        L.policy_loss(lp[i : i + 2], old[i : i + 2], adv[i : i + 2], mask[i : i + 2], denom=denom)[
            0
        ]
        for i in range(0, 6, 2)
    ]
    assert float(sum(parts)) == pytest.approx(float(full), rel=1e-5)


def test_value_loss_matches_reference_and_clipping() -> None:
    torch.manual_seed(0)
    mask = _random_mask(3, 4, random.Random(2))
    v, old, ret = torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)
    got = float(L.value_loss(v, old, ret, mask, clip=0.2))
    total, n = 0.0, 0
    for b in range(3):
        for t in range(4):
            if mask[b, t] == 0:
                continue
            vc = float(old[b, t]) + min(max(float(v[b, t] - old[b, t]), -0.2), 0.2)
            total += 0.5 * max(
                (float(v[b, t]) - float(ret[b, t])) ** 2, (vc - float(ret[b, t])) ** 2
            )
            n += 1
    assert got == pytest.approx(total / n, rel=1e-5)
    unclipped = float(L.value_loss(v, old, ret, mask, clip=None))
    assert unclipped == pytest.approx(
        float(0.5 * ((v - ret) ** 2 * mask).sum() / mask.sum()), rel=1e-5
    )
    # per-channel: summed over channels
    vc3 = torch.stack([v, v], -1)
    assert float(
        L.value_loss(vc3, torch.stack([old, old], -1), torch.stack([ret, ret], -1), mask)
    ) == pytest.approx(2 * got, rel=1e-5)


def test_kl_estimators_are_zero_at_equality_and_positive_otherwise() -> None:
    lp = torch.tensor([[-1.0, -2.0]])
    assert float(L.approx_kl(lp, lp, torch.ones(1, 2))) == 0.0
    assert float(L.approx_kl(lp, lp + 0.5, torch.ones(1, 2))) > 0.0
    assert float(L.kl_k3(lp, lp).abs().sum()) == 0.0
    assert bool((L.kl_k3(lp, lp - 0.3) > 0).all())


def test_token_logprobs_and_entropy_match_direct_computation() -> None:
    torch.manual_seed(0)
    logits = torch.randn(2, 3, 11)
    tokens = torch.randint(0, 11, (2, 3))
    ref = torch.log_softmax(logits, -1).gather(-1, tokens.unsqueeze(-1)).squeeze(-1)
    torch.testing.assert_close(L.token_logprobs(logits, tokens), ref)
    uniform = torch.zeros(1, 1, 8)
    assert float(L.entropy_from_logits(uniform)) == pytest.approx(math.log(8), rel=1e-6)


def test_scheduled_weights() -> None:
    base = {"correctness": 1.0, "exploration": 0.4}
    assert L.scheduled_weights(base) == base
    assert L.scheduled_weights(base, schedule="linear", progress=0.5)[
        "exploration"
    ] == pytest.approx(0.2)
    assert L.scheduled_weights(base, schedule="correctness", correctness=1.0)["exploration"] == 0.0
    assert L.scheduled_weights({"correctness": 1.0}, schedule="linear") == {"correctness": 1.0}
    with pytest.raises(ValueError, match="unknown schedule"):
        L.scheduled_weights(base, schedule="cosine")


def test_docstring_examples_run() -> None:
    result = doctest.testmod(L)
    assert result.failed == 0 and result.attempted > 5
