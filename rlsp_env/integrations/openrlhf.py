"""OpenRLHF integration: its prompt-dataset format, and the flags that point it at ``rlsp serve``.

OpenRLHF (0.11) reads prompts from a JSON-lines file (``--data.prompt_dataset``), takes the prompt
from ``--data.input_key`` (chat messages with ``--data.apply_chat_template``) and the gold answer
from ``--data.label_key``, and sends ``{"query", "prompts", "labels"}`` to the reward server named by
``--reward.remote_url`` (since OpenRLHF 0.10.2; before: ``--remote_rm_url`` / ``--label_key``).
:func:`write_openrlhf_dataset` writes such a file for any registered env; :func:`openrlhf_flags`
gives the matching flags. ``recipes/openrlhf/run.sh`` uses both.

Example:
    >>> from rlsp_env.integrations.openrlhf import openrlhf_flags
    >>> openrlhf_flags("data/train.jsonl", "http://127.0.0.1:8000/get_reward")[:4]
    ['--data.prompt_dataset', 'data/train.jsonl', '--data.input_key', 'prompt']
"""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["INPUT_KEY", "LABEL_KEY", "write_openrlhf_dataset", "openrlhf_flags"]

#: The keys the rows carry (pass them as ``--data.input_key`` / ``--data.label_key``).
INPUT_KEY = "prompt"
LABEL_KEY = "label"


def write_openrlhf_dataset(
    env_id: str,
    path: str | os.PathLike[str],
    n: int,
    *,
    split: str = "train",
    seed: int = 0,
    system_prompt: str | None = None,
    **env_kwargs: Any,
) -> int:
    """Writes ``n`` problems of a registered env as JSON lines in OpenRLHF's prompt format.

    Each line: ``{"prompt": [chat messages], "label": gold, "data_source": env_id,
    "problem_id": ...}``. Train with ``--data.input_key prompt --data.label_key label
    --data.apply_chat_template``: OpenRLHF renders the messages with the policy's chat template
    and sends ``label`` to the reward server as the gold answer.

    Args:
        env_id: a registered id (``"rlsp/Arithmetic-v0"``, ``"rlsp/MATH500-v0"``, ...).
        path: the ``.jsonl`` file to write (its folder is created).
        n: number of problems.
        split: ``"train"`` or ``"test"``.
        seed: the problem-selection seed.
        system_prompt: an optional system message put before each prompt.
        **env_kwargs: passed to the env (``difficulty=2``, ...).

    Returns:
        The number of rows written.

    Raises:
        ValueError: ``n`` is not a positive int, or the env id is unknown.

    Example:
        >>> import json, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "arith.jsonl")
        >>> write_openrlhf_dataset("rlsp/Arithmetic-v0", path, 2)
        2
        >>> sorted(json.loads(open(path).readline()))
        ['data_source', 'label', 'problem_id', 'prompt']
    """
    from rlsp_env.integrations.trl import prompt_rows

    rows = prompt_rows(env_id, n, split=split, seed=seed, system_prompt=system_prompt, **env_kwargs)
    out = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        for row in rows:
            record = {
                INPUT_KEY: row["prompt"],
                LABEL_KEY: row["gold"],
                "data_source": env_id,
                "problem_id": row["problem_id"],
            }
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return len(rows)


def openrlhf_flags(dataset: str, reward_url: str) -> list[str]:
    """The ``train_ppo_ray`` flags that read :func:`write_openrlhf_dataset`'s file and score with
    ``rlsp serve`` at ``reward_url`` (``http://HOST:PORT/get_reward``).

    Raises:
        ValueError: ``reward_url`` is not an http(s) URL ending in ``/get_reward``.
    """
    if not reward_url.startswith(("http://", "https://")) or not reward_url.endswith("/get_reward"):
        raise ValueError(f"reward_url must be http(s)://HOST:PORT/get_reward, got {reward_url!r}")
    return [
        "--data.prompt_dataset", dataset,
        "--data.input_key", INPUT_KEY,
        "--data.label_key", LABEL_KEY,
        "--data.apply_chat_template",
        "--reward.remote_url", reward_url,
    ]  # fmt: skip
