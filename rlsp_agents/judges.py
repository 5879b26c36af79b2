"""Effort judges that need a model (the ``effort`` channel's LLM grade; see :mod:`rlsp_env.judge`).

:class:`TransformersJudge` grades with a local Hugging Face causal LM. It lives here, beside the
models, so that ``rlsp_env`` never imports ``rlsp_agents``; the prompt, the grade parser and the
model-free judges (``HTTPJudge``, ``SamplerJudge``) stay in :mod:`rlsp_env.judge`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rlsp_agents.models import resolve_model
from rlsp_env.judge import JudgeBase, JudgeResult, build_judge_prompt, read_judge_output

__all__ = ["TransformersJudge"]


class TransformersJudge(JudgeBase):
    """A local Hugging Face causal LM as judge (greedy decoding; imported lazily).

    Args:
        model: a model directory, Hub id, or an ``rlsp_agents.models`` name such as
            ``"smollm2-135m"`` (resolved through :func:`rlsp_agents.models.resolve_model`).
        max_new_tokens: tokens generated per grade.
        batch_size: prompts per ``generate`` call.

    Example:
        >>> judge = TransformersJudge("smollm2-135m")  # doctest: +SKIP
        >>> judge.grade("What is 2+2?", "2+2=4. Check: 4-2=2.").score  # doctest: +SKIP
        0.7
    """

    def __init__(self, model: str, *, max_new_tokens: int = 12, batch_size: int = 8) -> None:
        self.model_name = model
        self.max_new_tokens = int(max_new_tokens)
        self.batch_size = int(batch_size)
        self._model: Any = None
        self._tok: Any = None

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch  # noqa: F401  (lazy: only when a transformers judge is used)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = self.model_name
        try:
            path = str(resolve_model(path))
        except Exception:  # not one of our names: a directory or Hub id, used as given
            path = self.model_name
        self._tok = AutoTokenizer.from_pretrained(path)
        self._tok.padding_side = "left"
        if self._tok.pad_token is None:
            self._tok.pad_token = self._tok.eos_token
        self._model = AutoModelForCausalLM.from_pretrained(path)
        self._model.eval()

    def grade_many(self, pairs: Sequence[tuple[str, str]]) -> list[JudgeResult]:
        """Grades the pairs in batches of ``batch_size``."""
        import torch

        self._load()
        out: list[JudgeResult] = []
        for start in range(0, len(pairs), self.batch_size):
            chunk = pairs[start : start + self.batch_size]
            prompts = [
                self._tok.apply_chat_template(
                    build_judge_prompt(p, r), tokenize=False, add_generation_prompt=True
                )
                + "Effort:"
                for p, r in chunk
            ]
            enc = self._tok(prompts, return_tensors="pt", padding=True)
            with torch.no_grad():
                gen = self._model.generate(
                    **enc,
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    pad_token_id=self._tok.pad_token_id,
                )
            for row in gen[:, enc["input_ids"].shape[1] :]:
                text = self._tok.decode(row, skip_special_tokens=True)
                out.append(read_judge_output("Effort:" + text))
        return out
