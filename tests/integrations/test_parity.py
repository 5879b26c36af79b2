"""Parity: every scoring door gives the same channels for the same (response, problem).

1,000 seeded (response, problem) pairs (right, wrong, unboxed, boxed inside ``<think>``, empty and
unclosed boxes, several boxes, unevaluated sums, padding, behaviour phrases, Unicode) go through

- ``env.step`` (one :class:`MathEnv` per pair, the default verifier pool),
- the vector env (``MathVectorEnv``, batches of 50, its own verifier pool),
- TRL's reward functions (one :class:`ChannelReward` per channel),
- verl's ``compute_score`` (one call per pair, the spec passed as a dict),
- :func:`rlsp_env.scoring.score_batch` (the reference),
- the HTTP server (a real ``rlsp serve --reward-spec ...`` on 127.0.0.1: ``/v1/score`` and
  OpenRLHF's ``/get_reward``, over the first 200 pairs),

all with one non-default :class:`RewardSpec`; every channel must be equal to the last bit. The
group channel (``diversity``) is checked the same way on groups of 4: the vector env's
``group_size``, TRL's ``problem_id``, ``score_batch``'s ``groups`` and the server's ``group``.
"""

from __future__ import annotations

import json
import random

import httpx
import pytest
from integrations_helpers import running_server

import rlsp_env
from rlsp_env import rewards
from rlsp_env.envs import MathEnv
from rlsp_env.integrations.trl import make_reward_funcs
from rlsp_env.integrations.verl import compute_score
from rlsp_env.scoring import score_batch
from rlsp_env.spec import RewardSpec
from rlsp_env.vector import MathVectorEnv

N = 1000
BATCH = 50
SPEC = RewardSpec(
    weights={"correctness": 1.0, "format": 1.0, "exploration": 0.5, "diversity": 0.3},
    length_scale=40.0,
    exploration_cap=2.0,
    answer_policy="literal",
    timeout_s=5.0,
)
WORDS = (
    "we add the ones then tens carry so 12 30 42 x = 7 check wait let me verify alternatively "
    "another approach is substituting back which matches hmm okay um 3/4 \\frac{1}{2} √2 π ≤ 你好"
).split()


def _problems() -> list[rlsp_env.Problem]:
    ids = ["Arithmetic", "Fractions", "LinearEquation", "LinearSystem", "Polynomial", "WordProblem"]
    out: list[rlsp_env.Problem] = []
    for name in ids:
        out += rlsp_env.make_problems(f"rlsp/{name}-v0", 12, split="test", difficulty=2)
    return out


def _response(rng: random.Random, gold: str) -> str:
    reasoning = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 40)))
    if rng.random() < 0.2:
        reasoning = "\n".join([reasoning] * rng.randint(2, 4))  # padding
    wrong = str(rng.randint(-99, 999))
    forms = [
        f"{reasoning} so \\boxed{{{gold}}}",
        f"{reasoning} so $\\boxed{{{gold}}}$.",
        f"{reasoning} \\boxed{{{wrong}}}",
        f"<think>{reasoning} \\boxed{{{gold}}}</think> not sure",
        f"<think>{reasoning} maybe \\boxed{{{wrong}}}</think> so \\boxed{{{gold}}}",
        f"<think>{reasoning}",
        f"{reasoning} the answer is {gold}",
        f"{reasoning} \\boxed{{}}",
        f"{reasoning} \\boxed{{{gold}",
        f"\\boxed{{{wrong}}} or \\boxed{{{gold}}}",
        f"{reasoning} \\boxed{{{gold}}} \\boxed{{{gold}}}",
        f"{reasoning} \\boxed{{{wrong} + 0}}",
        f"{reasoning} \\fbox{{{gold}}}",
        "",
    ]
    return rng.choice(forms)


@pytest.fixture(scope="module")
def pairs() -> tuple[list[str], list[rlsp_env.Problem]]:
    rng = random.Random(20261202)
    probs = _problems()
    chosen = [rng.choice(probs) for _ in range(N)]
    return [_response(rng, p.answer) for p in chosen], chosen


def _channels(d: dict[str, float]) -> dict[str, float]:
    return {c: d[c] for c in rewards.CHANNELS}


def test_every_door_gives_identical_channels(pairs):
    texts, probs = pairs
    # the server's door (score_batch, in one batch, with the process's shared verifier pool)
    ref = [_channels(r.rewards) for r in score_batch(texts, probs, None, SPEC)]
    assert len({tuple(r.items()) for r in ref}) > 50  # the generator covers many outcomes
    assert {r["format"] for r in ref} == {0.0, rewards.FORMAT_PENALTY}
    assert {r["correctness"] for r in ref} == {0.0, 1.0}

    # env.step
    env = MathEnv(problems=probs, reward_spec=SPEC)
    via_env = []
    for t, p in zip(texts, probs):
        env.reset(options={"problem": p})
        via_env.append(_channels(env.step(t)[4]["rewards"]))
    env.close()
    assert via_env == ref

    # the vector env, batches of 50 (no groups: group_size 1)
    uniq = list(dict.fromkeys(probs))
    index = {p.id: i for i, p in enumerate(uniq)}
    envs = MathVectorEnv(num_envs=BATCH, problems=uniq, reward_spec=SPEC)
    via_vec = []
    for lo in range(0, N, BATCH):
        envs.reset(options={"index": [index[p.id] for p in probs[lo : lo + BATCH]]})
        *_, info = envs.step(texts[lo : lo + BATCH])
        fin = info["final_info"]["rewards"]
        via_vec += [{c: float(fin[c][i]) for c in rewards.CHANNELS} for i in range(BATCH)]
    envs.close()
    assert via_vec == ref

    # TRL's reward functions (distinct problem ids: no groups)
    funcs, _ = make_reward_funcs(spec=SPEC)
    kw = {
        "completions": texts,
        "gold": [p.answer for p in probs],
        "problem": [p.problem for p in probs],
    }
    by_channel = {f.__name__: f(problem_id=[str(i) for i in range(N)], **kw) for f in funcs}
    assert [{c: by_channel[c][i] for c in rewards.CHANNELS} for i in range(N)] == ref

    # verl's compute_score, one call per pair
    spec = SPEC.to_dict()
    via_verl = [
        _channels(compute_score("test", t, p.answer, {"problem": p.problem}, spec=spec))
        for t, p in zip(texts, probs)
    ]
    assert via_verl == ref


def test_the_group_channel_is_identical_through_every_group_door(pairs):
    texts, probs = pairs
    k, n = 4, 200
    probs = [probs[i - i % k] for i in range(n)]  # groups of 4 responses to one problem
    texts = texts[:n]
    groups = [i // k for i in range(n)]
    ref = [r.rewards["diversity"] for r in score_batch(texts, probs, groups, SPEC)]
    assert sum(d > 0 for d in ref) > n // 2  # the group channel is live

    uniq = list(dict.fromkeys(probs))
    envs = MathVectorEnv(num_envs=n, group_size=k, problems=uniq, reward_spec=SPEC)
    envs.reset(options={"index": [uniq.index(probs[g * k]) for g in range(n // k)]})
    *_, info = envs.step(texts)
    envs.close()
    assert info["final_info"]["rewards"]["diversity"].tolist() == ref

    funcs, _ = make_reward_funcs(spec=SPEC, channels=["diversity"])
    got = funcs[0](completions=texts, gold=[p.answer for p in probs], problem_id=groups)
    assert got == ref


@pytest.fixture(scope="module")
def server():
    spec = json.dumps(SPEC.to_dict())
    with running_server("--env", "rlsp/Arithmetic-v0", "--reward-spec", spec) as srv:
        yield srv


@pytest.mark.timeout(600)
def test_the_server_door_gives_identical_channels(pairs, server):
    n = 200
    texts, probs = pairs[0][:n], pairs[1][:n]
    ref = [_channels(r.rewards) for r in score_batch(texts, probs, None, SPEC)]
    assert httpx.get(server.url + "/healthz").json()["reward_spec"] == SPEC.to_dict()
    with httpx.Client(timeout=300) as client:
        items = [
            {"response": t, "gold": p.answer, "problem": p.problem} for t, p in zip(texts, probs)
        ]
        r = client.post(server.url + "/v1/score", json={"items": items})
        assert r.status_code == 200, r.text
        assert [_channels(it["rewards"]) for it in r.json()["results"]] == ref
        # OpenRLHF's door: the prompt and the response as one query, the prompt located and cut
        prompts = [p.problem + "\n\nAnswer:\n" for p in probs]
        body = {
            "query": [q + t for q, t in zip(prompts, texts)],
            "prompts": prompts,
            "labels": [p.answer for p in probs],
        }
        r = client.post(server.url + "/get_reward", json=body)
        assert r.status_code == 200, r.text
        logs = r.json()["extra_logs"]
        # OpenRLHF sends no problem text (its prompt is chat-formatted): the same input as
        # score_batch given the gold answers alone
        golds_only = [p.answer for p in probs]
        ref_gold = [_channels(r.rewards) for r in score_batch(texts, golds_only, None, SPEC)]
        assert [{c: logs[c][i] for c in rewards.CHANNELS} for i in range(n)] == ref_gold


@pytest.mark.timeout(600)
def test_the_server_group_door_gives_identical_diversity(pairs, server):
    texts, probs = pairs
    k, n = 4, 200
    probs = [probs[i - i % k] for i in range(n)]
    texts = texts[:n]
    groups = [i // k for i in range(n)]
    ref = [r.rewards["diversity"] for r in score_batch(texts, probs, groups, SPEC)]
    items = [{"response": t, "gold": p.answer, "group": g} for t, p, g in zip(texts, probs, groups)]
    r = httpx.post(server.url + "/v1/score", json={"items": items}, timeout=300)
    assert r.status_code == 200, r.text
    assert [it["rewards"]["diversity"] for it in r.json()["results"]] == ref
