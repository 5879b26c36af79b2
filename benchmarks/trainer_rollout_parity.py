"""The trainer before and after it became a vector-env agent: same problems, same updates.

Runs ``rlsp train`` twice with one configuration, once with the ``rlsp_agents`` of an older
revision (default: the one before ``collect_rollouts``, which reset one env per completion) and
once with the working tree's, both on the working tree's ``rlsp_env``, and compares every metric
the two runs share (timings left out). Equal problems, rewards, losses and accuracies mean the
redesign changed the wiring and nothing else; the one intended difference is ``reward/diversity``,
which the old path always logged as 0 (one env per completion has no group).

    python benchmarks/trainer_rollout_parity.py --old 41e6ddf --model smollm2-135m --steps 2

Writes ``benchmarks/results/trainer_rollout_parity.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(tree: Path, out: Path, args: argparse.Namespace) -> list[dict]:
    """One ``rlsp train`` with ``rlsp_agents`` taken from ``tree``; its metrics rows."""
    cmd = [
        sys.executable, "-m", "rlsp_agents.cli", "train",
        "--model", args.model, "--sampler", "transformers", "--advantage", args.advantage,
        "--total-steps", str(args.steps), "--prompts-per-step", str(args.prompts),
        "--samples-per-prompt", str(args.samples), "--max-new-tokens", str(args.tokens),
        "--temperature", "0.7", "--out", str(out), "--threads", "2", "--no-plots",
        "--checkpoint-every", "0", "--no-save-final", "--log-samples", "0", "--no-progress",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": f"{tree}:{ROOT}"}
    subprocess.run(cmd, check=True, env=env, cwd=tree, stdout=subprocess.DEVNULL)
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--old", default="41e6ddf", help="revision whose rlsp_agents is the baseline")
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--advantage", default="decoupled")
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--prompts", type=int, default=4)
    p.add_argument("--samples", type=int, default=2)
    p.add_argument("--tokens", type=int, default=24)
    p.add_argument(
        "--env-tree", default=str(ROOT), help="checkout whose rlsp_env and rlsp_verifiers both use"
    )
    p.add_argument("--out", default=str(ROOT / "benchmarks/results/trainer_rollout_parity.json"))
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="rlsp-parity-") as tmp:
        old_tree, new_tree = Path(tmp, "old"), Path(tmp, "new")
        for tree in (old_tree, new_tree):
            tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.old, "rlsp_agents"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(old_tree)], input=archive, check=True)
        (new_tree / "rlsp_agents").symlink_to(ROOT / "rlsp_agents")
        for tree in (old_tree, new_tree):  # the same rlsp_env / rlsp_verifiers for both
            for pkg in ("rlsp_env", "rlsp_verifiers"):
                (tree / pkg).symlink_to(Path(args.env_tree, pkg).resolve())
        old = run(old_tree, Path(tmp, "run-old"), args)
        new = run(new_tree, Path(tmp, "run-new"), args)
    compared, differ = [], {}
    for step, (a, b) in enumerate(zip(old, new), 1):
        for key in sorted(set(a) & set(b)):
            if key.startswith("time/") or key.endswith("tokens_per_s") or key == "step":
                continue
            compared.append(key)
            if a[key] != b[key] and not (
                isinstance(a[key], float) and abs(a[key] - b[key]) <= 1e-6 * max(1, abs(a[key]))
            ):
                differ[f"{step}:{key}"] = [a[key], b[key]]
    result = {
        "command": " ".join(sys.argv),
        "old_revision": args.old,
        "config": {k: v for k, v in vars(args).items() if k not in ("out", "env_tree")},
        "steps": [len(old), len(new)],
        "metrics_compared": len(compared),
        "differ": differ,
        "only_new": sorted(set(new[0]) - set(old[0])),
        "diversity_old": [r.get("reward/diversity") for r in old],
        "diversity_new": [r.get("reward/diversity") for r in new],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
