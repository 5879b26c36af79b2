"""``rlsp eval`` without a language model: the metrics, the tables, the files, the CLI errors.

``evaluate`` is driven here by a scripted sampler (a real implementation of the ``Sampler``
interface that answers from a table): with known right and wrong answers the expected accuracy and
pass@k are exact, and the real environment and verifier do the scoring.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import gymnasium as gym
import pytest

import rlsp_env  # noqa: F401
from rlsp_agents import evaluate as ev
from rlsp_agents.sampler import Completion

ENV = "rlsp/Arithmetic-v0"
ENV_KW = {"split": "test", "num_problems": 6, "difficulty": 1}


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_pass_at_k_equals_the_subset_average(n: int) -> None:
    """The closed form equals the average over all k-subsets of n samples (reference loop)."""
    for c in range(n + 1):
        samples = [True] * c + [False] * (n - c)
        for k in range(1, n + 1):
            subsets = list(itertools.combinations(samples, k))
            reference = sum(any(s) for s in subsets) / len(subsets)
            assert ev.pass_at_k(n, c, k) == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize("args", [(3, 4, 1), (3, -1, 1), (3, 1, 0), (3, 1, 4)])
def test_pass_at_k_rejects_impossible_counts(args) -> None:
    with pytest.raises(ValueError, match="pass_at_k"):
        ev.pass_at_k(*args)


def test_ks() -> None:
    assert ev._ks(1) == [1]
    assert ev._ks(4) == [1, 2, 4]
    assert ev._ks(6) == [1, 2, 4, 6]


class ScriptedSampler:
    """Answers each prompt from a table: ``pattern[j]`` says whether sample j is right."""

    backend = "scripted"

    def __init__(self, golds: dict[str, str], pattern_for) -> None:
        self.golds = golds
        self.pattern_for = pattern_for
        self.calls: list[dict] = []
        self.closed = False

    def generate(self, prompts, *, n=1, max_new_tokens=256, temperature=0.7, top_p=1.0, **kw):
        self.calls.append({"n": n, "max_new_tokens": max_new_tokens, "temperature": temperature})
        out = []
        for i, msgs in enumerate(prompts):
            gold = self.golds[msgs[-1]["content"]]
            row = []
            for j, right in enumerate(self.pattern_for(i, n)):
                answer = gold if right else f"{int(gold) + 1}"
                text = f"Adding the numbers step by step gives \\boxed{{{answer}}}."
                if j == 0 and i == 0:
                    text = "I am not sure."  # no boxed answer at all
                    right = False
                toks = list(range(3 + j))
                row.append(Completion(text, toks, [1, 2], "stop" if j % 2 == 0 else "length"))
            out.append(row)
        return out

    def sync_weights(self, model) -> None:  # pragma: no cover - not used by evaluate
        pass

    def close(self) -> None:
        self.closed = True


def _golds() -> dict[str, str]:
    env = gym.make(ENV, eval_mode=True, **ENV_KW)
    golds = {}
    for i in range(6):
        _, info = env.reset(options={"index": i})
        golds[info["messages"][-1]["content"]] = info["gold"]
    return golds


def test_evaluate_with_known_answers(tmp_path: Path) -> None:
    # problem i has i % 3 of its 4 samples right (problem 0: none, its first sample unboxed)
    sampler = ScriptedSampler(_golds(), lambda i, n: [j < i % 3 for j in range(n)])
    res = ev.evaluate(ENV, sampler=sampler, n=4, temperature=0.7, env_kwargs=ENV_KW, progress=False)
    assert not sampler.closed, "a caller's sampler must stay open"
    assert sampler.calls == [{"n": 4, "max_new_tokens": 512, "temperature": 0.7}]
    counts = [i % 3 for i in range(6)]  # correct samples per problem
    assert [r.num_correct for r in res.records] == counts
    assert res.num_problems == 6 and res.n == 4 and res.backend == "scripted"
    assert res.accuracy == pytest.approx(sum(counts) / 24)
    for k in (1, 2, 4):
        want = sum(ev.pass_at_k(4, c, k) for c in counts) / 6
        assert res.pass_at_k[k] == pytest.approx(want)
    assert res.pass_at_k[4] == pytest.approx(4 / 6)
    assert res.mean_response_tokens == pytest.approx((3 + 4 + 5 + 6) / 4)
    assert res.truncated_rate == pytest.approx(0.5)
    assert res.answered_rate == pytest.approx(23 / 24)
    assert res.records[0].reasons[0] == "no_answer" and res.records[0].extracted[0] is None
    assert res.rewards["correctness"] == pytest.approx(res.accuracy)
    assert set(res.by_level) == {"1"} and res.by_level["1"].problems == 6
    assert res.by_subject["arithmetic"].accuracy == pytest.approx(res.accuracy)

    paths = res.save(tmp_path / "out")
    summary = json.loads(paths["json"].read_text())
    assert summary["accuracy"] == pytest.approx(res.accuracy)
    assert summary["pass_at_k"]["4"] == pytest.approx(4 / 6)
    assert "records" not in summary and summary["env_kwargs"]["eval_mode"] is True
    lines = paths["samples"].read_text().splitlines()
    assert len(lines) == 6 and json.loads(lines[1])["correct"] == [True, False, False, False]
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    from rich.console import Console

    console = Console(record=True, width=120)
    ev.print_result(res, console)
    text = console.export_text()
    assert "pass@4" in text and "by level" in text and "66.67%" in text


def test_limit_takes_the_first_problems() -> None:
    sampler = ScriptedSampler(_golds(), lambda i, n: [True] * n)
    res = ev.evaluate(ENV, sampler=sampler, limit=2, env_kwargs=ENV_KW, progress=False)
    assert res.num_problems == 2 and [r.index for r in res.records] == [0, 1]
    assert res.records[1].correct == [True]


def test_bad_arguments() -> None:
    sampler = ScriptedSampler({}, lambda i, n: [True] * n)
    with pytest.raises(ValueError, match="n must be"):
        ev.evaluate(ENV, sampler=sampler, n=0)
    with pytest.raises(ValueError, match="limit"):
        ev.evaluate(ENV, sampler=sampler, limit=0)
    with pytest.raises(gym.error.Error):
        ev.evaluate("rlsp/NoSuchEnv-v0", sampler=sampler)


def test_env_arg_parsing() -> None:
    assert ev._parse_env_arg("difficulty=2") == ("difficulty", 2)
    assert ev._parse_env_arg("split=test") == ("split", "test")
    assert ev._parse_env_arg("levels=[1, 2]") == ("levels", [1, 2])
    assert ev._parse_env_arg("x=__import__('os')") == ("x", "__import__('os')")  # text, not code
    with pytest.raises(ValueError, match="KEY=VALUE"):
        ev._parse_env_arg("difficulty")


def test_cli_help_and_errors(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        ev.main(["--help"])
    assert e.value.code == 0
    assert "examples:" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        ev.main(["--env", "rlsp/NoSuchEnv-v0"])
    assert e.value.code == 2 and "registered rlsp ids" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        ev.main(["--env", ENV, "--n", "0"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        ev.main(["--env", ENV, "--env-arg", "nonsense"])
    assert e.value.code == 2
    # a bad env argument is one clear line, before any model is loaded
    assert ev.main(["--env", ENV, "--env-arg", "difficulty=0", "--limit", "1"]) == 2
    assert "error:" in capsys.readouterr().err
