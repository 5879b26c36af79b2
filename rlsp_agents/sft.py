"""``rlsp sft``: supervised fine-tuning on demonstrations (RLSP step 1), loss on response tokens only.

Demonstrations come from:

- an environment's training split (``source="env"``): each problem's prompt exactly as the
  environment renders it (``info["messages"]``) and its worked solution (``info["solution"]``):
  the procedural tasks' step-by-step solutions, or a dataset's solutions (MATH);
- a JSONL file (``source="jsonl"``): rows ``{"prompt": ..., "response": ...}`` or
  ``{"messages": [..., {"role": "assistant", "content": ...}]}``.

The prompt goes through the model's chat template with the generation prompt (the very tokens the
samplers produce at RL time); the response is followed by the end-of-turn token so the model learns
to stop. Only response tokens carry loss.

Example (the run is skipped in the doctests: it needs the embedded model, a download):
    >>> from rlsp_agents.config import SFTConfig
    >>> cfg = SFTConfig(num_examples=64, out="/tmp/rlsp-sft-doc")
    >>> result = sft(cfg)  # doctest: +SKIP
    >>> result["final_model"]  # doctest: +SKIP
    '/tmp/rlsp-sft-doc/final'
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlsp_agents.config import SFTConfig, config_to_dict

__all__ = ["Example", "sft", "load_demonstrations", "tokenize_example", "main", "COMMAND", "HELP"]

COMMAND = "sft"
HELP = "supervised fine-tuning on worked solutions or a JSONL of prompt/response pairs"


@dataclass
class Example:
    """One tokenized demonstration: the templated prompt and the response (+ end of turn)."""

    prompt_ids: list[int]
    response_ids: list[int]


def load_demonstrations(cfg: SFTConfig) -> list[tuple[list[dict[str, str]], str]]:
    """``(messages, response)`` pairs from the configured source.

    Raises:
        ValueError: a malformed JSONL row (with its line number), or an environment without
            worked solutions.
        FileNotFoundError: a missing JSONL file.
    """
    if cfg.source == "jsonl":
        if not cfg.jsonl:
            raise ValueError("source='jsonl' needs --jsonl PATH")
        path = Path(cfg.jsonl)
        if not path.is_file():
            raise FileNotFoundError(f"JSONL file not found: {path}")
        pairs = []
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{lineno}: each line must be a JSON object")
            if "messages" in row:
                msgs = row["messages"]
                ok = (
                    isinstance(msgs, list)
                    and len(msgs) >= 2
                    and all(isinstance(m, dict) and {"role", "content"} <= set(m) for m in msgs)
                    and msgs[-1]["role"] == "assistant"
                )
                if not ok:
                    raise ValueError(
                        f"{path}:{lineno}: 'messages' must be a list of {{role, content}} ending "
                        "with the assistant's response"
                    )
                pairs.append(([dict(m) for m in msgs[:-1]], str(msgs[-1]["content"])))
            elif isinstance(row.get("prompt"), str) and isinstance(row.get("response"), str):
                pairs.append(([{"role": "user", "content": row["prompt"]}], row["response"]))
            else:
                raise ValueError(
                    f"{path}:{lineno}: expected string fields 'prompt' and 'response', or 'messages'"
                )
        if not pairs:
            raise ValueError(f"{path} holds no demonstrations")
        return pairs

    import gymnasium as gym

    import rlsp_env  # noqa: F401  (registers the environments)

    env = gym.make(cfg.env_id, split="train", **cfg.env_kwargs_dict())
    pairs = []
    try:
        for i in range(cfg.num_examples):
            _, info = env.reset(seed=cfg.seed * 7_919 + 1_000_000 + i)
            solution = info.get("solution")
            if not solution:
                raise ValueError(
                    f"{cfg.env_id} gave no worked solution (info['solution']) for its problem "
                    f"{info.get('problem_id')!r}; use source='jsonl' with your own demonstrations"
                )
            pairs.append((list(info["messages"]), str(solution)))
    finally:
        env.close()
    return pairs


def tokenize_example(tokenizer: Any, messages: list[dict[str, str]], response: str) -> Example:
    """Templated prompt ids (with the generation prompt) and response ids ending in EOS.

    The prompt is tokenized exactly as the samplers tokenize it (no extra BOS when the template
    already writes one), so SFT trains on the token sequence the policy later sees.
    """
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    bos = getattr(tokenizer, "bos_token", None)
    add_special = not (bos and text.startswith(bos))
    prompt_ids = list(tokenizer(text, add_special_tokens=add_special)["input_ids"])
    response_ids = list(tokenizer(response, add_special_tokens=False)["input_ids"])
    response_ids.append(tokenizer.eos_token_id)
    return Example(prompt_ids, response_ids)


def sft(cfg: SFTConfig) -> dict[str, Any]:
    """Fine-tunes ``cfg.model`` on the demonstrations; returns a summary.

    The summary holds ``final_model`` (a transformers directory with the tokenizer), ``steps``,
    ``examples``, ``skipped`` (too long), ``loss_first`` / ``loss_last`` and ``train_seconds``.
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rlsp_agents.batching import collate, forward, micro_batches
    from rlsp_agents.config import check_choices
    from rlsp_agents.losses import masked_sum
    from rlsp_agents.metrics import MetricsLog, read_metrics
    from rlsp_agents.models import resolve_model
    from rlsp_agents.plots import plot_sft

    check_choices(cfg)
    if cfg.batch_size < 1 or cfg.micro_batch_size < 1 or cfg.epochs <= 0 or cfg.lr <= 0:
        raise ValueError("batch_size, micro_batch_size, epochs and lr must be positive")
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    from rlsp_agents.hardware import with_resolved_precision

    cfg = with_resolved_precision(
        cfg, device, lambda msg: print(f"[rlsp sft] {msg}", file=sys.stderr)
    )

    path = resolve_model(cfg.model)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(f"{path} has no chat template; rlsp sft applies the chat template")
    pairs = load_demonstrations(cfg)
    examples, skipped = [], 0
    for msgs, resp in pairs:
        ex = tokenize_example(tokenizer, msgs, resp)
        if len(ex.prompt_ids) + len(ex.response_ids) > cfg.max_length:
            skipped += 1
            continue
        examples.append(ex)
    if not examples:
        raise ValueError(f"all {len(pairs)} demonstrations exceed max_length={cfg.max_length}")
    if skipped:
        print(
            f"[rlsp sft] skipped {skipped} demonstrations longer than {cfg.max_length} tokens",
            file=sys.stderr,
        )

    wdtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(path, dtype=wdtype).to(device)
    model.config.use_cache = False
    model.eval()  # no dropout (transformers chat models train fine without it at this scale)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    total_steps = max(1, math.ceil(len(examples) * cfg.epochs / cfg.batch_size))
    warmup = max(1, int(0.1 * total_steps))

    def lr_at(step: int) -> float:  # linear warm-up, then linear decay to 10%
        if step < warmup:
            return cfg.lr * (step + 1) / warmup
        frac = (step - warmup) / max(total_steps - warmup, 1)
        return cfg.lr * (1.0 - 0.9 * frac)

    def autocast() -> Any:
        if cfg.precision != "bf16-autocast":
            import contextlib

            return contextlib.nullcontext()
        return torch.autocast(device_type=device, dtype=torch.bfloat16)

    order: list[int] = []
    rng = random.Random(cfg.seed)
    while len(order) < total_steps * cfg.batch_size:
        perm = list(range(len(examples)))
        rng.shuffle(perm)
        order.extend(perm)
    log = MetricsLog(out / "metrics.jsonl")
    losses: list[float] = []
    t_start = time.perf_counter()
    bar = tqdm(
        total=total_steps, desc="SFT", unit="step", disable=not cfg.progress, dynamic_ncols=True
    )
    step = 0
    try:
        for step in range(total_steps):
            if cfg.max_minutes is not None and time.perf_counter() - t_start > 60 * cfg.max_minutes:
                print(
                    f"[rlsp sft] time limit of {cfg.max_minutes} min reached after {step} steps",
                    file=sys.stderr,
                )
                break
            t0 = time.perf_counter()
            for g in optimizer.param_groups:
                g["lr"] = lr_at(step)
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            denom = float(sum(len(examples[i].response_ids) for i in idx))
            loss_sum, tokens = 0.0, 0
            for mb in micro_batches(idx, examples, cfg.micro_batch_size):
                batch = collate([examples[i] for i in mb], tokenizer.pad_token_id or 0)
                lp, _, _ = forward(model, None, batch, autocast=autocast)
                loss = -masked_sum(lp, batch["mask"].to(lp.device)) / denom
                loss.backward()
                loss_sum += loss.item()
                tokens += int(batch["attention_mask"].sum())
            gn = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            dt = time.perf_counter() - t0
            losses.append(loss_sum)
            log.write(
                {
                    "step": step + 1,
                    "losses/sft": loss_sum,
                    "charts/lr": lr_at(step),
                    "charts/grad_norm": float(gn),
                    "charts/tokens_per_s": tokens / max(dt, 1e-9),
                    "time/train": dt,
                    "time/elapsed": time.perf_counter() - t_start,
                }
            )
            bar.update(1)
            bar.set_postfix(loss=f"{loss_sum:.3f}")
        else:
            step = total_steps
    finally:
        bar.close()
    train_seconds = time.perf_counter() - t_start
    final = out / "final"
    model.save_pretrained(final, safe_serialization=True)
    tokenizer.save_pretrained(final)
    plot = plot_sft(read_metrics(out / "metrics.jsonl"), out / "plots")
    summary = {
        "final_model": str(final),
        "steps": step,
        "examples": len(examples),
        "skipped": skipped,
        "loss_first": losses[0] if losses else None,
        "loss_last": losses[-1] if losses else None,
        "train_seconds": train_seconds,
        "plot": str(plot) if plot else None,
        "config": config_to_dict(cfg),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


DESCRIPTION = """Supervised fine-tuning on demonstrations, loss on response tokens only (RLSP step 1).

examples:
  rlsp sft                                                   # 512 worked 2-digit additions
  rlsp sft --env-id rlsp/LinearEquation-v0 --difficulty 2 --num-examples 2000 --epochs 2
  rlsp sft --env-id rlsp/MATH-v0 --difficulty None --max-length 1024   # MATH worked solutions
  rlsp sft --source jsonl --jsonl my_demos.jsonl --out runs/my-sft    # {"prompt", "response"} rows
  rlsp train --model runs/sft/final                          # then PPO from the result
"""


def main(argv: list[str] | None = None) -> int:
    """``rlsp sft [options]``; ``--help`` lists every option."""
    import tyro

    args = list(sys.argv[1:] if argv is None else argv)
    cfg = tyro.cli(SFTConfig, args=args, prog="rlsp sft", description=DESCRIPTION)
    try:
        summary = sft(cfg)
    except (ValueError, FileNotFoundError) as e:
        print(f"rlsp sft: error: {e}", file=sys.stderr)
        return 2
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
