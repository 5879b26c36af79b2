"""The reward server's input parsing and metrics, as pure functions (no server, no scoring)."""

from __future__ import annotations

import pytest

from rlsp_env.server import (
    BadRequest,
    Metrics,
    parse_get_reward,
    parse_score,
    score_groups,
    strip_prompt,
)


@pytest.mark.parametrize(
    ("query", "prompt", "expected"),
    [
        # the usual case: the query starts with the prompt
        ("Q: 1+1? A: so \\boxed{2}", "Q: 1+1? A: ", "so \\boxed{2}"),
        # a BOS token the tokenizer put before the prompt
        ("<s>Q: 1+1? A: \\boxed{2}", "Q: 1+1? A: ", "\\boxed{2}"),
        # trailing end-of-text markers (OpenRLHF decodes with special tokens) are removed
        ("P \\boxed{2}<|im_end|>", "P ", "\\boxed{2}"),
        ("P \\boxed{2}</s>\n", "P ", "\\boxed{2}"),
        ("P \\boxed{2}<|im_end|><|endoftext|>", "P ", "\\boxed{2}"),
        # an empty prompt keeps the whole query
        ("\\boxed{2}", "", "\\boxed{2}"),
        # the prompt's own \boxed{} is never part of the response
        ("Example: \\boxed{7}. Now: ", "Example: \\boxed{7}. Now: ", ""),
    ],
)
def test_strip_prompt(query, prompt, expected):
    assert strip_prompt(query, prompt) == expected


def test_strip_prompt_keeps_eos_when_asked():
    assert strip_prompt("P x</s>", "P ", strip_eos=False) == "x</s>"


def test_strip_prompt_refuses_a_query_without_its_prompt():
    with pytest.raises(BadRequest, match="does not contain its prompt"):
        strip_prompt("something else \\boxed{2}", "Q: 1+1?")


def test_parse_get_reward_contract():
    body = {
        "query": ["Q1 A: \\boxed{2}", "Q2 A: \\boxed{3}<|im_end|>"],
        "prompts": ["Q1 A: ", "Q2 A: "],
        "labels": ["2", "4"],
    }
    assert parse_get_reward(body) == [("\\boxed{2}", "2"), ("\\boxed{3}", "4")]
    # prompts are optional: the whole query is the response
    assert parse_get_reward({"query": ["\\boxed{2}"], "labels": ["2"]}) == [("\\boxed{2}", "2")]
    # a bare string is one item
    assert parse_get_reward({"query": "\\boxed{2}", "labels": "2"}) == [("\\boxed{2}", "2")]
    assert parse_get_reward({"query": [], "labels": []}) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "JSON object"),
        ("text", "JSON object"),
        ({"labels": ["1"]}, "'query' is required"),
        ({"query": ["1"]}, "'labels' is required"),
        ({"query": 5, "labels": ["1"]}, "must be a list of strings"),
        ({"query": [1], "labels": ["1"]}, r"query\[0\] must be a string"),
        ({"query": ["a"], "labels": [None]}, r"labels\[0\] must be a string"),
        ({"query": ["a", "b"], "labels": ["1"]}, "same length"),
        ({"query": ["a"], "labels": ["1"], "prompts": ["a", "b"]}, "same length"),
        ({"query": ["a"], "labels": ["1"], "prompts": [{"x": 1}]}, r"prompts\[0\]"),
        ({"query": ["x", "zz"], "labels": ["1", "2"], "prompts": ["x", "q"]}, "item 1"),
        ({"query": ["\ud800"], "labels": ["1"]}, "lone surrogate"),
    ],
)
def test_parse_get_reward_rejects(body, message):
    with pytest.raises(BadRequest, match=message) as e:
        parse_get_reward(body)
    assert 400 <= e.value.status < 500


def test_parse_score_contract_and_errors():
    assert parse_score({"items": [{"response": "r", "gold": "g", "extra": 1}]}) == [("r", "g")]
    assert parse_score({"items": []}) == []
    for body, msg in [
        ({}, "'items' is required"),
        ({"items": {}}, "must be a list"),
        ({"items": ["x"]}, r"items\[0\] must be an object"),
        ({"items": [{"response": "r"}]}, "lacks the field 'gold'"),
        ({"items": [{"response": "r", "gold": 5}]}, r"items\[0\].gold must be a string"),
        ({"items": [{"response": "r", "gold": "\udc80"}]}, r"items\[0\].gold is not valid Unicode"),
        ([], "JSON object"),
        ({"items": [{"response": "r", "gold": "g", "group": [1]}]}, "group must be a string"),
        ({"items": [{"response": "r", "gold": "g", "group": True}]}, "group must be a string"),
    ]:
        with pytest.raises(BadRequest, match=msg):
            parse_score(body)


def test_score_groups():
    items = [{"group": "a"}, {"group": 1}, {"group": "a"}, {}, {"group": "1"}, {"group": 1}]
    assert score_groups({"items": items}) == [[2], [5], [0], [], [], [1]]


class _Item:
    def __init__(self, reward, rewards, correct, timed_out=False, reason="equal"):
        self.reward = reward
        self.rewards = rewards
        self.verdict = {"correct": correct, "reason": reason}
        self.timed_out = timed_out


def test_metrics_render_prometheus_text():
    m = Metrics()
    m.observe_request("/get_reward", 200, 0.02)
    m.observe_request("/get_reward", 200, 3.0)
    m.observe_request("/get_reward", 400, 0.001)
    m.observe_items(
        [
            _Item(1.0, {"correctness": 1.0, "format": 1.0}, True),
            _Item(0.0, {"correctness": 0.0, "format": 0.5}, False),
            _Item(0.0, {}, False, timed_out=True, reason="timeout"),
        ]
    )
    text = m.render()
    lines = set(text.splitlines())
    assert 'rlsp_requests_total{path="/get_reward",code="200"} 2' in lines
    assert 'rlsp_requests_total{path="/get_reward",code="400"} 1' in lines
    assert 'rlsp_request_duration_seconds_bucket{path="/get_reward",le="0.025"} 2' in lines
    assert 'rlsp_request_duration_seconds_bucket{path="/get_reward",le="+Inf"} 3' in lines
    assert 'rlsp_request_duration_seconds_count{path="/get_reward"} 3' in lines
    assert "rlsp_items_total 3" in lines
    assert "rlsp_item_timeouts_total 1" in lines
    assert "rlsp_correct_total 1" in lines
    assert 'rlsp_channel_mean{channel="correctness"} 0.500000' in lines
    assert 'rlsp_channel_mean{channel="format"} 0.750000' in lines
    assert "rlsp_reward_mean 0.500000" in lines
    # every sample line is "name{labels} value" with a parseable float value
    for line in text.splitlines():
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


def test_integration_modules_import_light():
    # `rlsp --help` imports rlsp_env.server; verl loads integrations/verl.py by path: neither may
    # pull in torch, fastapi, trl or datasets at import time.
    import subprocess
    import sys

    code = (
        "import sys, rlsp_env.server, rlsp_env.integrations.trl, rlsp_env.integrations.verl, "
        "rlsp_env.integrations.scoring; "
        "print(sorted(m for m in ('torch', 'fastapi', 'trl', 'datasets', 'uvicorn') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
