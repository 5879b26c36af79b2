"""Batching of (prompt, response) token sequences for SFT and PPO: one module, shared by both.

A *sequence* is any object with ``prompt_ids`` and ``response_ids`` (lists of token ids): a
:class:`rlsp_agents.rollouts.Rollout` in PPO, a :class:`rlsp_agents.sft.Example` in SFT. The loss
is taken on response tokens only, so every helper here speaks in response positions:

- :func:`micro_batches` splits sequence indices into micro-batches of similar length (less padding);
  with ``share_prompts`` it keeps the responses of one prompt together;
- :func:`collate` right-pads a micro-batch into tensors, with ``resp_pos`` (the position whose
  hidden state predicts each response token) and a response ``mask``; with ``share_prompts`` it
  also records which rows share a prompt (``prompt_groups``);
- :func:`forward` runs the decoder once and applies the LM head only at response positions:
  log-probs ``[B, T]``, values ``[B, T, C]`` of optional value heads, entropy ``[B, T]``. On a
  batch collated with ``share_prompts`` the decoder runs each distinct prompt **once** and its
  responses on top of that prompt's key/value cache (repeated per response, gradients summed
  through the repeat): the same log-probs, values and gradients as the padded pass, computed over
  ``P + n R`` tokens instead of ``n (P + R)`` for a prompt of ``P`` tokens with ``n`` responses
  of ``R`` (PPO's groups of samples per prompt).
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


def micro_batches(
    idx: Sequence[int], rows: Sequence[TokenSequence], size: int, *, share_prompts: bool = False
) -> list[list[int]]:
    """Splits the indices ``idx`` of ``rows`` into micro-batches of at most ``size`` sequences,
    sorted by total length so that each micro-batch pads little.

    With ``share_prompts`` the sequences of one prompt are kept next to each other (sorted by
    prompt length, then prompt, then response length), so that a micro-batch holds few distinct
    prompts and :func:`forward` runs each of them once.

    Example:
        >>> from types import SimpleNamespace as S
        >>> rows = [S(prompt_ids=[1], response_ids=[2] * n) for n in (3, 1)]
        >>> rows += [S(prompt_ids=[7, 7], response_ids=[2])]
        >>> micro_batches([0, 1, 2], rows, size=2, share_prompts=True)
        [[1, 0], [2]]
    """
    if share_prompts:
        order = sorted(
            idx,
            key=lambda i: (
                len(rows[i].prompt_ids),
                tuple(rows[i].prompt_ids),
                len(rows[i].response_ids),
            ),
        )
    else:
        order = sorted(idx, key=lambda i: len(rows[i].prompt_ids) + len(rows[i].response_ids))
    return [order[k : k + size] for k in range(0, len(order), size)]


def collate(
    rows: Sequence[TokenSequence], pad_id: int, *, share_prompts: bool = False
) -> dict[str, Any]:
    """Right-padded tensors for a micro-batch.

    Returns ``input_ids [B, L]``, ``attention_mask [B, L]``, ``resp_pos [B, T]`` (the position
    whose hidden state predicts response token t), ``resp_tokens [B, T]`` and ``mask [B, T]``.
    With ``share_prompts`` also ``prompt_groups``: ``(prompt_ids [1, P], row indices)`` per
    distinct prompt, in first-seen order, which :func:`forward` uses to run each prompt once.
    ``decoder_positions`` (an int): the positions the decoder computes for this batch, padding
    included.
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
    out = {
        "input_ids": input_ids,
        "attention_mask": attn,
        "resp_pos": resp_pos,
        "resp_tokens": resp_tokens,
        "mask": mask,
        "decoder_positions": b * seq_len,  # what the decoder computes, padding included
    }
    if share_prompts:
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, r in enumerate(rows):
            groups.setdefault(tuple(r.prompt_ids), []).append(i)
        if any(len(p) == 0 for p in groups):
            raise ValueError("share_prompts needs a non-empty prompt for every sequence")
        out["prompt_groups"] = [
            (torch.tensor([list(p)], dtype=torch.long), members) for p, members in groups.items()
        ]
        out["decoder_positions"] = sum(len(p) + len(m) * (t_len - 1) for p, m in groups.items())
    return out


def _shared_prompt_hidden(base_model: Any, batch: dict[str, Any], device: Any) -> Any:
    """The hidden states ``[B, T, H]`` at the response positions, each prompt run once.

    The distinct prompts are bucketed by length; per bucket of ``G`` prompts of ``P`` tokens and
    their ``n`` rows: one pass over the ``[G, P]`` prompts (``use_cache``), the cache gathered to
    one entry per row, one pass over the rows' response tokens but the last (right-padded,
    attending to their prompt through the cache). The state predicting response token 0 is the
    prompt's last; the one predicting token t > 0 is the response pass's (t - 1)-th.
    """
    import torch

    b, t_len = batch["resp_tokens"].shape
    resp = batch["resp_tokens"].to(device)
    mask = batch["mask"].to(device)
    buckets: dict[int, list[tuple[Any, list[int]]]] = {}
    for prompt, members in batch["prompt_groups"]:
        buckets.setdefault(prompt.shape[1], []).append((prompt, members))
    parts, order = [], []
    for p_len, groups in buckets.items():
        prompts = torch.cat([p for p, _ in groups], dim=0).to(device)  # [G, P]
        members = [i for _, m in groups for i in m]
        owner = torch.tensor([g for g, (_, m) in enumerate(groups) for _ in m], device=device)
        n = len(members)
        first = base_model(input_ids=prompts, use_cache=True)
        h = first.last_hidden_state[owner, -1:, :]  # [n, 1, H]
        if t_len > 1:
            cache = first.past_key_values
            cache.batch_select_indices(owner)  # one cache entry per row (a differentiable gather)
            rows = torch.tensor(members, device=device)
            m = mask[rows, : t_len - 1].long()
            rest = base_model(
                input_ids=resp[rows, : t_len - 1],
                attention_mask=torch.cat(
                    [torch.ones((n, p_len), dtype=torch.long, device=device), m], dim=1
                ),
                position_ids=torch.arange(p_len, p_len + t_len - 1, device=device).expand(n, -1),
                past_key_values=cache,
                use_cache=True,
            )
            h = torch.cat([h, rest.last_hidden_state], dim=1)  # [n, T, H]
        parts.append(h)
        order += members
    h = torch.cat(parts, dim=0)
    inverse = torch.empty(b, dtype=torch.long, device=device)
    inverse[torch.tensor(order, device=device)] = torch.arange(b, device=device)
    return h[inverse]


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
    temperature: float = 1.0,
) -> tuple[Any, Any, Any]:
    """Log-probs ``[B, T]``, values ``[B, T, C]`` (or None) and entropy ``[B, T]`` (or None).

    The decoder runs once (once per distinct prompt on a ``share_prompts`` batch); the output
    embedding (LM head) is applied only at response positions.

    Args:
        policy: a transformers causal LM (``base_model`` and ``get_output_embeddings``).
        critic: value heads over the hidden states (:class:`rlsp_agents.critic.ValueHeads`), or
            None.
        batch: what :func:`collate` returned.
        autocast: a context-manager factory wrapped around the decoder (bf16 autocast or none).
        detach_critic: the value heads read detached hidden states.
        with_entropy: also return the per-token entropy.
        entropy_grad: the entropy keeps its graph (an entropy bonus in the loss).
        temperature: the logits are divided by it before the log-softmax (log-probs and entropy
            of the tempered distribution the responses were sampled from); 1 leaves them as is.
    """
    import torch

    from rlsp_agents.losses import entropy_from_logits, token_logprobs

    device = next(policy.parameters()).device
    with autocast():
        if batch.get("prompt_groups") is not None:
            h = _shared_prompt_hidden(policy.base_model, batch, device)  # [B, T, H]
        else:
            h = _padded_hidden(policy.base_model, batch, device)  # [B, T, H]
        logits = policy.get_output_embeddings()(h)  # [B, T, V]
    if temperature != 1.0:
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        logits = logits / temperature
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


def _padded_hidden(base_model: Any, batch: dict[str, Any], device: Any) -> Any:
    """The hidden states ``[B, T, H]`` at the response positions, from one decoder pass over the
    right-padded (prompt + response) rows."""
    import torch

    out = base_model(
        input_ids=batch["input_ids"].to(device),
        attention_mask=batch["attention_mask"].to(device),
    )
    hidden = out.last_hidden_state  # [B, L, H]
    pos = batch["resp_pos"].to(device)
    return torch.gather(hidden, 1, pos.unsqueeze(-1).expand(-1, -1, hidden.shape[-1]))
