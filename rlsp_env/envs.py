"""The environment: one math problem per episode, the response text as the action, and every
reward channel reported by name.

Example:
    >>> import gymnasium as gym, rlsp_env
    >>> env = gym.make("rlsp/Arithmetic-v0", difficulty=1, reward_weights="correctness")
    >>> obs, info = env.reset(seed=0, options={"index": 0})
    >>> obs, reward, terminated, truncated, info = env.step(f"\\\\boxed{{{info['gold']}}}")
    >>> reward, terminated, truncated, info["verdict"]["reason"]
    (1.0, True, False, 'equal')
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlsp_env import rewards as R
from rlsp_env.problem import Problem
from rlsp_env.scoring import score_batch
from rlsp_env.sources import DatasetSource, ListSource, ProblemSource, ProceduralSource
from rlsp_env.spec import DEFAULT_LENGTH_SCALE, RewardSpec

__all__ = [
    "DEFAULT_FEEDBACK",
    "DEFAULT_PROMPT_TEMPLATE",
    "EvalExhaustedError",
    "MathEnv",
    "REWARD_ARGS",
    "UnicodeText",
    "make_reward_spec",
]

#: the default prompt: the problem, then the RLSP / Qwen-Math instruction to box the answer
DEFAULT_PROMPT_TEMPLATE = (
    "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{}."
)
#: the multi-turn feedback after a wrong answer (``{extracted}`` is the answer the verifier read)
DEFAULT_FEEDBACK = (
    "Your final answer {extracted} is not correct. Look for the mistake, reason again step by "
    "step, and put your final answer within \\boxed{}."
)
#: the default action space's maximum response length (characters); longer text is still scored
DEFAULT_MAX_RESPONSE_CHARS = 32_768
MAX_PROMPT_CHARS = 1 << 20

# Characters the spaces *sample* from (ASCII, controls, Latin, Greek, math, arrows, CJK, emoji).
# ``contains`` accepts every str: a response may hold any Unicode.
_SAMPLE_CHARSET = "".join(
    chr(c)
    for r in (
        range(0x00, 0x7F),
        range(0xA0, 0x180),
        range(0x370, 0x400),
        range(0x2000, 0x2070),
        range(0x2190, 0x2300),
        range(0x4E00, 0x4E80),
        range(0x1F600, 0x1F650),
    )
    for c in r
)


class UnicodeText(spaces.Text):
    """A :class:`gymnasium.spaces.Text` that contains *any* ``str`` within the length bounds.

    Gymnasium's ``Text`` defaults to an alphanumeric charset, which rejects LaTeX, spaces and
    Unicode. This space samples from a wide charset (ASCII with control characters, Latin, Greek,
    math symbols, arrows, CJK, emoji) and accepts every Unicode string.

    Example:
        >>> UnicodeText(100).contains("$\\\\frac{1}{2}$ ≤ π ✓ 你好")
        True
    """

    def __init__(self, max_length: int, *, min_length: int = 0, seed: Any = None) -> None:
        super().__init__(max_length, min_length=min_length, charset=_SAMPLE_CHARSET, seed=seed)

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and self.min_length <= len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"UnicodeText({self.min_length}, {self.max_length})"


class EvalExhaustedError(RuntimeError):
    """``reset()`` in evaluation mode after every problem has been visited once."""


def _check_int(name: str, v: Any, lo: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or int(v) < lo:
        raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    return int(v)


def _source(
    dataset: str | None, family: str | None, problems: Sequence[Problem] | None, **kw: Any
) -> ProblemSource:
    """The problem source named by exactly one of ``dataset``, ``family``, ``problems``."""
    if sum(x is not None for x in (dataset, family, problems)) != 1:
        raise ValueError("give exactly one of dataset=..., family=... or problems=[...]")
    split, n = kw["split"], kw["num_problems"]
    if dataset is not None:
        src: ProblemSource = DatasetSource(
            dataset,
            split=split or "all",
            levels=kw["levels"],
            subjects=kw["subjects"],
            data_dir=kw["data_dir"],
        )
        if n is not None:
            n = _check_int("num_problems", n, 1)
            src = ListSource([src.get(i) for i in range(min(n, len(src)))], name=dataset)
        return src
    if family is not None:
        if kw["levels"] is not None or kw["subjects"] is not None:
            raise ValueError("levels/subjects filter datasets; procedural families use difficulty")
        return ProceduralSource(
            family,
            difficulty=kw["difficulty"],
            split=split or "train",
            seed=kw["seed"],
            num_problems=n,
        )
    assert problems is not None
    return ListSource(problems)


def make_reward_spec(
    *,
    reward_weights: str | Mapping[str, float] | None = "default",
    length_scale: float = DEFAULT_LENGTH_SCALE,
    exploration_cap: float = 1.0,
    tokenizer: object | None = None,
    verifier_mode: str = "strict",
    verifier_timeout_s: float = 5.0,
    answer_policy: str | None = None,
    reward_spec: RewardSpec | None = None,
    default_policy: str = "closed_form",
) -> RewardSpec:
    """The :class:`RewardSpec` that :class:`MathEnv`'s reward arguments describe (the one mapping
    from env arguments to a spec; the integrations use it too).

    Raises:
        ValueError: invalid values, or ``reward_spec`` given together with the arguments it
            replaces.

    Example:
        >>> make_reward_spec(reward_weights="correctness", default_policy="literal").answer_policy
        'literal'
    """
    if reward_spec is None:
        return RewardSpec(
            weights=reward_weights,
            length_scale=length_scale,
            exploration_cap=exploration_cap,
            tokenizer=tokenizer,
            verifier_mode=verifier_mode,
            answer_policy=default_policy if answer_policy is None else answer_policy,
            timeout_s=verifier_timeout_s,
        )
    if not isinstance(reward_spec, RewardSpec):
        raise TypeError(f"reward_spec must be a RewardSpec, got {type(reward_spec).__name__}")
    if (
        answer_policy is not None
        or tokenizer is not None
        or reward_weights != "default"
        or (length_scale, exploration_cap) != (DEFAULT_LENGTH_SCALE, 1.0)
        or (verifier_mode, verifier_timeout_s) != ("strict", 5.0)
    ):
        raise ValueError("give reward_spec or the reward arguments it replaces, not both")
    return reward_spec


#: the :class:`MathEnv` arguments that :func:`make_reward_spec` turns into its reward spec
REWARD_ARGS = (
    "reward_weights",
    "length_scale",
    "exploration_cap",
    "tokenizer",
    "verifier_mode",
    "verifier_timeout_s",
    "answer_policy",
    "reward_spec",
)


class MathEnv(gym.Env[str, str]):
    """A math problem per episode; the action is the model's response text.

    ## Description
    Each episode serves one problem from a dataset (MATH-500, GSM8K, ...) or a procedural family
    (arithmetic, fractions, ...). The agent answers in free text ending with ``\\boxed{answer}``;
    the verifier (:mod:`rlsp_verifiers`) decides correctness and the other reward channels grade
    format, exploration (RLSP's length term, padding-proof), effort (an optional LLM judge), and
    count emergent behaviours. With ``max_turns > 1`` a wrong answer gets feedback and another try.

    ## Action Space
    :class:`UnicodeText`: any ``str`` (up to ``max_response_chars`` in the declared space; longer
    text is still accepted and scored in bounded time). Non-``str`` actions raise ``TypeError``.

    ## Observation Space
    :class:`UnicodeText`: the prompt, ``prompt_template`` with ``{problem}`` filled in (after a
    wrong answer in multi-turn mode: the feedback message). ``info["messages"]`` holds the chat.

    ## Rewards
    ``reward = sum(w[c] * info["rewards"][c])`` over the channels of :mod:`rlsp_env.rewards`
    (``correctness``, ``format``, ``exploration``, ``effort``, ``diversity``, ``backtracking``,
    ``verification``, ``alternatives``), weights from ``reward_weights`` (a preset name or a dict;
    weight 0 = log-only). ``diversity`` needs a group and is 0 in a single env.

    ## Episode End
    Single-turn (default): every step ends the episode, ``terminated=True, truncated=False``.
    Multi-turn: ``terminated=True`` when the answer is correct or after ``max_turns`` answers
    (the turn limit is part of the task, not a time limit); ``truncated`` is always False.

    ## Information
    ``reset``: ``problem_id``, ``gold``, ``problem`` (raw text), ``messages`` (chat list),
    ``solution``, ``level``, ``subject``, ``source``, ``index``, ``turn``.
    ``step``: those plus ``extracted``, ``verdict`` (dict: correct, extracted, reason, stage),
    ``correct``, ``rewards`` ({channel: float}), ``reward_weights``, ``ell`` (effective reasoning
    length), ``effort_judged``.

    ## Reward specification
    Everything that decides the channels is one frozen, serialisable
    :class:`rlsp_env.spec.RewardSpec`, ``env.unwrapped.reward_spec``: the TRL, verl and server
    integrations take the same spec, and every door scores through
    :func:`rlsp_env.scoring.score_batch`.

    ## Arguments
    - ``dataset`` / ``family`` / ``problems``: the problem source (set by the registered id).
    - ``split``: procedural ``"train"`` (default) / ``"test"`` (disjoint); datasets ``"all"``
      (default) / ``"train"`` / ``"test"`` (an 80/20 content-hash partition).
    - ``difficulty``: procedural difficulty 1-5. ``levels``, ``subjects``: dataset filters.
    - ``reward_weights``: preset (``"default"``, ``"rlsp"``, ``"rlsp-length"``, ``"correctness"``)
      or ``{channel: weight}``.
    - ``length_scale`` (RLSP's ``L``, default 1000), ``exploration_cap`` (default 1),
      ``tokenizer`` (counts ``ell``: a name, a tokenizer or a ``str -> int``; chars/4 without).
    - ``answer_policy``: ``"literal"`` (a plain-number gold needs a number literal; the default of
      procedural families) or ``"closed_form"`` (the default of datasets and problem lists).
    - ``reward_spec``: a whole :class:`~rlsp_env.spec.RewardSpec` instead of the reward and
      verifier arguments above (giving both is an error).
    - ``judge``: an effort judge (:mod:`rlsp_env.judge`).
    - ``prompt_template`` (must contain ``{problem}``), ``system_prompt``, ``feedback_template``.
    - ``max_turns`` (default 1), ``eval_mode`` (visit every problem exactly once, in order),
      ``num_problems`` (a finite procedural set; default 500 in eval mode), ``problem_seed``.
    - ``verifier_mode`` (``"strict"``), ``verifier_timeout_s`` (default 5: a hard bound, so
      ``step`` returns within about ``verifier_timeout_s + 0.5`` s on any input once the verifier
      worker has started), ``verifier_workers`` (1: the process's shared one-worker
      :class:`rlsp_verifiers.VerifierPool`; 0: verify in this process, cooperative timeout only).
    - ``max_response_chars``: the declared action space's length bound.
    """

    metadata = {"render_modes": ["ansi", "human"], "render_fps": 1}

    def __init__(
        self,
        *,
        dataset: str | None = None,
        family: str | None = None,
        problems: Sequence[Problem] | None = None,
        split: str | None = None,
        difficulty: int = 1,
        levels: Iterable[int] | int | None = None,
        subjects: Iterable[str] | str | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        reward_weights: str | Mapping[str, float] | None = "default",
        length_scale: float = DEFAULT_LENGTH_SCALE,
        exploration_cap: float = 1.0,
        tokenizer: object | None = None,
        judge: Any = None,
        prompt_template: str = DEFAULT_PROMPT_TEMPLATE,
        system_prompt: str | None = None,
        feedback_template: str = DEFAULT_FEEDBACK,
        max_turns: int = 1,
        eval_mode: bool = False,
        num_problems: int | None = None,
        problem_seed: int = 0,
        verifier_mode: str = "strict",
        verifier_timeout_s: float = 5.0,
        answer_policy: str | None = None,
        reward_spec: RewardSpec | None = None,
        verifier_workers: int = 1,
        max_response_chars: int = DEFAULT_MAX_RESPONSE_CHARS,
        render_mode: str | None = None,
    ) -> None:
        if not isinstance(prompt_template, str) or "{problem}" not in prompt_template:
            raise ValueError("prompt_template must be a str containing '{problem}'")
        if not isinstance(feedback_template, str):
            raise ValueError("feedback_template must be a str")
        if system_prompt is not None and not isinstance(system_prompt, str):
            raise ValueError("system_prompt must be a str or None")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None")
        if verifier_workers not in (0, 1) or isinstance(verifier_workers, bool):
            raise ValueError(f"verifier_workers must be 0 or 1, got {verifier_workers!r}")
        self.max_turns = _check_int("max_turns", max_turns, 1)
        self.eval_mode = bool(eval_mode)
        if self.eval_mode and family is not None and num_problems is None:
            num_problems = 500
        #: where the problems come from (a dataset, a procedural family or a list)
        self.source = _source(
            dataset,
            family,
            problems,
            split=split,
            difficulty=difficulty,
            levels=levels,
            subjects=subjects,
            data_dir=data_dir,
            seed=_check_int("problem_seed", problem_seed, 0),
            num_problems=num_problems,
        )
        reward_spec = make_reward_spec(
            reward_weights=reward_weights,
            length_scale=length_scale,
            exploration_cap=exploration_cap,
            tokenizer=tokenizer,
            verifier_mode=verifier_mode,
            verifier_timeout_s=verifier_timeout_s,
            answer_policy=answer_policy,
            reward_spec=reward_spec,
            default_policy=self.source.answer_policy,
        )
        #: the env's one reward specification (read-only; pass it to every other scoring door)
        self.reward_spec = reward_spec
        self.judge = judge
        self.verifier_workers = int(verifier_workers)
        if self.reward_weights["effort"] != 0.0 and judge is None:
            warnings.warn(
                "reward_weights give 'effort' a weight but no judge is set: the effort channel is "
                "0.0 (pass judge=rlsp_env.judge.HTTPJudge(...) or "
                "rlsp_agents.judges.TransformersJudge(...)).",
                stacklevel=2,
            )
        self.prompt_template = prompt_template
        self.system_prompt = system_prompt
        self.feedback_template = feedback_template
        self.render_mode = render_mode
        self.observation_space = UnicodeText(MAX_PROMPT_CHARS)
        self.action_space = UnicodeText(_check_int("max_response_chars", max_response_chars, 1))

        self._eval_cursor = 0
        self.problem: Problem | None = None
        self.index: int | None = None
        self.turn = 0
        self.messages: list[dict[str, str]] = []
        self._done = True
        self._last_info: dict[str, Any] = {}

    # ------------------------------------------------------------------ problems and prompts

    @property
    def num_problems(self) -> int:
        """How many distinct problem indices this env has (2**31 - 1 for an unbounded stream)."""
        return len(self.source)

    def prompt_for(self, problem: Problem) -> str:
        """The observation text for a problem (``prompt_template`` filled in)."""
        return self.prompt_template.replace("{problem}", problem.problem)

    def messages_for(self, problem: Problem) -> list[dict[str, str]]:
        """The chat message list for a problem (optional system prompt, then the user prompt)."""
        msgs = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        return msgs + [{"role": "user", "content": self.prompt_for(problem)}]

    @property
    def reward_weights(self) -> dict[str, float]:
        """Every channel's weight (from :attr:`reward_spec`)."""
        return dict(self.reward_spec.weights)

    def problem_info(self) -> dict[str, Any]:
        """The info of the current episode's problem (what ``reset`` returns as ``info``)."""
        p = self.problem
        assert p is not None
        return {
            "problem_id": p.id,
            "gold": p.answer,
            "problem": p.problem,
            "messages": [dict(m) for m in self.messages],
            "solution": p.solution if p.solution is not None else "",
            "level": -1 if p.level is None else int(p.level),
            "subject": p.subject or "",
            "source": p.source,
            "index": int(self.index if self.index is not None else -1),
            "turn": int(self.turn),
        }

    def _choose_index(
        self, options: dict[str, Any] | None, seeded: bool
    ) -> tuple[int, Problem | None]:
        if options:
            unknown = set(options) - {"index", "problem"}
            if unknown:
                raise ValueError(
                    f"unknown reset options {sorted(unknown)}; use 'index' or 'problem'"
                )
            if "problem" in options:
                p = options["problem"]
                if not isinstance(p, Problem):
                    raise TypeError("options['problem'] must be an rlsp_env.Problem")
                return -1, p
            if "index" in options:
                return self.source._check_index(options["index"]), None
        if self.eval_mode:
            if seeded:
                self._eval_cursor = 0
            if self._eval_cursor >= len(self.source):
                raise EvalExhaustedError(
                    f"evaluation mode: all {len(self.source)} problems have been visited; "
                    "reset(seed=...) starts a new pass"
                )
            i = self._eval_cursor
            self._eval_cursor += 1
            return i, None
        return int(self.np_random.integers(len(self.source))), None

    # ------------------------------------------------------------------ Gymnasium API

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Starts an episode on a problem.

        Args:
            seed: seeds ``self.np_random`` (and restarts the pass in eval mode).
            options: ``{"index": i}`` for problem ``i``, or ``{"problem": Problem}``; otherwise a
                random index (eval mode: the next unvisited one).

        Raises:
            EvalExhaustedError: eval mode, every problem already visited.
            IndexError / TypeError / ValueError: bad options.
        """
        super().reset(seed=seed)
        index, given = self._choose_index(options, seeded=seed is not None)
        self.problem = given if given is not None else self.source.get(index)
        self.index = index
        self.turn = 0
        self.messages = self.messages_for(self.problem)
        self._done = False
        obs = self.prompt_for(self.problem)
        info = self.problem_info()
        self._last_info = info
        return obs, info

    def _check_action(self, action: Any) -> str:
        if self.problem is None or self._done:
            raise gym.error.ResetNeeded(
                "call reset() before step(): "
                + ("no episode has started" if self.problem is None else "the episode has ended")
            )
        if not isinstance(action, str):
            hint = " (decode bytes first)" if isinstance(action, bytes | bytearray) else ""
            raise TypeError(
                f"the action must be the response text (str), got {type(action).__name__}{hint}"
            )
        return action

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Scores the response; see the class docstring for the returned info."""
        text = self._check_action(action)
        assert self.problem is not None
        (res,) = score_batch(
            [text],
            [self.problem],
            None,
            self.reward_spec,
            judge=self.judge,
            inline=self.verifier_workers == 0,
        )
        return self.record_step(text, res)

    def record_step(
        self, action: str, res: R.ScoreResult
    ) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Ends the turn with an already scored response (the vector env scores a whole batch
        with :func:`rlsp_env.scoring.score_batch`, then records each env's item here).

        Returns:
            What ``step`` returns for that response.
        """
        if self.problem is None or self._done:
            raise gym.error.ResetNeeded("call reset() before recording a step")
        self.turn += 1
        self.messages.append({"role": "assistant", "content": action})
        correct = bool(res.verdict.correct)
        terminated = correct or self.turn >= self.max_turns
        if terminated:
            self._done = True
            obs = self.prompt_for(self.problem) if self.max_turns == 1 else ""
        else:
            extracted = res.verdict.extracted
            obs = self.feedback_template.replace(
                "{extracted}", f"${extracted}$" if extracted else "(no boxed answer)"
            )
            self.messages.append({"role": "user", "content": obs})
        info = self.problem_info()
        info.update(
            {
                "extracted": res.verdict.extracted,
                "verdict": res.verdict.to_dict(),
                "correct": correct,
                "rewards": dict(res.rewards),
                "reward_weights": dict(res.weights),
                "ell": float(res.info["ell"]),
                "effort_judged": bool(res.info["effort_judged"]),
            }
        )
        self._last_info = info
        return obs, float(res.reward), bool(terminated), False, info

    def render(self) -> str | None:
        """``"ansi"``: returns the conversation so far as text; ``"human"``: prints it."""
        if self.render_mode is None:
            gym.logger.warn("render() called without render_mode; pass render_mode='ansi'")
            return None
        lines = [f"[{m['role']}] {m['content']}" for m in self.messages]
        if "rewards" in self._last_info:
            lines.append(f"[rewards] {self._last_info['rewards']}")
        text = "\n".join(lines)
        if self.render_mode == "human":
            print(text)
            return None
        return text
