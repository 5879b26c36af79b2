"""Shared helpers of the trainer tests (no tests here): a tiny random Llama with the embedded
model's tokenizer and chat template, and a toy environment with a dense reward channel (and its
vector env, with the rlsp contract the trainer relies on: ``group_size``, ``info["messages"]``,
``final_info["rewards"]`` / ``["verdict"]``).

The tiny model (2 layers, hidden 64) makes every trainer code path run in seconds; it is built
once per machine in the temp directory (atomic rename, so parallel test processes are safe).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import batch_space

TOY_ENV_ID = "rlsptest/Vowels-v0"


def tiny_model_dir() -> str:
    """A tiny random LlamaForCausalLM checkpoint with the SmolLM2 tokenizer (built once)."""
    root = Path(tempfile.gettempdir()) / f"rlsp-test-tiny-llama-{os.getuid()}"
    if (root / "config.json").is_file() and (root / "DONE").is_file():
        return str(root)
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from rlsp_agents.models import resolve_model

    tok = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m"))
    cfg = LlamaConfig(
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=len(tok),
        tie_word_embeddings=True,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        max_position_embeddings=1024,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    tmp = Path(tempfile.mkdtemp(prefix="rlsp-tiny-build-"))
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    (tmp / "DONE").write_text("ok")
    try:
        os.replace(tmp, root)
    except OSError:  # another process won the race
        shutil.rmtree(tmp, ignore_errors=True)
    return str(root)


class VowelsEnv(gym.Env):
    """A toy single-turn env with the rlsp step contract: channel ``correctness`` is the fraction
    of characters of the response that are digits (dense, so a random policy has signal),
    ``format`` rewards the letter 'e' (an independent second channel)."""

    def __init__(self, split: str = "train", reward_weights: object = None, difficulty: int = 1):
        self.observation_space = spaces.Text(2000)
        self.action_space = spaces.Text(100_000)
        self._q = ""

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        a = int(self.np_random.integers(0, 1000))
        self._q = f"Write numbers. Seed {a}."
        msgs = [{"role": "user", "content": self._q}]
        return self._q, {"messages": msgs, "solution": f"{a} {a + 1} {a + 2}", "gold": str(a)}

    def step(self, action: str):
        chars = [c for c in action if not c.isspace()] or [" "]
        vowels = sum(c in "aeiouAEIOU" for c in chars) / len(chars)
        upper = sum(c.isupper() for c in chars) / len(chars)
        rewards = {"correctness": vowels, "format": upper, "backtracking": 0.0}
        verdict = {"correct": vowels > 0.5, "extracted": None, "reason": "toy", "stage": "toy"}
        return "", vowels, True, False, {"rewards": rewards, "verdict": verdict}


class VowelsVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` :class:`VowelsEnv` copies; each run of ``group_size`` envs shares a problem.
    A step returns the scored infos under ``final_info`` (same-step autoreset, as rlsp's)."""

    def __init__(self, num_envs: int = 1, group_size: int = 1, **kwargs) -> None:
        self.num_envs, self.group_size = num_envs, group_size
        self.envs = [VowelsEnv(**kwargs) for _ in range(num_envs)]
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self.metadata = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}

    def reset(self, *, seed=None, options=None):
        seeds = list(seed) if isinstance(seed, list | tuple) else [seed] * self.num_envs
        obs, infos, info = [], {}, {}
        for i, env in enumerate(self.envs):
            if i % self.group_size == 0:  # the group's first env draws the problem
                o, info = env.reset(seed=seeds[i])
            env._q = self.envs[i - i % self.group_size]._q
            obs.append(o)
            infos = self._add_info(infos, info, i)
        return tuple(obs), infos

    def step(self, actions):
        rewards, infos = np.zeros(self.num_envs), {}
        for i, (env, a) in enumerate(zip(self.envs, actions)):
            _, rewards[i], _, _, info = env.step(a)
            infos = self._add_info(infos, {"final_info": info}, i)
        done = np.ones(self.num_envs, dtype=bool)
        return tuple(env._q for env in self.envs), rewards, done, ~done, infos


if TOY_ENV_ID not in gym.registry:
    gym.register(
        TOY_ENV_ID,
        entry_point=VowelsEnv,
        vector_entry_point=VowelsVectorEnv,
        disable_env_checker=True,
    )
