"""Property tests of the reward server (in process, real scoring pool): any body, any bytes, any
JSON shape gets an answer below 500, and well-formed requests always match direct scoring.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsp_env import rewards
from rlsp_env.server import ServerConfig, create_app, strip_prompt

LIMIT = 4096

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(["query", "prompts", "labels", "items", "response", "gold", "x"])
shaped = st.dictionaries(field_names, json_values | st.lists(st.text(max_size=30), max_size=3))


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    config = ServerConfig(env_id="rlsp/Arithmetic-v0", workers=1, max_body_bytes=LIMIT)
    with TestClient(create_app(config), raise_server_exceptions=False) as c:
        yield c


def _post(client, path: str, content: bytes):
    r = client.post(path, content=content)
    assert r.status_code < 500, (path, content[:200], r.status_code, r.text)
    if r.status_code >= 400:
        assert r.json()["error"], r.text  # always a message
    return r


@settings(max_examples=60)
@given(body=st.binary(max_size=300), path=st.sampled_from(["/get_reward", "/v1/score"]))
def test_any_bytes_get_an_answer_below_500(client, body, path):
    _post(client, path, body)


@settings(max_examples=60)
@given(body=json_values | shaped, path=st.sampled_from(["/get_reward", "/v1/score"]))
def test_any_json_gets_an_answer_below_500(client, body, path):
    _post(client, path, json.dumps(body).encode())


responses = st.text(
    alphabet=st.sampled_from(list("0123456789 +-=\\{}boxed()frac^x.,wait")) | st.characters(),
    max_size=80,
)


@settings(max_examples=30)
@given(
    items=st.lists(st.tuples(responses, st.sampled_from(["42", "\\frac{1}{2}", "x+1"])), max_size=4)
)
def test_well_formed_requests_match_direct_scoring(client, items):
    body = {"query": [r for r, _ in items], "labels": [g for _, g in items]}
    raw = json.dumps(body).encode()
    r = _post(client, "/get_reward", raw)
    if len(raw) > LIMIT:
        assert r.status_code == 413
        return
    assert r.status_code == 200, r.text
    out = r.json()
    for i, (resp, gold) in enumerate(items):
        # end-of-text markers are stripped first (strip_prompt is tested on its own)
        direct = rewards.score(strip_prompt(resp, ""), gold, weights="default")
        assert out["rewards"][i] == pytest.approx(direct.reward)
        assert out["scores"][i] == (1.0 if direct.verdict.correct else 0.0)
        for channel, value in direct.rewards.items():
            assert out["extra_logs"][channel][i] == pytest.approx(value)
