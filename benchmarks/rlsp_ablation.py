"""The RLSP ablation: five arms from one shared SFT checkpoint, the same task, equal wall-clock each.

Arms (``--arms``, all five by default, run one after another in one invocation):

- ``sft-more``: SFT only, continued on fresh worked solutions for the whole budget (does RL beat
  more SFT at equal compute?);
- ``group``: PPO, correctness (+ format) only, critic-free group baselines (GRPO-like);
- ``rlsp``: PPO on the paper's scalar reward ``r_c - L / ell`` (the env's ``rlsp-length`` sum of
  correctness, format and exploration), one critic;
- ``decoupled``: PPO, a value head per channel, correctness 1 / format 0.5 / exploration 0.1,
  constant weights, the correctness gate (the main job's ``cpu-smollm2-rlsp`` but for the
  schedule);
- ``decoupled-scheduled``: the same, exploration annealed as correctness rises (``correctness``
  schedule: ``w_e * (1 - accuracy)``): the main job's settings.

Every PPO arm starts from the ``cpu-smollm2`` preset (8 prompts x 8 samples, T 0.7, lr 2e-5, no
KL) with the exploration channel's ``L`` = ``max_new_tokens``; the critic arms (``rlsp``,
``decoupled*``) take the main job's critic settings (``cpu-smollm2-rlsp``: GAE ``lam``, and the
trainer's default advantage scaling and value-head start). Per arm: held-out **literal**
accuracy, greedy and pass@k (k samples at T 0.7), mean effective reasoning length and mean
exploration of the greedy responses, and behaviour counts (backtracking, verification,
alternatives) per iteration over training, plotted side by side; 3 sample responses per arm at the
start and at the end. Every arm that ran is reported.

Writes ``benchmarks/results/<prefix>.json``, ``<prefix>.md``, ``<prefix>_accuracy.png`` and
``<prefix>_training.png`` (prefix ``rlsp_ablation``).

examples:
  python benchmarks/rlsp_ablation.py --budget-s 720                  # the full ablation (~80 min)
  python benchmarks/rlsp_ablation.py --sft-checkpoint runs/bench-demo/sft/final --budget-s 720
  python benchmarks/rlsp_ablation.py --budget-s 720 --resume        # continue a stopped run
  python benchmarks/rlsp_ablation.py --budget-s 30 --eval-n 8 --k 2 --sft-examples 16 \\
      --results-prefix rlsp_ablation_smoke                           # a smoke test (~15 min)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
ARMS = ("sft-more", "group", "rlsp", "decoupled", "decoupled-scheduled")
BEHAVIOURS = ("backtracking", "verification", "alternatives")


def _say(msg: str) -> None:
    print(f"[ablation] {msg}", file=sys.stderr, flush=True)


def measure(args: argparse.Namespace, model: str, sampler: Any) -> dict[str, Any]:
    """Greedy literal accuracy + pass@k of one checkpoint on the held-out problems."""
    from rlsp_agents.evaluate import evaluate, literal_accuracy, literal_correct, pass_at_k
    from rlsp_env.exploration import exploration_reward
    from rlsp_env.text import behaviour_counts, effective_length, reasoning_text

    kw = {"split": "test", "difficulty": args.difficulty}
    common = dict(limit=args.eval_n, sampler=sampler, max_new_tokens=args.max_new_tokens)
    g = evaluate(args.env_id, model, temperature=0.0, env_kwargs=kw, progress=False, **common)
    texts = [t for rec in g.records for t in rec.texts]
    out: dict[str, Any] = {
        "greedy_verifier": float(g.accuracy),
        "greedy_literal": literal_accuracy(g.records),
        "mean_response_tokens": float(g.mean_response_tokens),
        "mean_effective_length": sum(effective_length(reasoning_text(t)) for t in texts)
        / max(1, len(texts)),
        "mean_exploration": sum(
            exploration_reward(t, length_scale=args.max_new_tokens) for t in texts
        )
        / max(1, len(texts)),
        "behaviours": {
            b: sum(behaviour_counts(t)[b] for t in texts) / max(1, len(texts)) for b in BEHAVIOURS
        },
        "samples": [
            {"problem": r.problem_id, "gold": r.gold, "response": r.texts[0]} for r in g.records[:3]
        ],
    }
    if args.k > 1:
        s = evaluate(
            args.env_id, model, n=args.k, temperature=0.7, env_kwargs=kw, progress=False, **common
        )
        vals = [pass_at_k(len(r.correct), sum(literal_correct(r)), args.k) for r in s.records]
        out[f"pass@{args.k}_literal"] = sum(vals) / max(1, len(vals))
    return out


def _sampler(args: argparse.Namespace, path: str) -> Any:
    from rlsp_agents.sampler import make_sampler

    if args.sampler == "transformers":
        return make_sampler("transformers", path, seed=args.seed)
    return make_sampler("vllm", path, seed=args.seed, max_model_len=args.max_new_tokens + 1024)


def shared_sft(args: argparse.Namespace, out: Path) -> str:
    if args.sft_checkpoint:
        return args.sft_checkpoint
    from rlsp_agents.config import SFTConfig
    from rlsp_agents.models import resolve_model
    from rlsp_agents.sft import sft

    _say(f"shared SFT checkpoint: {args.sft_examples} worked solutions")
    res = sft(
        SFTConfig(
            model=resolve_model(args.model),
            env_id=args.env_id,
            difficulty=args.difficulty,
            num_examples=args.sft_examples,
            batch_size=16,
            micro_batch_size=8,
            lr=1e-4,
            max_minutes=args.sft_max_minutes,
            seed=args.seed,
            out=str(out / "shared-sft"),
            threads=args.threads,
        )
    )
    return str(res["final_model"])


def run_arm(args: argparse.Namespace, arm: str, start: str, out: Path) -> dict[str, Any]:
    """Trains one arm for ``budget_s`` of wall-clock from ``start``; returns its record."""
    from rlsp_agents.metrics import read_metrics

    arm_out = out / arm
    rec: dict[str, Any] = {"arm": arm, "budget_s": args.budget_s}
    t0 = time.perf_counter()
    if arm == "sft-more":
        from rlsp_agents.config import SFTConfig
        from rlsp_agents.sft import sft

        res = sft(
            SFTConfig(
                model=start,
                env_id=args.env_id,
                difficulty=args.difficulty,
                num_examples=100_000,  # the budget, not the data, ends it
                batch_size=16,
                micro_batch_size=8,
                lr=1e-4,
                max_minutes=args.budget_s / 60.0,
                seed=args.seed + 1,  # fresh worked solutions, not the shared checkpoint's
                out=str(arm_out),
                threads=args.threads,
            )
        )
        rec["train_seconds"] = float(res["train_seconds"])
        rec["steps"] = int(res["steps"])
        rec["curve"] = []
        final = str(res["final_model"])
        with _sampler(args, final) as s:
            rec["end"] = measure(args, final, s)
    else:
        from rlsp_agents.presets import get_preset
        from rlsp_agents.train import train

        cfg = get_preset("cpu-smollm2")
        cfg.model, cfg.env_id, cfg.difficulty = start, args.env_id, args.difficulty
        cfg.max_new_tokens, cfg.sampler, cfg.seed = args.max_new_tokens, args.sampler, args.seed
        cfg.out, cfg.threads, cfg.total_steps = str(arm_out), args.threads, 10_000
        cfg.max_minutes = args.budget_s / 60.0
        cfg.checkpoint_every = 10_000
        cfg.env_kwargs = {"length_scale": float(args.max_new_tokens)}
        cfg.weight_schedule = "constant"
        if arm != "group":  # the critic arms: the main job's critic settings
            cfg.lam = get_preset("cpu-smollm2-rlsp").lam
        if arm == "group":
            cfg.advantage, cfg.channel_weights = "group", {"correctness": 1.0, "format": 0.5}
        elif arm == "rlsp":
            cfg.advantage, cfg.reward_preset = "rlsp", "rlsp-length"
        elif arm in ("decoupled", "decoupled-scheduled"):  # the main job's RLSP settings
            cfg.advantage = "decoupled"
            cfg.channel_weights = {"correctness": 1.0, "format": 0.5, "exploration": 0.1}
            cfg.correctness_gate = True
            if arm == "decoupled-scheduled":
                cfg.weight_schedule = "correctness"
        else:
            raise ValueError(f"unknown arm {arm!r}; arms: {list(ARMS)}")
        cfg.validate()  # before the arm's clock starts
        rec["config"] = {
            "advantage": cfg.advantage,
            "channel_weights": cfg.channel_weights if cfg.advantage != "rlsp" else None,
            "reward_preset": cfg.reward_preset if cfg.advantage == "rlsp" else None,
            "weight_schedule": cfg.weight_schedule,
            "correctness_gate": cfg.correctness_gate,
            "env_kwargs": cfg.env_kwargs,
            "lam": cfg.lam if cfg.advantage != "group" else None,
            "adv_norm": cfg.adv_norm if cfg.advantage != "group" else None,
            "critic_init": cfg.critic_init if cfg.advantage != "group" else None,
        }
        with _sampler(args, start) as s:
            summary = train(cfg, sampler=s)
            rows = read_metrics(Path(cfg.out) / "metrics.jsonl")
            rec["end"] = measure(args, summary["final_model"], s)
        rec["train_seconds"] = float(rows[-1]["time/elapsed"]) if rows else 0.0
        rec["steps"] = len(rows)
        rec["curve"] = [
            {
                "step": r.get("step", i + 1),
                "t_s": r.get("time/elapsed"),
                "accuracy": r.get("charts/accuracy"),
                "response_len": r.get("charts/response_len"),
                "exploration": r.get("reward/exploration"),
                **{b: r.get(f"behaviour/{b}") for b in BEHAVIOURS},
            }
            for i, r in enumerate(rows)
        ]
    rec["wall_seconds"] = time.perf_counter() - t0
    _say(
        f"{arm}: {rec['steps']} steps in {rec['train_seconds']:.0f} s; greedy literal "
        f"{100 * rec['end']['greedy_literal']:.1f}%"
    )
    return rec


def plot(report: dict[str, Any], prefix: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = report["arms"]
    k = report["args"]["k"]
    names = ["start"] + [a["arm"] for a in arms]
    greedy = [report["start"]["greedy_literal"]] + [a["end"]["greedy_literal"] for a in arms]
    pk = [report["start"].get(f"pass@{k}_literal", 0)] + [
        a["end"].get(f"pass@{k}_literal", 0) for a in arms
    ]
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    xs = range(len(names))
    ax[0].bar([x - 0.2 for x in xs], [100 * v for v in greedy], 0.4, label="greedy")
    ax[0].bar([x + 0.2 for x in xs], [100 * v for v in pk], 0.4, label=f"pass@{k} (T 0.7)")
    ax[0].set_xticks(list(xs), names, rotation=20, fontsize=8)
    ax[0].set_ylabel("held-out literal accuracy (%)")
    ax[0].legend()
    ax[0].set_title(f"equal wall-clock ({report['args']['budget_s']:.0f} s) per arm")
    eff = [report["start"]["mean_effective_length"]] + [
        a["end"]["mean_effective_length"] for a in arms
    ]
    ax[1].bar(list(xs), eff)
    ax[1].set_xticks(list(xs), names, rotation=20, fontsize=8)
    ax[1].set_ylabel("mean effective reasoning length (tokens)")
    fig.tight_layout()
    p1 = RESULTS / f"{prefix}_accuracy.png"
    fig.savefig(p1, dpi=110)
    plt.close(fig)

    keys = ["accuracy", "response_len", "exploration", *BEHAVIOURS]
    fig, axs = plt.subplots(2, 3, figsize=(14, 7))
    for axx, key in zip(axs.flat, keys):
        for a in arms:
            pts = [(c["t_s"], c[key]) for c in a["curve"] if c.get(key) is not None]
            if pts:
                axx.plot([p[0] for p in pts], [p[1] for p in pts], marker=".", label=a["arm"])
        axx.set_title(f"training {key}")
        axx.set_xlabel("training wall-clock (s)")
    axs.flat[0].legend(fontsize=7)
    fig.tight_layout()
    p2 = RESULTS / f"{prefix}_training.png"
    fig.savefig(p2, dpi=110)
    plt.close(fig)
    return [str(p1), str(p2)]


def markdown(report: dict[str, Any]) -> str:
    k = report["args"]["k"]
    lines = [
        f"# RLSP ablation ({report['finished_utc']})",
        "",
        f"Command: `{report['command']}`",
        "",
        f"Task `{report['args']['env_id']}` difficulty {report['args']['difficulty']}, "
        f"{report['args']['eval_n']} held-out problems, shared SFT checkpoint "
        f"`{report['start_checkpoint']}`, {report['args']['budget_s']:.0f} s of training "
        "wall-clock per arm (the iteration in progress finishes).",
        "",
        f"| arm | steps | train s | greedy literal | greedy verifier | pass@{k} literal | "
        "mean effective length | mean exploration | backtracking | verification | alternatives |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [("start (shared SFT)", None, report["start"])] + [
        (a["arm"], a, a["end"]) for a in report["arms"]
    ]
    for name, a, m in rows:
        lines.append(
            f"| {name} | {a['steps'] if a else ''} | {a['train_seconds']:.0f} |"
            if a
            else f"| {name} | | |"
        )
        lines[-1] += (
            f" {100 * m['greedy_literal']:.1f}% | {100 * m['greedy_verifier']:.1f}% | "
            f"{100 * m.get(f'pass@{k}_literal', float('nan')):.1f}% | "
            f"{m['mean_effective_length']:.1f} | {m['mean_exploration']:.3f} | "
            + " | ".join(f"{m['behaviours'][b]:.3f}" for b in BEHAVIOURS)
            + " |"
        )
    lines += ["", f"Load average at start {report['load_start']}, end {report['load_end']}.", ""]
    lines += ["## Sample responses (greedy, first 3 held-out problems)", ""]
    for name, _a, m in rows:
        lines += [f"### {name}", ""]
        for s in m["samples"]:
            lines += [
                f"- `{s['problem']}` (gold {s['gold']}):",
                "",
                "  ```",
                "  " + s["response"].replace("\n", "\n  "),
                "  ```",
                "",
            ]
    lines += ["Plots: " + ", ".join(f"`{Path(p).name}`" for p in report["plots"]), ""]
    return "\n".join(lines)


#: settings that must match for a partial record's arms to be kept by ``--resume``
_SAME = ("budget_s", "env_id", "difficulty", "model", "eval_n", "k", "max_new_tokens", "sampler")


def _resumed(
    args: argparse.Namespace, out: Path, report: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The report to continue and its finished arms, from ``out/ablation.partial.json``."""
    path = out / "ablation.partial.json"
    if not path.is_file():
        raise SystemExit(f"--resume: no partial record at {path}")
    old = json.loads(path.read_text())
    diff = [k for k in _SAME if old.get("args", {}).get(k) != vars(args).get(k)]
    if args.sft_checkpoint and old.get("start_checkpoint") != args.sft_checkpoint:
        diff.append("sft_checkpoint")
    if diff:
        raise SystemExit(f"--resume: {path} was run with other settings: {diff}")
    report = {
        **report,
        "start_checkpoint": old["start_checkpoint"],
        "start": old["start"],
        "resumed_from": {"started_utc": old.get("started_utc"), "command": old.get("command")},
    }
    done = {a["arm"]: a for a in old.get("arms", [])}
    _say(f"resuming {path}: arms kept {sorted(done)}")
    return report, done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="rlsp_ablation.py",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__[__doc__.index("examples:") :],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--budget-s", type=float, default=720.0, help="training wall-clock per arm")
    ap.add_argument("--arms", default=",".join(ARMS), help=f"comma-separated, of {ARMS}")
    ap.add_argument("--env-id", default=None, help="default: the demo's")
    ap.add_argument("--difficulty", type=int, default=None, help="default: the demo's")
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--sft-checkpoint", default=None, help="shared start (else SFT here)")
    ap.add_argument("--sft-examples", type=int, default=256)
    ap.add_argument("--sft-max-minutes", type=float, default=5.0)
    ap.add_argument("--eval-n", type=int, default=100)
    ap.add_argument("--k", type=int, default=4, help="samples per problem for pass@k")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="default: the demo's")
    ap.add_argument("--sampler", choices=["vllm", "transformers"], default="vllm")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="runs/ablation")
    ap.add_argument("--results-prefix", default="rlsp_ablation")
    ap.add_argument(
        "--resume",
        action="store_true",
        help="keep the arms already recorded in OUT/ablation.partial.json (same settings) and "
        "run only the others",
    )
    args = ap.parse_args(argv)
    from rlsp_agents.demo import DemoConfig

    d = DemoConfig()
    args.env_id = d.env_id if args.env_id is None else args.env_id
    args.difficulty = d.difficulty if args.difficulty is None else args.difficulty
    args.max_new_tokens = d.max_new_tokens if args.max_new_tokens is None else args.max_new_tokens
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    bad = [a for a in arms if a not in ARMS]
    if bad or not arms:
        ap.error(f"unknown arms {bad}; arms: {list(ARMS)}")
    if args.budget_s <= 0 or args.eval_n < 1 or args.k < 1:
        ap.error("--budget-s must be > 0, --eval-n and --k >= 1")
    if args.threads is None and os.getloadavg()[0] > (os.cpu_count() or 1):
        args.threads = 1  # see DemoConfig.threads

    from rlsp_agents.sampler import engine_logs_to

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    _say(f"engine logs -> {out / 'engine.log'}; arms {arms}, {args.budget_s:.0f} s each")
    report: dict[str, Any] = {
        "command": "python benchmarks/rlsp_ablation.py " + " ".join(argv or sys.argv[1:]),
        "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "arms": [],
    }
    done: dict[str, dict[str, Any]] = {}
    if args.resume:
        report, done = _resumed(args, out, report)
    with engine_logs_to(out / "engine.log"):
        if "start" not in report:
            start = shared_sft(args, out)
            report["start_checkpoint"] = start
            _say("measuring the shared checkpoint")
            with _sampler(args, start) as s:
                report["start"] = measure(args, start, s)
        start = report["start_checkpoint"]
        for i, arm in enumerate(arms, 1):
            if arm in done:
                _say(f"arm {i}/{len(arms)}: {arm}: kept from the partial record")
                report["arms"].append(done[arm])
                continue
            _say(f"arm {i}/{len(arms)}: {arm}")
            report["arms"].append(run_arm(args, arm, start, out))
            (out / "ablation.partial.json").write_text(json.dumps(report, indent=2, default=str))
    report["finished_utc"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    report["load_end"] = [round(x, 2) for x in os.getloadavg()]
    report["plots"] = plot(report, args.results_prefix)
    (RESULTS / f"{args.results_prefix}.json").write_text(json.dumps(report, indent=2, default=str))
    md = markdown(report)
    (RESULTS / f"{args.results_prefix}.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
