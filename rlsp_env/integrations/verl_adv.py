"""RLSP's per-channel advantage as a verl advantage estimator: ``algorithm.adv_estimator=rlsp``.

Importing this module registers ``compute_rlsp_outcome_advantage`` under the name ``"rlsp"``
through verl's own ``verl.trainer.ppo.core_algos.register_adv_est`` (so
``get_adv_estimator_fn("rlsp")`` finds it). It is the critic-free advantage of the bundled agent's
``advantage="group"`` mode (``rlsp_agents.losses.group_advantages`` + ``scheduled_weights`` +
``combine_channels``), computed on verl's batch:

* ``mode: channels``: each reward channel that ``compute_score`` returned (verl keeps them in the
  batch's ``non_tensor_batch``) is normalised within its prompt's group (``uid``): GRPO
  ``(r - mean) / (std + eps)`` (population std) or RLOO ``(r - mean) * K / (K - 1)``; then the
  explicit weighted sum ``sum_c w_c * A_c``, with the optional weight schedule;
* ``mode: scalar``: the paper's scalar reward (verl's ``score``, the weighted sum of the channels
  that ``compute_score`` returns) normalised within its group. The paper's own setup, the scalar
  with a critic (PPO + GAE), is verl's built-in ``adv_estimator=gae`` with the same ``score``.

Settings, under ``algorithm.rlsp`` (``+algorithm.rlsp.<key>=...`` on the command line)::

    mode: channels            # channels | scalar
    weights: {correctness: 1.0, format: 0.5, exploration: 0.1}   # channels mode; 0 = log-only
    baseline: grpo            # grpo | rloo
    schedule: constant        # constant | linear | correctness
    schedule_channel: exploration
    total_steps: null         # linear schedule: the run's number of steps
    eps: 1.0e-6

How the channels reach the estimator: verl 0.9.1's ``compute_advantage`` passes the batch's
``non_tensor_batch`` to its own ``gdpo`` estimator only. :func:`install` (run it in verl's driver
process; the recipe does so with Ray's ``worker_process_setup_hook``, see ``recipes/verl``) wraps
``verl.trainer.ppo.ray_trainer.compute_advantage`` so that for ``adv_estimator=rlsp`` it also
passes ``non_tensor_batch`` and the step; every other estimator goes to verl's function unchanged.
This is the trainer of ``trainer.use_v1=false`` (verl's ``RayPPOTrainer``, which puts
``compute_score``'s extra keys into ``non_tensor_batch``). verl 0.9.1's v1 trainer fetches only
``rm_scores`` for its advantage step, so there only ``mode: scalar`` works.

Where verl is installed, ``import rlsp_env.integrations.verl_adv`` then
``verl.trainer.ppo.core_algos.get_adv_estimator_fn("rlsp")`` returns
:func:`compute_rlsp_outcome_advantage` (tested in tests/integrations/test_integrations_verl_recipe.py).

Example (the group normalisation, which needs no verl):
    >>> import torch
    >>> adv = group_normalise(torch.tensor([1.0, 0.0, 3.0, 3.0]), ["a", "a", "b", "b"])
    >>> [round(x, 4) for x in adv.tolist()]  # a tied group gets zeros
    [1.0, -1.0, 0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

try:
    from verl.trainer.ppo.core_algos import register_adv_est
except ImportError:  # verl absent: the module still imports (doctests, docs); install() refuses
    register_adv_est = None

__all__ = [
    "NAME",
    "DEFAULTS",
    "rlsp_settings",
    "group_normalise",
    "scheduled_weights",
    "compute_rlsp_outcome_advantage",
    "install",
]

NAME = "rlsp"

#: Defaults of ``algorithm.rlsp``.
DEFAULTS: dict[str, Any] = {
    "mode": "channels",
    "weights": {"correctness": 1.0, "format": 0.5, "exploration": 0.1},
    "baseline": "grpo",
    "schedule": "constant",
    "schedule_channel": "exploration",
    "total_steps": None,
    "eps": 1e-6,
}


def rlsp_settings(config: Any) -> dict[str, Any]:
    """``algorithm.rlsp`` (an OmegaConf node, a dict or None) merged over :data:`DEFAULTS`.

    Raises:
        ValueError: an unknown key or value.
    """
    raw: Any = None
    if config is not None:
        raw = config.get(NAME) if hasattr(config, "get") else getattr(config, NAME, None)
    if raw is not None and hasattr(raw, "items"):
        try:  # OmegaConf nodes -> plain containers
            from omegaconf import OmegaConf

            if OmegaConf.is_config(raw):
                raw = OmegaConf.to_container(raw, resolve=True)
        except ImportError:  # pragma: no cover
            pass
    out = dict(DEFAULTS)
    unknown = sorted(set(raw or {}) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"algorithm.rlsp: unknown keys {unknown}; known: {sorted(DEFAULTS)}")
    out.update(raw or {})
    if out["mode"] not in ("channels", "scalar"):
        raise ValueError(f"algorithm.rlsp.mode must be 'channels' or 'scalar', got {out['mode']!r}")
    if out["baseline"] not in ("grpo", "rloo"):
        raise ValueError(f"algorithm.rlsp.baseline must be grpo or rloo, got {out['baseline']!r}")
    if out["schedule"] not in ("constant", "linear", "correctness"):
        raise ValueError(
            f"algorithm.rlsp.schedule must be constant, linear or correctness, got "
            f"{out['schedule']!r}"
        )
    weights = {str(k): float(v) for k, v in dict(out["weights"]).items()}
    if out["mode"] == "channels" and not any(w != 0.0 for w in weights.values()):
        raise ValueError("algorithm.rlsp.weights needs at least one nonzero weight")
    out["weights"] = weights
    return out


def group_normalise(
    scores: torch.Tensor, index: Sequence[Any], *, baseline: str = "grpo", eps: float = 1e-6
) -> torch.Tensor:
    """Each score against the other scores of its group (same ``index`` value, any order).

    Args:
        scores: ``[N]``.
        index: ``N`` group ids (verl's ``uid``).
        baseline: ``"grpo"`` (mean and population std of the group) or ``"rloo"``
            (leave-one-out mean).
        eps: added to the std.

    Returns:
        ``[N]``; a group whose scores are all equal gets zeros.

    Raises:
        ValueError: a group with fewer than 2 responses (set ``actor_rollout_ref.rollout.n >= 2``).
    """
    ids = np.asarray(index, dtype=object)
    if ids.shape[0] != scores.shape[0]:
        raise ValueError(f"{scores.shape[0]} scores but {ids.shape[0]} group ids")
    out = torch.zeros_like(scores, dtype=torch.float32)
    s = scores.float()
    groups: dict[Any, list[int]] = {}
    for i, g in enumerate(ids.tolist()):
        groups.setdefault(g, []).append(i)
    for g, rows in groups.items():
        k = len(rows)
        if k < 2:
            raise ValueError(
                f"group {g!r} has {k} response; group baselines need >= 2 per prompt "
                "(actor_rollout_ref.rollout.n)"
            )
        x = s[rows]
        mean = x.mean()
        if baseline == "grpo":
            out[rows] = (x - mean) / (x.std(unbiased=False) + eps)
        else:
            out[rows] = (x - mean) * k / (k - 1)
    return out


def scheduled_weights(
    weights: Mapping[str, float],
    *,
    schedule: str,
    channel: str,
    progress: float = 0.0,
    correctness: float = 0.0,
) -> dict[str, float]:
    """The weights of one step (the bundled agent's ``rlsp_agents.losses.scheduled_weights``).

    ``linear``: ``channel``'s weight falls linearly to 0 as ``progress`` goes 0 -> 1;
    ``correctness``: it is multiplied by ``1 - correctness``.
    """
    out = dict(weights)
    if schedule == "constant" or channel not in out:
        return out
    if schedule == "linear":
        factor = 1.0 - min(max(progress, 0.0), 1.0)
    else:
        factor = 1.0 - min(max(correctness, 0.0), 1.0)
    out[channel] = out[channel] * factor
    return out


def _channel(non_tensor_batch: Mapping[str, Any], name: str, n: int) -> torch.Tensor:
    if name not in non_tensor_batch:
        raise KeyError(
            f"reward channel {name!r} is not in the batch (have {sorted(non_tensor_batch)}): "
            "use rlsp's compute_score (rlsp_env/integrations/verl.py), trainer.use_v1=false, "
            "and rlsp_env.integrations.verl_adv.install in the driver (see recipes/verl)"
        )
    values = torch.tensor(np.asarray(non_tensor_batch[name], dtype=np.float32))
    if values.shape != (n,):
        raise ValueError(f"channel {name!r} has shape {tuple(values.shape)}, expected ({n},)")
    return values


def compute_rlsp_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: Sequence[Any],
    config: Any = None,
    non_tensor_batch: Mapping[str, Any] | None = None,
    global_step: int | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """verl estimator ``"rlsp"``: per-channel group-normalised advantages, explicitly weighted.

    Args:
        token_level_rewards: ``[B, T]`` verl's scalar reward on the last response token
            (``score``); ``mode: scalar`` uses its row sums.
        response_mask: ``[B, T]``.
        index: ``B`` group ids (``uid``).
        config: verl's ``algorithm`` config; settings under ``algorithm.rlsp``.
        non_tensor_batch: the batch's per-sample channels (``mode: channels``); passed by the
            :func:`install` hook.
        global_step: the current step (1-based) for ``schedule: linear``.
        **kwargs: anything else verl passes, ignored.

    Returns:
        ``(advantages, returns)``, both ``[B, T]``, the sample's advantage on every response token.
    """
    cfg = rlsp_settings(config)
    n = token_level_rewards.shape[0]
    if cfg["mode"] == "scalar":
        per_sample = group_normalise(
            token_level_rewards.sum(dim=-1), index, baseline=cfg["baseline"], eps=cfg["eps"]
        )
    else:
        if non_tensor_batch is None:
            raise ValueError(
                "algorithm.rlsp.mode=channels needs the batch's reward channels: verl passes them "
                "only through rlsp_env.integrations.verl_adv.install (trainer.use_v1=false); "
                "or use algorithm.rlsp.mode=scalar"
            )
        progress = 0.0
        if cfg["schedule"] == "linear":
            total = cfg["total_steps"]
            if not total or global_step is None:
                raise ValueError(
                    "schedule=linear needs algorithm.rlsp.total_steps and the step (install hook)"
                )
            progress = (global_step - 1) / max(int(total) - 1, 1)
        correctness = 0.0
        if cfg["schedule"] == "correctness":
            key = "acc" if "acc" in non_tensor_batch else "correctness"
            correctness = float(_channel(non_tensor_batch, key, n).clamp(0, 1).mean())
        weights = scheduled_weights(
            cfg["weights"],
            schedule=cfg["schedule"],
            channel=cfg["schedule_channel"],
            progress=progress,
            correctness=correctness,
        )
        per_sample = torch.zeros(n)
        for name, w in weights.items():
            if w == 0.0:
                continue
            a = group_normalise(
                _channel(non_tensor_batch, name, n), index, baseline=cfg["baseline"], eps=cfg["eps"]
            )
            per_sample = per_sample + w * a
    per_sample = per_sample.to(device=token_level_rewards.device, dtype=torch.float32)
    advantages = per_sample.unsqueeze(-1) * response_mask
    return advantages, advantages


if register_adv_est is not None:  # verl's registry: get_adv_estimator_fn("rlsp")
    register_adv_est(NAME)(compute_rlsp_outcome_advantage)

_installed = False


def install() -> None:
    """Registers the estimator (on import) and lets verl's ``compute_advantage`` feed it channels.

    Idempotent; meant as Ray's ``worker_process_setup_hook``
    (``ray_kwargs.ray_init.runtime_env.worker_process_setup_hook=rlsp_env.integrations.verl_adv.install``)
    so it runs in verl's driver (the TaskRunner actor) before training. Other estimators are
    untouched.
    """
    global _installed
    if _installed:
        return
    if register_adv_est is None:
        raise ImportError("rlsp_env.integrations.verl_adv.install needs verl (pip install verl)")
    from verl.trainer.ppo import ray_trainer

    original = ray_trainer.compute_advantage
    state = {"calls": 0}

    def compute_advantage(data: Any, adv_estimator: Any, *args: Any, **kwargs: Any) -> Any:
        name = getattr(adv_estimator, "value", adv_estimator)
        if name != NAME:
            return original(data, adv_estimator, *args, **kwargs)
        config = kwargs.get("config")
        if "response_mask" not in data.batch.keys():
            data.batch["response_mask"] = ray_trainer.compute_response_mask(data)
        state["calls"] += 1
        step = data.meta_info.get("global_steps", state["calls"])
        adv, ret = compute_rlsp_outcome_advantage(
            token_level_rewards=data.batch["token_level_rewards"],
            response_mask=data.batch["response_mask"],
            index=data.non_tensor_batch["uid"],
            config=config,
            non_tensor_batch=data.non_tensor_batch,
            global_step=int(step),
        )
        data.batch["advantages"] = adv
        data.batch["returns"] = ret
        return data

    compute_advantage.__wrapped__ = original  # type: ignore[attr-defined]
    ray_trainer.compute_advantage = compute_advantage
    _installed = True
