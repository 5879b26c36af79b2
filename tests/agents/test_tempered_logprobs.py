"""``tempered_logprobs``: the loss's log-probs are those of the distribution sampled from."""

from __future__ import annotations

import pytest
import torch

from rlsp_agents.batching import collate, forward
from rlsp_agents.config import TrainConfig
from rlsp_agents.rollouts import Rollout


class _TinyLM(torch.nn.Module):
    """The two attributes ``forward`` uses: ``base_model`` and ``get_output_embeddings``."""

    def __init__(self) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.emb = torch.nn.Embedding(11, 6)
        self.head = torch.nn.Linear(6, 11, bias=False)
        with torch.no_grad():
            self.emb.weight.copy_(torch.randn(11, 6, generator=g))
            self.head.weight.copy_(torch.randn(11, 6, generator=g))

        class _Base(torch.nn.Module):
            def __init__(self, emb: torch.nn.Module) -> None:
                super().__init__()
                self.emb = emb

            def forward(self, input_ids, attention_mask=None):
                return type("Out", (), {"last_hidden_state": self.emb(input_ids)})()

        self.base_model = _Base(self.emb)

    def get_output_embeddings(self) -> torch.nn.Module:
        return self.head


def _row() -> Rollout:
    return Rollout(0, [1, 2], [3, 4, 5], "", "stop", 3, {"correctness": 1.0}, 1.0, True)


@pytest.mark.parametrize("t", [0.7, 1.0, 1.5])
def test_forward_log_probs_are_the_tempered_distributions(t) -> None:
    lm, row = _TinyLM(), _row()
    batch = collate([row], pad_id=0)
    lp, _, ent = forward(lm, None, batch, with_entropy=True, temperature=t)
    # the reference: hidden state of the token before each response token, logits / t
    ids = torch.tensor(row.prompt_ids + row.response_ids)
    pos = torch.arange(len(row.prompt_ids) - 1, len(ids) - 1)
    logits = lm.head(lm.emb(ids[pos])) / t
    want = torch.log_softmax(logits, -1).gather(1, ids[pos + 1].unsqueeze(1)).squeeze(1)
    assert torch.allclose(lp[0, :3], want, atol=1e-5)
    p = torch.softmax(logits, -1)
    assert torch.allclose(ent[0, :3], -(p * p.log()).sum(-1), atol=1e-5)


def test_option_and_validation() -> None:
    assert TrainConfig().loss_temperature() == TrainConfig().temperature  # on by default
    assert TrainConfig(tempered_logprobs=False, temperature=0.7).loss_temperature() == 1.0
    assert TrainConfig(tempered_logprobs=True, temperature=0.7).loss_temperature() == 0.7
    with pytest.raises(ValueError, match="tempered_logprobs needs temperature > 0"):
        TrainConfig(tempered_logprobs=True, temperature=0.0).validate()
    lm = _TinyLM()
    with pytest.raises(ValueError, match="temperature must be > 0"):
        forward(lm, None, collate([_row()], pad_id=0), temperature=0.0)
