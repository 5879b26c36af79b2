"""Batching of (prompt, response) token sequences for SFT and PPO: one module, shared by both.

A *sequence* is any object with ``prompt_ids`` and ``response_ids`` (lists of token ids): a
:class:`rlsp_agents.rollouts.Rollout` in PPO, a :class:`rlsp_agents.sft.Example` in SFT. The loss
is taken on response tokens only, so every helper here speaks in response positions:

- :func:`micro_batches` splits sequence indices into micro-batches of similar length (less padding);
- :func:`collate` right-pads a micro-batch into tensors, with ``resp_pos`` (the position whose
  hidden state predicts each response token) and a response ``mask``;
- :func:`forward` runs the decoder once and applies the LM head only at response positions:
  log-probs ``[B, T]``, values ``[B, T, C]`` of optional value heads, entropy ``[B, T]``;
- :func:`pad_stack` stacks per-sequence tensors ``[n_i(, C)]`` into ``[B, T(, C)]``.

Example:
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Seq:
    ...     prompt_ids: list[int]
    ...     response_ids: list[int]
    >>> rows = [Seq([5, 6, 7], [8, 9]), Seq([5], [8, 9, 10])]
    >>> micro_batches([0, 1], rows, size=1)  # shorter sequence first
    [[1], [0]]
    >>> b = collate(rows, pad_id=0)
    >>> b["input_ids"].tolist()
    [[5, 6, 7, 8, 9], [5, 8, 9, 10, 0]]
    >>> b["resp_pos"].tolist(), b["mask"].tolist()  # position 2 of row 0 predicts token 8
    ([[2, 3, 0], [0, 1, 2]], [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]])
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

__all__ = ["TokenSequence", "collate", "forward", "micro_batches", "pad_stack"]


class TokenSequence(Protocol):
    """What the helpers need of a sequence: its prompt and response token ids."""

    prompt_ids: list[int]
    response_ids: list[int]


def micro_batches(idx: Sequence[int], rows: Sequence[TokenSequence], size: int) -> list[list[int]]:
    """Splits the indices ``idx`` of ``rows`` into micro-batches of at most ``size`` sequences,
    sorted by total length so that each micro-batch pads little."""
    order = sorted(idx, key=lambda i: len(rows[i].prompt_ids) + len(rows[i].response_ids))
    return [order[k : k + size] for k in range(0, len(order), size)]


def collate(rows: Sequence[TokenSequence], pad_id: int) -> dict[str, Any]:
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
        ids = list(r.prompt_ids) + list(r.response_ids)
        p, n = len(r.prompt_ids), len(r.response_ids)
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attn[i, : len(ids)] = 1
        resp_pos[i, :n] = torch.arange(p - 1, p - 1 + n)
        resp_tokens[i, :n] = torch.tensor(list(r.response_ids))
        mask[i, :n] = 1.0
    return {
        "input_ids": input_ids,
        "attention_mask": attn,
        "resp_pos": resp_pos,
        "resp_tokens": resp_tokens,
        "mask": mask,
    }


def pad_stack(tensors: Sequence[Any], t_len: int) -> Any:
    """Stacks 1-D ``[n_i]`` or 2-D ``[n_i, C]`` tensors into ``[B, T(, C)]``, zero-padded."""
    import torch

    first = tensors[0]
    out = torch.zeros((len(tensors), t_len, *first.shape[1:]), dtype=first.dtype)
    for i, x in enumerate(tensors):
        out[i, : x.shape[0]] = x
    return out


def forward(
    policy: Any,
    critic: Any,
    batch: dict[str, Any],
    *,
    autocast: Callable[[], Any] = contextlib.nullcontext,
    detach_critic: bool = True,
    with_entropy: bool = False,
    entropy_grad: bool = False,
) -> tuple[Any, Any, Any]:
    """Log-probs ``[B, T]``, values ``[B, T, C]`` (or None) and entropy ``[B, T]`` (or None).

    The decoder runs once; the output embedding (LM head) is applied only at response positions.

    Args:
        policy: a transformers causal LM (``base_model`` and ``get_output_embeddings``).
        critic: value heads over the hidden states (:class:`rlsp_agents.critic.ValueHeads`), or
            None.
        batch: what :func:`collate` returned.
        autocast: a context-manager factory wrapped around the decoder (bf16 autocast or none).
        detach_critic: the value heads read detached hidden states.
        with_entropy: also return the per-token entropy.
        entropy_grad: the entropy keeps its graph (an entropy bonus in the loss).
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
