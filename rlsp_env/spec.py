"""The reward specification: everything that decides a response's channels, in one frozen value.

An environment owns its :class:`RewardSpec` (``env.unwrapped.reward_spec``); every door that scores
responses (``env.step``, the vector env, TRL's reward functions, verl's ``compute_score``, the HTTP
server) takes the same spec and hands it to :func:`rlsp_env.scoring.score_batch`, so the same input
gives the same channels everywhere. A spec is serialisable (:meth:`RewardSpec.to_dict` /
:meth:`RewardSpec.from_dict`), so a trainer, a config file or a server can carry it.

Example:
    >>> spec = RewardSpec(weights="rlsp-length", length_scale=500)
    >>> spec.weights["exploration"], spec.answer_policy
    (1.0, 'closed_form')
    >>> RewardSpec.from_dict(spec.to_dict()) == spec
    True
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    "ANSWER_POLICIES",
    "DEFAULT_LENGTH_SCALE",
    "RewardSpec",
    "load_tokenizer",
]

#: RLSP's ``L`` (their main runs): the reasoning length, in tokens, at which exploration is -1
DEFAULT_LENGTH_SCALE = 1000.0

#: What a plain-number gold accepts: ``"literal"`` (procedural arithmetic: a number literal, so an
#: unevaluated ``23 + 45`` is not an answer) or ``"closed_form"`` (datasets: any exact closed form).
ANSWER_POLICIES: tuple[str, ...] = ("literal", "closed_form")


@functools.lru_cache(maxsize=8)
def load_tokenizer(name: str) -> Any:
    """A Hugging Face tokenizer by name or path (cached; imports ``transformers`` lazily).

    Raises:
        ImportError: ``transformers`` is not installed.
    """
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(name)


def _number(name: str, v: Any, *, positive: bool = False) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
        raise ValueError(f"{name} must be a finite number, got {v!r}")
    if float(v) < 0 or (positive and float(v) == 0):
        raise ValueError(f"{name} must be {'> 0' if positive else '>= 0'}, got {v!r}")
    return float(v)


@dataclasses.dataclass(frozen=True)
class RewardSpec:
    """How responses are scored: channel weights, exploration's parameters, verifier settings.

    Attributes:
        weights: every channel's weight (give a preset name of :data:`rlsp_env.rewards.PRESETS` or a
            partial ``{channel: weight}``; it is stored resolved and read-only). Weight 0 = log-only.
        length_scale: RLSP's ``L`` for the exploration channel (0 disables it).
        exploration_cap: the exploration channel's lower bound magnitude.
        tokenizer: counts the effective reasoning length ``ell``: ``None`` (characters / 4), a
            Hugging Face name or path (loaded once, lazily), or a tokenizer object / ``str -> int``
            callable (kept as given; :meth:`to_dict` writes its ``name_or_path``).
        verifier_mode: :func:`rlsp_verifiers.verify`'s mode (``"strict"``: boxed answers only).
        answer_policy: one of :data:`ANSWER_POLICIES`; environments declare theirs (procedural
            families ``"literal"``, datasets ``"closed_form"``).
        timeout_s: the verifier's hard per-item time bound, in seconds.

    Raises:
        ValueError: an unknown preset, channel, mode or policy, or a bad number.
    """

    weights: Mapping[str, float] = dataclasses.field(default="default")  # type: ignore[assignment]
    length_scale: float = DEFAULT_LENGTH_SCALE
    exploration_cap: float = 1.0
    tokenizer: Any = None
    verifier_mode: str = "strict"
    answer_policy: str = "closed_form"
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        from rlsp_env.rewards import resolve_weights
        from rlsp_verifiers import MODES

        try:
            w = resolve_weights(self.weights)
        except TypeError as e:
            raise ValueError(str(e)) from None
        set_ = functools.partial(object.__setattr__, self)
        set_("weights", MappingProxyType(w))
        set_("length_scale", _number("length_scale", self.length_scale))
        set_("exploration_cap", _number("exploration_cap", self.exploration_cap, positive=True))
        set_("timeout_s", _number("timeout_s", self.timeout_s, positive=True))
        if self.verifier_mode not in MODES:
            raise ValueError(f"verifier_mode must be one of {MODES}, got {self.verifier_mode!r}")
        if self.answer_policy not in ANSWER_POLICIES:
            raise ValueError(
                f"answer_policy must be one of {ANSWER_POLICIES}, got {self.answer_policy!r}"
            )
        tok = self.tokenizer
        if tok is not None and not (
            isinstance(tok, str) or callable(tok) or hasattr(tok, "encode")
        ):
            raise ValueError(
                "tokenizer must be None, a name, a callable str -> int or have encode(str)"
            )

    def __hash__(self) -> int:
        tok = self.tokenizer
        return hash(
            (
                tuple(self.weights.items()),
                self.length_scale,
                self.exploration_cap,
                tok if isinstance(tok, str) or tok is None else id(tok),
                self.verifier_mode,
                self.answer_policy,
                self.timeout_s,
            )
        )

    def replace(self, **changes: Any) -> RewardSpec:
        """A copy with some fields changed (validated again).

        Example:
            >>> RewardSpec().replace(weights="correctness").weights["format"]
            0.0
        """
        return dataclasses.replace(self, **changes)

    def token_counter(self) -> Any:
        """What :func:`rlsp_env.text.effective_length` counts with (a named tokenizer is loaded)."""
        return load_tokenizer(self.tokenizer) if isinstance(self.tokenizer, str) else self.tokenizer

    def tokenizer_name(self) -> str | None:
        """The tokenizer's name or path, ``None`` without one.

        Raises:
            ValueError: the tokenizer is an object without a ``name_or_path`` (not serialisable).
        """
        tok = self.tokenizer
        if tok is None or isinstance(tok, str):
            return tok
        name = getattr(tok, "name_or_path", None)
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"the tokenizer {type(tok).__name__} has no name_or_path: give RewardSpec a "
                "tokenizer name to serialise it"
            )
        return name

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the tokenizer by name)."""
        return {
            "weights": dict(self.weights),
            "length_scale": self.length_scale,
            "exploration_cap": self.exploration_cap,
            "tokenizer": self.tokenizer_name(),
            "verifier_mode": self.verifier_mode,
            "answer_policy": self.answer_policy,
            "timeout_s": self.timeout_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RewardSpec:
        """The inverse of :meth:`to_dict`; missing keys take their defaults.

        Raises:
            ValueError: an unknown key (or any invalid value).
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a reward spec must be a mapping, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown reward spec keys {sorted(unknown)}; keys: {sorted(known)}")
        return cls(**dict(data))
