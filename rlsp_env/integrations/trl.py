"""TRL integration: any registered rlsp env as a GRPO dataset plus one reward function per channel.

TRL's ``GRPOTrainer`` accepts several reward functions with ``reward_weights`` and, with
``multi_objective_aggregation="normalize_then_sum"``, normalises each one per group before the
weighted sum: exactly the decoupled channels of the RLSP design. :func:`grpo_setup` returns the
three things it needs::

    from trl import GRPOConfig, GRPOTrainer
    from rlsp_env.integrations.trl import grpo_setup

    setup = grpo_setup("rlsp/Arithmetic-v0", n=256, weights="rlsp")
    trainer = GRPOTrainer(
        model="HuggingFaceTB/SmolLM2-135M-Instruct",
        reward_funcs=setup.reward_funcs,
        train_dataset=setup.dataset,
        args=GRPOConfig(reward_weights=setup.reward_weights,
                        multi_objective_aggregation="normalize_then_sum"),
    )

The dataset has a chat ``prompt`` column (the env's own messages), ``gold``, ``problem_id`` and
``problem`` (the problem text, which the exploration channel measures novelty against).
Each reward function is named after its channel (TRL logs ``rewards/<channel>/mean``); all of them
share one cache, so a completion is scored once per step however many channels there are.
Channels with weight 0 are logged, not optimised.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlsp_env.integrations.scoring import ItemScore, env_reward_spec, item_from_result
from rlsp_env.spec import RewardSpec

__all__ = [
    "ChannelReward",
    "GRPOSetup",
    "RewardScorer",
    "completion_text",
    "grpo_setup",
    "make_dataset",
    "make_reward_funcs",
    "prompt_text",
    "prompt_rows",
]


def prompt_rows(
    env_id: str,
    n: int,
    *,
    split: str | None = None,
    seed: int = 0,
    system_prompt: str | None = None,
    **env_kwargs: Any,
) -> list[dict[str, Any]]:
    """The first ``n`` prompts of a registered env, as the env itself presents them.

    Each row: ``prompt`` (chat messages: the env's ``info["messages"]``, with an optional system
    message first), ``gold``, ``problem_id`` and ``problem``.

    Args:
        env_id: a registered id (``"rlsp/Arithmetic-v0"``, ``"rlsp/MATH500-v0"``, ...).
        n: number of problems (at most the env's size for dataset envs).
        split: ``"train"`` or ``"test"`` for envs that have splits; ``None``: the env's default.
        seed: the seed passed to ``reset``.
        system_prompt: an optional system message.
        **env_kwargs: passed to ``gymnasium.make`` (``difficulty=2``, ``prompt_template=...``).

    Raises:
        ValueError: ``n`` is not a positive int, or the env id is not registered.

    Example:
        >>> rows = prompt_rows("rlsp/Arithmetic-v0", 2)
        >>> sorted(rows[0])
        ['gold', 'problem', 'problem_id', 'prompt']
    """
    import gymnasium as gym

    import rlsp_env  # noqa: F401  (registers the ids)

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if env_id not in gym.registry:
        ids = sorted(k for k in gym.registry if k.startswith("rlsp/"))
        raise ValueError(f"unknown environment {env_id!r}; registered rlsp ids: {ids}")
    kwargs = dict(env_kwargs)
    if split is not None:
        kwargs["split"] = split
    env = gym.make(env_id, **kwargs)
    rows = []
    try:
        for i in range(n):
            _, info = env.reset(seed=seed, options={"index": i})
            messages = [dict(m) for m in info["messages"]]
            if system_prompt is not None:
                messages = [{"role": "system", "content": system_prompt}, *messages]
            rows.append(
                {
                    "prompt": messages,
                    "gold": str(info["gold"]),
                    "problem_id": str(info["problem_id"]),
                    "problem": str(info["problem"]),
                }
            )
    finally:
        env.close()
    return rows


def make_dataset(env_id: str, n: int, **kwargs: Any) -> Any:
    """A ``datasets.Dataset`` with ``prompt`` (chat), ``gold``, ``problem_id`` and ``problem``
    columns.

    Takes the arguments of :func:`prompt_rows` (``split``, ``seed``, ``system_prompt``, env
    arguments).

    Example:
        >>> ds = make_dataset("rlsp/Arithmetic-v0", 4)  # doctest: +SKIP
        >>> ds.column_names  # doctest: +SKIP
        ['prompt', 'gold', 'problem_id', 'problem']
    """
    import datasets

    return datasets.Dataset.from_list(prompt_rows(env_id, n, **kwargs))


def completion_text(completion: Any) -> str:
    """The text of a TRL completion: a string, or chat messages (the assistant turns joined).

    Raises:
        TypeError: anything else.

    Example:
        >>> completion_text([{"role": "assistant", "content": "so \\\\boxed{2}"}])
        'so \\\\boxed{2}'
        >>> completion_text("plain")
        'plain'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and all(isinstance(m, Mapping) for m in completion):
        parts = []
        for m in completion:
            if m.get("role", "assistant") != "assistant":
                continue
            content = m.get("content", "")
            if isinstance(content, list):  # multimodal content blocks: keep the text ones
                content = "".join(c.get("text", "") for c in content if isinstance(c, Mapping))
            parts.append(str(content))
        return "\n".join(parts)
    raise TypeError(
        f"a completion must be a string or chat messages, got {type(completion).__name__}"
    )


def prompt_text(prompt: Any) -> str:
    """The problem text of a TRL prompt: a string, or the last user message of chat messages.

    Example:
        >>> prompt_text([{"role": "system", "content": "s"}, {"role": "user", "content": "q"}])
        'q'
    """
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        users = [m for m in prompt if isinstance(m, Mapping) and m.get("role") == "user"]
        if users:
            content = users[-1].get("content", "")
            return content if isinstance(content, str) else str(content)
    return str(prompt)


class RewardScorer:
    """Scores a batch of completions once per step and shares the result with every channel.

    TRL calls each reward function with the same batch; the first call scores it with
    :func:`rlsp_env.scoring.score_batch` (the ``diversity`` group channel compares completions of
    the same ``problem_id``), the others read the cached result.

    Args:
        spec: the :class:`~rlsp_env.spec.RewardSpec` (weights, exploration's length scale, cap
            and tokenizer, verifier mode, answer policy, timeout); take an env's with
            :func:`rlsp_env.integrations.scoring.env_reward_spec` so TRL's rewards are ``env.step``'s.
        workers: ``None`` (default) verifies in this process's shared one-worker
            :class:`rlsp_verifiers.VerifierPool`; ``N > 0`` keeps a pool of N processes (call
            :meth:`close` when done); 0 verifies in the trainer's process (cooperative timeout).
        cache_batches: how many recent batches to remember.
        judge: an effort judge (:mod:`rlsp_env.judge` ``HTTPJudge`` / ``SamplerJudge``,
            ``rlsp_agents.judges.TransformersJudge``), called once per batch when ``effort`` has a
            weight; it sees the prompt and the completion, never the gold answer.
    """

    def __init__(
        self,
        spec: RewardSpec | None = None,
        *,
        workers: int | None = None,
        cache_batches: int = 4,
        judge: Any = None,
    ) -> None:
        spec = RewardSpec() if spec is None else spec
        if not isinstance(spec, RewardSpec):
            raise TypeError(f"spec must be a RewardSpec, got {type(spec).__name__}")
        if workers is not None and (isinstance(workers, bool) or workers < 0):
            raise ValueError(f"workers must be None or an int >= 0, got {workers!r}")
        self.spec = spec
        self.weights = dict(spec.weights)
        self.judge = judge
        self.workers = workers
        self.cache_batches = cache_batches
        self.calls: dict[str, int] = {}
        self.scored = 0
        self._cache: OrderedDict[tuple, list[ItemScore]] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: Any = None

    def _verifier_pool(self) -> Any:
        if self.workers and self._pool is None:
            from rlsp_env.scoring import make_pool

            self._pool = make_pool(self.spec, self.workers)
        return self._pool

    def score(
        self,
        texts: Sequence[str],
        golds: Sequence[str],
        group_ids: Sequence[Any] | None = None,
        problems: Sequence[str] | None = None,
    ) -> list[ItemScore]:
        """Scores a batch (cached by its content); results in input order.

        Args:
            texts: the completions.
            golds: their gold answers.
            group_ids: completions sharing an id are each other's ``diversity`` group.
            problems: the problem texts (the exploration channel measures novelty against them;
                the effort judge reads them).
        """
        from rlsp_env.integrations.scoring import targets_of
        from rlsp_env.scoring import score_batch

        key = (
            tuple(texts),
            tuple(golds),
            None if group_ids is None else tuple(group_ids),
            None if problems is None else tuple(problems),
        )
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            targets = targets_of(golds, problems)
            results = score_batch(
                list(texts),
                targets,
                None if group_ids is None else list(group_ids),
                self.spec,
                judge=self.judge,
                pool=self._verifier_pool(),
                inline=self.workers == 0,
            )
            items = [item_from_result(r) for r in results]
            self.scored += len(items)
            self._cache[key] = items
            while len(self._cache) > self.cache_batches:
                self._cache.popitem(last=False)
            return items

    def close(self) -> None:
        """Stops the verifier pool, if any."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lock"] = None
        state["_pool"] = None
        state["_cache"] = OrderedDict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


class ChannelReward:
    """A TRL reward function returning one channel; ``__name__`` is the channel (TRL logs it).

    Called by TRL as ``f(prompts=..., completions=..., completion_ids=..., gold=[...], **kwargs)``:
    the dataset's ``gold`` column arrives as a keyword argument.
    """

    def __init__(self, channel: str, scorer: RewardScorer) -> None:
        self.channel = channel
        self.__name__ = channel
        self.scorer = scorer

    def __call__(
        self,
        prompts: Sequence[Any] | None = None,
        completions: Sequence[Any] | None = None,
        gold: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> list[float]:
        if completions is None:
            raise TypeError(f"reward function {self.channel!r} needs completions=")
        if gold is None:
            raise TypeError(
                f"reward function {self.channel!r} needs the dataset's 'gold' column; build the "
                "dataset with rlsp_env.integrations.trl.make_dataset"
            )
        if len(gold) != len(completions):
            raise ValueError(f"got {len(completions)} completions but {len(gold)} gold answers")
        texts = [completion_text(c) for c in completions]
        group_ids = kwargs.get("problem_id")
        if group_ids is not None and len(group_ids) != len(texts):
            group_ids = None
        # the problem texts (the dataset's ``problem`` column; else the prompts, for the judge):
        # the exploration channel measures novelty against them, as env.step does
        problems = kwargs.get("problem")
        if problems is not None and len(problems) == len(texts):
            problems = [str(p) for p in problems]
        elif self.scorer.judge is not None and prompts is not None and len(prompts) == len(texts):
            problems = [prompt_text(p) for p in prompts]
        else:
            problems = None
        items = self.scorer.score(texts, [str(g) for g in gold], group_ids, problems)
        self.scorer.calls[self.channel] = self.scorer.calls.get(self.channel, 0) + 1
        log_extra = kwargs.get("log_extra")
        if self.channel == "correctness" and callable(log_extra):
            log_extra("verdict", [str(it.verdict.get("reason", "")) for it in items])
            log_extra("extracted", [str(it.verdict.get("extracted")) for it in items])
        return [float(it.rewards.get(self.channel, 0.0)) for it in items]

    def __repr__(self) -> str:
        return f"ChannelReward({self.channel!r})"


def make_reward_funcs(
    weights: str | Mapping[str, float] | None = None,
    *,
    spec: RewardSpec | None = None,
    channels: Sequence[str] | None = None,
    workers: int | None = None,
    judge: Any = None,
) -> tuple[list[ChannelReward], list[float]]:
    """One TRL reward function per channel and the matching ``reward_weights``.

    Args:
        weights: a preset name of ``rlsp_env.rewards.PRESETS`` or ``{channel: weight}``: a
            shorthand for ``spec=RewardSpec(weights=weights)`` (not together with ``spec``).
        spec: the reward spec; take an env's with
            :func:`rlsp_env.integrations.scoring.env_reward_spec` (what :func:`grpo_setup` does).
        channels: which channels to return (default: every channel, weight-0 ones logged only).
        workers: verifier processes (see :class:`RewardScorer`).
        judge: an effort judge for the ``effort`` channel (see :class:`RewardScorer`).

    Returns:
        ``(reward_funcs, reward_weights)`` for ``GRPOTrainer`` and ``GRPOConfig``.

    Raises:
        ValueError: both ``weights`` and ``spec``, or unknown / duplicate channels.

    Example:
        >>> funcs, w = make_reward_funcs({"correctness": 1.0}, channels=["correctness", "format"])
        >>> [f.__name__ for f in funcs], w
        (['correctness', 'format'], [1.0, 0.0])
    """
    if spec is None:
        spec = RewardSpec(weights="default" if weights is None else weights)
    elif weights is not None:
        raise ValueError("give weights= or spec=, not both (spec.replace(weights=...) changes one)")
    scorer = RewardScorer(spec, workers=workers, judge=judge)
    names = list(channels) if channels is not None else list(scorer.weights)
    if not names:
        raise ValueError("no channels: the weighting is empty")
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate channel names: {names}")
    unknown = [c for c in names if c not in scorer.weights]
    if unknown:
        raise ValueError(f"unknown channels {unknown}; channels: {list(scorer.weights)}")
    funcs = [ChannelReward(c, scorer) for c in names]
    return funcs, [scorer.weights.get(c, 0.0) for c in names]


@dataclass
class GRPOSetup:
    """Everything ``GRPOTrainer`` needs from rlsp.

    Attributes:
        dataset: ``prompt`` (chat), ``gold``, ``problem_id``, ``problem`` columns.
        reward_funcs: one :class:`ChannelReward` per channel.
        reward_weights: the matching weights (pass to ``GRPOConfig(reward_weights=...)``).
        channels: the channel names, in order.
        scorer: the shared scorer (its ``calls`` count the calls per channel).
    """

    dataset: Any
    reward_funcs: list[ChannelReward]
    reward_weights: list[float]
    channels: list[str]
    scorer: RewardScorer

    def close(self) -> None:
        """Stops the scoring pool, if one was asked for."""
        self.scorer.close()


def grpo_setup(
    env_id: str,
    n: int = 256,
    *,
    weights: str | Mapping[str, float] | None = None,
    channels: Sequence[str] | None = None,
    split: str | None = None,
    seed: int = 0,
    system_prompt: str | None = None,
    workers: int | None = None,
    judge: Any = None,
    **env_kwargs: Any,
) -> GRPOSetup:
    """The dataset, reward functions and weights for TRL's ``GRPOTrainer`` from one env id.

    The reward functions score with the env's own :class:`~rlsp_env.spec.RewardSpec` (built from
    the same ``env_kwargs`` as the dataset: ``length_scale``, ``exploration_cap``, ``tokenizer``,
    ``verifier_mode``, ``verifier_timeout_s``, ``answer_policy``, ``reward_weights`` or a whole
    ``reward_spec``), so TRL's channels are ``env.step``'s.

    Args:
        env_id: a registered id.
        n: number of prompts.
        weights: a preset or ``{channel: weight}`` replacing the spec's weights; ``None``: the
            env's own.
        channels: a subset of the channels (see :func:`make_reward_funcs`).
        split: ``"train"``/``"test"`` for envs with splits.
        seed: the ``reset`` seed.
        system_prompt: an optional system message.
        workers: verifier processes (see :class:`RewardScorer`).
        judge: an effort judge for the ``effort`` channel (see :class:`RewardScorer`).
        **env_kwargs: passed to ``gymnasium.make`` (and to the reward spec).

    Example:
        >>> setup = grpo_setup("rlsp/Arithmetic-v0", n=8, weights="rlsp", length_scale=200)
        >>> setup.channels[:1], len(setup.dataset), setup.scorer.spec.length_scale
        (['correctness'], 8, 200.0)
    """
    spec = env_reward_spec(env_id, **env_kwargs)
    if weights is not None:
        spec = spec.replace(weights=weights)
    dataset = make_dataset(
        env_id, n, split=split, seed=seed, system_prompt=system_prompt, **env_kwargs
    )
    funcs, w = make_reward_funcs(spec=spec, channels=channels, workers=workers, judge=judge)
    return GRPOSetup(
        dataset=dataset,
        reward_funcs=funcs,
        reward_weights=w,
        channels=[f.channel for f in funcs],
        scorer=funcs[0].scorer,
    )
