"""``benchmarks/compare_runs.py``: reads runs' metrics, refuses bad input with a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bench_helpers import load_benchmark


def _module():
    return load_benchmark("compare_runs")


def _run(d: Path, spreads: list[float], evals: dict[int, float]) -> Path:
    d.mkdir()
    rows = []
    for i, s in enumerate(spreads, 1):
        row = {"step": i, "reward/exploration_std": s, "reward/diversity": 0.5 / i}
        if i in evals:
            row["eval/accuracy"] = evals[i]
        rows.append(json.dumps(row))
    (d / "metrics.jsonl").write_text("\n".join(rows) + "\n")
    return d


def test_summary_and_outputs(tmp_path, monkeypatch) -> None:
    mod = _module()
    monkeypatch.setattr(mod, "RESULTS", tmp_path / "results")
    a = _run(tmp_path / "a", [0.1, 0.0, 0.05], {3: 0.6})
    b = _run(tmp_path / "b", [0.1, 0.1], {})
    assert mod.main([f"on={a}", f"off={b}", "--results-prefix", "t"]) == 0
    out = json.loads((tmp_path / "results" / "t.json").read_text())
    assert out["runs"]["on"]["exploration_constant_iterations"] == [2]
    assert out["runs"]["on"]["held_out"] == {"3": 0.6}
    assert out["runs"]["off"]["exploration_constant_iterations"] == []
    assert out["runs"]["off"]["diversity_last"] == 0.25
    assert (tmp_path / "results" / "t.png").stat().st_size > 0
    assert (tmp_path / "results" / "t_on_metrics.jsonl").read_text() == (
        a / "metrics.jsonl"
    ).read_text()


@pytest.mark.parametrize("spec", ["noequals", "x=/does/not/exist", "=.", "a/b=.", "../x=."])
def test_bad_run_specs_are_refused_by_name(spec, tmp_path, monkeypatch) -> None:
    mod = _module()
    monkeypatch.setattr(mod, "RESULTS", tmp_path)
    with pytest.raises(SystemExit, match="compare_runs: "):
        mod.main([spec])


def test_a_corrupt_line_is_named(tmp_path, monkeypatch) -> None:
    mod = _module()
    monkeypatch.setattr(mod, "RESULTS", tmp_path)
    d = _run(tmp_path / "a", [0.1], {})
    (d / "metrics.jsonl").write_text('{"step": 1}\n{not json\n{"step": 3}\n')
    with pytest.raises(SystemExit, match=r"metrics.jsonl:2 is not JSON"):
        mod.main([f"a={d}"])


def test_a_torn_last_line_is_skipped(tmp_path, monkeypatch) -> None:
    mod = _module()
    monkeypatch.setattr(mod, "RESULTS", tmp_path / "results")
    d = _run(tmp_path / "a", [0.1], {})
    (d / "metrics.jsonl").write_text('{"step": 1, "reward/diversity": 0.5}\n{"step": 2, "rew')
    assert mod.main([f"a={d}", "--results-prefix", "t"]) == 0
    out = json.loads((tmp_path / "results" / "t.json").read_text())
    assert out["runs"]["a"]["iterations"] == 1


def test_repeated_names_are_refused(tmp_path, monkeypatch) -> None:
    mod = _module()
    monkeypatch.setattr(mod, "RESULTS", tmp_path)
    d = _run(tmp_path / "a", [0.1], {})
    with pytest.raises(SystemExit, match="repeat"):
        mod.main([f"a={d}", f"a={d}"])
