"""The vector environment behind ``gym.make_vec("rlsp/...", num_envs=N)``.

Why a custom vector env rather than ``SyncVectorEnv``:

- **Autoreset on the same step.** Gymnasium's default (``NEXT_STEP``) spends every other step of a
  one-step episode on a reset whose action is ignored: half the batch wasted. Here each step
  scores the batch and immediately serves the next problems (``AutoresetMode.SAME_STEP``): the
  returned observations are the new prompts, and ``info["final_info"]`` holds the scored step
  (rewards, verdicts), ``info["final_obs"]`` its last observation. ``autoreset_mode=DISABLED``
  is supported too (reset with ``options={"reset_mask": mask}``).
- **Batched scoring.** One step scores the whole batch with :func:`rlsp_env.scoring.score_batch`
  (the scorer behind every door): verification in a persistent
  :class:`rlsp_verifiers.VerifierPool` (worker processes, a hard per-item timeout, so no response
  can hang the batch), the effort judge called once for the batch.
- **Group sampling.** ``group_size=k`` gives each run of ``k`` consecutive envs the same problem
  (GRPO-style groups), and their responses are each other's group for the ``diversity`` channel.

Example:
    >>> import gymnasium as gym, rlsp_env
    >>> envs = gym.make_vec("rlsp/Arithmetic-v0", num_envs=4, group_size=2, verifier_workers=0)
    >>> obs, info = envs.reset(seed=0)
    >>> obs[0] == obs[1], info["problem_id"][2] == info["problem_id"][3]
    (True, True)
    >>> actions = [f"\\\\boxed{{{g}}}" for g in info["gold"]]
    >>> obs, reward, terminated, truncated, info = envs.step(actions)
    >>> reward.tolist(), bool(terminated.all()), info["final_info"]["rewards"]["correctness"].tolist()
    ([1.0, 1.0, 1.0, 1.0], True, [1.0, 1.0, 1.0, 1.0])
    >>> envs.close()
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from rlsp_env.envs import MathEnv
from rlsp_env.scoring import make_pool, score_batch

__all__ = ["MathVectorEnv"]


class MathVectorEnv(gym.vector.VectorEnv):
    """``num_envs`` :class:`rlsp_env.envs.MathEnv` copies stepped as one batch.

    Args:
        num_envs: number of sub-environments.
        group_size: consecutive envs sharing a problem (must divide ``num_envs``; needs
            ``max_turns == 1`` when > 1).
        autoreset_mode: ``AutoresetMode.SAME_STEP`` (default) or ``DISABLED`` (or their string
            values). ``NEXT_STEP`` is refused: it wastes half the steps of one-step episodes.
        verifier_workers: verifier processes (default: ``min(num_envs, cpu count, 8)``, or 0 for a
            single env); 0 verifies in this process (cooperative timeout only).
        **env_kwargs: every :class:`MathEnv` argument (``reward_weights``, ``difficulty``, ...).

    Information: the reset infos of :class:`MathEnv`, batched the Gymnasium way (arrays, with
    ``_key`` masks), plus ``group`` (the group index) and ``valid`` (False for the padding slots
    after an evaluation pass is finished). After a step in ``SAME_STEP`` mode: ``final_info``
    (the scored step's info: ``rewards``, ``verdict``, ...) and ``final_obs``.
    """

    def __init__(
        self,
        num_envs: int = 1,
        *,
        group_size: int = 1,
        autoreset_mode: AutoresetMode | str = AutoresetMode.SAME_STEP,
        verifier_workers: int | None = None,
        **env_kwargs: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise ValueError(f"group_size must be a positive int, got {group_size!r}")
        if num_envs % group_size:
            raise ValueError(f"group_size={group_size} must divide num_envs={num_envs}")
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            raise ValueError(
                f"autoreset_mode must be 'SameStep' or 'Disabled', got {autoreset_mode!r}"
            ) from None
        if mode == AutoresetMode.NEXT_STEP:
            raise ValueError(
                "autoreset_mode NEXT_STEP wastes every other step of one-step episodes; "
                "use AutoresetMode.SAME_STEP (default) or DISABLED"
            )
        if int(env_kwargs.get("max_turns", 1)) > 1 and group_size > 1:
            raise ValueError("group_size > 1 needs single-turn episodes (max_turns=1)")
        self.num_envs = int(num_envs)
        self.group_size = int(group_size)
        self.num_groups = self.num_envs // self.group_size
        self.autoreset_mode = mode
        self.metadata = {"autoreset_mode": mode, "render_modes": []}
        self.envs = [MathEnv(**env_kwargs) for _ in range(self.num_envs)]
        first = self.envs[0]
        #: the sub-environments' one reward specification (see :class:`rlsp_env.spec.RewardSpec`)
        self.reward_spec = first.reward_spec
        self.eval_mode = first.eval_mode
        self.single_observation_space = first.observation_space
        self.single_action_space = first.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        if verifier_workers is None:
            verifier_workers = (
                0 if self.num_envs == 1 else min(self.num_envs, os.cpu_count() or 1, 8)
            )
        if (
            isinstance(verifier_workers, bool)
            or not isinstance(verifier_workers, int)
            or verifier_workers < 0
        ):
            raise ValueError(f"verifier_workers must be an int >= 0, got {verifier_workers!r}")
        self.verifier_workers = verifier_workers
        self._pool: Any = None
        self._eval_cursor = 0
        self._valid = np.ones(self.num_envs, dtype=bool)
        self._obs: list[str] = [""] * self.num_envs
        self._needs_reset = np.ones(self.num_envs, dtype=bool)
        self._closed = False

    # ------------------------------------------------------------------ helpers

    @property
    def eval_done(self) -> bool:
        """Evaluation mode: every problem has been handed out."""
        return self.eval_mode and self._eval_cursor >= self.envs[0].num_problems

    def _group_info(self, i: int) -> dict[str, Any]:
        info = self.envs[i].problem_info()
        info["group"] = i // self.group_size
        info["valid"] = bool(self._valid[i])
        return info

    def _reset_group(self, g: int, seed: int | None, index: int | None) -> None:
        lo, hi = g * self.group_size, (g + 1) * self.group_size
        leader = self.envs[lo]
        valid = True
        if index is None and self.eval_mode:
            n = leader.num_problems
            valid = self._eval_cursor < n
            index = self._eval_cursor % n
            self._eval_cursor += 1
        opts = None if index is None else {"index": int(index)}
        self._obs[lo], _ = leader.reset(seed=seed, options=opts)
        for i in range(lo + 1, hi):
            s = None if seed is None else seed + (i - lo)
            self._obs[i], _ = self.envs[i].reset(seed=s, options={"index": int(leader.index)})
        self._valid[lo:hi] = valid
        self._needs_reset[lo:hi] = False

    def _verifier_pool(self) -> Any:
        """The vector env's own VerifierPool (started on the first step), or None for inline."""
        if self.verifier_workers == 0:
            return None
        if self._pool is None:
            self._pool = make_pool(self.reward_spec, self.verifier_workers)
        return self._pool

    # ------------------------------------------------------------------ Gymnasium API

    def reset(
        self,
        *,
        seed: int | Sequence[int] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[tuple[str, ...], dict[str, Any]]:
        """Resets every group (or those in ``options["reset_mask"]``).

        Args:
            seed: an int (env ``i`` gets ``seed + i``) or one seed per env; restarts an
                evaluation pass.
            options: ``{"index": i}`` (every group on problem ``i``) or ``{"index": [i_0, ...]}``
                (one per group), and/or ``{"reset_mask": bool array per env}`` (whole groups).
        """
        if self._closed:
            raise RuntimeError("the vector env is closed")
        options = dict(options or {})
        unknown = set(options) - {"index", "reset_mask"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; use 'index', 'reset_mask'")
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = [int(s) for s in seed]
            if len(seeds) != self.num_envs:
                raise ValueError(f"{len(seeds)} seeds for {self.num_envs} envs")
        if seed is not None and self.eval_mode:
            self._eval_cursor = 0
        index = options.get("index")
        if index is None or isinstance(index, int | np.integer):
            indices: list[int | None] = [None if index is None else int(index)] * self.num_groups
        else:
            indices = [int(i) for i in index]
            if len(indices) != self.num_groups:
                raise ValueError(f"options['index'] needs one index per group ({self.num_groups})")
        mask = options.get("reset_mask")
        if mask is None:
            mask = np.ones(self.num_envs, dtype=bool)
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (self.num_envs,):
            raise ValueError(f"reset_mask must have shape ({self.num_envs},)")
        infos: dict[str, Any] = {}
        for g in range(self.num_groups):
            lo, hi = g * self.group_size, (g + 1) * self.group_size
            if mask[lo:hi].any():
                if not mask[lo:hi].all():
                    raise ValueError("reset_mask must reset whole groups")
                self._reset_group(g, seeds[lo], indices[g])
                for i in range(lo, hi):
                    infos = self._add_info(infos, self._group_info(i), i)
        return tuple(self._obs), infos

    def step(
        self, actions: Sequence[str]
    ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Scores one response per env (batched verification), then autoresets (SAME_STEP)."""
        if self._closed:
            raise RuntimeError("the vector env is closed")
        if isinstance(actions, str) or not isinstance(actions, Sequence | np.ndarray):
            raise TypeError(
                f"actions must be a sequence of {self.num_envs} str, got {type(actions).__name__}"
            )
        actions = list(actions)
        if len(actions) != self.num_envs:
            raise ValueError(f"got {len(actions)} actions for {self.num_envs} envs")
        for i, a in enumerate(actions):
            if not isinstance(a, str):
                raise TypeError(
                    f"action {i} must be the response text (str), got {type(a).__name__}"
                )
            if self._needs_reset[i]:
                raise gym.error.ResetNeeded(f"env {i} needs reset() before step()")
        texts = [str(a) for a in actions]
        results = score_batch(
            texts,
            [env.problem for env in self.envs],
            [i // self.group_size for i in range(self.num_envs)],
            self.reward_spec,
            judge=self.envs[0].judge,
            pool=self._verifier_pool(),
            inline=self.verifier_workers == 0,
        )
        rewards = np.zeros(self.num_envs, dtype=np.float64)
        terminated = np.zeros(self.num_envs, dtype=bool)
        truncated = np.zeros(self.num_envs, dtype=bool)
        step_infos: list[dict[str, Any]] = []
        for i, env in enumerate(self.envs):
            obs, r, term, trunc, info = env.record_step(texts[i], results[i])
            info["group"] = i // self.group_size
            info["valid"] = bool(self._valid[i])
            self._obs[i] = obs
            rewards[i], terminated[i], truncated[i] = r, term, trunc
            step_infos.append(info)
        infos: dict[str, Any] = {}
        done = terminated | truncated
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            for g in range(self.num_groups):
                lo, hi = g * self.group_size, (g + 1) * self.group_size
                if done[lo:hi].all():
                    finals = [(self._obs[i], step_infos[i]) for i in range(lo, hi)]
                    self._reset_group(g, None, None)
                    for k, i in enumerate(range(lo, hi)):
                        fin = {"final_obs": finals[k][0], "final_info": finals[k][1]}
                        infos = self._add_info(infos, fin, i)
                        infos = self._add_info(infos, self._group_info(i), i)
                else:
                    for i in range(lo, hi):
                        infos = self._add_info(infos, step_infos[i], i)
        else:
            self._needs_reset |= done
            for i in range(self.num_envs):
                infos = self._add_info(infos, step_infos[i], i)
        return tuple(self._obs), rewards, terminated, truncated, infos

    def close_extras(self, **kwargs: Any) -> None:
        """Stops the verifier worker processes."""
        self._closed = True
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        for env in self.envs:
            env.close()
