"""``collect_rollouts``: one vector-env step on the real ``rlsp/Arithmetic-v0`` with a scripted
sampler (a real ``Sampler`` implementation that answers from a table, no language model)."""

from __future__ import annotations

import pytest

from rlsp_agents.rollouts import collect_rollouts, make_envs
from rlsp_agents.sampler import Completion

EOS = 2


class TableSampler:
    """Sample ``k`` of every problem answers the gold when ``k`` is even, and stops (EOS) only
    when ``k == 0``; records what it was asked."""

    def __init__(self) -> None:
        self.prompts: list = []

    def generate(self, prompts, *, n, **kw):
        self.prompts.append(prompts)
        out = []
        for msgs in prompts:
            question = msgs[-1]["content"]
            a, b = (int(x) for x in question.split("$")[1].split("+"))
            row = []
            for k in range(n):
                answer = a + b if k % 2 == 0 else a + b + 1
                finish = "stop" if k == 0 else "length"
                row.append(Completion(f"so \\boxed{{{answer}}}", [7, 8], [1, 5], finish))
            out.append(row)
        return out


@pytest.fixture
def envs():
    e = make_envs(
        "rlsp/Arithmetic-v0", num_prompts=3, group_size=2, difficulty=1, verifier_workers=0
    )
    yield e
    e.close()


def test_one_step_scores_every_group(envs) -> None:
    sampler = TableSampler()
    batch = collect_rollouts(envs, sampler, seed=[11] * 6, eos_id=EOS)
    assert len(sampler.prompts) == 1 and len(sampler.prompts[0]) == 3  # one prompt per group
    assert [r.group for r in batch.rollouts] == [0, 0, 1, 1, 2, 2]
    assert [r.correct for r in batch.rollouts] == [True, False] * 3
    assert batch.accuracy == pytest.approx(0.5)
    assert batch.channel("correctness").tolist() == [1.0, 0.0] * 3
    assert len(batch.channel("total")) == 6
    # a stopped response learns to stop (EOS appended); a truncated one is left as generated
    assert [r.response_ids for r in batch.rollouts[:2]] == [[7, 8, EOS], [7, 8]]
    assert all(r.num_tokens == 2 for r in batch.rollouts)
    first = batch.rollouts[0]
    assert first.problem["gold"] == first.extracted and first.reason
    assert batch.messages[0][-1]["role"] == "user"


def test_a_partial_chunk_samples_only_its_groups(envs) -> None:
    sampler = TableSampler()
    batch = collect_rollouts(envs, sampler, options={"index": [4, 5, 5]}, num_groups=2)
    assert len(sampler.prompts[0]) == 2 and len(batch.rollouts) == 4
    assert [r.problem["index"] for r in batch.rollouts] == [4, 4, 5, 5]
    with pytest.raises(ValueError, match="num_groups"):
        collect_rollouts(envs, sampler, num_groups=4)


def test_reset_seeds_pick_the_same_problems(envs) -> None:
    a = collect_rollouts(envs, TableSampler(), seed=[3, 4, 5, 6, 7, 8])
    b = collect_rollouts(envs, TableSampler(), seed=[3, 4, 5, 6, 7, 8])
    assert [r.problem for r in a.rollouts] == [r.problem for r in b.rollouts]
