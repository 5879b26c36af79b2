"""Parses an OpenRLHF ``train_ppo_ray`` command line with OpenRLHF's own parser, starting nothing.

    python recipes/openrlhf/check_args.py --actor.model_name_or_path ... --reward.remote_url ...

OpenRLHF (0.11) builds its parser inside ``if __name__ == "__main__":`` of
``openrlhf/cli/train_ppo_ray.py``, so this runs that very file as ``__main__`` (``runpy``), with
the modules that would start Ray, vLLM and DeepSpeed replaced by inert stand-ins, and stops it at
the first line of ``train(args)``: OpenRLHF's real ``argparse`` definitions and its real argument
checks (``hierarchize`` and the asserts after it) run on the exact command line. Prints the parsed
arguments as one JSON object; exits 2 (argparse's code) on a flag OpenRLHF rejects.
``recipes/openrlhf/run.sh`` calls it when ``RLSP_DRY_RUN=1``; the tests call it too.

``python recipes/openrlhf/check_args.py --batch FILE``: FILE holds a JSON list of command lines;
prints a JSON list of ``{"args": {...}}`` or ``{"error": "...", "code": N}``, one per line given
(one interpreter for many checks).
"""

from __future__ import annotations

import json
import runpy
import sys
import types
from typing import Any


class _Parsed(Exception):
    def __init__(self, args: Any) -> None:
        super().__init__("parsed")
        self.parsed = args


def _plain(x: Any) -> Any:
    if isinstance(x, types.SimpleNamespace):
        return {k: _plain(v) for k, v in vars(x).items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, float) and x in (float("inf"), float("-inf")):
        return str(x)
    return x


def _stand_ins() -> None:
    """Inert modules for what train_ppo_ray imports at its top (Ray actors, vLLM engines)."""

    def module(name: str, **attrs: Any) -> None:
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m

    def unused(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("check_args.py starts nothing")

    module("ray", is_initialized=lambda: True, init=unused, get=unused, remote=unused)
    module("ray.util", placement_group=unused)
    module("ray.util.placement_group", placement_group=unused)
    module("openrlhf.trainer", __path__=[])
    module("openrlhf.trainer.ray", __path__=[], create_vllm_engines=unused)
    module(
        "openrlhf.trainer.ray.launcher",
        RayActorGroup=unused,
        ReferenceModelActor=unused,
        RewardModelActor=unused,
    )
    module("openrlhf.trainer.ray.ppo_actor", PolicyModelActor=unused)
    module("openrlhf.trainer.ray.ppo_critic", CriticModelActor=unused)


def parse(argv: list[str]) -> dict[str, Any]:
    """OpenRLHF's parsed and checked arguments for ``argv`` (a nested dict).

    Raises:
        SystemExit: OpenRLHF's parser rejected the command line (code 2).
        AssertionError: one of OpenRLHF's argument checks failed.
    """
    import openrlhf.utils

    _stand_ins()

    def get_strategy(args: Any) -> Any:  # train(args) calls this first: stop there
        raise _Parsed(args)

    openrlhf.utils.get_strategy = get_strategy
    saved = sys.argv
    sys.argv = ["openrlhf.cli.train_ppo_ray", *argv]
    try:
        runpy.run_module("openrlhf.cli.train_ppo_ray", run_name="__main__", alter_sys=True)
    except _Parsed as done:
        return _plain(done.parsed)
    finally:
        sys.argv = saved
    raise RuntimeError("train_ppo_ray returned without calling train(args)")


def _batch(path: str) -> list[dict[str, Any]]:
    import contextlib
    import io

    with open(path) as f:
        lines = json.load(f)
    results = []
    for argv in lines:
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                results.append({"args": parse(argv)})
        except SystemExit as exc:  # argparse: unknown or malformed flag
            results.append({"error": err.getvalue(), "code": exc.code})
        except AssertionError as exc:  # one of OpenRLHF's argument checks
            results.append({"error": f"AssertionError: {exc}", "code": 1})
    return results


if __name__ == "__main__":
    if sys.argv[1:2] == ["--batch"]:
        print(json.dumps(_batch(sys.argv[2])))
    else:
        print(json.dumps(parse(sys.argv[1:])))
