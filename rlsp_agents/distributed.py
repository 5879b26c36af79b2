"""The bundled agent on several processes (``torchrun``): data parallel, groups never split.

Each process (rank) holds a full replica of the policy and value heads, samples and verifies its
own share of the iteration's prompts (:func:`shard_groups`: whole groups, so every group-relative
advantage is computed where the whole group lives), and the ranks meet three times per optimizer
step: the token count of the global minibatch (the loss denominator), one bucketed all-reduce of
the gradients before clipping (:func:`all_reduce_gradients`), and the metrics
(:func:`reduce_metrics`). Batch-wide statistics that the single-process trainer takes over the
whole batch use global sums (:func:`global_masked_rms_scale`, :func:`global_masked_whiten`,
:func:`global_mean`, :func:`global_filter_by_advantage`).
There is one update, the trainer's (:func:`rlsp_agents.train.ppo_update` with a
:class:`DistContext`); with it, one update on N ranks gives the parameters of the single-process
update on the union of their batches (tests/agents/test_distributed.py checks it with 2 gloo ranks
against the same function on one process). ``rlsp train`` itself runs under ``torchrun`` (rank and
world from the environment; without ``WORLD_SIZE`` it is the single-process trainer).

Why replicas (DDP-style) and not FSDP2: the bundled agent is for models that fit one device
(135M-1.5B; a 1.5B policy with AdamW state is about 25 GB in fp32), where replication costs no
extra communication over FSDP's all-gathers and keeps checkpoints plain ``save_pretrained``
folders; models that need sharding (7B and up) go to verl, OpenRLHF or TRL (``recipes/``), whose
FSDP2/ZeRO-3 and vLLM integration are maintained there. The gradient all-reduce is explicit
rather than through ``DistributedDataParallel`` because the trainer's forward runs the decoder and
the LM head separately (the head only at response positions), which DDP's forward hooks would not
see; one flat all-reduce per optimizer step is what DDP's ``no_sync`` accumulation does too.

Launch (one process per GPU, or per CPU socket with gloo)::

    torchrun --nproc_per_node 2 -m rlsp_agents.cli train --sampler transformers ...
    python -m rlsp_agents.distributed --help          # the self-check: one update, N ranks vs 1

Checkpoints are written once (rank 0, :func:`on_main`) and every rank resumes from the same
directory (``rlsp_agents.checkpoint.latest_checkpoint``); the sampling seeds are a pure function
of (seed, step, rank), so a resumed run draws the same problems.
"""

from __future__ import annotations

import argparse
import os
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from rlsp_agents import losses as L

__all__ = [
    "DistContext",
    "init_distributed",
    "teardown",
    "shard_groups",
    "all_reduce_",
    "global_masked_whiten",
    "global_masked_rms_scale",
    "global_mean",
    "global_filter_by_advantage",
    "all_reduce_gradients",
    "broadcast_module_",
    "reduce_metrics",
    "on_main",
    "Sample",
    "update_samples",
]

T = TypeVar("T")


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size``, and its device.

    ``world_size == 1`` (no process group) makes every collective below a no-op, so the same code
    runs on one process.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(backend: str | None = None, *, timeout_s: float = 1800.0) -> DistContext:
    """Joins the process group ``torchrun`` describes (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
    ``MASTER_ADDR``, ``MASTER_PORT``); without them, a one-process context.

    Args:
        backend: ``"nccl"`` (default with CUDA) or ``"gloo"`` (default on CPU).
        timeout_s: how long a collective may wait for the other ranks.

    Raises:
        ValueError: inconsistent ``RANK`` / ``WORLD_SIZE``.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"RANK={rank} WORLD_SIZE={world}: need 0 <= RANK < WORLD_SIZE")
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local % torch.cuda.device_count())
        device = torch.device("cuda", torch.cuda.current_device())
    else:
        device = torch.device("cpu")
    if world == 1:
        return DistContext(device=device)
    backend = backend or ("nccl" if cuda else "gloo")
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    return DistContext(rank, world, local, device, backend)


def teardown(ctx: DistContext) -> None:
    """Waits for every rank, then leaves the process group (safe to call twice)."""
    if ctx.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def shard_groups(n_groups: int, ctx: DistContext) -> range:
    """The groups (prompts, each with all its samples) this rank samples: a contiguous block.

    Blocks differ in size by at most one; concatenated in rank order they are ``range(n_groups)``.

    Raises:
        ValueError: fewer groups than ranks (a rank would have nothing to train on).

    Example:
        >>> [list(shard_groups(5, DistContext(r, 2))) for r in range(2)]
        [[0, 1, 2], [3, 4]]
    """
    if n_groups < ctx.world_size:
        raise ValueError(f"{n_groups} groups cannot be split over {ctx.world_size} ranks")
    base, extra = divmod(n_groups, ctx.world_size)
    start = ctx.rank * base + min(ctx.rank, extra)
    return range(start, start + base + (1 if ctx.rank < extra else 0))


def all_reduce_(t: torch.Tensor, ctx: DistContext, op: str = "sum") -> torch.Tensor:
    """In-place all-reduce (``sum``, ``max`` or ``min``); returns ``t``. No-op on one process."""
    if ctx.enabled:
        ops = {"sum": dist.ReduceOp.SUM, "max": dist.ReduceOp.MAX, "min": dist.ReduceOp.MIN}
        dist.all_reduce(t, op=ops[op])
    return t


def _scalar(x: float, ctx: DistContext, op: str = "sum") -> float:
    t = torch.tensor([float(x)], dtype=torch.float64, device=ctx.device)
    return float(all_reduce_(t, ctx, op)[0])


def global_masked_whiten(
    x: torch.Tensor, mask: torch.Tensor, ctx: DistContext, *, eps: float = 1e-8
) -> torch.Tensor:
    """``losses.masked_whiten`` over the union of every rank's ``x`` (mean 0, std 1, padding 0).

    The mean and the population variance are global (two all-reduces of sums), so each rank's
    result equals its rows of the single-process ``masked_whiten`` of the concatenated batch.
    """
    stats = torch.stack([(x * mask).sum(), mask.sum()]).double().to(ctx.device)
    total, count = all_reduce_(stats, ctx).tolist()
    mean = total / max(count, 1.0)
    sq = ((x - mean) ** 2 * mask).sum().double().to(ctx.device).reshape(1)
    var = float(all_reduce_(sq, ctx)[0]) / max(count, 1.0)
    return (x - mean) / (var**0.5 + eps) * mask


def global_masked_rms_scale(
    x: torch.Tensor, mask: torch.Tensor, ctx: DistContext, *, eps: float = 1e-8
) -> torch.Tensor:
    """``losses.masked_rms_scale`` over the union of every rank's ``x`` (one all-reduce of sums):
    each rank's result equals its rows of the single-process result on the concatenated batch."""
    stats = torch.stack([(x * x * mask).sum(), mask.sum()]).double().to(ctx.device)
    sq, count = all_reduce_(stats, ctx).tolist()
    rms = (sq / max(count, 1.0)) ** 0.5
    return x / (rms + eps) * mask


def global_mean(x: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The mean over dimension 0 of the union of every rank's rows ``x [n_r, ...]`` (CPU float32)."""
    n = torch.tensor([float(x.shape[0])], dtype=torch.float64, device=ctx.device)
    total = all_reduce_(x.sum(0).double().to(ctx.device), ctx)
    count = float(all_reduce_(n, ctx)[0])
    return (total / max(count, 1.0)).float().cpu()


def global_filter_by_advantage(
    sample_adv: torch.Tensor, tau: float, ctx: DistContext
) -> torch.Tensor:
    """``losses.filter_by_advantage`` over all ranks: keep ``|advantage| > tau``; if no sample of
    any rank passes, keep the one sample with the largest ``|advantage|`` (the first such in rank
    order, as the single-process argmax would)."""
    mag = sample_adv.abs()
    keep = mag > tau
    if _scalar(float(keep.sum()), ctx) > 0:
        return keep
    local_max = float(mag.max()) if mag.numel() else float("-inf")
    best = _scalar(local_max, ctx, "max")
    candidate = ctx.rank if mag.numel() and local_max == best else ctx.world_size
    winner = int(_scalar(candidate, ctx, "min"))
    keep = torch.zeros_like(keep)
    if winner == ctx.rank:
        keep[int(mag.argmax())] = True
    return keep


def all_reduce_gradients(params: Iterable[torch.nn.Parameter], ctx: DistContext) -> None:
    """Sums every parameter's gradient over the ranks, in one flat all-reduce.

    A parameter without a gradient on this rank (it trained on nothing this minibatch) counts as
    zero, so every rank takes part in the same collective.
    """
    if not ctx.enabled:
        return
    ps = [p for p in params if p.requires_grad]
    for p in ps:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    grads = [p.grad for p in ps]
    flat = torch.cat([g.reshape(-1).to(torch.float32) for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset : offset + n].view_as(g))
        offset += n


def broadcast_module_(module: torch.nn.Module, ctx: DistContext, src: int = 0) -> None:
    """Copies rank ``src``'s parameters and buffers to every rank (identical replicas)."""
    if not ctx.enabled:
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src=src)


def reduce_metrics(
    metrics: Mapping[str, float], ctx: DistContext, *, weight: float = 1.0
) -> dict[str, float]:
    """The ``weight``-weighted mean of each metric over the ranks (weight: e.g. this rank's
    number of samples). Every rank must pass the same keys.

    Raises:
        ValueError: the ranks passed different keys.
    """
    keys = sorted(metrics)
    if not ctx.enabled:
        return {k: float(metrics[k]) for k in keys}
    sig = float(zlib.crc32("\n".join(keys).encode()))
    check = torch.tensor([float(len(keys)), sig], dtype=torch.float64, device=ctx.device)
    lo, hi = all_reduce_(check.clone(), ctx, "min"), all_reduce_(check.clone(), ctx, "max")
    if not torch.equal(lo, hi):
        raise ValueError(f"ranks logged different metric keys (rank {ctx.rank}: {keys})")
    vals = [float(metrics[k]) * weight for k in keys] + [float(weight)]
    total = all_reduce_(torch.tensor(vals, dtype=torch.float64, device=ctx.device), ctx)
    return {k: float(v) for k, v in zip(keys, (total[:-1] / total[-1]).tolist())}


def on_main(ctx: DistContext, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
    """Runs ``fn`` on rank 0 only (a checkpoint, a metrics line), then waits for every rank."""
    out = fn(*args, **kwargs) if ctx.is_main else None
    if ctx.enabled:
        dist.barrier()
    return out


# --------------------------------------------------------------------------- the update
@dataclass
class Sample:
    """One response to train on.

    Attributes:
        prompt_ids: the prompt's tokens.
        response_ids: the response's tokens (``n`` of them).
        advantages: ``[n]`` per-token advantage (a group advantage repeated, or GAE's).
        returns: ``[n, C]`` value targets, with a critic; else ``None``.
    """

    prompt_ids: list[int]
    response_ids: list[int]
    advantages: torch.Tensor
    returns: torch.Tensor | None = None


def update_samples(
    cfg: Any,
    policy: Any,
    optimizer: torch.optim.Optimizer,
    samples: Sequence[Sample],
    ctx: DistContext,
    *,
    critic: Any = None,
    pad_id: int = 0,
    step: int = 1,
) -> dict[str, float]:
    """One PPO iteration's update over this rank's ``samples`` whose advantages are given: the
    trainer's own steps, nothing re-implemented (:func:`rlsp_agents.train.old_policy_pass`, then
    :func:`rlsp_agents.train.ppo_update` with ``ctx``), for tests and the self-check.

    Args:
        cfg: a :class:`~rlsp_agents.config.TrainConfig` (``micro_batch_size``,
            ``update_epochs``, ``num_minibatches``, ``clip``, ``max_grad_norm``, ...).
        policy: a transformers causal LM.
        optimizer: param group 0 the policy's, group 1 the critic's (when there is one).
        samples: this rank's responses (whole groups), every one kept.
        ctx: the :class:`DistContext` (one process: ``DistContext()``).
        critic: ``ValueHeads`` or ``None``; with it every sample needs ``returns``.

    Returns:
        The trainer's update statistics, summed over the ranks (``policy``, ``value``,
        ``clipfrac``, ``tokens``, ``grad_norm``, ...).

    Raises:
        ValueError: no samples, or a critic without returns.
    """
    import contextlib

    from rlsp_agents.batching import pad_stack
    from rlsp_agents.train import old_policy_pass, ppo_update

    if not samples:
        raise ValueError("update_samples needs at least one sample on every rank")
    if critic is not None and any(s.returns is None for s in samples):
        raise ValueError("with a critic every sample needs returns")
    rows = list(samples)
    t_max = max(len(s.response_ids) for s in rows)
    old = old_policy_pass(
        policy,
        critic,
        None,
        rows,  # type: ignore[arg-type]
        micro_batch_size=cfg.micro_batch_size,
        pad_id=pad_id,
        autocast=contextlib.nullcontext,
        needed=True,
        share_prompts=cfg.share_prompts,
    )
    adv = pad_stack([s.advantages.float() for s in rows], t_max)
    returns = pad_stack([s.returns for s in rows], t_max) if critic is not None else None
    return ppo_update(
        cfg,
        policy=policy,
        critic=critic,
        ref=None,
        optimizer=optimizer,
        rows=rows,  # type: ignore[arg-type]
        kept=list(range(len(rows))),
        adv_all=adv,
        returns_all=returns,
        old=old,
        pad_id=pad_id,
        autocast=contextlib.nullcontext,
        step=step,
        ctx=ctx,
    )


# ------------------------------------------------------------------- torchrun self-check
def _selfcheck(args: argparse.Namespace) -> int:
    """One update of a tiny random model on this rank's share vs. the whole batch on one process."""
    import copy

    from transformers import LlamaConfig, LlamaForCausalLM

    from rlsp_agents.config import TrainConfig

    ctx = init_distributed(args.backend)
    try:
        torch.manual_seed(0)
        cfg = LlamaConfig(
            vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=64,
        )  # fmt: skip
        policy = LlamaForCausalLM(cfg).to(ctx.device).eval()
        broadcast_module_(policy, ctx)
        g = torch.Generator().manual_seed(1)
        groups, k = 2 * ctx.world_size, 4
        scores = torch.rand(groups * k, generator=g)
        adv = L.group_advantages(scores, k)
        samples = []
        for i in range(groups * k):
            n = int(torch.randint(2, 9, (1,), generator=g))
            samples.append(
                Sample(
                    prompt_ids=torch.randint(1, 64, (5,), generator=g).tolist(),
                    response_ids=torch.randint(1, 64, (n,), generator=g).tolist(),
                    advantages=adv[i].repeat(n),
                )
            )
        mine = [s for j in shard_groups(groups, ctx) for s in samples[j * k : (j + 1) * k]]
        ref = copy.deepcopy(policy)
        cfg = TrainConfig(micro_batch_size=3, max_grad_norm=0.5)
        opt = torch.optim.AdamW(policy.parameters(), lr=1e-3)
        update_samples(cfg, policy, opt, mine, ctx)
        ref_opt = torch.optim.AdamW(ref.parameters(), lr=1e-3)
        update_samples(cfg, ref, ref_opt, samples, DistContext(device=ctx.device))
        diff = max(
            float((a.detach() - b.detach()).abs().max())
            for a, b in zip(policy.parameters(), ref.parameters())
        )
        worst = _scalar(diff, ctx, "max")
        if ctx.is_main:
            print(f"[rlsp distributed] {ctx.world_size} ranks ({ctx.backend or 'single'}): "
                  f"max |param - single-process param| = {worst:.2e}")  # fmt: skip
        return 0 if worst < 1e-5 else 1
    finally:
        teardown(ctx)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rlsp_agents.distributed",
        description="Self-check of the multi-process update: one PPO update of a tiny random "
        "model on N ranks (whole groups per rank) must equal the single-process update.",
        epilog="examples:\n"
        "  torchrun --nproc_per_node 2 -m rlsp_agents.distributed           # gloo on CPU\n"
        "  torchrun --nproc_per_node 8 -m rlsp_agents.distributed --backend nccl\n"
        "  python -m rlsp_agents.distributed                                # 1 process\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--backend", choices=["gloo", "nccl"], default=None, help="default: nccl on CUDA"
    )
    return _selfcheck(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
