"""The foundation: packaging, imports, data location, the embedded model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rlsp_env import data

ROOT = Path(__file__).resolve().parents[1]


def _loaded(imports: str, modules: list[str]) -> dict[str, bool]:
    code = f"import sys, {imports}; print(*[m in sys.modules for m in {modules!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(zip(modules, [w == "True" for w in out.stdout.split()]))


def test_verifier_import_does_not_import_torch_or_gymnasium():
    # the verifier is standalone: neither the model stack nor the env's Gymnasium
    assert _loaded("rlsp_verifiers", ["torch", "gymnasium", "rlsp_env"]) == {
        "torch": False,
        "gymnasium": False,
        "rlsp_env": False,
    }


def test_env_import_needs_gymnasium_but_no_torch_no_http_client_no_agents():
    mods = ["gymnasium", "torch", "httpx", "requests", "transformers", "rlsp_agents"]
    assert _loaded("rlsp_env", mods) == {m: m == "gymnasium" for m in mods}


def test_all_packages_import():
    subprocess.run(
        [sys.executable, "-c", "import rlsp_env, rlsp_verifiers, rlsp_agents"], check=True
    )


def test_read_rows_math500_checks_sha(tmp_path, monkeypatch):
    real = data.resolve_data_dir()
    if real is None:
        pytest.skip("RLSP_DATA_DIR not set")
    rows = data.read_rows("math500")
    assert len(rows) == 500 and {"problem", "answer", "unique_id"} <= set(rows[0])
    # A tampered copy fails its checksum with a clear message.
    (tmp_path / "math500").mkdir()
    src = (real / "math500" / "test.jsonl").read_text()
    (tmp_path / "math500" / "test.jsonl").write_text(src.replace("\\frac", "\\dfrac", 1))
    with pytest.raises(ValueError, match="sha256"):
        data.read_rows("math500", data_dir=tmp_path)


def test_missing_data_names_both_ways(tmp_path):
    with pytest.raises(data.DataNotFoundError) as e:
        data.read_rows("gsm8k", data_dir=tmp_path)
    msg = str(e.value)
    assert "RLSP_DATA_DIR" in msg and "Hub" in msg and "openai/gsm8k" in msg


def test_bad_data_dir_and_unknown_name(tmp_path):
    with pytest.raises(data.DataNotFoundError, match="not a directory"):
        data.read_rows("math500", data_dir=tmp_path / "nope")
    with pytest.raises(KeyError, match="unknown dataset"):
        data.read_rows("imagenet", data_dir=tmp_path)


def test_every_shared_dataset_reads():
    if data.resolve_data_dir() is None:
        pytest.skip("RLSP_DATA_DIR not set")
    sizes = {name: len(data.read_rows(name)) for name in data.DATASETS}
    assert sizes == {
        "math500": 500,
        "math": 5000,
        "gsm8k": 1319,
        "aime24": 30,
        "amc23": 40,
        "minerva_math": 272,
        "olympiadbench": 675,
    }


def test_embedded_model_prepared_is_loadable_checkpoint():
    from rlsp_agents import models

    path = models.prepare()  # idempotent: converts on first call only
    cfg = json.loads((Path(path) / "config.json").read_text())
    assert "quantization_config" not in cfg
    assert cfg["model_type"] == "llama" and cfg["vocab_size"] == 49152
    assert (Path(path) / "model.safetensors").is_file()
    assert models.resolve_model(None) == str(path)
    assert models.resolve_model(str(path)) == str(Path(path).resolve())
    assert models.resolve_model("org/some-hub-id") == "org/some-hub-id"
    with pytest.raises(FileNotFoundError, match="config.json"):
        models.resolve_model(str(ROOT / "tests"))


def test_cli_help_has_examples():
    out = subprocess.run(
        [sys.executable, "-m", "rlsp_agents.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "examples:" in out.stdout


@pytest.mark.parametrize(
    "package,forbidden",
    [("rlsp_verifiers", ("rlsp_env", "rlsp_agents")), ("rlsp_env", ("rlsp_agents",))],
)
def test_layering_no_upward_import(package, forbidden):
    # rlsp_verifiers <- rlsp_env <- rlsp_agents: no module imports a package above it, even lazily
    import ast

    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            bad += [f"{path.name}:{node.lineno} {n}" for n in names if n.split(".")[0] in forbidden]
    assert not bad, bad
