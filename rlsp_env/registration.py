"""The one place that registers every ``rlsp/...`` id with Gymnasium (run on ``import rlsp_env``).

``gym.make("rlsp/MATH500-v0")`` works after ``import rlsp_env``; ``gym.make("rlsp_env:rlsp/MATH500-v0")``
imports this package itself. ``gym.make_vec(id, num_envs=N)`` builds :class:`rlsp_env.vector.MathVectorEnv`
(batched verification, same-step autoreset, group sampling).

Example:
    >>> import rlsp_env
    >>> "rlsp/Arithmetic-v0" in ENV_IDS
    True
"""

from __future__ import annotations

from typing import Any

from gymnasium.envs.registration import register, registry

from rlsp_env.tasks import FAMILIES

__all__ = ["DATASET_ENVS", "ENV_IDS", "PROCEDURAL_ENVS", "register_all"]

ENTRY_POINT = "rlsp_env.envs:MathEnv"
VECTOR_ENTRY_POINT = "rlsp_env.vector:MathVectorEnv"

#: dataset env id -> dataset name (see rlsp_env.datasets)
DATASET_ENVS: dict[str, str] = {
    "rlsp/MATH500-v0": "math500",
    "rlsp/MATH-v0": "math",
    "rlsp/GSM8K-v0": "gsm8k",
    "rlsp/AIME24-v0": "aime24",
    "rlsp/AMC23-v0": "amc23",
    "rlsp/Minerva-v0": "minerva_math",
    "rlsp/OlympiadBench-v0": "olympiadbench",
}

#: procedural env id -> family name, derived from the family registry (:mod:`rlsp_env.tasks`)
PROCEDURAL_ENVS: dict[str, str] = {f.env_id: f.name for f in FAMILIES.values()}

#: every registered id
ENV_IDS: tuple[str, ...] = (*DATASET_ENVS, *PROCEDURAL_ENVS)


def env_kwargs(env_id: str) -> dict[str, Any]:
    """The kwargs an id is registered with (``{"dataset": ...}`` or ``{"family": ...}``)."""
    if env_id in DATASET_ENVS:
        return {"dataset": DATASET_ENVS[env_id]}
    if env_id in PROCEDURAL_ENVS:
        return {"family": PROCEDURAL_ENVS[env_id]}
    raise KeyError(f"{env_id!r} is not an rlsp id; ids: {list(ENV_IDS)}")


def register_all() -> None:
    """Registers every id (idempotent)."""
    for env_id in ENV_IDS:
        if env_id in registry:
            continue
        register(
            id=env_id,
            entry_point=ENTRY_POINT,
            vector_entry_point=VECTOR_ENTRY_POINT,
            kwargs=env_kwargs(env_id),
            disable_env_checker=False,
        )


register_all()
