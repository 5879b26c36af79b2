"""``rlsp demo``: the main job. RLSP on the embedded default model, on a CPU, measured end to end.

1. evaluate the untrained model (greedy) on held-out problems of the procedural task
   (:data:`DEFAULT_ENV_ID`, difficulty :data:`DEFAULT_DIFFICULTY`: two-step word problems,
   ``split="test"``);
2. optionally a short SFT on the task's worked solutions (``split="train"``), evaluate again;
3. RLSP: PPO with **decoupled** advantages (a value head per channel) over correctness, format and
   exploration (the ``cpu-smollm2-rlsp`` preset: weights 1 / 0.5 / 0.1, exploration annealed as
   correctness rises, the correctness gate), the exploration channel's ``L`` set to the response
   budget (``max_new_tokens``); ``--ppo-preset cpu-smollm2`` for correctness-only ``group``
   advantages; evaluate again;
4. print a before/after table (base, after SFT, after PPO), measure sampling throughput of vLLM vs
   transformers on the same prompts, and save JSON + plots under ``runs/demo`` (or ``--out``).

Engine logs (vLLM INFO / WARNING, transformers, Python warnings) go to ``OUT/engine.log``; the
terminal shows the stages, progress bars, the final table and where the plots are. Every PPO
iteration's within-batch spread (standard deviation) of each reward channel is recorded in
``OUT/ppo/channel_spread.jsonl``: a channel that is constant over a batch gives PPO nothing.

The training clock (SFT + PPO wall-clock, evaluation and model loading excluded) is reported
beside the accuracies, with the time split of a PPO iteration (sample / verify / train / sync).

Example:
    >>> from rlsp_agents.demo import DemoConfig
    >>> DemoConfig().env_id, DemoConfig().difficulty
    ('rlsp/WordProblem-v0', 2)
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rlsp_agents.presets import PRESETS

__all__ = [
    "DEFAULT_DIFFICULTY",
    "DEFAULT_ENV_ID",
    "DemoConfig",
    "run_demo",
    "main",
    "COMMAND",
    "HELP",
]

#: the main job's task: two-step word problems (``rlsp/WordProblem-v0`` difficulty 2: packs of k
#: items, n packs, plus a items already owned), where the answer needs an intermediate result. After
#: the short SFT (64 worked solutions) the model writes the first step only (``The packs hold 8 \times
#: 3 = 24`` and boxes 24): 8.5%; PPO makes it take the second step: 0.0% -> 8.5% -> 66.0%
#: (``benchmarks/results/train_demo_wp2.md``, run 11 in ``docs/rlsp_results.md``). 2-digit addition
#: (``rlsp/Arithmetic-v0`` difficulty 1, the main job until run 10) is nearly a lookup for this model;
#: 3-step word problems and 2-digit products stay at 3-8% after SFT (``docs/rlsp_results.md``).
#: The task is the PPO preset's, so that ``rlsp train --preset cpu-smollm2-rlsp`` and the demo agree.
DEFAULT_PPO_PRESET = "cpu-smollm2-rlsp"
_MAIN_TASK = PRESETS[DEFAULT_PPO_PRESET]
if _MAIN_TASK.difficulty is None:  # pragma: no cover - a procedural task always has one
    raise RuntimeError(f"preset {DEFAULT_PPO_PRESET!r} names no difficulty")
DEFAULT_ENV_ID: str = _MAIN_TASK.env_id
DEFAULT_DIFFICULTY: int = _MAIN_TASK.difficulty

COMMAND = "demo"
HELP = "the main job: evaluate, SFT, PPO, evaluate again on the embedded model (CPU friendly)"


@dataclass
class DemoConfig:
    """The main job: base -> SFT -> PPO on a procedural task, with held-out evaluations."""

    model: str = "smollm2-135m"
    """Starting model (the embedded SmolLM2-135M-Instruct by default)."""
    env_id: str = DEFAULT_ENV_ID
    """Procedural task to learn."""
    difficulty: int = DEFAULT_DIFFICULTY
    """Task difficulty (word problems: 1 one step, 2 two, 3 three steps; arithmetic: 1 2-digit
    addition, 4 2-digit x 2-digit, 5 ``(a + b) x c - d``)."""
    eval_n: int = 200
    """Held-out problems per evaluation (greedy, ``split="test"``)."""
    max_new_tokens: int = 96
    """Longest response, for sampling and evaluation."""
    sampler: Literal["vllm", "transformers"] = "vllm"
    """Sampling back end for training and evaluation."""
    sft: bool = True
    """Run the short SFT stage on worked solutions before PPO."""
    sft_examples: int = 64
    """Worked solutions for SFT (one pass, 4 steps): a short SFT that teaches the format and
    leaves room for RL (on the default task, 64 -> 8.5%, 80 -> 36.5%, 96 -> 65% held-out)."""
    sft_lr: float = 1e-4
    """SFT peak learning rate."""
    sft_batch_size: int = 16
    """SFT sequences per optimizer step."""
    sft_max_minutes: float = 4.0
    """Time cap of the SFT stage."""
    ppo_preset: str = DEFAULT_PPO_PRESET
    """``rlsp train`` preset for the PPO stage."""
    ppo_steps: int | None = None
    """PPO iterations (default: the preset's)."""
    ppo_prompts_per_step: int | None = None
    """Problems per PPO iteration (default: the preset's)."""
    ppo_samples_per_prompt: int | None = None
    """Responses per problem (default: the preset's)."""
    ppo_max_minutes: float = 13.5
    """Time cap of the PPO stage (the iteration in progress finishes)."""
    advantage: Literal["decoupled", "rlsp", "group"] | None = None
    """Override the preset's advantage mode."""
    compare_samplers: bool = True
    """Measure vLLM vs transformers sampling throughput on the same prompts (needs vLLM)."""
    compare_prompts: int = 32
    """Prompts (x 2 samples) for the throughput comparison."""
    seed: int = 0
    """Seed of every stage."""
    out: str = "runs/demo"
    """Output directory: demo.json, demo.md, plots, the SFT and PPO runs."""
    threads: int | None = None
    """torch CPU threads (default: all cores, or 1 when the machine is already loaded: load
    average above the core count. On a shared 2-core machine, measured, an SFT step took 82 s at
    2 threads and 30 s at 1: OpenMP threads wait on each other whenever one is descheduled)."""


def _say(msg: str) -> None:
    print(f"[rlsp demo] {msg}", file=sys.stderr, flush=True)


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def _eval(cfg: DemoConfig, model: str, sampler: Any, label: str) -> dict[str, Any]:
    from rlsp_agents.evaluate import evaluate, literal_form

    t0 = time.perf_counter()
    res = evaluate(
        cfg.env_id,
        model,
        limit=cfg.eval_n,
        sampler=sampler,
        backend=cfg.sampler,
        temperature=0.0,
        max_new_tokens=cfg.max_new_tokens,
        env_kwargs={"split": "test", "difficulty": cfg.difficulty},
        seed=cfg.seed,
        keep_texts=True,
        progress=False,
    )
    # The literal accuracy asks, beside the verifier, that the boxed answer state the gold number
    # itself (see literal_form): "29 + 89" for 118 is refused, "29 + 89 = 118" is counted apart.
    total = literal = as_expression = as_chain = 0
    for rec in res.records:
        for ok, ex in zip(rec.correct, rec.extracted):
            total += 1
            form = literal_form(ex, rec.gold) if ok else None
            literal += form is not None
            as_chain += form == "chain"
            as_expression += bool(ok) and form is None
    out = {
        "stage": label,
        "accuracy": float(res.accuracy),
        "literal_accuracy": literal / max(total, 1),
        "correct_as_expression": as_expression / max(total, 1),
        "correct_as_chain": as_chain / max(total, 1),
        "mean_response_tokens": float(res.mean_response_tokens),
        "answered_rate": float(res.answered_rate),
        "truncated_rate": float(res.truncated_rate),
        "eval_seconds": time.perf_counter() - t0,
        "eval_tokens_per_s": float(res.tokens_per_s),
        "problems": int(res.num_problems),
        "example": (res.records[0].texts[0] if res.records and res.records[0].texts else ""),
    }
    from rlsp_env.exploration import exploration_reward

    texts = [t for rec in res.records for t in (rec.texts or [])]
    out["mean_exploration"] = (
        sum(exploration_reward(t, length_scale=cfg.max_new_tokens) for t in texts) / len(texts)
        if texts
        else None
    )
    _say(
        f"{label}: accuracy {100 * out['accuracy']:.1f}% (literal {100 * out['literal_accuracy']:.1f}%) "
        f"on {out['problems']} held-out problems, {out['mean_response_tokens']:.0f} tokens a "
        f"response ({out['eval_seconds']:.0f} s)"
    )
    return out


def _spread_logger(path: Path, records: list[dict[str, Any]]) -> Any:
    """An ``on_step`` callback: each channel's mean and within-batch std, one JSON line a step."""
    import statistics

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")

    def on_step(info: dict[str, Any]) -> None:
        rows = info["rollouts"]
        rec: dict[str, Any] = {"step": info["step"], "n": len(rows)}
        for c in sorted(rows[0].rewards) if rows else []:
            vals = [float(r.rewards.get(c, 0.0)) for r in rows]
            rec[f"{c}_mean"] = statistics.fmean(vals)
            rec[f"{c}_std"] = statistics.pstdev(vals) if len(vals) > 1 else 0.0
        rec["sample"] = rows[0].text if rows else ""
        records.append(rec)
        with path.open("a") as f:
            f.write(json.dumps(rec) + "\n")

    return on_step


def _throughput(cfg: DemoConfig, model_dir: str) -> dict[str, Any]:
    """Sampling tokens/s of vLLM and transformers on the same prompts, same settings."""
    import gymnasium as gym

    import rlsp_env  # noqa: F401
    from rlsp_agents.sampler import make_sampler, vllm_available

    env = gym.make(cfg.env_id, split="train", difficulty=cfg.difficulty)
    prompts = []  # message lists: each sampler applies the model's chat template
    for j in range(cfg.compare_prompts):
        _, info = env.reset(seed=99_000 + j)
        prompts.append(info["messages"])
    env.close()
    result: dict[str, Any] = {
        "prompts": len(prompts),
        "samples_per_prompt": 2,
        "max_new_tokens": cfg.max_new_tokens,
    }
    backends = ["vllm", "transformers"] if vllm_available() else ["transformers"]
    for backend in backends:
        with make_sampler(
            backend, model_dir, seed=cfg.seed, max_model_len=cfg.max_new_tokens + 1024
        ) as s:
            s.generate(prompts[:2], n=1, max_new_tokens=8, temperature=0.7)  # warm-up
            t0 = time.perf_counter()
            outs = s.generate(prompts, n=2, max_new_tokens=cfg.max_new_tokens, temperature=0.7)
            dt = time.perf_counter() - t0
        toks = sum(len(c.token_ids) for row in outs for c in row)
        result[backend] = {"tokens": toks, "seconds": dt, "tokens_per_s": toks / max(dt, 1e-9)}
    if "vllm" in result and "transformers" in result:
        result["speedup"] = result["vllm"]["tokens_per_s"] / max(
            result["transformers"]["tokens_per_s"], 1e-9
        )
    return result


def run_demo(cfg: DemoConfig) -> dict[str, Any]:
    """Runs the main job; returns (and writes to ``out/demo.json``) every number it measured."""
    from rlsp_agents.sampler import engine_logs_to

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "engine.log"
    _say(f"engine logs (vLLM, transformers, warnings) -> {log_path}")
    with engine_logs_to(log_path):
        report = _run_demo(cfg, out)
    report["engine_log"] = str(log_path)
    (out / "demo.json").write_text(json.dumps(report, indent=2, default=str))
    _print_table(report)
    return report


def _run_demo(cfg: DemoConfig, out: Path) -> dict[str, Any]:
    import torch

    from rlsp_agents.config import SFTConfig, parse_weights
    from rlsp_agents.metrics import read_metrics
    from rlsp_agents.models import resolve_model
    from rlsp_agents.plots import plot_before_after
    from rlsp_agents.presets import get_preset
    from rlsp_agents.sampler import make_sampler
    from rlsp_agents.sft import sft
    from rlsp_agents.train import train

    if cfg.threads is None:
        load = _load()
        cores = os.cpu_count() or 1
        cfg.threads = 1 if load and load[0] > cores else None
        if cfg.threads:
            _say(f"load average {load[0]:.1f} on {cores} cores: torch uses 1 thread")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    t_all = time.perf_counter()
    model_path = resolve_model(cfg.model)  # set-up (download + conversion once), not training
    report: dict[str, Any] = {
        "config": dict(cfg.__dict__),
        "model_path": model_path,
        "cpu_count": os.cpu_count(),
        "load_start": _load(),
        "stages": [],
    }

    def new_sampler(path: str) -> Any:
        if cfg.sampler == "transformers":
            return make_sampler("transformers", path, seed=cfg.seed)
        return make_sampler("vllm", path, seed=cfg.seed, max_model_len=cfg.max_new_tokens + 1024)

    # 1. the untrained model
    _say(f"stage 1/4: evaluate the untrained model on {cfg.eval_n} held-out problems")
    with new_sampler(model_path) as s:
        report["stages"].append(_eval(cfg, model_path, s, "base"))

    # 2. SFT on worked solutions (optional)
    start = model_path
    train_seconds = 0.0
    if cfg.sft:
        _say(f"stage 2/4: SFT on {cfg.sft_examples} worked solutions")
        scfg = SFTConfig(
            model=model_path,
            env_id=cfg.env_id,
            difficulty=cfg.difficulty,
            num_examples=cfg.sft_examples,
            epochs=1.0,
            batch_size=cfg.sft_batch_size,
            micro_batch_size=8,
            lr=cfg.sft_lr,
            max_minutes=cfg.sft_max_minutes,
            seed=cfg.seed,
            out=str(out / "sft"),
            threads=cfg.threads,
        )
        res = sft(scfg)
        report["sft"] = {k: v for k, v in res.items() if k != "config"}
        train_seconds += float(res["train_seconds"])
        start = res["final_model"]
        with new_sampler(start) as s:
            report["stages"].append(_eval(cfg, start, s, "after SFT"))

    # 3. PPO from there; the same sampler then evaluates the result (weights already synced)
    tcfg = get_preset(cfg.ppo_preset)
    tcfg.model = start
    tcfg.env_id = cfg.env_id
    tcfg.difficulty = cfg.difficulty
    tcfg.max_new_tokens = cfg.max_new_tokens
    tcfg.sampler = cfg.sampler
    tcfg.seed = cfg.seed
    tcfg.out = str(out / "ppo")
    tcfg.max_minutes = cfg.ppo_max_minutes
    tcfg.threads = cfg.threads
    # the exploration channel's range: the response budget (docs/exploration.md)
    env_kwargs = {**tcfg.env_kwargs_dict(), "length_scale": float(cfg.max_new_tokens)}
    env_kwargs.pop("difficulty", None)
    tcfg.env_kwargs = env_kwargs
    if cfg.ppo_steps is not None:
        tcfg.total_steps = cfg.ppo_steps
    if cfg.ppo_prompts_per_step is not None:
        tcfg.prompts_per_step = cfg.ppo_prompts_per_step
    if cfg.ppo_samples_per_prompt is not None:
        tcfg.samples_per_prompt = cfg.ppo_samples_per_prompt
    if cfg.advantage is not None:
        tcfg.advantage = cfg.advantage
    spread: list[dict[str, Any]] = []
    on_step = _spread_logger(Path(tcfg.out) / "channel_spread.jsonl", spread)
    _say(
        f"stage 3/4: PPO ({tcfg.advantage} advantages, weights {tcfg.channel_weights}, schedule "
        f"{tcfg.weight_schedule}, up to {tcfg.total_steps} iterations / {cfg.ppo_max_minutes:g} min)"
    )
    if cfg.sampler == "transformers":
        summary = train(tcfg, on_step=on_step)
        ppo_model = summary["final_model"]
        with new_sampler(ppo_model) as s:
            report["stages"].append(_eval(cfg, ppo_model, s, "after PPO"))
    else:
        with new_sampler(start) as s:
            summary = train(tcfg, sampler=s, on_step=on_step)
            ppo_model = summary["final_model"]
            report["stages"].append(_eval(cfg, ppo_model, s, "after PPO"))
    rows = read_metrics(Path(tcfg.out) / "metrics.jsonl")
    ppo_seconds = float(rows[-1]["time/elapsed"]) if rows else 0.0
    train_seconds += ppo_seconds
    phases = [
        "time/sample",
        "time/verify",
        "time/advantage",
        "time/train",
        "time/sync",
        "time/step",
    ]
    report["ppo"] = {
        "steps": len(rows),
        "seconds": ppo_seconds,
        "rollout_size": tcfg.rollout_size,
        "advantage": tcfg.advantage,
        "channel_weights": tcfg.channel_weights,
        "weight_schedule": tcfg.weight_schedule,
        "env_kwargs": tcfg.env_kwargs,
        "channel_spread": spread,
        "mean_time_split_s": {
            p.split("/")[1]: sum(float(r.get(p) or 0.0) for r in rows) / max(len(rows), 1)
            for p in phases
        },
        "train_accuracy_first": rows[0]["charts/accuracy"] if rows else None,
        "train_accuracy_last": rows[-1]["charts/accuracy"] if rows else None,
        "sample_tokens_per_s": sum(r["charts/sample_tokens_per_s"] for r in rows)
        / max(len(rows), 1),
        "train_tokens_per_s": sum(r["charts/tokens_per_s"] for r in rows) / max(len(rows), 1),
        "plots": summary.get("plots", []),
    }
    report["train_seconds"] = train_seconds
    report["load_after_training"] = _load()

    # 4. vLLM vs transformers sampling throughput, same prompts, same run
    if cfg.compare_samplers:
        _say("stage 4/4: vLLM vs transformers sampling throughput")
        # on the checkpoint PPO started from: its responses are long enough for a fair comparison
        # (a policy that learned to answer in 15 tokens measures mostly per-call overhead)
        report["sampler_throughput"] = _throughput(cfg, start)

    # the bars are judged on the literal accuracy (the stricter of the two; equal when the
    # verifier accepts no answer that does not state the gold number, see literal_form)
    accs = {s["stage"]: s["literal_accuracy"] for s in report["stages"]}
    base = accs["base"]
    before_ppo = accs.get("after SFT", base)
    report["gain_total_points"] = 100 * (accs["after PPO"] - base)
    report["gain_ppo_points"] = 100 * (accs["after PPO"] - before_ppo)
    weighted = {k for k, v in parse_weights(tcfg.channel_weights).items() if v != 0.0}
    report["bars"] = {
        "total_gain_ge_15_points": report["gain_total_points"] >= 15.0,
        "ppo_gain_ge_5_points": report["gain_ppo_points"] >= 5.0,
        "training_within_20_min": train_seconds <= 20 * 60,
        "literal_equals_verifier": all(
            s["literal_accuracy"] == s["accuracy"] for s in report["stages"]
        ),
    }
    if tcfg.advantage == "decoupled" and "exploration" in weighted:
        report["bars"]["exploration_std_gt_0_every_iteration"] = bool(spread) and all(
            r.get("exploration_std", 0.0) > 0.0 for r in spread
        )
    report["wall_seconds"] = time.perf_counter() - t_all
    report["load_end"] = _load()
    plot_before_after(
        [(s["stage"], s["literal_accuracy"]) for s in report["stages"]],
        out / "before_after.png",
        title=f"{cfg.env_id} (difficulty {cfg.difficulty}), held-out greedy accuracy",
    )
    report["plot"] = str(out / "before_after.png")
    (out / "demo.md").write_text(markdown_report(report))
    return report


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:.3f}"


def markdown_report(report: dict[str, Any]) -> str:
    """The before/after table, the time split and the throughput comparison as Markdown."""
    lines = [
        "| stage | held-out accuracy (verifier) | literal accuracy | change (literal) | literal, boxed as an equation chain | accepted only as an expression | mean response tokens | mean exploration | answered |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    prev = None
    for s in report["stages"]:
        lit = s.get("literal_accuracy", s["accuracy"])
        change = "" if prev is None else f"{100 * (lit - prev):+.1f} pts"
        lines.append(
            f"| {s['stage']} | {100 * s['accuracy']:.1f}% | {100 * lit:.1f}% | {change} | "
            f"{100 * s.get('correct_as_chain', 0.0):.1f}% | "
            f"{100 * s.get('correct_as_expression', 0.0):.1f}% | {s['mean_response_tokens']:.1f} | "
            f"{_fmt(s.get('mean_exploration'))} | {100 * s['answered_rate']:.0f}% |"
        )
        prev = lit
    ppo = report.get("ppo", {})
    lines += [
        "",
        f"Training wall-clock (SFT + PPO, evaluation excluded): {report['train_seconds'] / 60:.1f} min; "
        f"PPO: {ppo.get('steps')} iterations of {ppo.get('rollout_size')} responses, mode `{ppo.get('advantage')}`, "
        f"channel weights `{ppo.get('channel_weights')}`, schedule `{ppo.get('weight_schedule')}`, "
        f"env `{ppo.get('env_kwargs')}`.",
        "",
        "Mean exploration: the exploration channel (`rlsp_env.exploration`, L = max_new_tokens) of the "
        "held-out greedy responses.",
        "",
        "Mean time per PPO iteration (s): "
        + ", ".join(f"{k} {v:.1f}" for k, v in ppo.get("mean_time_split_s", {}).items()),
    ]
    tp = report.get("sampler_throughput")
    if tp:
        parts = [
            f"{b} {tp[b]['tokens_per_s']:.0f} tokens/s" for b in ("vllm", "transformers") if b in tp
        ]
        extra = f" (vLLM {tp['speedup']:.1f}x)" if "speedup" in tp else ""
        lines += ["", "Sampling throughput, same prompts: " + ", ".join(parts) + extra]
    lines += [
        "",
        f"Machine load average (1/5/15 min) at start {report.get('load_start')}, end {report.get('load_end')}.",
    ]
    return "\n".join(lines) + "\n"


def _print_table(report: dict[str, Any]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover
        print(markdown_report(report))
        return
    table = Table(title="RLSP main job: held-out greedy accuracy")
    for col in ("stage", "accuracy", "literal accuracy", "change", "mean tokens"):
        table.add_column(col)
    prev = None
    for s in report["stages"]:
        lit = s["literal_accuracy"]
        change = "" if prev is None else f"{100 * (lit - prev):+.1f} pts"
        table.add_row(
            s["stage"],
            f"{100 * s['accuracy']:.1f}%",
            f"{100 * lit:.1f}%",
            change,
            f"{s['mean_response_tokens']:.1f}",
        )
        prev = lit
    console = Console()
    console.print(table)
    console.print(
        f"training wall-clock {report['train_seconds'] / 60:.1f} min | total gain "
        f"{report['gain_total_points']:+.1f} pts | PPO gain {report['gain_ppo_points']:+.1f} pts | "
        f"results: {Path(report['plot']).parent}"
    )


DESCRIPTION = """The main job: RLSP on the embedded SmolLM2-135M-Instruct, on a CPU.

Evaluates the untrained model on held-out two-step word problems (greedy), runs a short SFT on
worked solutions, then RLSP: PPO with decoupled advantages over correctness, format and exploration
(exploration annealed as correctness rises, the correctness gate), evaluates after each stage and
prints a before/after table (--ppo-preset cpu-smollm2: correctness-only group advantages).
Engine logs go to OUT/engine.log. Results: OUT/demo.json, OUT/demo.md,
OUT/before_after.png, OUT/ppo/plots/*.png, OUT/ppo/channel_spread.jsonl.

examples:
  rlsp demo                                  # the full main job (about 20 minutes on 2 cores)
  rlsp demo --out runs/demo2 --no-sft        # PPO only, from the untrained model
  rlsp demo --eval-n 100 --ppo-steps 6 --no-compare-samplers   # a shorter run
  rlsp demo --env-id rlsp/Arithmetic-v0 --difficulty 1 --sft-examples 96   # 2-digit addition
  rlsp demo --env-id rlsp/Arithmetic-v0 --difficulty 5         # (a + b) x c - d instead
  rlsp demo --ppo-preset cpu-smollm2         # correctness-only group advantages, for comparison
  rlsp demo --env-id rlsp/WordProblem-v0 --difficulty 3 --max-new-tokens 128 --sft-examples 288
  rlsp demo --sampler transformers           # without vLLM
"""


def main(argv: list[str] | None = None) -> int:
    """``rlsp demo [options]``; ``--help`` lists every option."""
    import tyro

    args = list(sys.argv[1:] if argv is None else argv)
    cfg = tyro.cli(DemoConfig, args=args, prog="rlsp demo", description=DESCRIPTION)
    try:
        run_demo(cfg)
    except (ValueError, KeyError, FileNotFoundError) as e:
        print(f"rlsp demo: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
