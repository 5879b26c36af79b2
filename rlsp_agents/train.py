"""``rlsp train``: PPO for language models with separate reward channels and DASH.

The whole algorithm is :func:`train`, one function read top to bottom (CleanRL style):

1. **sample** (DASH preemptive sampling): one large generation per iteration,
   ``prompts_per_step x samples_per_prompt`` responses from the sampler (vLLM or transformers);
2. **verify**: every response goes through ``env.step`` of a ``gymnasium.make`` environment, which
   returns the reward channels (``info["rewards"]``) and the verdict, exactly as for any external
   agent;
3. **advantages**: ``decoupled`` (a value head per weighted channel, GAE per channel, per-channel
   normalisation, explicit weighted sum, optional schedule), ``rlsp`` (the paper's scalar reward,
   one value head) or ``group`` (critic-free GRPO/RLOO per channel, then the weighted sum);
4. **filter** (DASH gradient filtering): drop responses with mean ``|advantage| <= tau``;
5. **update**: clipped-ratio policy loss, clipped value loss, optional KL penalty, gradients
   accumulated over small micro-batches, one optimizer step per minibatch;
6. **sync** the new weights into the sampler; **log** metrics; **checkpoint**.

Example:
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
from typing import Any

from rlsp_agents.config import TrainConfig, config_to_dict

__all__ = ["train", "main", "COMMAND", "HELP", "Rollout"]

COMMAND = "train"
HELP = "PPO with separate reward channels (decoupled / rlsp / group advantages, DASH)"


@dataclass
class Rollout:
    """One sampled response and everything the update needs about it."""

    group: int  # index of its prompt within the iteration
    prompt_ids: list[int]
    response_ids: list[int]
    text: str
    finish_reason: str
    rewards: dict[str, float]  # every channel the environment reported
    total: float  # the environment's scalar reward
    correct: bool


# ----------------------------------------------------------------------------------- helpers
def _log(msg: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(f"[rlsp train] {msg}", file=sys.stderr)


def _problem_seed(seed: int, step: int, j: int) -> int:
    """The reset seed of problem ``j`` of iteration ``step``: a pure function of the run seed."""
    return (seed * 1_000_003 + step * 10_007 + j) % (2**31 - 1)


def _collate(rows: list[Rollout], pad_id: int) -> dict[str, Any]:
    """Right-padded tensors for a micro-batch.

    Returns ``input_ids [B, L]``, ``attention_mask [B, L]``, ``resp_pos [B, T]`` (the position
    whose hidden state predicts response token t), ``resp_tokens [B, T]`` and ``mask [B, T]``.
    """
    import torch

    b = len(rows)
    seq_len = max(len(r.prompt_ids) + len(r.response_ids) for r in rows)
    t_len = max(len(r.response_ids) for r in rows)
    input_ids = torch.full((b, seq_len), pad_id, dtype=torch.long)
    attn = torch.zeros((b, seq_len), dtype=torch.long)
    resp_pos = torch.zeros((b, t_len), dtype=torch.long)
    resp_tokens = torch.full((b, t_len), pad_id, dtype=torch.long)
    mask = torch.zeros((b, t_len), dtype=torch.float32)
    for i, r in enumerate(rows):
        ids = r.prompt_ids + r.response_ids
        p, n = len(r.prompt_ids), len(r.response_ids)
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attn[i, : len(ids)] = 1
        resp_pos[i, :n] = torch.arange(p - 1, p - 1 + n)
        resp_tokens[i, :n] = torch.tensor(r.response_ids)
        mask[i, :n] = 1.0
    return {
        "input_ids": input_ids,
        "attention_mask": attn,
        "resp_pos": resp_pos,
        "resp_tokens": resp_tokens,
        "mask": mask,
    }


def _pad_stack(tensors: list[Any], t_len: int) -> Any:
    """Stacks 1-D ``[n_i]`` or 2-D ``[n_i, C]`` tensors into ``[B, T(, C)]``, zero-padded."""
    import torch

    first = tensors[0]
    out = torch.zeros((len(tensors), t_len, *first.shape[1:]), dtype=first.dtype)
    for i, x in enumerate(tensors):
        out[i, : x.shape[0]] = x
    return out


def _forward(
    policy: Any,
    critic: Any,
    batch: dict[str, Any],
    *,
    autocast: Any,
    detach_critic: bool,
    with_entropy: bool,
    entropy_grad: bool = False,
) -> tuple[Any, Any, Any]:
    """Log-probs ``[B, T]``, values ``[B, T, C]`` (or None) and entropy ``[B, T]`` (or None).

    The decoder runs once; the output embedding (LM head) is applied only at response positions.
    """
    import torch

    from rlsp_agents.losses import entropy_from_logits, token_logprobs

    device = next(policy.parameters()).device
    with autocast():
        out = policy.base_model(
            input_ids=batch["input_ids"].to(device),
            attention_mask=batch["attention_mask"].to(device),
        )
        hidden = out.last_hidden_state  # [B, L, H]
        pos = batch["resp_pos"].to(device)
        h = torch.gather(hidden, 1, pos.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))  # [B, T, H]
        logits = policy.get_output_embeddings()(h)  # [B, T, V]
    logprobs = token_logprobs(logits, batch["resp_tokens"].to(device))  # [B, T]
    entropy = None
    if with_entropy:
        ctx = contextlib.nullcontext() if entropy_grad else torch.no_grad()
        with ctx:
            entropy = entropy_from_logits(logits if entropy_grad else logits.detach())
    values = None
    if critic is not None:
        values = critic(h.detach() if detach_critic else h)  # [B, T, C]
    return logprobs, values, entropy


def _micro_batches(idx: list[int], rows: list[Rollout], size: int) -> list[list[int]]:
    """Splits sample indices into micro-batches of similar length (less padding)."""
    order = sorted(idx, key=lambda i: len(rows[i].prompt_ids) + len(rows[i].response_ids))
    return [order[k : k + size] for k in range(0, len(order), size)]


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
    import gymnasium as gym
    import numpy as np
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import rlsp_env  # noqa: F401  (registers the environments)
    from rlsp_agents import losses as L
    from rlsp_agents.checkpoint import (
        latest_checkpoint,
        load_trainer_state,
        rng_state,
        save_checkpoint,
        set_rng_state,
    )
    from rlsp_agents.critic import ValueHeads
    from rlsp_agents.metrics import BEHAVIOUR_CHANNELS, MetricsLog, read_metrics
    from rlsp_agents.models import resolve_model

    cfg.validate()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    use_autocast = cfg.precision == "bf16-autocast"

    def autocast() -> Any:
        if not use_autocast:
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
    eos_id = tokenizer.eos_token_id
    wdtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float32
    policy = AutoModelForCausalLM.from_pretrained(load_from, dtype=wdtype).to(device)
    policy.config.use_cache = False
    policy.eval()  # no dropout: the sampling, old and new log-probs must see the same network
    channels = cfg.active_channels()
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
    optimizer = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
    start_step, elapsed_before, acc_ema = 0, 0.0, 0.0
    if ckpt is not None:
        state, trainer_state = load_trainer_state(ckpt)
        start_step = int(state["step"])
        elapsed_before = float(state.get("elapsed_s", 0.0))
        acc_ema = float(state.get("acc_ema", 0.0))
        if critic is not None and trainer_state.get("critic") is not None:
            critic.load_state_dict(trainer_state["critic"])
        if trainer_state.get("optimizer") is not None:
            optimizer.load_state_dict(trainer_state["optimizer"])
        set_rng_state(trainer_state["rng"])
        _log(f"resumed from {ckpt} (step {start_step})")
    metrics_log = MetricsLog(
        out / "metrics.jsonl", truncate_after_step=start_step if ckpt is not None else None
    )
    (out / "config.json").write_text(json.dumps(config_to_dict(cfg), indent=2))

    # --- environments (the only way to problems and rewards) and the sampler ---
    env_kwargs = cfg.env_kwargs_dict()
    env = gym.make(cfg.env_id, split="train", reward_weights=cfg.reward_preset, **env_kwargs)
    own_sampler = sampler is None
    if own_sampler:
        from rlsp_agents.sampler import make_sampler

        if cfg.sampler == "transformers":
            sampler = make_sampler("transformers", policy, tokenizer=tokenizer, seed=cfg.seed)
        else:
            sampler = make_sampler(
                "vllm", load_from, seed=cfg.seed, max_model_len=cfg.max_new_tokens + 1024
            )
    elif ckpt is not None:
        sampler.sync_weights(policy)

    single_pass = cfg.update_epochs * cfg.num_minibatches == 1
    step = start_step
    t_run = time.perf_counter()
    bar = tqdm(
        total=cfg.total_steps,
        initial=start_step,
        desc="PPO",
        unit="it",
        disable=not cfg.progress,
        dynamic_ncols=True,
    )
    last_row: dict[str, Any] = {}
    try:
        for step in range(start_step + 1, cfg.total_steps + 1):
            if cfg.max_minutes is not None and time.perf_counter() - t_run > 60 * cfg.max_minutes:
                _log(
                    f"time budget of {cfg.max_minutes} min reached: stopping after {step - 1} steps"
                )
                step -= 1
                break
            t_step = time.perf_counter()
            row: dict[str, Any] = {"step": step}

            # 1. SAMPLE: one large generation for the whole iteration (DASH preemptive sampling)
            t0 = time.perf_counter()
            seeds, prompts = [], []
            for j in range(cfg.prompts_per_step):
                s = _problem_seed(cfg.seed, step, j)
                _, info = env.reset(seed=s)
                seeds.append(s)
                prompts.append(
                    tokenizer.apply_chat_template(
                        info["messages"], tokenize=False, add_generation_prompt=True
                    )
                )
            outputs = sampler.generate(
                prompts,
                n=cfg.samples_per_prompt,
                max_new_tokens=cfg.max_new_tokens,
                temperature=cfg.temperature,
                top_p=cfg.top_p,
            )
            row["time/sample"] = time.perf_counter() - t0

            # 2. VERIFY: every response through env.step -> reward channels + verdict
            t0 = time.perf_counter()
            rows: list[Rollout] = []
            for j, comps in enumerate(outputs):
                for c in comps:
                    env.reset(seed=seeds[j])
                    _, reward, _, _, info = env.step(c.text)
                    resp = list(c.token_ids)
                    if c.finish_reason == "stop" and (not resp or resp[-1] != eos_id):
                        resp.append(eos_id)  # learn to stop
                    if not resp:
                        resp = [eos_id]
                    rows.append(
                        Rollout(
                            group=j,
                            prompt_ids=list(c.prompt_token_ids),
                            response_ids=resp,
                            text=c.text,
                            finish_reason=c.finish_reason,
                            rewards={k: float(v) for k, v in info["rewards"].items()},
                            total=float(reward),
                            correct=bool(info["verdict"]["correct"]),
                        )
                    )
            row["time/verify"] = time.perf_counter() - t0
            n_rows = len(rows)
            if cfg.advantage != "rlsp":
                missing = [c for c in channels if c not in rows[0].rewards]
                if missing:
                    raise ValueError(
                        f"channel_weights names {missing}, which {cfg.env_id} does not report; "
                        f"its channels: {sorted(rows[0].rewards)}"
                    )

            # 3. ADVANTAGES (per channel), with the weights of this iteration's schedule
            t0 = time.perf_counter()
            progress = (step - 1) / max(cfg.total_steps - 1, 1)
            if cfg.advantage == "rlsp":
                weights = {"total": 1.0}
            else:
                weights = L.scheduled_weights(
                    cfg.weights(),
                    schedule=cfg.weight_schedule,
                    progress=progress,
                    correctness=acc_ema,
                    channel=cfg.schedule_channel,
                )
            scores = torch.tensor(
                [[r.total if c == "total" else r.rewards[c] for c in channels] for r in rows],
                dtype=torch.float32,
            )  # [N, C]
            lengths = [len(r.response_ids) for r in rows]
            old_lp: list[Any] = [None] * n_rows  # per sample [n_i]
            old_v: list[Any] = [None] * n_rows  # per sample [n_i, C]
            ref_lp: list[Any] = [None] * n_rows
            need_prepass = critic is not None or not single_pass or ref is not None
            if need_prepass:  # log-probs and values of the sampling policy, no gradient
                with torch.no_grad():
                    for mb in _micro_batches(list(range(n_rows)), rows, cfg.micro_batch_size):
                        batch = _collate([rows[i] for i in mb], pad_id)
                        lp, v, _ = _forward(
                            policy,
                            critic,
                            batch,
                            autocast=autocast,
                            detach_critic=True,
                            with_entropy=False,
                        )
                        rlp = None
                        if ref is not None:
                            rlp, _, _ = _forward(
                                ref,
                                None,
                                batch,
                                autocast=autocast,
                                detach_critic=True,
                                with_entropy=False,
                            )
                        for k, i in enumerate(mb):
                            n = lengths[i]
                            old_lp[i] = lp[k, :n].float().cpu()
                            if v is not None:
                                old_v[i] = v[k, :n].float().cpu()
                            if rlp is not None:
                                ref_lp[i] = rlp[k, :n].float().cpu()
            t_max = max(lengths)
            mask_all = _pad_stack([torch.ones(n) for n in lengths], t_max)  # [N, T]
            returns_all = None
            if critic is not None:
                values_all = _pad_stack(old_v, t_max)  # [N, T, C]
                rewards_tok = L.terminal_rewards(scores, mask_all)  # [N, T, C]
                adv_c, returns_all = L.gae(
                    rewards_tok, values_all, mask_all, gamma=cfg.gamma, lam=cfg.lam
                )
                per_channel = {
                    c: L.masked_whiten(adv_c[..., k], mask_all) for k, c in enumerate(channels)
                }  # each [N, T]
                adv_all = L.combine_channels(per_channel, weights)  # [N, T]
            else:
                g_adv = L.group_advantages(
                    scores, cfg.samples_per_prompt, baseline=cfg.group_baseline
                )  # [N, C]
                per_sample = L.combine_channels(
                    {c: g_adv[:, k] for k, c in enumerate(channels)}, weights
                )  # [N]
                adv_all = per_sample.unsqueeze(1) * mask_all  # [N, T]

            # 4. FILTER (DASH): drop responses whose mean |advantage| <= tau
            sample_mag = (adv_all.abs() * mask_all).sum(1) / mask_all.sum(1)  # [N]
            keep = L.filter_by_advantage(sample_mag, cfg.filter_tau)
            kept = [i for i in range(n_rows) if bool(keep[i])]
            row["time/advantage"] = time.perf_counter() - t0

            # 5. UPDATE: clipped PPO losses, gradients accumulated over micro-batches
            t0 = time.perf_counter()
            stats: dict[str, float] = {
                "policy": 0.0, "value": 0.0, "kl_ref": 0.0, "entropy": 0.0,
                "approx_kl": 0.0, "clipfrac": 0.0, "tokens": 0.0,
            }  # fmt: skip
            grad_norms: list[float] = []
            train_tokens = 0
            rng = np.random.default_rng([cfg.seed, step])
            for _epoch in range(cfg.update_epochs):
                perm = [kept[i] for i in rng.permutation(len(kept))]
                for mini in np.array_split(np.array(perm), cfg.num_minibatches):
                    mini = [int(i) for i in mini]
                    if not mini:
                        continue
                    denom = float(sum(lengths[i] for i in mini))  # tokens in this minibatch
                    for mb in _micro_batches(mini, rows, cfg.micro_batch_size):
                        batch = _collate([rows[i] for i in mb], pad_id)
                        mask = batch["mask"]
                        tl = mask.shape[1]
                        lp, v, ent = _forward(
                            policy,
                            critic,
                            batch,
                            autocast=autocast,
                            detach_critic=cfg.critic_detach,
                            with_entropy=True,
                            entropy_grad=cfg.entropy_coef > 0,
                        )
                        lp, mask = lp.cpu(), mask.cpu()
                        olp = (
                            _pad_stack([old_lp[i] for i in mb], tl)
                            if old_lp[mb[0]] is not None
                            else lp.detach()
                        )
                        adv = adv_all[mb, :tl]
                        pg, clipfrac = L.policy_loss(lp, olp, adv, mask, clip=cfg.clip, denom=denom)
                        loss = pg
                        if critic is not None and v is not None:
                            ov = _pad_stack([old_v[i] for i in mb], tl)
                            ret = returns_all[mb, :tl]
                            vl = L.value_loss(
                                v.cpu(), ov, ret, mask, clip=cfg.value_clip, denom=denom
                            )
                            loss = loss + cfg.vf_coef * vl
                            stats["value"] += vl.item()
                        if ref is not None:
                            rl = _pad_stack([ref_lp[i] for i in mb], tl)
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
                        train_tokens += int(batch["attention_mask"].sum())
                    gn = torch.nn.utils.clip_grad_norm_(groups[0]["params"], cfg.max_grad_norm)
                    grad_norms.append(float(gn))
                    if critic is not None:
                        torch.nn.utils.clip_grad_norm_(groups[1]["params"], cfg.max_grad_norm)
                    optimizer.step()
                    optimizer.zero_grad(set_to_none=True)
            row["time/train"] = time.perf_counter() - t0
            n_updates = max(cfg.update_epochs * cfg.num_minibatches, 1)

            # 6. SYNC the new weights into the sampler (after every optimizer step)
            t0 = time.perf_counter()
            sampler.sync_weights(policy)
            row["time/sync"] = time.perf_counter() - t0

            # 7. LOG
            acc = sum(r.correct for r in rows) / n_rows
            acc_ema = acc if step == 1 and start_step == 0 else 0.7 * acc_ema + 0.3 * acc
            all_channels = sorted(rows[0].rewards)
            for c in all_channels:
                mean = sum(r.rewards.get(c, 0.0) for r in rows) / n_rows
                prefix = "behaviour" if c in BEHAVIOUR_CHANNELS else "reward"
                row[f"{prefix}/{c}"] = mean
            row["reward/total"] = sum(r.total for r in rows) / n_rows
            row["charts/accuracy"] = acc
            row["charts/response_len"] = sum(lengths) / n_rows
            row["charts/truncated"] = sum(r.finish_reason == "length" for r in rows) / n_rows
            row["charts/kept_frac"] = len(kept) / n_rows
            row["charts/advantage_abs"] = float(sample_mag.mean())
            for c, w in weights.items():
                row[f"charts/weight/{c}"] = w
            row["losses/policy"] = stats["policy"] / n_updates
            if critic is not None:
                row["losses/value"] = stats["value"] / n_updates
            if ref is not None:
                row["losses/kl_ref"] = stats["kl_ref"] / n_updates
            tok = max(stats["tokens"], 1.0)
            row["charts/entropy"] = stats["entropy"] / n_updates
            row["charts/approx_kl"] = stats["approx_kl"] / tok
            row["charts/clipfrac"] = stats["clipfrac"] / tok
            row["charts/grad_norm"] = sum(grad_norms) / max(len(grad_norms), 1)
            row["charts/tokens_per_s"] = train_tokens / max(row["time/train"], 1e-9)
            row["charts/sample_tokens_per_s"] = sum(len(r.response_ids) for r in rows) / max(
                row["time/sample"], 1e-9
            )
            if cfg.eval_n > 0 and cfg.eval_every > 0 and step % cfg.eval_every == 0:
                t0 = time.perf_counter()
                row["eval/accuracy"] = _held_out_accuracy(cfg, sampler, env_kwargs)
                row["time/eval"] = time.perf_counter() - t0
            if cfg.log_samples:
                for r in rows[: cfg.log_samples]:
                    _log(f"step {step} sample (correct={r.correct}): {r.text[:300]!r}")

            # 8. CHECKPOINT (only the newest is kept); a SIGKILL loses at most this iteration
            t0 = time.perf_counter()
            row["time/step"] = time.perf_counter() - t_step
            row["time/elapsed"] = elapsed_before + (time.perf_counter() - t_run)
            metrics_log.write(row)
            if cfg.checkpoint_every and (
                step % cfg.checkpoint_every == 0 or step == cfg.total_steps
            ):
                save_checkpoint(
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
            last_row = row
            bar.update(1)
            bar.set_postfix(
                acc=f"{acc:.2f}",
                len=f"{row['charts/response_len']:.0f}",
                kept=len(kept),
                s=f"{row['time/step']:.0f}",
            )

        # --- the end: final model, held-out evaluation, plots ---
        summary: dict[str, Any] = {"steps": step, "out": str(out), "last": last_row}
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
        env.close()
        if own_sampler and sampler is not None:
            sampler.close()


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
(the paper's GPU-cluster settings). Options after --preset override it.

examples:
  rlsp train --preset cpu-smollm2
  rlsp train --preset cpu-smollm2 --total-steps 30 --out runs/mine
  rlsp train --model runs/sft/final --advantage decoupled --channel-weights correctness=1,exploration=0.2 --weight-schedule correctness
  rlsp train --advantage group --group-baseline rloo --samples-per-prompt 8 --filter-tau 0.1
  rlsp train --sampler transformers --total-steps 2 --prompts-per-step 2 --max-new-tokens 32
  rlsp train --out runs/train --resume                  # continue after a crash or kill -9
"""


def parse_args(argv: list[str] | None) -> TrainConfig:
    """Parses ``rlsp train`` arguments (``--preset NAME`` first, then field overrides)."""
    import tyro

    from rlsp_agents.presets import PRESETS, get_preset

    args = list(sys.argv[1:] if argv is None else argv)
    preset = None
    for i, a in enumerate(args):
        if a == "--preset" and i + 1 < len(args):
            preset = args[i + 1]
            del args[i : i + 2]
            break
        if a.startswith("--preset="):
            preset = a.split("=", 1)[1]
            del args[i]
            break
    if preset is not None and preset not in PRESETS:
        raise SystemExit(
            f"rlsp train: unknown preset {preset!r}; known: {', '.join(sorted(PRESETS))}"
        )
    default = get_preset(preset) if preset else TrainConfig()
    return tyro.cli(
        TrainConfig, default=default, args=args, prog="rlsp train", description=DESCRIPTION
    )


def main(argv: list[str] | None = None) -> int:
    """``rlsp train [--preset NAME] [options]``; ``--help`` lists every option."""
    cfg = parse_args(argv)
    try:
        cfg.validate()
    except ValueError as e:
        print(f"rlsp train: error: {e}", file=sys.stderr)
        return 2
    summary = train(cfg)
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
