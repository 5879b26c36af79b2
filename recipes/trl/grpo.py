"""GRPO with TRL at 7B scale on an rlsp environment: bf16, vLLM generation, one reward per channel.

Launch it with ``accelerate`` (recipes/trl/run.sh does, for both vLLM modes)::

    # vLLM colocated with training on all 8 GPUs
    accelerate launch --config_file recipes/trl/accelerate/zero3.yaml recipes/trl/grpo.py \\
        --vllm-mode colocate
    # vLLM as a separate server on GPU 0 (trl vllm-serve), training on GPUs 1-7
    CUDA_VISIBLE_DEVICES=0 trl vllm-serve --model Qwen/Qwen2.5-7B-Instruct &
    CUDA_VISIBLE_DEVICES=1,2,3,4,5,6,7 accelerate launch --num_processes 7 \\
        --config_file recipes/trl/accelerate/zero2.yaml recipes/trl/grpo.py --vllm-mode server
    # print the TRL config this would train with, load nothing (runs on a CPU)
    python recipes/trl/grpo.py --dry-run

Each rlsp reward channel is one TRL reward function (``rlsp_env.integrations.trl.grpo_setup``),
combined with explicit ``reward_weights`` after per-channel group normalisation
(``multi_objective_aggregation="normalize_then_sum"``). TRL 1.16's vLLM modes need the ``vllm``
package 0.22.0-0.31.0 (``pip install "rlsp[agent,vllm-cuda,integrations]"``) and CUDA.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

EPILOG = """examples:
  python recipes/trl/grpo.py --dry-run
  accelerate launch --config_file recipes/trl/accelerate/zero3.yaml recipes/trl/grpo.py --vllm-mode colocate
  accelerate launch --num_processes 7 --config_file recipes/trl/accelerate/zero2.yaml \\
      recipes/trl/grpo.py --vllm-mode server --vllm-server-host 127.0.0.1
  python recipes/trl/grpo.py --model Qwen/Qwen2.5-0.5B-Instruct --vllm-mode colocate --num-generations 8
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", default="Qwen/Qwen2.5-7B-Instruct", help="Hub id or local folder")
    p.add_argument("--env", default="rlsp/MATH-v0", help="a registered rlsp env id")
    p.add_argument("--split", default="train", help="the env's split (train/test/all)")
    p.add_argument("--n", type=int, default=3633, help="number of training prompts")
    p.add_argument(
        "--weights",
        default='{"correctness": 1.0, "format": 0.5, "exploration": 0.1}',
        help="a preset of rlsp_env.rewards.PRESETS or a JSON object of channel weights",
    )
    p.add_argument(
        "--reward-workers", type=int, default=8, help="verifier processes (hard per-item timeout)"
    )
    p.add_argument("--vllm-mode", choices=["colocate", "server", "none"], default="colocate")
    p.add_argument("--vllm-server-host", default="127.0.0.1")
    p.add_argument("--vllm-server-port", type=int, default=8000)
    p.add_argument("--vllm-gpu-memory-utilization", type=float, default=0.3, help="colocate mode")
    p.add_argument("--vllm-tensor-parallel-size", type=int, default=1, help="colocate mode")
    p.add_argument("--num-generations", type=int, default=8, help="responses per prompt (group)")
    p.add_argument("--per-device-train-batch-size", type=int, default=8)
    p.add_argument("--gradient-accumulation-steps", type=int, default=4)
    p.add_argument("--max-completion-length", type=int, default=2048)
    p.add_argument("--temperature", type=float, default=0.7, help="the RLSP paper's")
    p.add_argument("--learning-rate", type=float, default=1e-6)
    p.add_argument("--beta", type=float, default=0.0, help="KL coefficient (0: no reference)")
    p.add_argument("--max-steps", type=int, default=500)
    p.add_argument("--save-steps", type=int, default=50)
    p.add_argument("--output-dir", default="runs/trl-grpo-7b")
    p.add_argument("--report-to", default="none", help="none, wandb, tensorboard, ...")
    p.add_argument("--dry-run", action="store_true", help="print the TRL config and stop")
    args = p.parse_args(argv)
    for name in ("n", "num_generations", "per_device_train_batch_size", "max_steps"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.num_generations < 2:
        p.error("--num-generations must be >= 2 (GRPO normalises within a group)")
    try:
        args.weights = json.loads(args.weights) if args.weights.startswith("{") else args.weights
    except json.JSONDecodeError as exc:
        p.error(f"--weights is not valid JSON: {exc}")
    return args


def make_config(args: argparse.Namespace, reward_weights: list[float]) -> Any:
    """TRL's ``GRPOConfig`` for these arguments (bf16 weights and compute, vLLM generation).

    On a machine without CUDA (only useful with ``--dry-run``) ``use_cpu`` is set, since
    transformers refuses ``bf16`` there otherwise.
    """
    import torch
    from trl import GRPOConfig

    vllm: dict[str, Any] = {"use_vllm": args.vllm_mode != "none"}
    if args.vllm_mode == "server":
        vllm.update(
            vllm_mode="server",
            vllm_server_host=args.vllm_server_host,
            vllm_server_port=args.vllm_server_port,
        )
    elif args.vllm_mode == "colocate":
        vllm.update(
            vllm_mode="colocate",
            vllm_gpu_memory_utilization=args.vllm_gpu_memory_utilization,
            vllm_tensor_parallel_size=args.vllm_tensor_parallel_size,
            vllm_enable_sleep_mode=True,  # frees vLLM's memory during the optimizer step
        )
    return GRPOConfig(
        output_dir=args.output_dir,
        bf16=True,
        model_init_kwargs={"dtype": "bfloat16"},
        gradient_checkpointing=True,
        reward_weights=reward_weights,  # weight 0: logged, not optimised
        multi_objective_aggregation="normalize_then_sum",  # each channel normalised per group
        num_generations=args.num_generations,
        per_device_train_batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        max_completion_length=args.max_completion_length,
        temperature=args.temperature,
        learning_rate=args.learning_rate,
        beta=args.beta,
        max_steps=args.max_steps,
        logging_steps=1,
        save_strategy="steps",
        save_steps=args.save_steps,
        report_to=args.report_to,
        use_cpu=not torch.cuda.is_available(),
        **vllm,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from rlsp_env.integrations.trl import grpo_setup

    n = 8 if args.dry_run else args.n
    workers = 0 if args.dry_run else args.reward_workers
    setup = grpo_setup(args.env, n=n, weights=args.weights, split=args.split, workers=workers)
    try:
        config = make_config(args, setup.reward_weights)
        if args.dry_run:
            keys = [
                "bf16", "gradient_checkpointing", "use_vllm", "vllm_mode", "num_generations",
                "per_device_train_batch_size", "gradient_accumulation_steps", "reward_weights",
                "multi_objective_aggregation", "max_completion_length", "temperature", "beta",
                "learning_rate", "model_init_kwargs", "vllm_server_host", "vllm_server_port",
                "vllm_gpu_memory_utilization", "vllm_enable_sleep_mode",
            ]  # fmt: skip
            shown = {k: getattr(config, k) for k in keys}
            print(json.dumps({"model": args.model, "channels": setup.channels, **shown}))
            return 0
        from trl import GRPOTrainer

        trainer = GRPOTrainer(
            model=args.model,  # loaded by TRL with model_init_kwargs (bf16)
            reward_funcs=setup.reward_funcs,
            train_dataset=setup.dataset,
            args=config,
        )
        trainer.train()
        trainer.save_model(args.output_dir)
    finally:
        setup.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
