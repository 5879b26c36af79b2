"""The ``rlsp`` command line: ``rlsp <command> [options]``; ``rlsp <command> --help`` for each.

Every subcommand lives in its own module, which defines ``COMMAND`` (its name), ``HELP`` (one line)
and ``main(argv) -> int``. This file only dispatches, so ``rlsp --help`` stays fast and imports no
torch. Heavy dependencies are imported inside each command's ``main``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

#: The modules that provide subcommands, in the order ``rlsp --help`` lists them.
COMMAND_MODULES = [
    "rlsp_agents.demo",  # rlsp demo: the main job
    "rlsp_agents.sft",  # rlsp sft
    "rlsp_agents.train",  # rlsp train (PPO)
    "rlsp_agents.evaluate",  # rlsp eval
    "rlsp_agents.models",  # rlsp models
    "rlsp_env.server",  # rlsp serve
    "rlsp_verifiers.cli",  # rlsp verify
]

#: Command names that are not the module's last name.
_COMMAND_OF = {
    "rlsp_agents.evaluate": "eval",
    "rlsp_env.server": "serve",
    "rlsp_verifiers.cli": "verify",
}

#: Why a command module could not be imported (a missing extra: the agent's CLIs need tyro).
UNAVAILABLE: dict[str, str] = {}

EXAMPLES = """examples:
  rlsp demo                                   # the main job on the embedded default model
  rlsp models prepare                         # fetch + convert the embedded model (once)
  rlsp eval --env rlsp/MATH500-v0 --model smollm2-135m
  rlsp verify --response 'so \\boxed{1/2}' --gold '\\frac{1}{2}'
"""


def _available() -> dict[str, object]:
    mods: dict[str, object] = {}
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is None:
            continue  # not built yet in this checkout
        try:
            mod = importlib.import_module(name)
        except ImportError as e:  # e.g. a core install without the agent extra
            cmd = _COMMAND_OF.get(name, name.rsplit(".", 1)[-1])
            UNAVAILABLE[cmd] = f"{e} (pip install 'rlsp[agent]')"
            continue
        if hasattr(mod, "COMMAND") and hasattr(mod, "main"):
            mods[mod.COMMAND] = mod
    return mods


def _usage(mods: dict[str, object]) -> str:
    lines = ["usage: rlsp <command> [options]", "", __doc__.splitlines()[0], "", "commands:"]
    for cmd, mod in mods.items():
        lines.append(f"  {cmd:<10} {getattr(mod, 'HELP', '')}")
    lines += ["", EXAMPLES]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    mods = _available()
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage(mods))
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd not in mods:
        why = UNAVAILABLE.get(cmd)
        if why:
            print(f"rlsp: {cmd} is not available: {why}", file=sys.stderr)
        else:
            print(f"rlsp: unknown command {cmd!r}\n\n{_usage(mods)}", file=sys.stderr)
        return 2
    try:
        return int(mods[cmd].main(rest) or 0)  # type: ignore[attr-defined]
    except KeyboardInterrupt:
        print("rlsp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
