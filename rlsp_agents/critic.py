"""Value estimates per reward channel: small heads on the policy's hidden states.

In ``decoupled`` mode each weighted reward channel (correctness, format, exploration, ...) gets its
own value head, so GAE runs per channel and every channel's advantage is normalised on its own
before the explicit weighted sum. In ``rlsp`` mode there is one head for the scalar reward.

The heads read the policy's last hidden state at each response position (the state before that
token is generated). By default they read it *detached*: the value loss trains the heads only and
never moves the policy, so the two optimisers cannot fight (``TrainConfig.critic_detach``).

Example:
    >>> import torch
    >>> heads = ValueHeads(hidden_size=8, channels=["correctness", "format"], width=4)
    >>> heads(torch.zeros(2, 5, 8)).shape
    torch.Size([2, 5, 2])
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ValueHeads"]


class ValueHeads(nn.Module):
    """One two-layer MLP value head per channel, evaluated together.

    Args:
        hidden_size: the policy's hidden size.
        channels: channel names, in output order.
        width: hidden width of each head.

    The last layer starts at zero, so every initial estimate is 0 (GAE then starts as a
    lambda-discounted Monte-Carlo return instead of noise).
    """

    def __init__(self, hidden_size: int, channels: list[str], width: int = 256) -> None:
        super().__init__()
        if not channels:
            raise ValueError("ValueHeads needs at least one channel")
        self.channels = list(channels)
        c = len(self.channels)
        self.norm = nn.LayerNorm(hidden_size)
        self.fc1 = nn.Linear(hidden_size, width * c)
        self.act = nn.GELU()
        # block-diagonal second layer: channel i reads only its own slice of fc1's output
        self.fc2 = nn.Parameter(torch.zeros(c, width))
        self.bias = nn.Parameter(torch.zeros(c))
        self.width = width

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """``hidden [B, T, H]`` -> values ``[B, T, C]`` (float32)."""
        h = self.act(self.fc1(self.norm(hidden.float())))  # [B, T, C*W]
        h = h.view(*h.shape[:-1], len(self.channels), self.width)  # [B, T, C, W]
        return (h * self.fc2).sum(-1) + self.bias  # [B, T, C]
