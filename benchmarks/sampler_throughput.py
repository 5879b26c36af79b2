"""Sampling throughput, vLLM vs transformers in the same run, and the time of a weight sync.

Prompts are real: the chat messages of ``rlsp/Arithmetic-v0`` problems (through ``gym.make``), as
the trainer samples them. Each back end gets a warm-up call, then ``--prompts`` prompts x up to
``--max-new-tokens`` new tokens at the RL sampling temperature, timed wall-clock. Generated tokens
count the EOS token when one is produced. Weight sync: the time of ``sampler.sync_weights(policy)``
for each vLLM sync method, with the policy in bfloat16 and in float32 (a trainer's master weights),
median of ``--sync-repeats``.

Results: ``benchmarks/results/sampler_throughput.{json,md,png}``.

    python benchmarks/sampler_throughput.py                       # the committed numbers
    python benchmarks/sampler_throughput.py --prompts 16 --max-new-tokens 32   # quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _prompts(count: int) -> list[list[dict[str, str]]]:
    import gymnasium as gym

    import rlsp_env  # noqa: F401

    env = gym.make("rlsp/Arithmetic-v0", eval_mode=True, split="train", num_problems=count)
    prompts = []
    for i in range(count):
        _, info = env.reset(seed=0 if i == 0 else None, options={"index": i})
        prompts.append(info["messages"])
    return prompts


def _time_generate(sampler, prompts, args) -> dict:
    sampler.generate(prompts[:4], n=1, max_new_tokens=8, temperature=args.temperature)  # warm-up
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    outs = sampler.generate(
        prompts,
        n=1,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        progress=True,
    )
    wall = time.perf_counter() - t0
    tokens = sum(len(c.token_ids) for row in outs for c in row)
    return {
        "wall_s": wall,
        "generated_tokens": tokens,
        "tokens_per_s": tokens / wall,
        "mean_tokens_per_completion": tokens / len(prompts),
        "stopped_fraction": sum(c.finish_reason == "stop" for row in outs for c in row)
        / len(prompts),
        "loadavg_1min_before": load0,
        "loadavg_1min_after": os.getloadavg()[0],
    }


def _time_sync(sampler, model_path: str, repeats: int) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    out: dict[str, dict] = {}
    for dtype in ("bfloat16", "float32"):
        policy = AutoModelForCausalLM.from_pretrained(model_path, dtype=getattr(torch, dtype))
        for method in ("inplace", "disk"):
            sampler.sync_method = method
            times = []
            for _ in range(repeats):
                sampler.sync_weights(policy)
                times.append(sampler.last_sync_s)
            out[f"{method}/{dtype}"] = {
                "median_s": statistics.median(times),
                "min_s": min(times),
                "times_s": times,
            }
        del policy
    return out


def _plot(res: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(res["generation"])
    vals = [res["generation"][k]["tokens_per_s"] for k in names]
    bars = a.bar(names, vals, color=["tab:green", "tab:gray"][: len(names)])
    for bar, v in zip(bars, vals):
        a.text(bar.get_x() + bar.get_width() / 2, v, f"{v:.0f}", ha="center", va="bottom")
    a.set_ylabel("generated tokens / s")
    a.set_title(
        f"{res['config']['prompts']} prompts x <= {res['config']['max_new_tokens']} tokens, "
        f"T={res['config']['temperature']}",
        fontsize=9,
    )
    if res.get("sync"):
        names = list(res["sync"])
        vals = [res["sync"][k]["median_s"] for k in names]
        bars = b.bar(names, vals, color="tab:blue")
        for bar, v in zip(bars, vals):
            b.text(bar.get_x() + bar.get_width() / 2, v, f"{v:.2f}", ha="center", va="bottom")
        b.set_ylabel("seconds (median)")
        b.set_title("vLLM weight sync (method/policy dtype)", fontsize=9)
    fig.suptitle(
        f"sampler throughput, {res['config']['model_name']}, {res['machine']['cpus']} CPUs "
        f"(load avg during run: {res['machine']['loadavg_1min_max']:.1f})",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(res: dict) -> str:
    c, m = res["config"], res["machine"]
    lines = [
        "# Sampler throughput: vLLM vs transformers, and weight-sync time",
        "",
        f"Command: `{res['command']}`  ",
        f"Date: {res['date']} | {m['cpus']} CPUs | torch {m['torch']} | vllm {m['vllm']} | "
        f"transformers {m['transformers']}  ",
        f"Model: {c['model_name']} ({c['dtype']}), {c['prompts']} prompts (rlsp/Arithmetic-v0 chat "
        f"messages) x up to {c['max_new_tokens']} new tokens, temperature {c['temperature']}, "
        f"transformers batch size {c['tf_batch_size']}, {c['threads']} torch thread(s) for both.  ",
        f"Machine load (1-min load average) during the run: {m['loadavg_1min_min']:.1f} to "
        f"{m['loadavg_1min_max']:.1f} on {m['cpus']} cores"
        + (
            " -- **the machine was shared with other jobs**: absolute numbers are lower than on an "
            "idle machine; the ratio is the comparable figure."
            if m["loadavg_1min_max"] > m["cpus"] + 0.5
            else "."
        ),
        "",
        "| back end | wall (s) | generated tokens | tokens/s | mean tokens/completion | stopped |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for k, g in res["generation"].items():
        lines.append(
            f"| {k} | {g['wall_s']:.1f} | {g['generated_tokens']} | {g['tokens_per_s']:.1f} | "
            f"{g['mean_tokens_per_completion']:.1f} | {100 * g['stopped_fraction']:.0f}% |"
        )
    if "speedup_vllm_over_transformers" in res:
        lines += ["", f"vLLM / transformers: **{res['speedup_vllm_over_transformers']:.2f}x**."]
    if res.get("sync"):
        lines += [
            "",
            "| weight sync (method / policy dtype) | median (s) | min (s) |",
            "|---|---:|---:|",
        ]
        for k, s in res["sync"].items():
            lines.append(f"| {k} | {s['median_s']:.3f} | {s['min_s']:.3f} |")
        lines += [
            "",
            "`inplace`: tensors handed to vLLM's in-place reloader in memory "
            "(`collective_rpc('reload_weights', weights_iterator=...)`); `disk`: safetensors "
            "written into the engine's private model copy, then `reload_weights` from it.",
        ]
    return "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", default="smollm2-135m")
    p.add_argument("--prompts", type=int, default=128)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--dtype", default="native")
    p.add_argument("--tf-batch-size", type=int, default=64)
    p.add_argument("--sync-repeats", type=int, default=3)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads for both back ends (vLLM's own serving default is 1; 2 OpenMP "
        "threads on a shared 2-core machine collapse under load)",
    )
    p.add_argument("--backends", nargs="+", default=["vllm", "transformers"])
    p.add_argument("--out", type=Path, default=RESULTS)
    p.add_argument("--name", default="sampler_throughput", help="result file stem")
    args = p.parse_args()

    import torch
    import transformers
    import vllm

    from rlsp_agents.models import resolve_model
    from rlsp_agents.sampler import make_sampler

    torch.set_num_threads(args.threads)
    model_path = resolve_model(args.model)
    prompts = _prompts(args.prompts)
    loads = [os.getloadavg()[0]]
    res: dict = {
        "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "config": {
            "model_name": args.model,
            "dtype": args.dtype,
            "prompts": args.prompts,
            "max_new_tokens": args.max_new_tokens,
            "temperature": args.temperature,
            "tf_batch_size": args.tf_batch_size,
            "threads": args.threads,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "vllm": vllm.__version__,
            "transformers": transformers.__version__,
        },
        "generation": {},
    }
    for backend in args.backends:
        kw = (
            {"batch_size": args.tf_batch_size}
            if backend == "transformers"
            else {"cpu_threads": args.threads}
        )
        t0 = time.perf_counter()
        with make_sampler(
            backend, model_path, seed=0, max_model_len=1024, dtype=args.dtype, **kw
        ) as s:
            start_s = time.perf_counter() - t0
            res["generation"][backend] = _time_generate(s, prompts, args)
            res["generation"][backend]["startup_s"] = start_s
            loads.append(os.getloadavg()[0])
            if backend == "vllm" and args.sync_repeats > 0:
                res["sync"] = _time_sync(s, model_path, args.sync_repeats)
        loads.append(os.getloadavg()[0])
        g = res["generation"][backend]
        print(f"{backend}: {g['tokens_per_s']:.1f} tokens/s ({g['generated_tokens']} tokens)")
    gen = res["generation"]
    if "vllm" in gen and "transformers" in gen:
        res["speedup_vllm_over_transformers"] = (
            gen["vllm"]["tokens_per_s"] / gen["transformers"]["tokens_per_s"]
        )
    loads += [g["loadavg_1min_before"] for g in gen.values()]
    res["machine"]["loadavg_1min_min"] = min(loads)
    res["machine"]["loadavg_1min_max"] = max(loads)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(res, indent=2) + "\n")
    (args.out / f"{args.name}.md").write_text(_markdown(res))
    _plot(res, args.out / f"{args.name}.png")
    print(_markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
