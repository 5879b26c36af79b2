"""rlsp against TRL's GRPOTrainer, side by side: held-out accuracy against training wall-clock.

Both start from the same SFT checkpoint, on the same task, with matched settings: 8 prompts x 8
samples per step, the same response budget, temperature 0.7, learning rate 2e-5, no KL, the same
reward channels and weights (correctness 1, format 0.5, exploration 0.1; TRL gets them from
``rlsp_env.integrations.trl.grpo_setup`` with ``multi_objective_aggregation="normalize_then_sum"``,
the decoupled per-channel normalisation), the same problems in the same order (rlsp's reset seeds),
and the same wall-clock budget. TRL 1.16 runs on the CPU with ``use_vllm=False`` (its vLLM modes
need CUDA); rlsp runs ``rlsp train`` (``decoupled`` advantages) with its vLLM sampler.

Both are evaluated by the same function (:func:`rlsp_agents.evaluate.evaluate`, greedy, held-out,
literal accuracy) **at fixed marks of training wall-clock** (every ``--mark-s`` seconds; evaluation
time is excluded from the training clock). The result: accuracy against training time for both,
and time-to-accuracy: the training wall-clock each needs to reach the accuracy TRL ends at.

Writes ``benchmarks/results/<prefix>.json``, ``<prefix>.md`` and ``<prefix>.png`` (prefix
``vs_trl_grpo``).

examples:
  python benchmarks/vs_trl_grpo.py --sft-checkpoint runs/bench-demo/sft/final --budget-s 810
  python benchmarks/vs_trl_grpo.py --sft-checkpoint runs/bench-demo/sft/final --only rlsp \\
      --budget-s 200 --mark-s 1 --rlsp-set lam=1.0 --rlsp-set group_returns=true  # every step
  python benchmarks/vs_trl_grpo.py --sft-checkpoint runs/bench-demo/sft/final --budget-s 60 \\
      --mark-s 30 --eval-n 8 --results-prefix vs_trl_grpo_smoke       # a smoke test
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
WEIGHTS = {"correctness": 1.0, "format": 0.5, "exploration": 0.1}


def _say(msg: str) -> None:
    print(f"[vs-trl] {msg}", file=sys.stderr, flush=True)


class _BudgetReached(Exception):
    pass


def literal_accuracy(args: argparse.Namespace, model: str, sampler: Any) -> float:
    from rlsp_agents import evaluate as ev

    res = ev.evaluate(
        args.env_id,
        model,
        limit=args.eval_n,
        sampler=sampler,
        temperature=0.0,
        max_new_tokens=args.max_new_tokens,
        env_kwargs={"split": "test", "difficulty": args.difficulty},
        progress=False,
    )
    return ev.literal_accuracy(res.records)


def _sampler(args: argparse.Namespace, path: str) -> Any:
    from rlsp_agents.sampler import make_sampler

    return make_sampler("vllm", path, seed=args.seed, max_model_len=args.max_new_tokens + 1024)


def rlsp_config(args: argparse.Namespace, out: Path) -> Any:
    """rlsp's side: the ``cpu-smollm2`` preset with decoupled advantages over TRL's channels and
    weights and the main job's critic settings (``cpu-smollm2-rlsp``'s ``lam``), then the
    ``--rlsp-set`` overrides; validated (``ValueError`` names a bad setting)."""
    from rlsp_agents.presets import get_preset

    cfg = get_preset("cpu-smollm2")
    cfg.model, cfg.env_id, cfg.difficulty = args.sft_checkpoint, args.env_id, args.difficulty
    cfg.max_new_tokens, cfg.seed, cfg.out = args.max_new_tokens, args.seed, str(out / "rlsp")
    cfg.advantage, cfg.channel_weights, cfg.weight_schedule = "decoupled", WEIGHTS, "constant"
    cfg.lam = get_preset("cpu-smollm2-rlsp").lam
    cfg.env_kwargs = {"length_scale": float(args.max_new_tokens)}
    cfg.total_steps, cfg.max_minutes, cfg.checkpoint_every = 100_000, None, 100_000
    cfg.threads = args.threads
    for key, value in args.rlsp_set.items():
        setattr(cfg, key, value)
    cfg.validate()
    return cfg


def run_rlsp(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """``rlsp train`` from the checkpoint; evaluates its sampler (weights synced) at each mark."""
    from rlsp_agents.train import train

    cfg = rlsp_config(args, out)
    marks: list[dict[str, Any]] = []
    clock = {"train_s": 0.0, "next": args.mark_s, "steps": 0}

    with _sampler(args, args.sft_checkpoint) as s:
        marks.append({"train_s": 0.0, "step": 0, "accuracy": literal_accuracy(args, "start", s)})
        _say(f"rlsp: start checkpoint {100 * marks[0]['accuracy']:.1f}%")

        def on_step(info: dict[str, Any]) -> None:
            clock["train_s"] += float(info["metrics"]["time/step"])
            clock["steps"] = info["step"]
            if clock["train_s"] >= clock["next"] or clock["train_s"] >= args.budget_s:
                acc = literal_accuracy(args, "rlsp", s)
                marks.append({"train_s": clock["train_s"], "step": info["step"], "accuracy": acc})
                _say(
                    f"rlsp: {clock['train_s']:.0f} s of training, step {info['step']}: {100 * acc:.1f}%"
                )
                while clock["next"] <= clock["train_s"]:
                    clock["next"] += args.mark_s
            if clock["train_s"] >= args.budget_s:
                raise _BudgetReached

        try:
            train(cfg, sampler=s, on_step=on_step)
        except _BudgetReached:
            pass
    return {"marks": marks, "steps": clock["steps"], "train_seconds": clock["train_s"]}


def run_trl(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    """TRL GRPOTrainer on the CPU; snapshots at each mark, evaluated after training."""
    import gymnasium as gym
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    import rlsp_env  # noqa: F401
    from rlsp_agents.config import parse_weights
    from rlsp_agents.train import _problem_seed
    from rlsp_env.integrations.trl import grpo_setup

    if args.threads:
        torch.set_num_threads(args.threads)
    ppp, k = 8, 8
    n_steps = args.max_steps
    setup = grpo_setup(
        args.env_id,
        n=1,
        weights=parse_weights(WEIGHTS),
        split="train",
        difficulty=args.difficulty,
        length_scale=float(args.max_new_tokens),
    )
    # the same problems in the same order as rlsp train: its reset seeds, step by step
    env = gym.make(args.env_id, split="train", difficulty=args.difficulty)
    rows = []
    for step in range(1, n_steps + 1):
        for j in range(ppp):
            _, info = env.reset(seed=_problem_seed(args.seed, step, j))
            rows.append(
                {
                    "prompt": [dict(m) for m in info["messages"]],
                    "gold": str(info["gold"]),
                    "problem_id": str(info["problem_id"]),
                }
            )
    env.close()
    dataset = Dataset.from_list(rows)
    tok = AutoTokenizer.from_pretrained(args.sft_checkpoint)
    model = AutoModelForCausalLM.from_pretrained(args.sft_checkpoint, torch_dtype=torch.float32)
    snaps: list[dict[str, Any]] = []
    snap_root = out / "trl-snapshots"

    class Clock(TrainerCallback):
        def __init__(self) -> None:
            self.train_s, self.next, self.t0 = 0.0, args.mark_s, 0.0

        def on_step_begin(self, a: Any, state: Any, control: Any, **kw: Any) -> None:
            self.t0 = time.perf_counter()

        def on_step_end(self, a: Any, state: Any, control: Any, **kw: Any) -> None:
            self.train_s += time.perf_counter() - self.t0
            if self.train_s >= self.next or self.train_s >= args.budget_s:
                d = snap_root / f"step-{state.global_step:05d}"
                kw["model"].save_pretrained(d)
                tok.save_pretrained(d)
                snaps.append({"train_s": self.train_s, "step": state.global_step, "dir": str(d)})
                _say(f"trl: {self.train_s:.0f} s of training, step {state.global_step}: snapshot")
                while self.next <= self.train_s:
                    self.next += args.mark_s
            if self.train_s >= args.budget_s:
                control.should_training_stop = True

    from rlsp_agents.hardware import resolve_precision

    # the precision rlsp's side trains in (its --rlsp-set included), resolved on this machine
    bf16 = resolve_precision(rlsp_config(args, out).precision, "cpu") == "bf16-autocast"
    gcfg = GRPOConfig(
        output_dir=str(out / "trl"),
        per_device_train_batch_size=ppp * k,
        gradient_accumulation_steps=1,
        num_generations=k,
        max_completion_length=args.max_new_tokens,
        temperature=0.7,
        learning_rate=2e-5,
        beta=0.0,
        use_vllm=False,
        use_cpu=True,
        bf16=bf16,
        max_steps=n_steps,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        shuffle_dataset=False,
        reward_weights=setup.reward_weights,
        multi_objective_aggregation="normalize_then_sum",
        seed=args.seed,
    )
    clock = Clock()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=setup.reward_funcs,
        train_dataset=dataset,
        args=gcfg,
        processing_class=tok,
        callbacks=[clock],
    )
    trainer.train()
    del trainer, model
    marks: list[dict[str, Any]] = []
    with _sampler(args, args.sft_checkpoint) as s:
        marks.append({"train_s": 0.0, "step": 0, "accuracy": literal_accuracy(args, "start", s)})
    for sn in snaps:
        with _sampler(args, sn["dir"]) as s:
            acc = literal_accuracy(args, sn["dir"], s)
        marks.append({"train_s": sn["train_s"], "step": sn["step"], "accuracy": acc})
        _say(f"trl: {sn['train_s']:.0f} s, step {sn['step']}: {100 * acc:.1f}%")
    if not args.keep_snapshots:
        shutil.rmtree(snap_root, ignore_errors=True)
    return {
        "marks": marks,
        "steps": snaps[-1]["step"] if snaps else 0,
        "train_seconds": clock.train_s,
    }


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``["lam=1.0", "group_returns=true"]`` -> ``{"lam": 1.0, "group_returns": True}``: each
    value read as JSON where it parses (numbers, true/false, null), else kept as a string.

    Raises:
        ValueError: an item without ``=`` or a key that is not a ``TrainConfig`` field.
    """
    import dataclasses

    from rlsp_agents.config import TrainConfig

    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ValueError(f"--rlsp-set {item!r}: write KEY=VALUE, e.g. lam=1.0")
        if key not in fields:
            raise ValueError(f"--rlsp-set {item!r}: {key!r} is not a TrainConfig field")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def time_to(marks: list[dict[str, Any]], target: float) -> float | None:
    """The first mark's training time at which accuracy >= target (``None``: never)."""
    for m in marks:
        if m["accuracy"] >= target:
            return float(m["train_s"])
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="vs_trl_grpo.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("examples:") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--sft-checkpoint", required=True, help="the shared start (a model dir)")
    ap.add_argument("--budget-s", type=float, default=810.0, help="training wall-clock each")
    ap.add_argument("--mark-s", type=float, default=120.0, help="evaluate every this many s")
    ap.add_argument("--env-id", default=None, help="default: the demo's")
    ap.add_argument("--difficulty", type=int, default=None, help="default: the demo's")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="default: the demo's")
    ap.add_argument("--eval-n", type=int, default=100)
    ap.add_argument("--max-steps", type=int, default=60, help="TRL's step cap (budget ends it)")
    ap.add_argument("--only", choices=["rlsp", "trl"], default=None, help="run one side only")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep-snapshots", action="store_true")
    ap.add_argument(
        "--rlsp-set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one of rlsp's TrainConfig fields (repeatable), e.g. lam=1.0",
    )
    ap.add_argument("--out", default="runs/vs-trl")
    ap.add_argument("--results-prefix", default="vs_trl_grpo")
    args = ap.parse_args(argv)
    from rlsp_agents.demo import DemoConfig

    d = DemoConfig()
    args.env_id = d.env_id if args.env_id is None else args.env_id
    args.difficulty = d.difficulty if args.difficulty is None else args.difficulty
    args.max_new_tokens = d.max_new_tokens if args.max_new_tokens is None else args.max_new_tokens
    if not Path(args.sft_checkpoint).is_dir():
        ap.error(f"--sft-checkpoint {args.sft_checkpoint!r} is not a directory")
    if args.budget_s <= 0 or args.mark_s <= 0:
        ap.error("--budget-s and --mark-s must be > 0")
    try:
        args.rlsp_set = parse_sets(args.rlsp_set)
        rlsp_config(args, Path(args.out))
    except ValueError as e:
        ap.error(str(e))
    if args.threads is None and os.getloadavg()[0] > (os.cpu_count() or 1):
        args.threads = 1  # see rlsp_agents.demo.DemoConfig.threads

    from rlsp_agents.sampler import engine_logs_to

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "command": "python benchmarks/vs_trl_grpo.py " + " ".join(argv or sys.argv[1:]),
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }
    _say(f"engine and trainer logs -> {out / 'engine.log'}")
    with engine_logs_to(out / "engine.log"):
        if args.only in (None, "rlsp"):
            _say(f"rlsp train, {args.budget_s:.0f} s of training")
            report["rlsp"] = run_rlsp(args, out)
        if args.only in (None, "trl"):
            _say(f"TRL GRPOTrainer, {args.budget_s:.0f} s of training")
            report["trl"] = run_trl(args, out)
    report["finished_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    report["load_end"] = [round(x, 2) for x in os.getloadavg()]
    side_cfg = rlsp_config(args, out)  # what rlsp's side ran with, overrides included
    lines = [
        f"# rlsp vs TRL GRPOTrainer ({report['finished_utc']})",
        "",
        f"Command: `{report['command']}`",
        "",
        f"Task `{args.env_id}` difficulty {args.difficulty}, {args.eval_n} held-out problems "
        f"(greedy, literal), from `{args.sft_checkpoint}`; {args.budget_s:.0f} s of training "
        f"each, evaluated every {args.mark_s:.0f} s of training (evaluation excluded).",
        "",
        f"rlsp: `{side_cfg.advantage}` advantages (lam {side_cfg.lam}, `{side_cfg.adv_norm}` "
        "scaling)"
        + "".join(f", {k}={v}" for k, v in args.rlsp_set.items())
        + "; TRL: `normalize_then_sum` over the same channels.",
        "",
        "| side | steps | training s | s / step | held-out literal accuracy at each mark (s: %) |",
        "|---|---|---|---|---|",
    ]
    for side in ("rlsp", "trl"):
        if side in report:
            r = report[side]
            per = r["train_seconds"] / max(1, r["steps"])
            pts = ", ".join(f"{m['train_s']:.0f}: {100 * m['accuracy']:.1f}" for m in r["marks"])
            lines.append(
                f"| {side} | {r['steps']} | {r['train_seconds']:.0f} | {per:.0f} | {pts} |"
            )
    if "rlsp" in report and "trl" in report:
        target = report["trl"]["marks"][-1]["accuracy"]
        t_trl = time_to(report["trl"]["marks"], target)
        t_rlsp = time_to(report["rlsp"]["marks"], target)
        report["time_to_trl_final"] = {"target": target, "trl_s": t_trl, "rlsp_s": t_rlsp}
        ratio = (t_rlsp / t_trl) if (t_rlsp is not None and t_trl) else None
        report["time_to_trl_final"]["ratio"] = ratio
        report["bar_rlsp_within_third_of_trl_time"] = ratio is not None and ratio <= 1 / 3
        if t_rlsp is None:
            note = " (rlsp never reached it)"
        elif not t_trl:
            note = " (the start checkpoint is already there: no time-to-accuracy to compare)"
        else:
            note = f" (ratio {ratio:.2f})"

        def _s(t: float | None) -> str:
            return "never" if t is None else f"{t:.0f} s"

        final = {side: report[side]["marks"][-1]["accuracy"] for side in ("rlsp", "trl")}
        bar = "PASS" if report["bar_rlsp_within_third_of_trl_time"] else "FAIL"
        lines += [
            "",
            f"Time to TRL's final accuracy ({100 * target:.1f}%): TRL {_s(t_trl)}, rlsp "
            f"{_s(t_rlsp)}" + note + ".",
            "",
            f"Final held-out accuracy after the same budget: rlsp {100 * final['rlsp']:.1f}%, "
            f"TRL {100 * final['trl']:.1f}%.",
            "",
            f"Bar (rlsp reaches TRL's final accuracy in <= 1/3 of TRL's time to it): {bar}.",
        ]
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        for side in ("rlsp", "trl"):
            ms = report[side]["marks"]
            ax.plot(
                [m["train_s"] for m in ms],
                [100 * m["accuracy"] for m in ms],
                marker="o",
                label=side,
            )
        ax.set_xlabel("training wall-clock (s), evaluation excluded")
        ax.set_ylabel("held-out literal accuracy (%)")
        ax.legend()
        fig.tight_layout()
        fig.savefig(RESULTS / f"{args.results_prefix}.png", dpi=110)
        plt.close(fig)
        lines += ["", f"Plot: `{args.results_prefix}.png`"]
    lines += ["", f"Load average at start {report['load_start']}, end {report['load_end']}."]
    (RESULTS / f"{args.results_prefix}.json").write_text(json.dumps(report, indent=2, default=str))
    (RESULTS / f"{args.results_prefix}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
