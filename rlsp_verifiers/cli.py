"""``rlsp verify`` / ``rlsp-verify``: check one response, or a JSONL file of them.

Exit codes: 0 correct (one pair) or a finished file run; 1 incorrect (one pair); 2 usage or input
errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

COMMAND = "verify"
HELP = "check model answers against gold answers (one pair, or a JSONL file)"

EXAMPLES = r"""examples:
  rlsp verify --response 'so the answer is \boxed{\frac{1}{2}}' --gold '0.5'
  rlsp verify --response 'Final Answer: The final answer is 34.' --gold 34 --mode eval
  rlsp verify --response '\boxed{23 + 45}' --gold 68 --answer-policy literal   # unevaluated
  rlsp verify --input pairs.jsonl --output verdicts.jsonl --workers 2 --timeout-s 5
      # each input line: {"response": ..., "gold": ...} (other fields are kept);
      # each output line adds "verdict": {correct, extracted, reason, stage}

exit codes: 0 correct / file finished, 1 incorrect, 2 usage or input error
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="rlsp verify",
        description=HELP + ". Nothing is ever evaluated as code.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--response", help="the model response (the last \\boxed{} is its answer)")
    p.add_argument("--gold", help="the gold answer")
    p.add_argument(
        "--mode", choices=("strict", "eval"), default="strict", help="strict (RL) or eval"
    )
    p.add_argument(
        "--answer-policy",
        choices=("closed_form", "literal"),
        default="closed_form",
        help="closed_form: any exact closed form (10^6 for 1000000); literal: a plain-number "
        "gold needs a number literal (23+45 for 68 is 'unevaluated')",
    )
    p.add_argument("--input", type=Path, help="JSONL file of {response, gold} objects")
    p.add_argument("--output", type=Path, help="JSONL file to write (default: stdout)")
    p.add_argument("--response-key", default="response", help="field name of the response")
    p.add_argument("--gold-key", default="gold", help="field name of the gold answer")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: CPUs)")
    p.add_argument("--timeout-s", type=float, default=5.0, help="per-item timeout in seconds")
    p.add_argument("--json", action="store_true", help="print the single verdict as JSON")
    return p


def _err(msg: str) -> int:
    print(f"rlsp verify: error: {msg}", file=sys.stderr)
    return 2


class _Progress:
    """A minimal stderr progress line, used when tqdm (not a core dependency) is missing."""

    def __init__(self, total: int, **_: object) -> None:
        self.total, self.n = total, 0

    def update(self, k: int = 1) -> None:
        self.n += k
        print(f"\rverify: {self.n}/{self.total}", end="", file=sys.stderr, flush=True)

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        print(file=sys.stderr)


def _run_file(args: argparse.Namespace) -> int:
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is in every extra, not in core
        tqdm = _Progress  # type: ignore[assignment,misc]

    from .pool import VerifierPool

    rows: list[dict] = []
    try:
        with open(args.input, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    return _err(f"{args.input}:{n}: not JSON ({e.msg})")
                if not isinstance(row, dict):
                    return _err(f"{args.input}:{n}: expected a JSON object")
                for key in (args.response_key, args.gold_key):
                    if not isinstance(row.get(key), str):
                        return _err(f"{args.input}:{n}: field {key!r} missing or not a string")
                rows.append(row)
    except OSError as e:
        return _err(f"cannot read {args.input}: {e.strerror}")
    pairs = [(r[args.response_key], r[args.gold_key]) for r in rows]
    if args.workers is not None and args.workers < 1:
        return _err("--workers must be at least 1")
    if args.timeout_s <= 0:
        return _err("--timeout-s must be positive")
    with (
        tqdm(total=len(pairs), desc="verify", unit="item", file=sys.stderr) as bar,
        VerifierPool(
            workers=args.workers,
            timeout_s=args.timeout_s,
            mode=args.mode,
            answer_policy=args.answer_policy,
        ) as pool,
    ):
        verdicts = pool.map(pairs, progress=bar.update) if pairs else []
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout  # noqa: SIM115
    try:
        for row, v in zip(rows, verdicts):
            out.write(json.dumps({**row, "verdict": v.to_dict()}, ensure_ascii=False) + "\n")
    finally:
        if args.output:
            out.close()
    correct = sum(v.correct for v in verdicts)
    print(f"rlsp verify: {correct}/{len(verdicts)} correct", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Runs the command; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.input is not None:
        if args.response is not None or args.gold is not None:
            return _err("use either --input or --response/--gold, not both")
        return _run_file(args)
    if args.response is None or args.gold is None:
        return _err("give --response and --gold, or --input (see --help)")
    from .api import verify

    v = verify(
        args.response,
        args.gold,
        mode=args.mode,
        timeout_s=args.timeout_s,
        answer_policy=args.answer_policy,
    )
    if args.json:
        print(json.dumps(v.to_dict(), ensure_ascii=False))
    else:
        mark = "correct" if v.correct else "incorrect"
        print(f"{mark}  (reason={v.reason}, stage={v.stage}, extracted={v.extracted!r})")
    return 0 if v.correct else 1


if __name__ == "__main__":
    sys.exit(main())
