"""Dataset loaders: each source's fields normalised into one Problem record."""

from __future__ import annotations

import sys
import types

import pytest

from rlsp_env import data
from rlsp_env import datasets as D

needs_data = pytest.mark.skipif(data.resolve_data_dir() is None, reason="RLSP_DATA_DIR not set")


@needs_data
def test_normalisation_per_source():
    m5 = D.load_problems("math500")
    assert m5[0].id == "math500/test/precalculus/807.json" and m5[0].level == 2
    assert all(isinstance(p.level, int) and 1 <= p.level <= 5 for p in m5)
    gsm = D.load_problems("gsm8k")
    assert gsm[0].answer == "18" and "<<" not in gsm[0].solution
    assert all("," not in p.answer for p in gsm)  # "1,000" -> "1000"
    amc = D.load_problems("amc23")
    assert amc[0].answer == "27"  # 27.0 in the source
    ob = D.load_problems("olympiadbench")
    assert all("$" not in p.answer for p in ob)
    assert all(p.solution.rstrip().endswith("}") for p in ob)  # final-answer line appended
    mv = D.load_problems("minerva_math")
    assert mv[0].answer == "1.6"
    math = D.load_problems("math", levels=[5], subjects=["geometry"])
    assert math and all(p.level == 5 and p.subject == "Geometry" for p in math)


def test_hub_path_reads_every_math_config_and_the_train_split(monkeypatch):
    # The Hub is unreachable here; a stand-in `datasets` module records what would be fetched.
    calls = []

    def load_dataset(hub_id, config, split):
        calls.append((hub_id, config, split))
        if hub_id == "HuggingFaceH4/MATH-500":
            return [
                {"problem": "Held out?", "answer": "1", "solution": "\\boxed{1}", "unique_id": "u"}
            ]
        return [
            {
                "problem": f"{config} {split} q",
                "level": "Level 2",
                "type": config,
                "solution": "so \\boxed{7}",
            },
            {"problem": "Held out?", "level": "Level 1", "type": config, "solution": "\\boxed{1}"},
        ]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    D._load_cached.cache_clear()
    D._math500_problem_texts.cache_clear()
    try:
        ps = D.load_problems("math")
    finally:
        D._load_cached.cache_clear()
        D._math500_problem_texts.cache_clear()
    info = data.DATASETS["math"]
    assert {(c, s) for _, c, s in calls if c} == {
        (c, s) for c in info.hub_configs for s in ("test", "train")
    }
    assert len(ps) == 2 * len(info.hub_configs)  # MATH-500's problem excluded everywhere
    assert {p.meta["split"] for p in ps} == {"test", "train"}
    assert len({p.id for p in ps}) == len(ps) and all(p.answer == "7" for p in ps)


def test_unknown_dataset_and_empty_filter():
    with pytest.raises(KeyError):
        D.load_problems("imagenet")
    with pytest.raises(ValueError, match="levels"):
        D.filter_problems([D.Problem("a", "x", "1", level=1)], levels=[3])
