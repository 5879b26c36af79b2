"""extract_answer and the ``rlsp verify`` / ``rlsp-verify`` command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlsp_verifiers import extract_answer
from rlsp_verifiers.cli import main

# fmt: off
EXTRACT = [
    ("so \\boxed{5}", (), "5", "a box"),
    ("\\boxed{1} then \\boxed{2}", (), "2", "the last box"),
    ("\\fbox{7}", (), "7", "\\fbox"),
    ("\\boxed 7", (), "7", "a box without braces"),
    ("\\boxed{\\frac{1}{\\sqrt{2}}}", (), "\\frac{1}{\\sqrt{2}}", "nested braces"),
    ("<think>\\boxed{1}</think>\\boxed{2}", (), "2", "after </think>"),
    ("<think>\\boxed{1}</think> no box", (), None, "boxes in thinking do not count"),
    ("<think>\\boxed{1}", (), None, "unterminated thinking"),
    ("The answer is 7.", (), None, "fallbacks are off by default"),
    ("The answer is 7.", ("answer_is",), "7", "'the answer is'"),
    ("The answer is $\\frac{1}{2}$.", ("answer_is",), "\\frac{1}{2}", "math delimiters stripped"),
    ("3+4=7\n#### 7", ("gsm8k",), "7", "GSM8K marker"),
    ("Final Answer: The final answer is $34$. I hope it is correct.", ("final_answer",), "34", "Minerva phrasing"),
    ("we get 3 and then 7 apples", ("last_number",), "7", "last number (explicit only)"),
    ("Thus $x=2$.", ("last_math",), "x=2", "last inline math"),
    ("\\boxed{3} The answer is 7.", ("answer_is",), "3", "a box wins over fallbacks"),
    ("\\boxed{}", (), None, "an empty box"),
]
# fmt: on


@pytest.mark.parametrize(("text", "fallbacks", "want", "why"), EXTRACT, ids=[e[3] for e in EXTRACT])
def test_extract_answer(text: str, fallbacks: tuple[str, ...], want: str | None, why: str) -> None:
    assert extract_answer(text, fallbacks=fallbacks) == want, why


def test_extract_unknown_fallback() -> None:
    with pytest.raises(ValueError, match="unknown fallback"):
        extract_answer("x", fallbacks=["everything"])


def test_extract_megabyte_response_is_fast() -> None:
    text = "reasoning " * 200_000 + "\\boxed{42}"
    assert extract_answer(text) == "42"


def test_cli_single_pair_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--response", "so \\boxed{\\frac12}", "--gold", "0.5"]) == 0
    assert "correct" in capsys.readouterr().out
    assert main(["--response", "\\boxed{3}", "--gold", "0.5"]) == 1
    assert (
        main(
            ["--response", "Final Answer: The final answer is 3.", "--gold", "3", "--mode", "eval"]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["--response", "\\boxed{3}", "--gold", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reason"] == "equal"


def test_cli_usage_errors() -> None:
    assert main(["--gold", "3"]) == 2
    assert main(["--input", "x.jsonl", "--gold", "3"]) == 2
    assert main(["--input", "/nonexistent/in.jsonl"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["--mode", "loose"])
    assert e.value.code == 2


def test_cli_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--input" in out


def test_cli_file_run(tmp_path: Path) -> None:
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [
        {"id": 1, "response": "\\boxed{2}", "gold": "2"},
        {"id": 2, "response": "\\boxed{3}", "gold": "2"},
        {"id": 3, "response": "no box", "gold": "2"},
    ]
    inp.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlsp_verifiers.cli",
            "--input",
            str(inp),
            "--output",
            str(out),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [g["id"] for g in got] == [1, 2, 3]
    assert [g["verdict"]["correct"] for g in got] == [True, False, False]
    assert got[2]["verdict"]["reason"] == "no_answer"
    assert "1/3 correct" in proc.stderr


def test_cli_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"response": "x"}\n')
    assert main(["--input", str(bad)]) == 2
    bad.write_text("not json\n")
    assert main(["--input", str(bad)]) == 2
    ok = tmp_path / "ok.jsonl"
    ok.write_text('{"response": "\\\\boxed{1}", "gold": "1"}\n')
    assert main(["--input", str(ok), "--workers", "0"]) == 2
    assert main(["--input", str(ok), "--timeout-s", "0"]) == 2


def test_rlsp_dispatcher_lists_verify() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rlsp_agents.cli",
            "verify",
            "--response",
            "\\boxed{1}",
            "--gold",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def test_cli_answer_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--response", "\\boxed{23 + 45}", "--gold", "68"]) == 0
    assert (
        main(["--response", "\\boxed{23 + 45}", "--gold", "68", "--answer-policy", "literal"]) == 1
    )
    assert "unevaluated" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        main(["--answer-policy", "loose"])
    assert e.value.code == 2
