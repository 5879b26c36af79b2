"""``python -m rlsp_env.integrations.write_dataset``: any registered env as a training file for verl
(parquet) or OpenRLHF (JSON lines).

Examples::

    python -m rlsp_env.integrations.write_dataset verl --env rlsp/Arithmetic-v0 \\
        --out data/arith/train.parquet --n 4096
    python -m rlsp_env.integrations.write_dataset openrlhf --env rlsp/MATH500-v0 \\
        --split test --out data/math500/test.jsonl --n 500
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["main"]

EPILOG = """examples:
  python -m rlsp_env.integrations.write_dataset verl --env rlsp/Arithmetic-v0 \\
      --out data/arith/train.parquet --n 4096
  python -m rlsp_env.integrations.write_dataset verl --env rlsp/Arithmetic-v0 --split test \\
      --out data/arith/test.parquet --n 512 --env-kwargs '{"difficulty": 2}'
  python -m rlsp_env.integrations.write_dataset openrlhf --env rlsp/MATH500-v0 --split test \\
      --out data/math500/test.jsonl --n 500
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m rlsp_env.integrations.write_dataset",
        description="Write problems of a registered rlsp env in verl's or OpenRLHF's dataset format.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("format", choices=["verl", "openrlhf"], help="the trainer's format")
    p.add_argument("--env", required=True, help="a registered id, e.g. rlsp/Arithmetic-v0")
    p.add_argument(
        "--out", required=True, help="file to write (.parquet for verl, .jsonl for openrlhf)"
    )
    p.add_argument("--n", type=int, required=True, help="number of problems (> 0)")
    p.add_argument(
        "--split",
        default="train",
        choices=["train", "test", "all"],
        help="procedural envs: train/test (disjoint); dataset envs: train/test/all",
    )
    p.add_argument("--seed", type=int, default=0, help="problem-selection seed")
    p.add_argument("--system-prompt", default=None, help="optional system message")
    p.add_argument("--env-kwargs", default="{}", help="JSON object passed to the env")
    return p


def main(argv: list[str] | None = None) -> int:
    p = _parser()
    args = p.parse_args(argv)
    if args.n < 1:
        p.error(f"--n must be > 0, got {args.n}")
    try:
        kwargs: Any = json.loads(args.env_kwargs)
    except json.JSONDecodeError as exc:
        p.error(f"--env-kwargs is not valid JSON: {exc}")
    if not isinstance(kwargs, dict):
        p.error("--env-kwargs must be a JSON object")
    if args.format == "verl":
        from rlsp_env.integrations.verl import write_verl_dataset as write
    else:
        from rlsp_env.integrations.openrlhf import write_openrlhf_dataset as write
    try:
        n = write(
            args.env,
            args.out,
            args.n,
            split=args.split,
            seed=args.seed,
            system_prompt=args.system_prompt,
            **kwargs,
        )
    except (ValueError, IndexError) as exc:  # unknown env or options; more problems than it has
        p.error(f"{args.env} (split {args.split}, --n {args.n}): {exc}")
    print(f"wrote {n} {args.format} rows of {args.env} ({args.split}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
