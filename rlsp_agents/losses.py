"""The pure math of PPO for language models: masked statistics, GAE, advantage normalisation,
group baselines, channel combination, gradient filtering and the clipped losses.

Every function is small, typed, free of model code and tested against a slow reference loop in
``tests/agents/test_losses_*.py``. Shapes use ``B`` (sequences), ``T`` (response tokens, padded
on the right) and ``C`` (reward channels). ``mask`` is 1.0 on real response tokens, 0.0 on padding.

Example:
    >>> import torch
    >>> from rlsp_agents.losses import gae
    >>> rewards = torch.tensor([[0.0, 0.0, 1.0]])       # a terminal reward of 1
    >>> values = torch.zeros(1, 3)
    >>> adv, ret = gae(rewards, values, torch.ones(1, 3), gamma=1.0, lam=0.5)
    >>> adv.tolist()
    [[0.25, 0.5, 1.0]]
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

__all__ = [
    "masked_sum",
    "masked_mean",
    "masked_var",
    "masked_whiten",
    "masked_rms_scale",
    "terminal_rewards",
    "gae",
    "group_advantages",
    "combine_channels",
    "filter_by_advantage",
    "policy_loss",
    "value_loss",
    "approx_kl",
    "kl_k3",
    "entropy_from_logits",
    "token_logprobs",
    "scheduled_weights",
]


def masked_sum(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sum of ``x`` over the positions where ``mask`` is 1 (a 0-d tensor).

    Example:
        >>> masked_sum(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 1.0])).item()
        4.0
    """
    return (x * mask).sum()


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over the positions where ``mask`` is 1; 0 when the mask is empty.

    Example:
        >>> masked_mean(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 1.0])).item()
        2.0
    """
    n = mask.sum()
    return (x * mask).sum() / n.clamp(min=1.0)


def masked_var(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Population variance of ``x`` over the masked positions (0 for fewer than 2 elements).

    Example:
        >>> masked_var(torch.tensor([1.0, 3.0, 9.0]), torch.tensor([1.0, 1.0, 0.0])).item()
        1.0
    """
    mean = masked_mean(x, mask)
    return masked_mean((x - mean) ** 2, mask)


def masked_whiten(
    x: torch.Tensor, mask: torch.Tensor, *, shift_mean: bool = True, eps: float = 1e-8
) -> torch.Tensor:
    """Normalises ``x`` to mean 0 and std 1 over the masked positions; padding becomes 0.

    A constant input (std 0) maps to zeros when ``shift_mean`` is set: a channel that did not vary
    in a batch carries no signal and contributes nothing.

    Example:
        >>> masked_whiten(torch.tensor([1.0, 3.0, 7.0]), torch.tensor([1.0, 1.0, 0.0])).tolist()
        [-1.0, 1.0, 0.0]
    """
    mean = masked_mean(x, mask)
    std = masked_var(x, mask).sqrt()
    centred = x - mean
    out = centred / (std + eps) if shift_mean else (centred / (std + eps)) + mean
    return out * mask


def masked_rms_scale(x: torch.Tensor, mask: torch.Tensor, *, eps: float = 1e-8) -> torch.Tensor:
    """Divides ``x`` by its root mean square over the masked positions; padding becomes 0.

    Unlike :func:`masked_whiten` nothing is subtracted, so every position keeps its sign: in the
    critic modes a token's advantage stays on the side of 0 that ``return - value`` puts it on.
    An all-zero input stays zero.

    Example:
        >>> out = masked_rms_scale(torch.tensor([3.0, -4.0, 9.0]), torch.tensor([1.0, 1.0, 0.0]))
        >>> [round(v, 4) for v in out.tolist()]
        [0.8485, -1.1314, 0.0]
    """
    rms = masked_mean(x * x, mask).sqrt()
    return x / (rms + eps) * mask


def terminal_rewards(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Places one score per sequence on its last response token.

    Args:
        scores: ``[B]`` or ``[B, C]``: the reward of each response (per channel).
        mask: ``[B, T]`` response mask, contiguous from position 0.

    Returns:
        ``[B, T]`` (or ``[B, T, C]``): zeros except at each sequence's last real token.

    Example:
        >>> terminal_rewards(torch.tensor([2.0]), torch.tensor([[1.0, 1.0, 0.0]])).tolist()
        [[0.0, 2.0, 0.0]]
    """
    lengths = mask.sum(dim=1).long()  # [B]
    if bool((lengths == 0).any()):
        raise ValueError("every sequence needs at least one response token")
    last = lengths - 1  # [B]
    bsz, t = mask.shape
    out_shape = (bsz, t) + tuple(scores.shape[1:])
    out = torch.zeros(out_shape, dtype=scores.dtype, device=scores.device)
    out[torch.arange(bsz, device=mask.device), last] = scores
    return out


def gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    mask: torch.Tensor,
    *,
    gamma: float = 1.0,
    lam: float = 0.95,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized Advantage Estimation over response tokens, vectorised over the batch.

    The value after the last real token is 0 (the episode ends there). Works per channel when
    ``rewards`` and ``values`` carry a trailing channel dimension.

    Args:
        rewards: ``[B, T]`` or ``[B, T, C]`` per-token rewards (terminal reward on the last token).
        values: same shape as ``rewards``: the critic's estimates ``V(s_t)``.
        mask: ``[B, T]``: 1 on response tokens (contiguous from 0), 0 on padding.
        gamma: discount (the RLSP paper uses 1).
        lam: GAE lambda (the RLSP paper uses 0.95).

    Returns:
        ``(advantages, returns)``, both shaped like ``rewards``, zero on padding;
        ``returns = advantages + values``.
    """
    if rewards.shape != values.shape:
        raise ValueError(f"rewards {tuple(rewards.shape)} and values {tuple(values.shape)} differ")
    m = mask if rewards.dim() == 2 else mask.unsqueeze(-1)  # [B, T(, 1)]
    r = rewards * m
    v = values * m
    t_len = rewards.shape[1]
    adv = torch.zeros_like(r)
    zero = torch.zeros_like(r[:, 0])  # [B(, C)]
    for t in reversed(range(t_len)):
        # values and advantages are 0 on padding, so past the last real token both are 0.
        next_v = v[:, t + 1] if t + 1 < t_len else zero
        next_adv = adv[:, t + 1] if t + 1 < t_len else zero
        delta = r[:, t] + gamma * next_v - v[:, t]
        adv[:, t] = (delta + gamma * lam * next_adv) * m[:, t]
    returns = (adv + v) * m
    return adv, returns


def group_advantages(
    scores: torch.Tensor,
    group_size: int,
    *,
    baseline: str = "grpo",
    eps: float = 1e-6,
) -> torch.Tensor:
    """Critic-free advantages: each response's score against the other responses to its prompt.

    Args:
        scores: ``[N]`` or ``[N, C]``, with ``N = prompts * group_size`` and each prompt's
            responses consecutive.
        group_size: responses per prompt (>= 2).
        baseline: ``"grpo"`` (subtract the group mean, divide by the group std) or ``"rloo"``
            (subtract the mean of the *other* responses; no std division).
        eps: added to the std.

    Returns:
        Advantages shaped like ``scores``. A group whose scores are all equal gets zeros.

    Example:
        >>> group_advantages(torch.tensor([1.0, 0.0, 0.0, 0.0]), 2, baseline="rloo").tolist()
        [1.0, -1.0, 0.0, 0.0]
    """
    if group_size < 2:
        raise ValueError(f"group baselines need group_size >= 2, got {group_size}")
    n = scores.shape[0]
    if n % group_size:
        raise ValueError(f"{n} scores do not split into groups of {group_size}")
    if baseline not in ("grpo", "rloo"):
        raise ValueError(f"unknown baseline {baseline!r}; use 'grpo' or 'rloo'")
    g = scores.reshape(n // group_size, group_size, *scores.shape[1:])  # [G, K(, C)]
    mean = g.mean(dim=1, keepdim=True)
    # a group whose scores agree up to float rounding (0.1 summed in different orders) is equal:
    # its residue, divided by a std of the same size, would otherwise be an advantage of ~1
    spread = g.amax(dim=1, keepdim=True) - g.amin(dim=1, keepdim=True)
    varied = spread > CONSTANT_RTOL * mean.abs().clamp_min(1.0)
    if baseline == "grpo":
        std = g.std(dim=1, unbiased=False, keepdim=True)
        adv = (g - mean) / (std + eps)
    else:
        adv = (g - mean) * group_size / (group_size - 1)
    return (adv * varied).reshape(scores.shape)


CONSTANT_RTOL = 1e-6
"""Scores that differ by no more than this share of their size (at least 1) count as equal:
float rounding, not a difference between responses (:func:`group_advantages`, and the critic
modes' rule that a channel which did not vary contributes no advantage)."""


def combine_channels(
    advantages: Mapping[str, torch.Tensor], weights: Mapping[str, float]
) -> torch.Tensor:
    """The explicit weighted sum of per-channel advantages: ``sum_c w_c * A_c``.

    Every weighted channel must be present; channels without a weight are ignored (log-only).

    Example:
        >>> a = {"correctness": torch.tensor([1.0]), "format": torch.tensor([2.0])}
        >>> combine_channels(a, {"correctness": 1.0, "format": 0.5}).tolist()
        [2.0]
    """
    active = {k: w for k, w in weights.items() if w != 0.0}
    if not active:
        raise ValueError("no channel has a nonzero weight")
    missing = sorted(set(active) - set(advantages))
    if missing:
        raise KeyError(
            f"weighted channels without advantages: {missing}; have {sorted(advantages)}"
        )
    total = None
    for name, w in active.items():
        term = advantages[name] * w
        total = term if total is None else total + term
    assert total is not None
    return total


def filter_by_advantage(sample_adv: torch.Tensor, tau: float) -> torch.Tensor:
    """DASH gradient filtering: keep samples with ``|advantage| > tau``, and always at least one.

    Args:
        sample_adv: ``[N]`` one advantage magnitude (or signed value) per sample.
        tau: threshold; ``tau < 0`` keeps everything.

    Returns:
        ``[N]`` boolean mask of the samples to train on. If none passes, the sample with the
        largest ``|advantage|`` is kept (the DASH script keeps at least one row).

    Example:
        >>> filter_by_advantage(torch.tensor([0.05, -0.5, 0.2]), 0.1).tolist()
        [False, True, True]
        >>> filter_by_advantage(torch.tensor([0.0, 0.01]), 0.1).tolist()
        [False, True]
    """
    mag = sample_adv.abs()
    keep = mag > tau
    if not bool(keep.any()):
        keep = torch.zeros_like(keep)
        keep[int(mag.argmax())] = True
    return keep


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip: float = 0.2,
    denom: float | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate, summed over tokens and divided by ``denom`` (default: token count).

    Args:
        logprobs: ``[B, T]`` log-probabilities of the sampled tokens under the current policy.
        old_logprobs: ``[B, T]`` the same under the policy that sampled them.
        advantages: ``[B, T]``.
        mask: ``[B, T]``.
        clip: the ratio is clipped to ``[1 - clip, 1 + clip]``.
        denom: the number of tokens of the whole (accumulated) batch, so that micro-batch losses
            add up to the full-batch token mean.

    Returns:
        ``(loss, clip_fraction)``.
    """
    ratio = torch.exp(logprobs - old_logprobs)  # [B, T]
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - clip, 1.0 + clip)
    per_token = torch.maximum(unclipped, clipped)  # [B, T]
    d = mask.sum().clamp(min=1.0) if denom is None else denom
    loss = masked_sum(per_token, mask) / d
    clipfrac = masked_mean((clipped > unclipped).float(), mask)
    return loss, clipfrac


def value_loss(
    values: torch.Tensor,
    old_values: torch.Tensor,
    returns: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip: float | None = 0.2,
    denom: float | torch.Tensor | None = None,
) -> torch.Tensor:
    """PPO's clipped value loss ``0.5 * max((V - R)^2, (clip(V, V_old +- c) - R)^2)``.

    Works per channel (trailing ``C`` dimension, summed over channels). ``clip=None`` disables
    clipping. Summed over tokens and divided by ``denom`` (default: token count).
    """
    m = mask if values.dim() == 2 else mask.unsqueeze(-1)
    err = (values - returns) ** 2
    if clip is not None:
        v_clipped = old_values + torch.clamp(values - old_values, -clip, clip)
        err = torch.maximum(err, (v_clipped - returns) ** 2)
    d = mask.sum().clamp(min=1.0) if denom is None else denom
    return 0.5 * (err * m).sum() / d


def approx_kl(
    logprobs: torch.Tensor, old_logprobs: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Schulman's low-variance estimator of KL(old || new) over masked tokens (for logging).

    ``mean((r - 1) - log r)`` with ``r = exp(new - old)``; 0 when the policies agree.
    """
    log_ratio = logprobs - old_logprobs
    return masked_mean(torch.exp(log_ratio) - 1.0 - log_ratio, mask)


def kl_k3(logprobs: torch.Tensor, ref_logprobs: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(policy || reference): ``exp(ref - p) - (ref - p) - 1`` (>= 0)."""
    d = ref_logprobs - logprobs
    return torch.exp(d) - d - 1.0


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of the softmax over the last dimension: ``[..., V] -> [...]``."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -(logp.exp() * logp).sum(dim=-1)


def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Log-probability of each chosen token: ``logits [B, T, V]``, ``tokens [B, T]`` -> ``[B, T]``.

    Computed as ``logit[token] - logsumexp(logits)`` in float32, without materialising a
    second vocabulary-sized tensor.
    """
    logits = logits.float()
    chosen = torch.gather(logits, -1, tokens.unsqueeze(-1)).squeeze(-1)
    return chosen - torch.logsumexp(logits, dim=-1)


def scheduled_weights(
    base: Mapping[str, float],
    *,
    schedule: str = "constant",
    progress: float = 0.0,
    correctness: float = 0.0,
    channel: str = "exploration",
) -> dict[str, float]:
    """Channel weights for one step, under an optional schedule.

    Args:
        base: the declared weights.
        schedule: ``"constant"`` (the weights as declared), ``"linear"`` (``channel``'s weight
            falls linearly to 0 over training) or ``"correctness"`` (``channel``'s weight is
            multiplied by ``1 - correctness``: exploration is annealed as correctness rises).
        progress: fraction of training done, in ``[0, 1]``.
        correctness: the recent mean correctness, in ``[0, 1]``.
        channel: the channel the schedule acts on.

    Example:
        >>> scheduled_weights({"correctness": 1.0, "exploration": 0.4},
        ...                   schedule="correctness", correctness=0.75)
        {'correctness': 1.0, 'exploration': 0.1}
    """
    out = dict(base)
    if schedule == "constant" or channel not in out:
        return out
    if schedule == "linear":
        factor = 1.0 - min(max(progress, 0.0), 1.0)
    elif schedule == "correctness":
        factor = 1.0 - min(max(correctness, 0.0), 1.0)
    else:
        raise ValueError(f"unknown schedule {schedule!r}; use constant, linear or correctness")
    out[channel] = out[channel] * factor
    return out
