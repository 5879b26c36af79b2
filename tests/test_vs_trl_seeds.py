"""``benchmarks/vs_trl_seeds.py``: the TRL bar over seeds, refusing reports that do not match."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_helpers import load_benchmark


def _module():
    return load_benchmark("vs_trl_seeds")


def _args(seed: int, **over) -> dict:
    a = {
        "sft_checkpoint": "/ck",
        "env_id": "rlsp/Arithmetic-v0",
        "difficulty": 1,
        "max_new_tokens": 96,
        "budget_s": 240.0,
        "eval_n": 200,
        "seed": seed,
    }
    a.update(over)
    return a


def _report(path: Path, seed: int, rlsp: list, trl: list, **over) -> Path:
    def side(marks):
        return {
            "marks": [{"train_s": t, "accuracy": a} for t, a in marks],
            "steps": len(marks) - 1,
            "train_seconds": marks[-1][0],
        }

    path.write_text(json.dumps({"args": _args(seed, **over), "rlsp": side(rlsp), "trl": side(trl)}))
    return path


def test_per_seed_ratio_equal_time_gap_and_outputs(tmp_path, monkeypatch) -> None:
    mod = _module()
    monkeypatch.setattr(mod, "RESULTS", tmp_path / "results")
    # seed 0: TRL ends at 0.44 reached at 280 s; rlsp reaches 0.44 at 80 s -> ratio 0.2857 (pass)
    a = _report(
        tmp_path / "a.json",
        0,
        rlsp=[(0, 0.27), (40, 0.30), (80, 0.45), (240, 0.60)],
        trl=[(0, 0.27), (70, 0.36), (280, 0.44)],
    )
    # seed 1: rlsp never reaches TRL's final 0.50
    b = _report(
        tmp_path / "b.json",
        1,
        rlsp=[(0, 0.27), (40, 0.40), (250, 0.45)],
        trl=[(0, 0.27), (100, 0.50), (200, 0.50)],
    )
    assert mod.main([str(a), str(b), "--results-prefix", "t"]) == 0
    out = json.loads((tmp_path / "results" / "t.json").read_text())
    s0, s1 = out["seeds"]
    assert s0["ratio"] == pytest.approx(80 / 280) and s0["passes"]
    assert s0["equal_time_s"] == 240 and s0["rlsp_at_equal_time"] == 0.60
    assert s0["trl_at_equal_time"] == 0.36  # TRL's last mark at or before 240 s is the 70 s one
    assert s1["ratio"] is None and not s1["passes"]
    assert s1["equal_time_s"] == 200 and s1["gap_at_equal_time"] == pytest.approx(0.40 - 0.50)
    assert out["seeds_passing"] == 1 and not out["bar_passes_in_every_seed"]
    assert out["median_ratio"] is None  # one finite, one never: the median is "never"
    assert out["mean_gap_at_equal_time"] == pytest.approx(((0.60 - 0.36) + (0.40 - 0.50)) / 2)
    md = (tmp_path / "results" / "t.md").read_text()
    assert "| 0 |" in md and "PASS" in md and "FAIL" in md and "never" in md
    assert (tmp_path / "results" / "t.png").stat().st_size > 0


@pytest.mark.parametrize(
    "over, needle",
    [({"budget_s": 300.0}, "budget_s"), ({"sft_checkpoint": "/other"}, "sft_checkpoint")],
)
def test_reports_of_different_comparisons_are_refused(tmp_path, over, needle) -> None:
    mod = _module()
    marks = [(0, 0.2), (10, 0.3)]
    a = _report(tmp_path / "a.json", 0, marks, marks)
    b = _report(tmp_path / "b.json", 1, marks, marks, **over)
    with pytest.raises(SystemExit, match=needle):
        mod.main([str(a), str(b)])


def test_bad_inputs_are_refused_with_a_message(tmp_path) -> None:
    mod = _module()
    marks = [(0, 0.2), (10, 0.3)]
    a = _report(tmp_path / "a.json", 0, marks, marks)
    with pytest.raises(SystemExit, match="seeds repeat"):
        mod.main([str(a), str(_report(tmp_path / "b.json", 0, marks, marks))])
    with pytest.raises(SystemExit, match="not a file"):
        mod.main([str(tmp_path / "missing.json")])
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(SystemExit, match="not JSON"):
        mod.main([str(tmp_path / "junk.json")])
    one_side = json.loads(a.read_text())
    del one_side["trl"]
    (tmp_path / "one.json").write_text(json.dumps(one_side))
    with pytest.raises(SystemExit, match="no trl marks"):
        mod.main([str(tmp_path / "one.json")])
