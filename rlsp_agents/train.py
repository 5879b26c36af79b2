"""``rlsp train``: PPO for language models with separate reward channels and DASH.

The algorithm is :func:`train`, one loop read top to bottom (CleanRL style); each iteration is

1. **sample and score** (:func:`rlsp_agents.rollouts.collect_rollouts`): one step of the
   project's vector environment, ``gym.make_vec(env_id, num_envs=P * K, group_size=K)``. Its
   reset serves ``P = prompts_per_step`` problems, the sampler draws ``K = samples_per_prompt``
   responses per problem in one large generation (DASH preemptive sampling), and ``envs.step``
   scores them all: every reward channel (``diversity`` over each group's responses included) and
   the verdict, exactly as for any external agent;
2. **old policy** (:func:`old_policy_pass`): log-probs and values of the sampling policy (and of
   the reference model when ``kl_coef > 0``), no gradient;
3. **advantages** (:func:`compute_advantages`): ``decoupled`` (a value head per weighted channel,
   GAE per channel, per-channel normalisation, explicit weighted sum, optional schedule),
   ``rlsp`` (the paper's scalar reward, one value head) or ``group`` (critic-free GRPO/RLOO per
   channel, then the weighted sum); then DASH gradient filtering drops responses with mean
   ``|advantage| <= tau``;
4. **update** (:func:`ppo_update`): clipped-ratio policy loss, clipped value loss, optional KL
   penalty, gradients accumulated over micro-batches, one optimizer step per minibatch;
5. **sync** the new weights into the sampler; **log** metrics; **checkpoint**.

Under ``torchrun`` (``WORLD_SIZE > 1``) the same loop runs data parallel
(:mod:`rlsp_agents.distributed`): each rank samples its own whole groups, the advantage scaling and
the DASH filter use global statistics, :func:`ppo_update` all-reduces the gradients before clipping,
the metrics are reduced and rank 0 alone writes metrics, checkpoints and plots. Without
``WORLD_SIZE`` nothing of this runs.

Example (the run is skipped in the doctests: it needs the embedded model, a download):
    >>> from rlsp_agents.config import TrainConfig
    >>> cfg = TrainConfig(total_steps=2, prompts_per_step=2, samples_per_prompt=2,
    ...                   sampler="transformers", out="/tmp/rlsp-doc-run")
    >>> summary = train(cfg)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rlsp_agents.config import TrainConfig, config_to_dict
from rlsp_agents.rollouts import Rollout

__all__ = [
    "COMMAND",
    "HELP",
    "OldPolicy",
    "Rollout",
    "compute_advantages",
    "main",
    "old_policy_pass",
    "channel_scores",
    "init_value_baseline",
    "parse_args",
    "ppo_update",
    "train",
]

COMMAND = "train"
HELP = "PPO with separate reward channels (decoupled / rlsp / group advantages, DASH)"


# ----------------------------------------------------------------------------------- helpers
def _log(msg: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(f"[rlsp train] {msg}", file=sys.stderr)


def _problem_seed(seed: int, step: int, j: int) -> int:
    """The reset seed of problem ``j`` of iteration ``step``: a pure function of the run seed."""
    return (seed * 1_000_003 + step * 10_007 + j) % (2**31 - 1)


def _reset_seeds(cfg: TrainConfig, step: int) -> list[int]:
    """One reset seed per env: group ``j``'s envs get ``_problem_seed(seed, step, j) + k``
    (the vector env draws each group's problem with its first env's seed)."""
    k = cfg.samples_per_prompt
    return [_problem_seed(cfg.seed, step, i // k) + i % k for i in range(cfg.rollout_size)]


@dataclass
class OldPolicy:
    """What the sampling policy (and the reference model) said about each response, no gradient:
    per response ``logprobs [n_i]``, ``values [n_i, C]`` and ``ref_logprobs [n_i]`` (None when
    not needed)."""

    logprobs: list[Any]
    values: list[Any]
    ref_logprobs: list[Any]


def old_policy_pass(
    policy: Any,
    critic: Any,
    ref: Any,
    rows: list[Rollout],
    *,
    micro_batch_size: int,
    pad_id: int,
    autocast: Callable[[], Any],
    needed: bool,
    share_prompts: bool = False,
    temperature: float = 1.0,
) -> OldPolicy:
    """Log-probs and values of the sampling policy, and the reference log-probs (``ref``).

    With ``needed=False`` (no critic, no reference, a single update pass) nothing is computed:
    the update then uses its own detached log-probs as the old ones (ratio 1). ``temperature``:
    log-probs of the tempered distribution (``TrainConfig.tempered_logprobs``).
    """
    import torch

    from rlsp_agents.batching import collate, forward, micro_batches

    n = len(rows)
    old = OldPolicy([None] * n, [None] * n, [None] * n)
    if not needed:
        return old
    with torch.no_grad():
        for mb in micro_batches(
            list(range(n)), rows, micro_batch_size, share_prompts=share_prompts
        ):
            batch = collate([rows[i] for i in mb], pad_id, share_prompts=share_prompts)
            lp, v, _ = forward(policy, critic, batch, autocast=autocast, temperature=temperature)
            rlp = None
            if ref is not None:
                rlp, _, _ = forward(ref, None, batch, autocast=autocast, temperature=temperature)
            for k, i in enumerate(mb):
                t = len(rows[i].response_ids)
                old.logprobs[i] = lp[k, :t].float().cpu()
                if v is not None:
                    old.values[i] = v[k, :t].float().cpu()
                if rlp is not None:
                    old.ref_logprobs[i] = rlp[k, :t].float().cpu()
    return old


def compute_advantages(
    cfg: TrainConfig,
    rows: list[Rollout],
    old: OldPolicy,
    channels: list[str],
    weights: dict[str, float],
    ctx: Any = None,
) -> tuple[Any, Any, Any]:
    """Per-token advantages ``[N, T]``, returns ``[N, T, C]`` (None without a critic) and the
    response mask ``[N, T]``, in the configured advantage mode.

    With a multi-process ``ctx`` (:class:`rlsp_agents.distributed.DistContext`) ``rows`` are this
    rank's whole groups: GAE and group advantages stay local; the per-channel scaling and each
    channel's spread use the statistics of every rank's batch
    (:func:`rlsp_agents.distributed.global_masked_rms_scale`).

    Critic modes: each channel's GAE advantages are divided by their RMS over the batch's tokens
    (``adv_norm="rms"``, signs kept) or whitened (``"whiten"``); a channel whose reward did not
    vary in the batch contributes 0. ``docs/agent.md``, "Advantage scaling in the critic modes"."""
    import torch

    from rlsp_agents import losses as L
    from rlsp_agents.batching import pad_stack

    lengths = [len(r.response_ids) for r in rows]
    scores = channel_scores(cfg, rows, channels)  # [N, C]
    t_max = max(lengths)
    mask_all = pad_stack([torch.ones(n) for n in lengths], t_max)  # [N, T]
    if cfg.advantage != "group":  # a value head per channel: GAE, then per-channel scaling
        values_all = pad_stack(old.values, t_max)  # [N, T, C]
        rewards_tok = L.terminal_rewards(scores, mask_all)  # [N, T, C]
        adv_c, returns_all = L.gae(rewards_tok, values_all, mask_all, gamma=cfg.gamma, lam=cfg.lam)
        dist_on = ctx is not None and ctx.enabled
        if dist_on:
            from rlsp_agents import distributed as D

        def scale(x: Any, m: Any) -> Any:
            if cfg.adv_norm == "whiten":
                return D.global_masked_whiten(x, m, ctx) if dist_on else L.masked_whiten(x, m)
            return D.global_masked_rms_scale(x, m, ctx) if dist_on else L.masked_rms_scale(x, m)

        hi, lo = scores.max(0).values.double(), scores.min(0).values.double()  # [C]
        if dist_on:  # the batch's spread: max over ranks of max, min over ranks of min
            hi = D.all_reduce_(hi.to(ctx.device), ctx, "max").cpu()
            lo = D.all_reduce_(lo.to(ctx.device), ctx, "min").cpu()
        # float residue is not variation (group_returns: equal groups' advantages are ~1e-8)
        varied = (hi - lo) > L.CONSTANT_RTOL * torch.maximum(hi.abs(), lo.abs()).clamp_min(1.0)
        per_channel = {
            # a channel whose reward did not vary in the batch says nothing about which response
            # was better: it contributes 0 (else the heads' estimation error alone, rescaled to
            # unit size, would move the policy)
            c: scale(adv_c[..., k], mask_all) if bool(varied[k]) else adv_c[..., k] * 0.0
            for k, c in enumerate(channels)
        }
        if cfg.correctness_gate:
            keep = correctness_gate(rows).unsqueeze(1)  # [N, 1]
            per_channel = {c: a if c == "correctness" else a * keep for c, a in per_channel.items()}
        return L.combine_channels(per_channel, weights), returns_all, mask_all  # [N, T]
    g_adv = L.group_advantages(scores, cfg.samples_per_prompt, baseline=cfg.group_baseline)
    per_ch = {c: g_adv[:, k] for k, c in enumerate(channels)}
    if cfg.correctness_gate:
        keep = correctness_gate(rows)  # [N]
        per_ch = {c: a if c == "correctness" else a * keep for c, a in per_ch.items()}
    per_sample = L.combine_channels(per_ch, weights)
    return per_sample.unsqueeze(1) * mask_all, None, mask_all  # [N, T]


def channel_scores(cfg: TrainConfig, rows: list[Rollout], channels: list[str]) -> Any:
    """``[N, C]`` float32: each response's reward on each advantage channel (``total``: the
    scalar), replaced by its group advantage under ``group_returns`` (critic modes)."""
    import torch

    from rlsp_agents import losses as L

    scores = torch.tensor(
        [[r.total if c == "total" else r.rewards[c] for c in channels] for r in rows],
        dtype=torch.float32,
    )  # [N, C]
    if cfg.advantage != "group" and cfg.group_returns:
        # the group is the per-prompt baseline; the critic learns the rest
        scores = L.group_advantages(scores, cfg.samples_per_prompt, baseline=cfg.group_baseline)
    return scores


def init_value_baseline(critic: Any, scores: Any, ctx: Any = None) -> Any:
    """Sets every value head's estimate to its channel's batch mean (``critic_init="batch-mean"``):
    the heads' last layer starts at 0, so the output bias is each head's whole estimate. Returns
    the ``[C]`` means (over every rank's rows with a multi-process ``ctx``)."""
    import torch

    if ctx is not None and ctx.enabled:
        from rlsp_agents.distributed import global_mean

        mean = global_mean(scores, ctx)
    else:
        mean = scores.float().mean(0)
    with torch.no_grad():
        critic.bias.copy_(mean.to(critic.bias.device, critic.bias.dtype))
    return mean


def correctness_gate(rows: list[Rollout]) -> Any:
    """``[N]`` float mask: 1 for the responses of groups holding at least one correct response.

    Example:
        >>> from rlsp_agents.rollouts import Rollout
        >>> def r(g, ok):
        ...     return Rollout(g, [1], [2], "", "stop", 1, {}, 0.0, ok)
        >>> correctness_gate([r(0, False), r(0, True), r(1, False), r(1, False)]).tolist()
        [1.0, 1.0, 0.0, 0.0]
    """
    import torch

    solved = {r.group for r in rows if r.correct}
    return torch.tensor([1.0 if r.group in solved else 0.0 for r in rows])  # [N]


def _minibatches(
    kept: list[int], cfg: TrainConfig, step: int, rank: int | None = None
) -> list[list[int]]:
    """The minibatches of every update epoch, in order: ``update_epochs x num_minibatches``
    shuffled slices of the kept responses (empty slices dropped).

    With ``rank`` (several processes) the shuffle is the rank's own and empty slices are kept:
    every rank takes part in every optimizer step's collectives, with or without rows in it.
    """
    import numpy as np

    rng = np.random.default_rng([cfg.seed, step] if rank is None else [cfg.seed, step, rank])
    out = []
    for _epoch in range(cfg.update_epochs):
        perm = [kept[i] for i in rng.permutation(len(kept))]
        split = np.array_split(np.array(perm, dtype=np.int64), cfg.num_minibatches)
        out += [[int(i) for i in m] for m in split]
    return [m for m in out if m] if rank is None else out


def ppo_update(
    cfg: TrainConfig,
    *,
    policy: Any,
    critic: Any,
    ref: Any,
    optimizer: Any,
    rows: list[Rollout],
    kept: list[int],
    adv_all: Any,
    returns_all: Any,
    old: OldPolicy,
    pad_id: int,
    autocast: Callable[[], Any],
    step: int,
    ctx: Any = None,
) -> dict[str, float]:
    """The PPO update of one iteration: for each minibatch, clipped losses accumulated over
    micro-batches, gradient clipping, one optimizer step. Returns summed loss statistics.

    With a multi-process ``ctx`` (:class:`rlsp_agents.distributed.DistContext`, ``world_size >
    1``) ``rows`` are this rank's and the update is the single-process update of the union of
    every rank's rows: each minibatch's loss is divided by the token count of the *global*
    minibatch (the union of the ranks' ``m``-th slices), the summed gradients are all-reduced
    before clipping (so every rank steps identically), and the returned statistics are summed
    over the ranks (``grad_norm``: the global norm, the same on every rank).
    """
    import torch

    from rlsp_agents import losses as L
    from rlsp_agents.batching import collate, forward, micro_batches, pad_stack

    dist_on = ctx is not None and ctx.enabled
    if dist_on:
        from rlsp_agents.distributed import all_reduce_, all_reduce_gradients

    stats = dict.fromkeys(
        (
            "policy",
            "value",
            "kl_ref",
            "entropy",
            "approx_kl",
            "clipfrac",
            "tokens",
            "train_tokens",
            "decoder_positions",
        ),
        0.0,
    )
    grad_norms: list[float] = []
    actor_params = optimizer.param_groups[0]["params"]
    all_params = [p for g in optimizer.param_groups for p in g["params"]]
    for mini in _minibatches(kept, cfg, step, ctx.rank if dist_on else None):
        denom = float(sum(len(rows[i].response_ids) for i in mini))  # tokens in this minibatch
        if dist_on:  # the global minibatch's tokens: one loss denominator for all ranks
            t = torch.tensor([denom], dtype=torch.float64, device=ctx.device)
            denom = float(all_reduce_(t, ctx)[0])
            if denom == 0:  # no rank has a row in it (the same decision on every rank)
                continue
        share = cfg.share_prompts
        for mb in micro_batches(mini, rows, cfg.micro_batch_size, share_prompts=share):
            batch = collate([rows[i] for i in mb], pad_id, share_prompts=share)
            lp, v, ent = forward(
                policy,
                critic,
                batch,
                autocast=autocast,
                detach_critic=cfg.critic_detach,
                with_entropy=True,
                entropy_grad=cfg.entropy_coef > 0,
                temperature=cfg.loss_temperature(),
            )
            lp, mask = lp.cpu(), batch["mask"].cpu()
            tl = mask.shape[1]
            olp = (
                pad_stack([old.logprobs[i] for i in mb], tl)
                if old.logprobs[mb[0]] is not None
                else lp.detach()
            )
            pg, clipfrac = L.policy_loss(
                lp, olp, adv_all[mb, :tl], mask, clip=cfg.clip, denom=denom
            )
            loss = pg
            if critic is not None and v is not None:
                ov = pad_stack([old.values[i] for i in mb], tl)
                vl = L.value_loss(
                    v.cpu(), ov, returns_all[mb, :tl], mask, clip=cfg.value_clip, denom=denom
                )
                loss = loss + cfg.vf_coef * vl
                stats["value"] += vl.item()
            if ref is not None:
                rl = pad_stack([old.ref_logprobs[i] for i in mb], tl)
                kl = L.masked_sum(L.kl_k3(lp, rl), mask) / denom
                loss = loss + cfg.kl_coef * kl
                stats["kl_ref"] += kl.item()
            if ent is not None:
                ent_sum = L.masked_sum(ent.cpu(), mask) / denom
                if cfg.entropy_coef > 0:
                    loss = loss - cfg.entropy_coef * ent_sum
                stats["entropy"] += ent_sum.item()
            loss.backward()
            n_tok = float(mask.sum())
            stats["policy"] += pg.item()
            stats["approx_kl"] += float(L.approx_kl(lp.detach(), olp, mask)) * n_tok
            stats["clipfrac"] += float(clipfrac) * n_tok
            stats["tokens"] += n_tok
            stats["train_tokens"] += int(batch["attention_mask"].sum())
            stats["decoder_positions"] += batch["decoder_positions"]
        if dist_on:
            all_reduce_gradients(all_params, ctx)  # before clipping: the global gradient
        grad_norms.append(float(torch.nn.utils.clip_grad_norm_(actor_params, cfg.max_grad_norm)))
        if critic is not None:
            torch.nn.utils.clip_grad_norm_(optimizer.param_groups[1]["params"], cfg.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    if dist_on:  # per-rank sums (losses already over the global denominator) -> global sums
        keys = sorted(stats)
        t = torch.tensor([stats[k] for k in keys], dtype=torch.float64, device=ctx.device)
        stats = dict(zip(keys, all_reduce_(t, ctx).tolist()))
    stats["grad_norm"] = sum(grad_norms) / max(len(grad_norms), 1)
    return stats


def _metrics(
    cfg: TrainConfig,
    rows: list[Rollout],
    *,
    weights: dict[str, float],
    stats: dict[str, float],
    kept: list[int],
    sample_mag: Any,
    has_critic: bool,
    has_ref: bool,
) -> dict[str, Any]:
    """The logged row of one iteration (everything but the timings): for every channel its
    batch mean ``reward/<channel>`` and within-batch spread ``reward/<channel>_std``."""
    import numpy as np

    from rlsp_agents.evaluate import is_literal_correct
    from rlsp_agents.metrics import BEHAVIOUR_CHANNELS

    n = len(rows)
    row: dict[str, Any] = {}
    for c in sorted(rows[0].rewards) + ["total"]:
        x = np.array([r.total if c == "total" else r.rewards.get(c, 0.0) for r in rows])
        prefix = "behaviour" if c in BEHAVIOUR_CHANNELS else "reward"
        row[f"{prefix}/{c}"] = float(x.mean())
        row[f"{prefix}/{c}_std"] = float(x.std())
    n_updates = max(cfg.update_epochs * cfg.num_minibatches, 1)
    tok = max(stats["tokens"], 1.0)
    row["charts/accuracy"] = sum(r.correct for r in rows) / n
    # correct *and* stating the gold as written: a drift onto forms the verifier accepts but that
    # do not write the number (\boxed{118.} for 118) shows here, iteration by iteration
    row["charts/literal_accuracy"] = (
        sum(is_literal_correct(r.correct, r.extracted, r.problem.get("gold")) for r in rows) / n
    )
    row["charts/response_len"] = sum(len(r.response_ids) for r in rows) / n
    row["charts/truncated"] = sum(r.finish_reason == "length" for r in rows) / n
    row["charts/kept_frac"] = len(kept) / n
    row["charts/advantage_abs"] = float(sample_mag.mean())
    for c, w in weights.items():
        row[f"charts/weight/{c}"] = w
    row["losses/policy"] = stats["policy"] / n_updates
    if has_critic:
        row["losses/value"] = stats["value"] / n_updates
    if has_ref:
        row["losses/kl_ref"] = stats["kl_ref"] / n_updates
    row["charts/entropy"] = stats["entropy"] / n_updates
    row["charts/approx_kl"] = stats["approx_kl"] / tok
    row["charts/clipfrac"] = stats["clipfrac"] / tok
    row["charts/grad_norm"] = stats["grad_norm"]
    return row


def _global_row(row: dict[str, Any], n: int, ctx: Any) -> dict[str, Any]:
    """The logged row over every rank: the ``n``-weighted mean of each rank's value (a batch mean
    of the union; the update's statistics are already global, the same on every rank), and for
    each ``<key>_std`` the standard deviation of the union (from the reduced second moments)."""
    from rlsp_agents.distributed import reduce_metrics

    ext = {k: float(v) for k, v in row.items()}
    stds = [k for k in row if k.endswith("_std") and k[: -len("_std")] in row]
    for k in stds:
        ext[f"{k}/second_moment"] = row[k] ** 2 + row[k[: -len("_std")]] ** 2
    red = reduce_metrics(ext, ctx, weight=float(n))
    for k in stds:
        var = red.pop(f"{k}/second_moment") - red[k[: -len("_std")]] ** 2
        red[k] = max(var, 0.0) ** 0.5
    return {k: row[k] if k == "step" else red[k] for k in row}


def _learner(
    cfg: TrainConfig, load_from: str, model_path: str, channels: list[str], device: str
) -> tuple[Any, Any, Any, Any]:
    """The policy (from ``load_from``), its value heads (one per channel; None in ``group``
    mode), the frozen reference model (the initial ``model_path``; None without KL) and AdamW
    over policy and heads (two parameter groups, two learning rates)."""
    import torch
    from transformers import AutoModelForCausalLM

    from rlsp_agents.critic import ValueHeads

    wdtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float32
    policy = AutoModelForCausalLM.from_pretrained(load_from, dtype=wdtype).to(device)
    policy.config.use_cache = False
    policy.eval()  # no dropout: the sampling, old and new log-probs must see the same network
    critic = None
    if cfg.advantage != "group":
        critic = ValueHeads(policy.config.hidden_size, channels, cfg.critic_hidden).to(device)
    ref = None
    if cfg.kl_coef > 0:
        ref = AutoModelForCausalLM.from_pretrained(model_path, dtype=wdtype).to(device).eval()
        ref.requires_grad_(False)
    groups = [{"params": [p for p in policy.parameters() if p.requires_grad], "lr": cfg.lr}]
    if critic is not None:
        groups.append({"params": list(critic.parameters()), "lr": cfg.critic_lr})
    return policy, critic, ref, torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)


def _restore(ckpt: Path, critic: Any, optimizer: Any) -> tuple[int, float, float, bool]:
    """Loads a checkpoint's value heads, optimizer and RNG states; returns ``(step, elapsed
    seconds, correctness EMA, whether value heads were loaded)`` (the policy itself is loaded
    from ``ckpt / "policy"``)."""
    from rlsp_agents.checkpoint import load_trainer_state, set_rng_state

    state, trainer_state = load_trainer_state(ckpt)
    critic_loaded = False
    if critic is not None and trainer_state.get("critic") is not None:
        critic.load_state_dict(trainer_state["critic"])
        critic_loaded = True
    elif critic is not None:
        _log(f"{ckpt} holds no value heads: they start afresh")
    if trainer_state.get("optimizer") is not None:
        optimizer.load_state_dict(trainer_state["optimizer"])
    set_rng_state(trainer_state["rng"])
    _log(f"resumed from {ckpt} (step {state['step']})")
    step, elapsed = int(state["step"]), float(state.get("elapsed_s", 0.0))
    return step, elapsed, float(state.get("acc_ema", 0.0)), critic_loaded


# ------------------------------------------------------------------------------------- train
def train(
    cfg: TrainConfig,
    *,
    sampler: Any = None,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Runs PPO as configured; returns a summary (steps, final model path, last metrics).

    Args:
        cfg: the configuration (see :class:`~rlsp_agents.config.TrainConfig`).
        sampler: an open sampler to use (the caller keeps ownership); by default one is made from
            ``cfg.sampler`` and closed at the end.
        on_step: called after every iteration with ``{"step", "rollouts" (list of
            :class:`Rollout`), "advantages" ([N] mean advantage per response), "kept" (indices
            trained on), "metrics" (the logged row)}``: for inspection, custom logging or tests.

    Raises:
        ValueError: an inconsistent configuration, or an environment without a weighted channel.
    """
    import numpy as np
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoTokenizer

    from rlsp_agents import distributed as D
    from rlsp_agents import losses as L
    from rlsp_agents.checkpoint import latest_checkpoint, rng_state, save_checkpoint
    from rlsp_agents.metrics import MetricsLog, read_metrics
    from rlsp_agents.models import resolve_model
    from rlsp_agents.rollouts import collect_rollouts, make_envs

    cfg.validate()
    # several processes under torchrun (WORLD_SIZE > 1): data parallel, whole groups per rank
    own_group = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not D.dist.is_initialized()
    ctx = D.init_distributed() if int(os.environ.get("WORLD_SIZE", "1")) > 1 else D.DistContext()
    my_groups = D.shard_groups(cfg.prompts_per_step, ctx)  # range(P) on one process
    main = ctx.is_main
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if ctx.enabled:
        device = str(ctx.device)  # cuda:LOCAL_RANK, or cpu
    from rlsp_agents.hardware import with_resolved_precision

    cfg = with_resolved_precision(cfg, device, _log if main else None)  # as config.json records

    def autocast() -> Any:
        if cfg.precision != "bf16-autocast":
            return contextlib.nullcontext()
        return torch.autocast(device_type=device, dtype=torch.bfloat16)

    # --- policy, value heads, reference, optimizer (from the newest checkpoint when resuming) ---
    ckpt = latest_checkpoint(out) if cfg.resume else None
    if cfg.resume and ckpt is None:
        _log(f"--resume: no complete checkpoint under {out}/checkpoints; starting from step 0")
    model_path = resolve_model(cfg.model)
    load_from = str(ckpt / "policy") if ckpt else model_path
    tokenizer = AutoTokenizer.from_pretrained(load_from)
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    channels = cfg.active_channels()
    policy, critic, ref, optimizer = _learner(cfg, load_from, model_path, channels, device)
    if critic is not None:
        D.broadcast_module_(critic, ctx)  # identical replicas (the policy is read from one file)
    start_step, elapsed_before, acc_ema, critic_loaded = 0, 0.0, 0.0, False
    if ckpt is not None:
        start_step, elapsed_before, acc_ema, critic_loaded = _restore(ckpt, critic, optimizer)
    metrics_log = None
    if main:  # metrics, config, checkpoints, plots: written once, by rank 0
        metrics_log = MetricsLog(
            out / "metrics.jsonl", truncate_after_step=start_step if ckpt is not None else None
        )
        (out / "config.json").write_text(json.dumps(config_to_dict(cfg), indent=2))

    # --- the vector env (the only way to problems and rewards) and the sampler ---
    env_kwargs = cfg.env_kwargs_dict()
    envs = make_envs(
        cfg.env_id,
        num_prompts=len(my_groups),
        group_size=cfg.samples_per_prompt,
        split="train",
        reward_weights=cfg.reward_preset,
        **env_kwargs,
    )
    own_sampler = sampler is None
    sampler_seed = cfg.seed + 100_003 * ctx.rank  # one sampler per rank, its own stream
    if own_sampler:
        from rlsp_agents.sampler import make_sampler

        if cfg.sampler == "transformers":
            sampler = make_sampler("transformers", policy, tokenizer=tokenizer, seed=sampler_seed)
        else:
            sampler = make_sampler(
                "vllm", load_from, seed=sampler_seed, max_model_len=cfg.max_new_tokens + 1024
            )
    elif ckpt is not None:
        sampler.sync_weights(policy)

    needs_old_pass = critic is not None or ref is not None
    needs_old_pass |= cfg.update_epochs * cfg.num_minibatches > 1
    completed = start_step  # the last finished iteration
    t_run = time.perf_counter()
    bar = tqdm(
        total=cfg.total_steps,
        initial=start_step,
        desc="PPO",
        unit="it",
        disable=not cfg.progress or not main,
        dynamic_ncols=True,
    )
    last_row: dict[str, Any] = {}
    try:
        for step in range(start_step + 1, cfg.total_steps + 1):
            over = (
                cfg.max_minutes is not None and time.perf_counter() - t_run > 60 * cfg.max_minutes
            )
            if ctx.enabled:  # every rank stops at the same iteration
                over = (
                    D.all_reduce_(torch.tensor([float(over)], device=ctx.device), ctx, "max").item()
                    > 0
                )
            if over:
                _log(f"time budget of {cfg.max_minutes} min reached: stopping after {completed}")
                break
            t_step = time.perf_counter()

            # 1. SAMPLE and SCORE: one vector-env step (DASH preemptive sampling: one generation)
            batch = collect_rollouts(
                envs,
                sampler,
                seed=_reset_seeds(cfg, step)[
                    my_groups.start * cfg.samples_per_prompt : my_groups.stop
                    * cfg.samples_per_prompt
                ],
                max_new_tokens=cfg.max_new_tokens,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
                eos_id=tokenizer.eos_token_id,
            )
            rows = batch.rollouts
            missing = [c for c in channels if c != "total" and c not in rows[0].rewards]
            if missing:
                raise ValueError(
                    f"channel_weights names {missing}, which {cfg.env_id} does not report; "
                    f"its channels: {sorted(rows[0].rewards)}"
                )

            # 2. OLD POLICY: log-probs and values of the sampling policy (and the reference)
            t0 = time.perf_counter()
            # fresh heads (a new run, or a checkpoint without them) start at the batch's means
            fresh_heads = step == start_step + 1 and not critic_loaded
            if critic is not None and cfg.critic_init == "batch-mean" and fresh_heads:
                means = init_value_baseline(critic, channel_scores(cfg, rows, channels), ctx)
                if main:
                    _log(
                        "value heads start at the first batch's means: "
                        + ", ".join(f"{c} {float(m):+.3f}" for c, m in zip(channels, means))
                    )
            old = old_policy_pass(
                policy,
                critic,
                ref,
                rows,
                micro_batch_size=cfg.micro_batch_size,
                pad_id=pad_id,
                autocast=autocast,
                needed=needs_old_pass,
                share_prompts=cfg.share_prompts,
                temperature=cfg.loss_temperature(),
            )

            # 3. ADVANTAGES per channel, with this iteration's weights; DASH filter
            weights = {"total": 1.0}
            if cfg.advantage != "rlsp":
                weights = L.scheduled_weights(
                    cfg.weights(),
                    schedule=cfg.weight_schedule,
                    progress=(step - 1) / max(cfg.total_steps - 1, 1),
                    correctness=acc_ema,
                    channel=cfg.schedule_channel,
                )
            adv_all, returns_all, mask_all = compute_advantages(
                cfg, rows, old, channels, weights, ctx
            )
            sample_mag = (adv_all.abs() * mask_all).sum(1) / mask_all.sum(1)  # [N]
            if ctx.enabled:  # the threshold's fallback (keep the best one) is over all ranks
                keep = D.global_filter_by_advantage(sample_mag, cfg.filter_tau, ctx)
            else:
                keep = L.filter_by_advantage(sample_mag, cfg.filter_tau)
            kept = [i for i in range(len(rows)) if bool(keep[i])]
            t_advantage = time.perf_counter() - t0

            # 4. UPDATE: clipped PPO losses, gradients accumulated over micro-batches
            t0 = time.perf_counter()
            stats = ppo_update(
                cfg,
                policy=policy,
                critic=critic,
                ref=ref,
                optimizer=optimizer,
                rows=rows,
                kept=kept,
                adv_all=adv_all,
                returns_all=returns_all,
                old=old,
                pad_id=pad_id,
                autocast=autocast,
                step=step,
                ctx=ctx,
            )
            t_train = time.perf_counter() - t0

            # 5. SYNC the new weights into the sampler
            t0 = time.perf_counter()
            sampler.sync_weights(policy)
            t_sync = time.perf_counter() - t0

            # 6. LOG
            acc = batch.accuracy
            if ctx.enabled:  # the schedule's correctness EMA must be the same on every rank
                acc = D.reduce_metrics({"acc": acc}, ctx, weight=len(rows))["acc"]
            acc_ema = acc if step == 1 and start_step == 0 else 0.7 * acc_ema + 0.3 * acc
            row = {"step": step}
            row |= _metrics(
                cfg,
                rows,
                weights=weights,
                stats=stats,
                kept=kept,
                sample_mag=sample_mag,
                has_critic=critic is not None,
                has_ref=ref is not None,
            )
            row |= {
                "time/sample": batch.sample_s,
                "time/verify": batch.score_s,
                "time/advantage": t_advantage,
                "time/train": t_train,
                "time/sync": t_sync,
                "charts/tokens_per_s": stats["train_tokens"] / max(t_train, 1e-9),
                "charts/decoder_positions": stats["decoder_positions"],
                "charts/sample_tokens_per_s": sum(len(r.response_ids) for r in rows)
                / max(batch.sample_s, 1e-9),
            }
            if ctx.enabled:
                row = _global_row(row, len(rows), ctx)
            if main and cfg.eval_n > 0 and cfg.eval_every > 0 and step % cfg.eval_every == 0:
                t0 = time.perf_counter()
                row["eval/accuracy"] = _held_out_accuracy(cfg, sampler, env_kwargs)
                row["time/eval"] = time.perf_counter() - t0
            for r in rows[: cfg.log_samples]:
                _log(f"step {step} sample (correct={r.correct}): {r.text[:300]!r}")
            row["time/step"] = time.perf_counter() - t_step
            row["time/elapsed"] = elapsed_before + (time.perf_counter() - t_run)
            if metrics_log is not None:
                metrics_log.write(row)

            # 7. CHECKPOINT (only the newest is kept); a SIGKILL loses at most this iteration
            if cfg.checkpoint_every and (
                step % cfg.checkpoint_every == 0 or step == cfg.total_steps
            ):
                t0 = time.perf_counter()
                D.on_main(  # rank 0 writes; every rank waits until it is complete
                    ctx,
                    save_checkpoint,
                    out,
                    step,
                    policy=policy,
                    tokenizer=tokenizer,
                    trainer_state={
                        "critic": critic.state_dict() if critic is not None else None,
                        "optimizer": optimizer.state_dict() if cfg.save_optimizer else None,
                        "rng": rng_state(),
                    },
                    state={
                        "elapsed_s": row["time/elapsed"],
                        "acc_ema": acc_ema,
                        "config": config_to_dict(cfg),
                    },
                )
                if main:
                    _log(f"checkpoint step {step} ({time.perf_counter() - t0:.1f} s)")
            if on_step is not None:
                on_step(
                    {
                        "step": step,
                        "rollouts": rows,
                        "advantages": ((adv_all * mask_all).sum(1) / mask_all.sum(1)).tolist(),
                        "kept": kept,
                        "metrics": row,
                    }
                )
            completed, last_row = step, row
            bar.update(1)
            bar.set_postfix(
                acc=f"{acc:.2f}",
                len=f"{row['charts/response_len']:.0f}",
                kept=len(kept),
                s=f"{row['time/step']:.0f}",
            )

        # --- the end: final model, held-out evaluation, plots ---
        summary: dict[str, Any] = {"steps": completed, "out": str(out), "last": last_row}
        if not main:  # the other ranks are done: rank 0 writes the final model and plots
            return summary
        if cfg.save_final:
            final = out / "final"
            policy.save_pretrained(final, safe_serialization=True)
            tokenizer.save_pretrained(final)
            summary["final_model"] = str(final)
        if cfg.eval_n > 0 and "eval/accuracy" not in last_row:
            summary["eval_accuracy"] = _held_out_accuracy(cfg, sampler, env_kwargs)
        elif "eval/accuracy" in last_row:
            summary["eval_accuracy"] = last_row["eval/accuracy"]
        if cfg.plots:
            from rlsp_agents.plots import plot_training

            summary["plots"] = [
                str(p) for p in plot_training(read_metrics(out / "metrics.jsonl"), out / "plots")
            ]
        (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        return summary
    finally:
        bar.close()
        envs.close()
        if own_sampler and sampler is not None:
            sampler.close()
        if own_group:
            D.teardown(ctx)


def _held_out_accuracy(cfg: TrainConfig, sampler: Any, env_kwargs: dict[str, Any]) -> float:
    """Greedy accuracy on the first ``cfg.eval_n`` held-out problems, through the shared evaluator."""
    from rlsp_agents.evaluate import evaluate

    env_id = cfg.eval_env_id or cfg.env_id
    kw = dict(env_kwargs) if env_id == cfg.env_id else {}
    if env_id == cfg.env_id:
        kw["split"] = "test"
    res = evaluate(
        env_id,
        cfg.model,
        limit=cfg.eval_n,
        sampler=sampler,
        temperature=0.0,
        max_new_tokens=cfg.max_new_tokens,
        env_kwargs=kw,
        keep_texts=False,
        progress=False,
    )
    return float(res.accuracy)


# --------------------------------------------------------------------------------------- CLI
DESCRIPTION = """PPO for language models with separate reward channels (RLSP + DASH).

Presets: --preset cpu-smollm2 (the main job, 2-core CPU) | llama3.1-8b-rlsp | qwen2.5-32b-rlsp
(the paper's GPU-cluster settings). The preset gives the defaults; every option overrides it
(`rlsp train --preset NAME --help` shows the preset's values as defaults).

examples:
  rlsp train --preset cpu-smollm2
  rlsp train --preset cpu-smollm2 --total-steps 30 --out runs/mine
  rlsp train --model runs/sft/final --advantage decoupled --channel-weights correctness=1,exploration=0.2 --weight-schedule correctness
  rlsp train --advantage group --group-baseline rloo --samples-per-prompt 8 --filter-tau 0.1
  rlsp train --env-kwargs '{"length_scale": 50}' --channel-weights correctness=1,diversity=0.1
  rlsp train --sampler transformers --total-steps 2 --prompts-per-step 2 --max-new-tokens 32
  rlsp train --out runs/train --resume                  # continue after a crash or kill -9
  torchrun --nproc_per_node 2 -m rlsp_agents.cli train --sampler transformers   # N ranks (docs/scaling.md)
"""


def _preset_arg() -> type:
    """``--preset`` as a one-field dataclass whose type is the preset names (tyro checks them)."""
    import dataclasses

    from rlsp_agents.presets import PRESETS

    names = Literal[tuple(PRESETS)]  # type: ignore[valid-type]
    return dataclasses.make_dataclass(
        "PresetArg", [("preset", names | None, dataclasses.field(default=None))]
    )


def parse_args(argv: list[str] | None) -> TrainConfig:
    """Parses ``rlsp train`` arguments: ``--preset NAME`` chooses the defaults, every other option
    overrides them (both parsed by tyro: first the preset, then the config with its defaults)."""
    import tyro

    from rlsp_agents.presets import get_preset

    args = list(sys.argv[1:] if argv is None else argv)
    chosen, rest = tyro.cli(
        _preset_arg(), args=args, return_unknown_args=True, add_help=False, prog="rlsp train"
    )
    default = get_preset(chosen.preset) if chosen.preset else TrainConfig()
    return tyro.cli(
        TrainConfig, default=default, args=rest, prog="rlsp train", description=DESCRIPTION
    )


def main(argv: list[str] | None = None) -> int:
    """``rlsp train [--preset NAME] [options]``; ``--help`` lists every option."""
    try:
        cfg = parse_args(argv)
        cfg.validate()
    except ValueError as e:
        print(f"rlsp train: error: {e}", file=sys.stderr)
        return 2
    from rlsp_agents.metrics import MetricsFileError

    try:
        summary = train(cfg)
    except MetricsFileError as e:  # resuming onto a damaged metrics.jsonl
        print(f"rlsp train: error: {e}; repair or move it and resume again", file=sys.stderr)
        return 2
    if os.environ.get("RANK", "0") != "0":  # under torchrun: rank 0 reports
        return 0
    last = summary.get("last", {})
    print(
        json.dumps(
            {
                "steps": summary["steps"],
                "out": summary["out"],
                "final_model": summary.get("final_model"),
                "train_accuracy_last": last.get("charts/accuracy"),
                "eval_accuracy": summary.get("eval_accuracy"),
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
