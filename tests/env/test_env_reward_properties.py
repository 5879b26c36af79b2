"""Property tests of the reward channels: bounded on any text, padding never pays, weights combine
as declared, scoring is total."""

from __future__ import annotations

import math

from env_strategies import any_text, padded, reasoning, weights
from hypothesis import given
from hypothesis import strategies as st

from rlsp_env import rewards as R
from rlsp_env.text import effective_length, reasoning_text


@given(any_text, any_text)
def test_every_channel_bounded_on_any_text(response, other):
    res = R.score(response, "42", weights="rlsp-length", group=[other], length_scale=50.0)
    assert set(res.rewards) == set(R.CHANNELS)
    for name, value in res.rewards.items():
        info = R.CHANNELS[name]
        assert math.isfinite(value) and info.low <= value <= info.high, (name, value)
    assert math.isfinite(res.reward)


@given(reasoning, st.data())
def test_padding_never_lengthens_ell(lines, data):
    base = "\n".join(lines)
    pad = data.draw(padded(lines))
    assert effective_length(pad) == effective_length(base), (base, pad)


@given(reasoning, st.data(), st.floats(1.0, 500.0))
def test_padding_never_pays_in_exploration_or_reward(lines, data, length_scale):
    base = "\n".join(lines) + "\nSo the answer is \\boxed{12}."
    pad = data.draw(padded(lines)) + "\nSo the answer is \\boxed{12}."
    e_base = R.exploration(base, length_scale=length_scale)
    e_pad = R.exploration(pad, length_scale=length_scale)
    assert e_pad <= e_base
    for preset in ("rlsp", "rlsp-length"):
        assert R.score(pad, "12", weights=preset, length_scale=length_scale).reward <= (
            R.score(base, "12", weights=preset, length_scale=length_scale).reward
        )


@given(any_text, weights)
def test_weights_combine_as_declared(response, w):
    res = R.score(response + " \\boxed{3}", "3", weights=w, length_scale=10.0)
    full = R.resolve_weights(w)
    expected = sum(full[c] * res.rewards[c] for c in R.CHANNELS)
    assert math.isclose(res.reward, expected, rel_tol=1e-12, abs_tol=1e-12)
    # weight 0 is log-only: channels absent from w never move the reward
    assert all(full[c] == 0.0 for c in R.CHANNELS if c not in w)


@given(reasoning, st.floats(1.0, 1000.0))
def test_exploration_saturates_and_rises_with_novel_content(lines, length_scale):
    text = "\n".join(lines)
    more = text + "\nfurthermore we substitute back and verify each intermediate quantity carefully"
    # within the budget (beyond L tokens of raw text the channel tapers: docs/exploration.md)
    length_scale = max(length_scale, len(more) / 4.0)
    e1 = R.exploration(text, length_scale=length_scale)
    e2 = R.exploration(more, length_scale=length_scale)
    assert -1.0 <= e1 <= e2 <= 0.0


@given(any_text)
def test_reasoning_is_a_prefix(response):
    r = reasoning_text(response)
    assert response.startswith(r)
