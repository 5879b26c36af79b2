"""GRPO with TRL on an rlsp environment, one reward function per channel, normalised per channel.

    python docs/integrations/examples/trl_grpo.py --env rlsp/Arithmetic-v0 --max-steps 50

Runs on a CPU with the embedded model (SmolLM2-135M-Instruct); any transformers checkpoint or
Hub id works with ``--model``. Prints the channels, their weights and what TRL logged as one JSON
object on the last line.
"""

import argparse
import json

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

from rlsp_agents.models import resolve_model
from rlsp_env.integrations.trl import grpo_setup

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--env", default="rlsp/Arithmetic-v0")
parser.add_argument("--model", default=None, help="default: the embedded SmolLM2-135M-Instruct")
parser.add_argument(
    "--weights",
    default="rlsp",
    help="a preset of rlsp_env.rewards.PRESETS or a JSON object, e.g. '{\"correctness\": 1}'",
)
parser.add_argument("--n", type=int, default=64, help="number of prompts")
parser.add_argument("--max-steps", type=int, default=50)
parser.add_argument("--num-generations", type=int, default=4)
parser.add_argument("--max-completion-length", type=int, default=128)
parser.add_argument("--temperature", type=float, default=1.0)
parser.add_argument("--output-dir", default="runs/trl-grpo")
args = parser.parse_args()

# The dataset (chat "prompt", "gold", "problem_id"), one reward function per channel, the weights.
weights = json.loads(args.weights) if args.weights.startswith("{") else args.weights
setup = grpo_setup(args.env, n=args.n, weights=weights)

path = resolve_model(args.model)
model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
tokenizer = AutoTokenizer.from_pretrained(path)

config = GRPOConfig(
    output_dir=args.output_dir,
    reward_weights=setup.reward_weights,  # weight 0: logged, not optimised
    multi_objective_aggregation="normalize_then_sum",  # each channel normalised per group
    num_generations=args.num_generations,
    per_device_train_batch_size=args.num_generations,
    max_completion_length=args.max_completion_length,
    temperature=args.temperature,
    max_steps=args.max_steps,
    learning_rate=1e-6,
    beta=0.0,
    logging_steps=1,
    save_strategy="no",
    report_to="none",
    use_cpu=not torch.cuda.is_available(),
    bf16=False,
)
trainer = GRPOTrainer(
    model=model,
    processing_class=tokenizer,
    reward_funcs=setup.reward_funcs,
    train_dataset=setup.dataset,
    args=config,
)
trainer.train()
setup.close()

logged = sorted({k for row in trainer.state.log_history for k in row if k.startswith("rewards/")})
print(
    json.dumps(
        {
            "channels": setup.channels,
            "reward_weights": setup.reward_weights,
            "calls": setup.scorer.calls,
            "scored": setup.scorer.scored,
            "logged": logged,
            "log_history": trainer.state.log_history,
        }
    )
)
