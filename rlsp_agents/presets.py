"""Named training presets: ``rlsp train --preset NAME [overrides]``.

- ``cpu-smollm2-rlsp``: the main job (``rlsp demo``): RLSP on the embedded SmolLM2-135M-Instruct,
  sized for a 2-core CPU (two-step word problems, ``rlsp/WordProblem-v0`` difficulty 2, 96 new
  tokens, 8 prompts x 8 samples, temperature 0.7): decoupled advantages (a value head per channel)
  over correctness 1 / format 0.5 / exploration 0.1, exploration annealed as correctness rises,
  the correctness gate, exploration's ``L`` = the response budget, GAE ``lam`` 1 (the value heads
  barely move in a CPU run). Measured with the current trainer (tempered loss) on an AVX-512 CPU:
  held-out literal accuracy 0.0% -> 8.5% (SFT, 64 worked solutions) -> 66.0% (PPO) in 9.8 min of
  training (``benchmarks/results/train_demo_wp2.md``). On 2-digit addition (``rlsp/Arithmetic-v0``
  difficulty 1, the main job's task until run 10): 0.0% -> 27.0% -> 67.0% in 14.2 min
  (``train_demo_rlsp_tempered.md``); with the untempered loss on an AVX2 CPU in fp32: 0.0% -> 37.0% -> 58.0% in 17.8 min
  (``train_demo_rlsp_avx2_signfix.md``); before
  the advantage-scaling change, on an AVX-512 CPU in bf16: 0.0% -> 27.0% -> 72.5% in 16.8 min
  (``train_demo_rlsp_addition.md``).
- ``cpu-smollm2``: the same sizes with critic-free ``group`` advantages over correctness 1 / format
  0.5 (exploration logged, weight 0), on 2-digit addition (``rlsp demo --ppo-preset cpu-smollm2``
  trains it on the demo's task): 0.0% -> 27.0% -> 62.0% on addition (``train_demo_final.md``).
- ``llama3.1-8b-rlsp`` / ``qwen2.5-32b-rlsp``: the RLSP paper's PPO hyperparameters (actor lr 2e-7,
  critic lr 2e-6, clip 0.2, value clip 0.2, GAE lambda 0.95, gamma 1, KL 0.05, rollout batch 512,
  train batch 128, temperature 0.7, max response 4096) on MATH. These are **GPU-cluster settings**:
  they were not run on this project's machines, and an 8B/32B policy needs a multi-GPU set-up
  (the critic here is value heads on the policy, not the paper's separate critic model).

Example:
    >>> from rlsp_agents.presets import get_preset
    >>> get_preset("llama3.1-8b-rlsp").lr
    2e-07
"""

from __future__ import annotations

import copy
import dataclasses

from rlsp_agents.config import TrainConfig

__all__ = ["PRESETS", "get_preset"]

_PAPER = dict(
    advantage="rlsp",
    reward_preset="rlsp-length",
    lr=2e-7,
    critic_lr=2e-6,
    clip=0.2,
    value_clip=0.2,
    lam=0.95,
    gamma=1.0,
    kl_coef=0.05,
    temperature=0.7,
    max_new_tokens=4096,
    # rollout batch 512 responses, train batch 128 -> 4 optimizer steps per rollout
    prompts_per_step=512,
    samples_per_prompt=1,
    num_minibatches=4,
    update_epochs=1,
    micro_batch_size=4,
    env_id="rlsp/MATH-v0",
    difficulty=None,
    filter_tau=-1.0,
    sampler="vllm",
    eval_env_id="rlsp/MATH500-v0",
)

PRESETS: dict[str, TrainConfig] = {
    "cpu-smollm2": TrainConfig(
        model="smollm2-135m",
        env_id="rlsp/Arithmetic-v0",
        difficulty=1,
        advantage="group",
        channel_weights={"correctness": 1.0, "format": 0.5},
        total_steps=20,
        prompts_per_step=8,
        samples_per_prompt=8,
        max_new_tokens=96,
        temperature=0.7,
        lr=2e-5,
        micro_batch_size=16,
        filter_tau=0.1,
        sampler="vllm",
        checkpoint_every=4,
        out="runs/train-cpu-smollm2",
    ),
    "llama3.1-8b-rlsp": TrainConfig(
        model="meta-llama/Llama-3.1-8B-Instruct", out="runs/llama3.1-8b-rlsp", **_PAPER
    ),
    # the 32B run adds an LLM judge's effort grade: 0.8 * (r_c - L / ell) + 0.2 * g (the env's
    # "rlsp" weighting; pass a judge through --env-kwargs / the env, else effort is 0)
    "qwen2.5-32b-rlsp": TrainConfig(
        model="Qwen/Qwen2.5-32B-Instruct",
        out="runs/qwen2.5-32b-rlsp",
        **{**_PAPER, "reward_preset": "rlsp"},
    ),
}


# RLSP on the same model: the main job's task (two-step word problems), the advantage mode and the
# channels differ
PRESETS["cpu-smollm2-rlsp"] = dataclasses.replace(
    PRESETS["cpu-smollm2"],
    env_id="rlsp/WordProblem-v0",
    difficulty=2,
    env_kwargs={"length_scale": 96},
    advantage="decoupled",
    # the value heads get one update per iteration (~6-16 in a main job) and stay close to
    # their start, so GAE's lam < 1 would mostly drop the credit of the opening tokens:
    # Monte-Carlo returns against the heads' baseline instead
    lam=1.0,
    channel_weights={"correctness": 1.0, "format": 0.5, "exploration": 0.1},
    weight_schedule="correctness",
    correctness_gate=True,
    out="runs/train-cpu-smollm2-rlsp",
)


def get_preset(name: str) -> TrainConfig:
    """A fresh copy of preset ``name``.

    Raises:
        KeyError: unknown preset, naming the known ones.
    """
    if name not in PRESETS:
        raise KeyError(f"unknown preset {name!r}; known: {sorted(PRESETS)}")
    return copy.deepcopy(PRESETS[name])
