"""The ``rlsp`` command line. Subcommands import their heavy dependencies lazily.

Examples:
    rlsp models list
    rlsp models prepare smollm2-135m
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  rlsp models list                 # embedded models and whether they are prepared
  rlsp models prepare              # fetch + convert the embedded default (once)
"""


def _cmd_models(args: argparse.Namespace) -> int:
    from rlsp_agents import models

    if args.action == "list":
        for row in models.list_models():
            print(
                f"{row['name']:<16} prepared={row['prepared']:<4} {row['path']}\n    {row['description']}"
            )
        return 0
    path = models.prepare(args.name, force=args.force)
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rlsp",
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser(
        "models",
        help="list or prepare models",
        epilog="examples:\n  rlsp models list\n  rlsp models prepare smollm2-135m --force",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    m.add_argument("action", choices=["list", "prepare"])
    m.add_argument("name", nargs="?", default="smollm2-135m", help="embedded model name")
    m.add_argument("--force", action="store_true", help="re-convert even if prepared")
    m.set_defaults(func=_cmd_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
