"""The shared-prompt forward pass (each prompt run once, its responses on its key/value cache)
equals the padded pass: the same log-probs, values, entropy and gradients, on a real (tiny,
random) Llama, with prompts of different lengths mixed in one micro-batch."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest
import torch

from rlsp_agents.batching import collate, forward, micro_batches
from rlsp_agents.critic import ValueHeads
from tests.agents.test_train_helpers import tiny_model_dir


@dataclass
class Seq:
    prompt_ids: list[int]
    response_ids: list[int]


def _rows(seed: int) -> list[Seq]:
    rng = random.Random(seed)
    rows = []
    # 5 prompts, some of one length (one prefix pass for several prompts), some of another,
    # 1..4 responses each (lengths 1..9)
    for length in (1, 5, 5, 9, 9):
        prompt = [rng.randrange(5, 400) for _ in range(length)]
        for _ in range(rng.randrange(1, 5)):
            rows.append(Seq(prompt, [rng.randrange(5, 400) for _ in range(rng.randrange(1, 10))]))
    rng.shuffle(rows)
    return rows


def _model():
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    return AutoModelForCausalLM.from_pretrained(tiny_model_dir(), dtype=torch.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shared_prompt_pass_equals_the_padded_pass(seed: int) -> None:
    policy = _model()
    critic = ValueHeads(policy.config.hidden_size, ["a", "b"], width=8)
    torch.nn.init.normal_(critic.fc2)
    rows = _rows(seed)
    results = []
    for share in (False, True):
        policy.zero_grad(set_to_none=True)
        batch = collate(rows, pad_id=0, share_prompts=share)
        lp, v, ent = forward(
            policy, critic, batch, detach_critic=False, with_entropy=True, entropy_grad=True
        )
        mask = batch["mask"]
        loss = (lp * mask).sum() + (v.sum(-1) * mask).sum() + 0.1 * (ent * mask).sum()
        loss.backward()
        grads = [p.grad.clone() for p in policy.parameters() if p.grad is not None]
        results.append((lp * mask, v * mask[..., None], ent * mask, grads))
    (lp0, v0, e0, g0), (lp1, v1, e1, g1) = results
    prompts = set(map(tuple, (r.prompt_ids for r in rows)))
    assert len(prompts) == 5 and len({len(p) for p in prompts}) == 3
    torch.testing.assert_close(lp1, lp0, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(v1, v0, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(e1, e0, atol=1e-4, rtol=1e-4)
    assert len(g0) == len(g1)
    for a, b in zip(g0, g1):
        torch.testing.assert_close(b, a, atol=1e-4, rtol=1e-3)


def test_shared_prompt_micro_batches_keep_a_prompts_rows_together() -> None:
    rows = _rows(3)
    mbs = micro_batches(list(range(len(rows))), rows, size=4, share_prompts=True)
    assert sorted(i for mb in mbs for i in mb) == list(range(len(rows)))  # nothing lost
    firsts = [tuple(rows[mb[0]].prompt_ids) for mb in mbs]
    # every prompt's rows are contiguous over the micro-batch sequence
    flat = [tuple(rows[i].prompt_ids) for mb in mbs for i in mb]
    seen: list[tuple[int, ...]] = []
    for p in flat:
        if not seen or seen[-1] != p:
            assert p not in seen
            seen.append(p)
    assert firsts


def test_share_prompts_rejects_an_empty_prompt() -> None:
    with pytest.raises(ValueError, match="non-empty prompt"):
        collate([Seq([], [5, 6])], pad_id=0, share_prompts=True)
