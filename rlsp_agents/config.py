"""Configuration of the bundled agent: one dataclass per command, every field documented.

The dataclasses are the CLI: ``tyro`` turns each field (and its docstring) into an option, so
``rlsp train --help`` lists exactly what is here. Presets (``rlsp_agents.presets``) are instances of
these classes. Fields hold typed values: ``channel_weights`` is a ``dict[str, float]`` and
``env_kwargs`` a ``dict``; the command line writes them as ``name=weight,...`` and as a JSON object
(the one syntax each has, parsed once, when the option is read; a string given in Python is
parsed the same way when the config is made).

Example:
    >>> from rlsp_agents.config import TrainConfig
    >>> cfg = TrainConfig(total_steps=3, prompts_per_step=2, samples_per_prompt=2)
    >>> cfg.rollout_size
    4
    >>> TrainConfig(channel_weights="correctness=1,format=0.5").channel_weights
    {'correctness': 1.0, 'format': 0.5}
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import tyro

__all__ = [
    "ChannelWeights",
    "EnvKwargs",
    "SFTConfig",
    "TrainConfig",
    "config_to_dict",
    "parse_env_kwargs",
    "parse_weights",
]

AdvantageMode = Literal["decoupled", "rlsp", "group"]
Precision = Literal["auto", "bf16-autocast", "fp32", "bf16"]


def parse_weights(spec: str | dict[str, float]) -> dict[str, float]:
    """Parses ``"correctness=1,format=0.5"`` (or passes a dict through) into channel weights.

    Raises:
        ValueError: a malformed entry, naming it.

    Example:
        >>> parse_weights("correctness=1, exploration=0.2")
        {'correctness': 1.0, 'exploration': 0.2}
    """
    if isinstance(spec, dict):
        return {str(k): float(v) for k, v in spec.items()}
    out: dict[str, float] = {}
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        name, sep, value = part.partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(
                f"bad channel weight {part!r}: write name=number, e.g. 'correctness=1,format=0.5'"
            ) from None
    return out


def parse_env_kwargs(spec: str | dict[str, Any]) -> dict[str, Any]:
    """Parses a JSON object (or passes a dict through) into ``gym.make`` keyword arguments.

    Raises:
        ValueError: not JSON, or JSON that is not an object.

    Example:
        >>> parse_env_kwargs('{"length_scale": 50}')
        {'length_scale': 50}
    """
    if isinstance(spec, dict):
        return dict(spec)
    try:
        kw = json.loads(spec) if str(spec).strip() else {}
    except json.JSONDecodeError as e:
        raise ValueError(f"env_kwargs is not valid JSON: {e.msg}: {spec!r}") from None
    if not isinstance(kw, dict):
        raise ValueError(f"env_kwargs must be a JSON object, got {spec!r}")
    return kw


def _format_weights(weights: dict[str, float]) -> str:
    return ",".join(f"{k}={v:g}" for k, v in weights.items())


#: Channel weights: a dict in Python, ``name=weight,...`` on the command line.
ChannelWeights = Annotated[
    dict[str, float],
    tyro.constructors.PrimitiveConstructorSpec(
        nargs=1,
        metavar="NAME=WEIGHT,...",
        instance_from_str=lambda args: parse_weights(args[0]),
        is_instance=lambda x: isinstance(x, dict),
        str_from_instance=lambda x: [_format_weights(x)],
    ),
]
#: Environment keyword arguments: a dict in Python, a JSON object on the command line.
EnvKwargs = Annotated[
    dict[str, Any],
    tyro.constructors.PrimitiveConstructorSpec(
        nargs=1,
        metavar="JSON",
        instance_from_str=lambda args: parse_env_kwargs(args[0]),
        is_instance=lambda x: isinstance(x, dict),
        str_from_instance=lambda x: [json.dumps(x)],
    ),
]


def check_choices(cfg: Any) -> None:
    """Raises ``ValueError`` when a field typed ``Literal[...]`` holds a value outside its choices
    (the command line checks them; a config built in Python or read from JSON may not)."""
    import types
    import typing

    hints = typing.get_type_hints(type(cfg))
    for f in dataclasses.fields(cfg):
        hint = hints.get(f.name)
        args = typing.get_args(hint)
        if typing.get_origin(hint) is Literal:
            choices = args
        elif typing.get_origin(hint) in (typing.Union, types.UnionType):  # Literal[...] | None
            lits = [a for a in args if typing.get_origin(a) is Literal]
            if not lits:
                continue
            choices = tuple(x for lit in lits for x in typing.get_args(lit))
            choices += (None,) if type(None) in args else ()
        else:
            continue
        value = getattr(cfg, f.name)
        if value not in choices:
            raise ValueError(f"{f.name}={value!r} is not one of {', '.join(map(repr, choices))}")


class _EnvArgs:
    """``env_kwargs_dict`` of the configs that name an environment (``env_kwargs``,
    ``difficulty``)."""

    env_kwargs: dict[str, Any]
    difficulty: int | None

    def env_kwargs_dict(self) -> dict[str, Any]:
        """A copy of ``env_kwargs``, plus ``difficulty`` when set (and not given there)."""
        kw = parse_env_kwargs(self.env_kwargs)
        if self.difficulty is not None:
            kw.setdefault("difficulty", self.difficulty)
        return kw


@dataclass
class TrainConfig(_EnvArgs):
    """PPO for language models with separate reward channels (``rlsp train``)."""

    # --- policy and task ---
    model: str = "smollm2-135m"
    """Policy to train: an embedded model name, a local transformers directory or a Hub id."""
    env_id: str = "rlsp/Arithmetic-v0"
    """Training environment (any registered ``rlsp/...`` id)."""
    difficulty: int | None = 1
    """``difficulty`` passed to procedural environments (None: not passed)."""
    env_kwargs: EnvKwargs = field(default_factory=dict)
    """Extra keyword arguments for the environment (``gym.make_vec``), as a JSON object."""
    eval_env_id: str | None = None
    """Environment for held-out evaluation (default: ``env_id`` with ``split="test"``)."""

    # --- rewards and advantages ---
    advantage: AdvantageMode = "decoupled"
    """``decoupled``: one value head per weighted channel, GAE per channel, each channel's
    advantages normalised, then combined with ``channel_weights``. ``rlsp``: the paper's scalar
    reward (the environment's ``reward_preset``) with one critic. ``group``: critic-free
    GRPO/RLOO, group-normalised per channel, then combined."""
    channel_weights: ChannelWeights = field(
        default_factory=lambda: {"correctness": 1.0, "format": 0.5, "exploration": 0.1}
    )
    """Weight of each reward channel in the combined advantage (decoupled and group modes), as
    ``name=weight,...``; channels not listed are logged only."""
    reward_preset: str = "rlsp-length"
    """The environment's weighting for its scalar reward: ``rlsp-length`` (the paper's main runs,
    ``r_c - L / ell``), ``rlsp`` (the 32B run's formula with an effort judge), ``correctness`` or
    ``default``; the scalar is what ``rlsp`` mode trains on and is logged as ``reward/total``."""
    weight_schedule: Literal["constant", "linear", "correctness"] = "constant"
    """Schedule of ``schedule_channel``'s weight: constant, falling linearly to 0 over training, or
    multiplied by (1 - recent correctness), i.e. exploration annealed as correctness rises."""
    schedule_channel: str = "exploration"
    """The channel that ``weight_schedule`` acts on."""
    correctness_gate: bool = False
    """Zero the advantages of every channel but ``correctness`` in groups (responses to one
    problem) with no correct response (decoupled and group modes): where nothing is correct, the
    separately normalised exploration advantage would otherwise move the policy on its own."""
    group_baseline: Literal["grpo", "rloo"] = "grpo"
    """Baseline of ``group`` mode (and of ``group_returns``): group mean and std (GRPO) or
    leave-one-out mean (RLOO)."""
    group_returns: bool = False
    """Critic modes (``decoupled``, ``rlsp``): replace each channel's reward by its group
    advantage (``group_baseline``) before GAE, so the responses to one problem are the per-prompt
    baseline from the first iteration and the value heads learn only what is left per token. With
    ``lam=1`` the first update equals the group-normalised (GRPO) one up to a positive factor per
    channel: the heads start at the first batch's channel means (``critic_init``), which are about
    0 for group advantages, and ``adv_norm`` rescales each channel; with ``lam < 1`` an untrained
    critic passes the terminal reward to early tokens only as ``lam**distance``. Needs
    ``samples_per_prompt >= 2``. Measured unstable on the main job's task (greedy accuracy fell to
    0% at the fourth iteration; ``docs/agent.md``): off by default."""
    adv_norm: Literal["rms", "whiten"] = "rms"
    """Critic modes: how each channel's token advantages are scaled before the weighted sum.
    ``rms`` (default): divided by their root mean square over the batch's tokens, so every token
    keeps the sign of ``return - value``. ``whiten``: mean 0 and std 1 over the tokens (the usual
    PPO whitening, the trainer's scaling before this option existed; ``--lam 0.95
    --critic-init zero`` as well to come close to that trainer): while the value heads do not track the
    returns, the shift hands the opening tokens of every response, correct ones included, one
    shared negative advantage (``docs/agent.md``, "Advantage scaling in the critic modes")."""
    critic_init: Literal["batch-mean", "zero"] = "batch-mean"
    """Critic modes: the value heads' starting estimate on a fresh run: the first rollout batch's
    mean of each channel (``batch-mean``: the first advantages are ``reward - mean``) or ``zero``.
    A resumed run keeps its checkpoint's heads (one without them starts them as a fresh run)."""
    gamma: float = 1.0
    """Discount over response tokens (RLSP: 1)."""
    lam: float = 0.95
    """GAE lambda (RLSP: 0.95)."""

    # --- rollout (DASH preemptive sampling: one generation per optimizer step) ---
    total_steps: int = 20
    """Number of PPO iterations (each: sample, verify, update, sync)."""
    prompts_per_step: int = 16
    """Distinct problems sampled per iteration."""
    samples_per_prompt: int = 4
    """Responses per problem (the group size of ``group`` mode)."""
    max_new_tokens: int = 128
    """Longest response in tokens."""
    temperature: float = 0.7
    """Sampling temperature (this small model's samples at 1.0 are mostly gibberish)."""
    tempered_logprobs: bool = True
    """Compute the loss's log-probabilities (policy, old policy, reference; and the logged
    entropy) from the logits divided by ``temperature``: the distribution the responses were
    sampled from, so the update is the policy gradient of the sampling policy, as TRL's
    GRPOTrainer and verl's actor compute it. Off (``--no-tempered-logprobs``): the untempered
    policy, this trainer's behaviour before 2026-12-04 and what every earlier committed run used;
    measured on the main job from one SFT checkpoint, off collapsed the responses' diversity
    within 15 iterations (trigram distance 0.86 -> 0.02, the exploration channel constant) and on
    kept it (0.89 -> 0.66) at the same accuracy (``docs/rlsp_results.md``, run 9)."""
    top_p: float = 1.0
    """Nucleus sampling threshold."""
    sampler: Literal["vllm", "transformers"] = "vllm"
    """Sampling back end; the policy's weights are synced into it after every optimizer step."""

    # --- optimisation ---
    lr: float = 2e-6
    """Actor learning rate (AdamW)."""
    critic_lr: float = 1e-4
    """Learning rate of the value heads."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Gradient clipping (global norm)."""
    micro_batch_size: int = 8
    """Sequences per forward/backward pass; gradients are accumulated over micro-batches."""
    share_prompts: bool = True
    """Run each distinct prompt of a micro-batch once and its responses on its key/value cache
    (:func:`rlsp_agents.batching.forward`): the same losses and gradients as padding every
    (prompt, response) row, over fewer tokens when several samples share a prompt."""
    num_minibatches: int = 1
    """Optimizer steps per rollout batch."""
    update_epochs: int = 1
    """Passes over each rollout batch."""
    clip: float = 0.2
    """PPO ratio clip."""
    value_clip: float | None = 0.2
    """Value clip around the old values (None: unclipped)."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    kl_coef: float = 0.0
    """KL penalty to the initial policy (k3 estimator, a loss term); 0 turns it off (DASH finding)
    and skips the reference model entirely."""
    entropy_coef: float = 0.0
    """Entropy bonus (entropy is always logged)."""
    filter_tau: float = 0.1
    """DASH gradient filtering: drop samples whose mean |advantage| <= tau (at least one is kept);
    a negative value keeps everything."""
    critic_hidden: int = 256
    """Width of each value head's hidden layer."""
    critic_detach: bool = True
    """Value heads read detached hidden states (the value loss does not move the policy)."""
    precision: Precision = "auto"
    """``auto`` (default): fp32 weights with bf16 autocast where the hardware computes bf16
    natively (CUDA >= 8.0, AVX-512 CPUs), pure fp32 elsewhere (emulated bf16 is many times
    slower: ``rlsp_agents.hardware``); or ``bf16-autocast``, ``fp32``, pure ``bf16`` weights."""

    # --- run management ---
    seed: int = 0
    """Seed of problem selection, sampling and initialisation."""
    out: str = "runs/train"
    """Output directory: metrics.jsonl, checkpoints, plots, final model."""
    resume: bool = False
    """Continue from the newest complete checkpoint in ``out``."""
    checkpoint_every: int = 1
    """Save a checkpoint every N iterations (only the newest is kept); 0: never."""
    save_optimizer: bool = True
    """Include the optimizer state in checkpoints (exact resume; larger files)."""
    eval_every: int = 0
    """Evaluate greedy held-out accuracy every N iterations (0: only at the end if ``eval_n``)."""
    eval_n: int = 0
    """Held-out problems per evaluation (0: no evaluation during training)."""
    max_minutes: float | None = None
    """Stop after the iteration that passes this many minutes of wall-clock (None: no limit)."""
    threads: int | None = None
    """torch CPU threads (default: all cores)."""
    log_samples: int = 1
    """Responses printed per iteration (0: none)."""
    plots: bool = True
    """Write PNG plots of the metrics at the end."""
    save_final: bool = True
    """Save the trained policy under ``out/final``."""
    progress: bool = True
    """Show a progress bar."""

    def __post_init__(self) -> None:
        self.channel_weights = parse_weights(self.channel_weights)
        self.env_kwargs = parse_env_kwargs(self.env_kwargs)

    @property
    def rollout_size(self) -> int:
        """Responses per iteration: ``prompts_per_step * samples_per_prompt``."""
        return self.prompts_per_step * self.samples_per_prompt

    def validate(self) -> None:
        """Raises ``ValueError`` naming the first inconsistent setting.

        ``channel_weights`` and ``env_kwargs`` assigned after construction are parsed here
        like at construction (``"name=w,..."`` / a JSON object string, or already a dict).
        """
        self.channel_weights = parse_weights(self.channel_weights)
        self.env_kwargs = parse_env_kwargs(self.env_kwargs)
        check_choices(self)
        checks = [
            (self.total_steps >= 1, "total_steps must be >= 1"),
            (self.prompts_per_step >= 1, "prompts_per_step must be >= 1"),
            (self.samples_per_prompt >= 1, "samples_per_prompt must be >= 1"),
            (
                self.advantage != "group" or self.samples_per_prompt >= 2,
                "advantage='group' needs samples_per_prompt >= 2",
            ),
            (
                not self.group_returns or self.advantage != "group",
                "group_returns applies to the critic modes (decoupled, rlsp); group mode already "
                "trains on group advantages",
            ),
            (
                not self.group_returns or self.samples_per_prompt >= 2,
                "group_returns needs samples_per_prompt >= 2",
            ),
            (self.max_new_tokens >= 1, "max_new_tokens must be >= 1"),
            (self.temperature >= 0, "temperature must be >= 0"),
            (
                not self.tempered_logprobs or self.temperature > 0,
                (
                    "tempered_logprobs needs temperature > 0 (greedy sampling has no "
                    "distribution); pass --no-tempered-logprobs to train on greedy samples"
                ),
            ),
            (0 < self.top_p <= 1, "top_p must be in (0, 1]"),
            (self.micro_batch_size >= 1, "micro_batch_size must be >= 1"),
            (self.num_minibatches >= 1, "num_minibatches must be >= 1"),
            (self.update_epochs >= 1, "update_epochs must be >= 1"),
            (self.rollout_size >= self.num_minibatches, "num_minibatches exceeds the rollout size"),
            (self.lr > 0 and self.critic_lr > 0, "learning rates must be > 0"),
            (0 <= self.gamma <= 1 and 0 <= self.lam <= 1, "gamma and lam must be in [0, 1]"),
            (self.clip > 0, "clip must be > 0"),
            (self.kl_coef >= 0, "kl_coef must be >= 0"),
            (self.checkpoint_every >= 0, "checkpoint_every must be >= 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)
        if self.advantage != "rlsp":
            if not any(w != 0 for w in self.channel_weights.values()):
                raise ValueError("channel_weights needs at least one nonzero weight")

    def loss_temperature(self) -> float:
        """The temperature the loss's log-probabilities are computed at (``tempered_logprobs``)."""
        return float(self.temperature) if self.tempered_logprobs else 1.0

    def active_channels(self) -> list[str]:
        """The channels that get an advantage: the nonzero ``channel_weights`` (or ``["total"]``
        in ``rlsp`` mode, the scalar reward)."""
        if self.advantage == "rlsp":
            return ["total"]
        return [k for k, w in self.channel_weights.items() if w != 0.0]

    def weights(self) -> dict[str, float]:
        """The nonzero channel weights (``{"total": 1.0}`` in ``rlsp`` mode)."""
        if self.advantage == "rlsp":
            return {"total": 1.0}
        return {k: w for k, w in self.channel_weights.items() if w != 0.0}


@dataclass
class SFTConfig(_EnvArgs):
    """Supervised fine-tuning on demonstrations, loss on response tokens only (``rlsp sft``)."""

    model: str = "smollm2-135m"
    """Model to fine-tune: an embedded model name, a local transformers directory or a Hub id."""
    source: Literal["env", "jsonl"] = "env"
    """``env``: worked solutions of an environment's training split (procedural tasks, MATH);
    ``jsonl``: a file of ``{"prompt", "response"}`` or ``{"messages"}`` rows."""
    env_id: str = "rlsp/Arithmetic-v0"
    """Environment whose training problems and worked solutions are the demonstrations."""
    difficulty: int | None = 1
    """``difficulty`` for procedural environments (None: not passed)."""
    env_kwargs: EnvKwargs = field(default_factory=dict)
    """Extra ``gym.make`` keyword arguments, as a JSON object."""
    jsonl: str | None = None
    """Path of the JSONL file when ``source=jsonl``."""
    num_examples: int = 512
    """Demonstrations to draw from the environment (``source=env``); all rows of a JSONL file."""
    epochs: float = 1.0
    """Passes over the demonstrations (fractions allowed)."""
    batch_size: int = 16
    """Sequences per optimizer step."""
    micro_batch_size: int = 8
    """Sequences per forward/backward pass."""
    lr: float = 2e-5
    """Peak learning rate (AdamW; linear warm-up over 10% of steps, then linear decay)."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    max_grad_norm: float = 1.0
    """Gradient clipping (global norm)."""
    max_length: int = 512
    """Longest sequence (prompt + response) in tokens; longer examples are skipped and counted."""
    precision: Precision = "auto"
    """``auto`` (default): fp32 weights with bf16 autocast where the hardware computes bf16
    natively (CUDA >= 8.0, AVX-512 CPUs), pure fp32 elsewhere (emulated bf16 is many times
    slower: ``rlsp_agents.hardware``); or ``bf16-autocast``, ``fp32``, pure ``bf16`` weights."""
    max_minutes: float | None = None
    """Stop after this many minutes of training (the model so far is saved)."""
    seed: int = 0
    """Seed of example order and selection."""
    out: str = "runs/sft"
    """Output directory: the fine-tuned model (``out/final``), metrics.jsonl, a loss plot."""
    threads: int | None = None
    """torch CPU threads (default: all cores)."""
    progress: bool = True
    """Show a progress bar."""

    def __post_init__(self) -> None:
        self.env_kwargs = parse_env_kwargs(self.env_kwargs)


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config dataclass."""
    return dataclasses.asdict(cfg)
