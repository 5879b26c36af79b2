"""``rlsp eval``: accuracy, pass@k, response length and a per-level / per-subject table.

Works for any registered environment, through the same rollout path as the trainer
(:func:`rlsp_agents.rollouts.collect_rollouts`): a vector env
``gym.make_vec(env_id, num_envs=P * n, group_size=n, eval_mode=True, ...)`` is reset on problems
``i .. i + P - 1`` (``options={"index": [...]}``), the sampler draws ``n`` completions of each
problem's ``info["messages"]`` (the model's chat template is applied there), and one
``envs.step`` scores them all. Large sets go in chunks of at most ``MAX_ENVS_PER_STEP`` envs.

Metrics (all in the JSON, the table and the plot):

- ``accuracy``: the fraction of all completions the verifier marks correct (mean@n; with ``n=1``
  and ``temperature=0`` the usual greedy accuracy).
- ``pass@k`` for k = 1, 2, 4, ..., n: the unbiased estimator of Chen et al. (2021),
  ``1 - C(n - c, k) / C(n, k)`` per problem with ``c`` correct of ``n``, averaged over problems.
- ``mean_response_tokens``: generated tokens per completion (EOS included when generated).
- ``answered_rate``: completions with an extractable final answer; ``truncated_rate``:
  completions cut by ``max_new_tokens``; ``rewards``: the mean of every reward channel.

Python use (the trainer reuses an open sampler for before/after evaluations; skipped in the
doctests: it needs the embedded model, a download on a fresh machine):

    >>> from rlsp_agents.evaluate import evaluate
    >>> res = evaluate("rlsp/Arithmetic-v0", "smollm2-135m", limit=20,
    ...                env_kwargs={"split": "test"}, backend="transformers")  # doctest: +SKIP
    >>> round(res.accuracy, 3), res.pass_at_k  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn

import tyro

__all__ = [
    "EvalConfig",
    "EvalResult",
    "GroupStats",
    "ProblemRecord",
    "evaluate",
    "main",
    "pass_at_k",
    "plot_result",
    "print_result",
]

COMMAND = "eval"
HELP = "evaluate a model on an environment: accuracy, pass@k, length, per-level/subject table"


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator: the chance that k of n samples (c correct) hold a correct one.

    Args:
        n: samples drawn for the problem.
        c: how many of them are correct.
        k: the budget, ``1 <= k <= n``.

    Raises:
        ValueError: unless ``0 <= c <= n`` and ``1 <= k <= n``.

    Example:
        >>> pass_at_k(4, 1, 1)
        0.25
        >>> pass_at_k(4, 1, 4)
        1.0
        >>> round(pass_at_k(5, 2, 2), 4)  # 1 - C(3,2)/C(5,2) = 1 - 3/10
        0.7
    """
    if not (0 <= c <= n) or not (1 <= k <= n):
        raise ValueError(f"pass_at_k needs 0 <= c <= n and 1 <= k <= n, got n={n}, c={c}, k={k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def _plain(text: str) -> str:
    return text.replace(" ", "").replace("$", "")


def literal_form(extracted: str | None, gold: Any) -> Literal["bare", "chain"] | None:
    """How a boxed answer states the gold as a number literal, read as a string (no parsing).

    ``"bare"``: the box is the gold itself (``118``; spaces and ``$`` ignored). ``"chain"``: an
    equation chain whose last link is the gold (``29 + 89 = 118``): the final value written is
    the number asked for, as the verifier's ``literal`` answer policy reads it (which also checks
    that every link equals the gold, so ``1 + 1 = 118`` is not correct there). ``None``: the
    number is not written as the answer (``29 + 89``, ``118 = 29 + 89``, ``118.0``, empty).

    >>> literal_form("118", "118"), literal_form("29 + 89 = 118", 118), literal_form("29+89", "118")
    ('bare', 'chain', None)
    """
    e, g = _plain(extracted or ""), _plain(str(gold))
    if not e or not g:
        return None
    if e == g:
        return "bare"
    links = e.split("=")
    if len(links) >= 2 and all(links) and links[-1] == g:
        return "chain"
    return None


def is_literal_correct(correct: bool, extracted: str | None, gold: Any) -> bool:
    """Correct by the verifier *and* stating the gold as a number literal (:func:`literal_form`).

    >>> is_literal_correct(True, "118", 118), is_literal_correct(True, "118.", 118)
    (True, False)
    """
    return bool(correct) and literal_form(extracted, gold) is not None


def literal_correct(record: ProblemRecord) -> list[bool]:
    """Per completion of ``record``: :func:`is_literal_correct`."""
    return [
        is_literal_correct(ok, e, record.gold) for ok, e in zip(record.correct, record.extracted)
    ]


def literal_accuracy(records: Sequence[ProblemRecord]) -> float:
    """The share of all completions in ``records`` that are :func:`literal_correct`."""
    flags = [x for r in records for x in literal_correct(r)]
    return sum(flags) / max(1, len(flags))


def _ks(n: int) -> list[int]:
    """k = 1, 2, 4, ... up to n (n itself included)."""
    ks, k = [], 1
    while k < n:
        ks.append(k)
        k *= 2
    ks.append(n)
    return ks


@dataclass
class ProblemRecord:
    """One problem's samples and verdicts."""

    index: int
    problem_id: str
    level: int
    subject: str
    gold: str
    correct: list[bool]
    extracted: list[str | None]
    reasons: list[str]
    num_tokens: list[int]
    finish_reasons: list[str]
    rewards: list[dict[str, float]]
    texts: list[str]

    @property
    def num_correct(self) -> int:
        return sum(self.correct)


@dataclass
class GroupStats:
    """Metrics of a group of problems (one level, one subject)."""

    problems: int
    accuracy: float
    pass_at_n: float
    mean_response_tokens: float


@dataclass
class EvalResult:
    """The outcome of :func:`evaluate`. ``to_dict()`` is what the JSON file holds."""

    env_id: str
    model: str
    backend: str
    n: int
    temperature: float
    top_p: float
    max_new_tokens: int
    seed: int
    env_kwargs: dict[str, Any]
    num_problems: int
    accuracy: float
    pass_at_k: dict[int, float]
    mean_response_tokens: float
    answered_rate: float
    truncated_rate: float
    rewards: dict[str, float]
    by_level: dict[str, GroupStats]
    by_subject: dict[str, GroupStats]
    generate_s: float
    score_s: float
    tokens_per_s: float
    records: list[ProblemRecord] = field(default_factory=list, repr=False)

    def to_dict(self, *, include_records: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (pass@k keys become strings)."""
        d = asdict(self)
        d["pass_at_k"] = {str(k): v for k, v in self.pass_at_k.items()}
        if not include_records:
            d.pop("records")
        return d

    def save(self, out_dir: str | Path, *, plot: bool = True) -> dict[str, Path]:
        """Writes ``eval.json`` (summary), ``samples.jsonl`` (every completion) and ``eval.png``.

        Returns:
            The written paths by kind (``"json"``, ``"samples"``, ``"plot"``).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = {"json": out / "eval.json", "samples": out / "samples.jsonl"}
        paths["json"].write_text(json.dumps(self.to_dict(include_records=False), indent=2) + "\n")
        with paths["samples"].open("w", encoding="utf-8") as f:
            for r in self.records:
                f.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
        if plot:
            paths["plot"] = plot_result(self, out / "eval.png")
        return paths


def _group(records: Sequence[ProblemRecord], key: str) -> dict[str, GroupStats]:
    groups: dict[str, list[ProblemRecord]] = defaultdict(list)
    for r in records:
        value = getattr(r, key)
        name = "n/a" if value in (-1, "", None) else str(value)
        groups[name].append(r)

    def order(name: str) -> tuple[int, Any]:
        return (0, int(name)) if name.lstrip("-").isdigit() else (1, name)

    out = {}
    for name in sorted(groups, key=order):
        rs = groups[name]
        samples = [c for r in rs for c in r.correct]
        toks = [t for r in rs for t in r.num_tokens]
        out[name] = GroupStats(
            problems=len(rs),
            accuracy=sum(samples) / len(samples),
            pass_at_n=sum(r.num_correct > 0 for r in rs) / len(rs),
            mean_response_tokens=sum(toks) / len(toks),
        )
    return out


def summarize(
    records: Sequence[ProblemRecord], n: int
) -> tuple[float, dict[int, float], float, float, float, dict[str, float]]:
    """Accuracy, pass@k, mean tokens, answered rate, truncated rate, mean reward per channel."""
    samples = [c for r in records for c in r.correct]
    accuracy = sum(samples) / len(samples)
    passk = {k: sum(pass_at_k(n, r.num_correct, k) for r in records) / len(records) for k in _ks(n)}
    toks = [t for r in records for t in r.num_tokens]
    answered = sum(e is not None for r in records for e in r.extracted) / len(samples)
    truncated = sum(f == "length" for r in records for f in r.finish_reasons) / len(samples)
    sums: dict[str, float] = defaultdict(float)
    for r in records:
        for rw in r.rewards:
            for ch, v in rw.items():
                sums[ch] += float(v)
    rewards = {ch: v / len(samples) for ch, v in sums.items()}
    return accuracy, passk, sum(toks) / len(toks), answered, truncated, rewards


#: Largest vector env one evaluation step uses (problems x samples): bigger sets go in chunks.
MAX_ENVS_PER_STEP = 1024


def _num_problems(envs: Any) -> int | None:
    """How many problems the evaluation set of a vector env holds (None when unknown)."""
    inner = envs.unwrapped
    count = getattr(inner, "num_problems", None)
    if count is None and getattr(inner, "envs", None):
        count = getattr(inner.envs[0], "num_problems", None)
    return None if count is None else int(count)


def _records(batch: Any, n: int, *, keep_texts: bool, first_index: int) -> list[ProblemRecord]:
    """One :class:`ProblemRecord` per group of a :class:`~rlsp_agents.rollouts.RolloutBatch`."""
    records = []
    for g in range(len(batch.rollouts) // n):
        rows = batch.rollouts[g * n : (g + 1) * n]
        meta = rows[0].problem
        level = meta.get("level")
        records.append(
            ProblemRecord(
                index=first_index + g,
                problem_id=str(meta.get("problem_id", first_index + g)),
                level=int(level) if level is not None else -1,
                subject=str(meta.get("subject", "") or ""),
                gold=str(meta.get("gold", "")),
                correct=[r.correct for r in rows],
                extracted=[r.extracted for r in rows],
                reasons=[r.reason for r in rows],
                num_tokens=[r.num_tokens for r in rows],
                finish_reasons=[r.finish_reason for r in rows],
                rewards=[dict(r.rewards) for r in rows],
                texts=[r.text if keep_texts else "" for r in rows],
            )
        )
    return records


def evaluate(
    env_id: str,
    model: Any = None,
    *,
    n: int = 1,
    temperature: float = 0.0,
    top_p: float = 1.0,
    max_new_tokens: int = 512,
    limit: int | None = None,
    backend: str = "vllm",
    sampler: Any = None,
    seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    max_model_len: int | None = None,
    dtype: str = "native",
    keep_texts: bool = True,
    progress: bool = True,
) -> EvalResult:
    """Evaluates a model (or an open sampler) on the problems of an environment.

    Args:
        env_id: any registered id (``"rlsp/MATH500-v0"``, ``"rlsp/Arithmetic-v0"``, ...).
        model: checkpoint directory, embedded name or Hub id (``None``: the embedded default);
            only a label when ``sampler`` is given.
        n: completions per problem (pass@k is reported for k = 1, 2, 4, ..., n).
        temperature: sampling temperature (0: greedy).
        top_p: nucleus threshold.
        max_new_tokens: the most tokens per completion.
        limit: evaluate the first ``limit`` problems only (default: all).
        backend: ``"vllm"`` or ``"transformers"`` when a sampler is made here.
        sampler: an open sampler to reuse (the caller keeps ownership: it is not closed).
        seed: the sampler seed (and the env's reset seed).
        env_kwargs: extra ``gym.make`` arguments (``split``, ``difficulty``, ``levels``, ...).
        max_model_len: the sampler's model length (default ``max_new_tokens + 1536``).
        dtype: the sampler's dtype when made here.
        keep_texts: keep the completion texts in the records (``samples.jsonl``).
        progress: show progress bars.

    Returns:
        An :class:`EvalResult`; ``result.save(dir)`` writes the JSON, samples and plot.

    Raises:
        ValueError: bad arguments, or an environment with unboundedly many problems and no limit.
        gymnasium.error.Error: unknown environment id.
    """
    from tqdm.auto import tqdm

    from rlsp_agents.rollouts import collect_rollouts, make_envs

    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None, got {limit!r}")
    kwargs = dict(env_kwargs or {})
    kwargs["eval_mode"] = True
    chunk = max(1, MAX_ENVS_PER_STEP // n)  # problems per vector-env step
    if limit is not None:
        chunk = min(chunk, limit)
    envs = make_envs(env_id, num_prompts=chunk, group_size=n, **kwargs)
    own = sampler is None
    try:
        total = _num_problems(envs)
        if total is None or total >= 2**31 - 1:
            if limit is None:
                raise ValueError(
                    f"{env_id} has no finite problem count in eval mode: pass limit=..."
                )
            total = limit
        count = min(total, limit) if limit is not None else total
        if own:
            from rlsp_agents.sampler import make_sampler

            sampler = make_sampler(
                backend,
                model,
                seed=seed,
                max_model_len=max_model_len or max_new_tokens + 1536,
                dtype=dtype,
            )
        records: list[ProblemRecord] = []
        generate_s = score_s = 0.0
        bar = tqdm(total=count * n, desc=f"eval {env_id}", disable=not progress)
        for lo in range(0, count, chunk):  # one vector-env step per chunk of problems
            index = [min(lo + g, count - 1) for g in range(chunk)]  # pad the last chunk
            batch = collect_rollouts(
                envs,
                sampler,
                seed=seed,
                options={"index": index},
                num_groups=min(chunk, count - lo),
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                top_p=top_p,
                progress=progress and count <= chunk,
            )
            generate_s += batch.sample_s
            score_s += batch.score_s
            records += _records(batch, n, keep_texts=keep_texts, first_index=lo)
            bar.update(len(batch.rollouts))
        bar.close()
    finally:
        envs.close()
        if own and sampler is not None:
            sampler.close()

    accuracy, passk, mean_tokens, answered, truncated, rewards = summarize(records, n)
    total_tokens = sum(sum(r.num_tokens) for r in records)
    label = str(model) if model is not None else "smollm2-135m"
    if not own and model is None:
        source = getattr(sampler, "source_path", None) or getattr(sampler, "model_path", None)
        label = str(source or type(sampler).__name__)
    return EvalResult(
        env_id=env_id,
        model=label,
        backend=getattr(sampler, "backend", backend),
        n=n,
        temperature=float(temperature),
        top_p=float(top_p),
        max_new_tokens=max_new_tokens,
        seed=seed,
        env_kwargs={k: v for k, v in kwargs.items() if _jsonable(v)},
        num_problems=count,
        accuracy=accuracy,
        pass_at_k=passk,
        mean_response_tokens=mean_tokens,
        answered_rate=answered,
        truncated_rate=truncated,
        rewards=rewards,
        by_level=_group(records, "level"),
        by_subject=_group(records, "subject"),
        generate_s=generate_s,
        score_s=score_s,
        tokens_per_s=total_tokens / generate_s if generate_s > 0 else 0.0,
        records=records,
    )


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False


def plot_result(result: EvalResult, path: str | Path) -> Path:
    """Saves a PNG: accuracy by level, by subject, and pass@k (matplotlib, Agg back end)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, groups, title in (
        (axes[0], result.by_level, "accuracy by level"),
        (axes[1], result.by_subject, "accuracy by subject"),
    ):
        names = list(groups)
        ax.bar(range(len(names)), [100 * groups[k].accuracy for k in names], color="tab:blue")
        for x, k in enumerate(names):
            ax.text(x, 100 * groups[k].accuracy + 1, f"n={groups[k].problems}", ha="center", size=7)
        ax.set_xticks(range(len(names)), names, rotation=30 if len(names) > 4 else 0, ha="right")
        ax.set_ylim(0, 105)
        ax.set_ylabel("accuracy (%)")
        ax.set_title(title)
    ks = sorted(result.pass_at_k)
    axes[2].plot(ks, [100 * result.pass_at_k[k] for k in ks], marker="o")
    axes[2].set_xscale("log", base=2)
    axes[2].set_xticks(ks, [str(k) for k in ks])
    axes[2].set_ylim(0, 105)
    axes[2].set_xlabel("k")
    axes[2].set_ylabel("pass@k (%)")
    axes[2].set_title("pass@k (unbiased)")
    fig.suptitle(
        f"{result.env_id} | {Path(result.model).name} | {result.backend} | n={result.n}, "
        f"T={result.temperature:g} | {result.num_problems} problems | "
        f"accuracy {100 * result.accuracy:.1f}% | mean length {result.mean_response_tokens:.0f} tok",
        fontsize=9,
    )
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def print_result(result: EvalResult, console: Any = None) -> None:
    """Prints the summary and the per-level / per-subject tables with rich."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    head = Table(title=f"rlsp eval: {result.env_id} ({result.num_problems} problems)")
    head.add_column("metric")
    head.add_column("value", justify="right")
    head.add_row("model", f"{result.model} ({result.backend})")
    head.add_row("samples / problem", f"{result.n} at T={result.temperature:g}")
    head.add_row("accuracy", f"{100 * result.accuracy:.2f}%")
    for k, v in result.pass_at_k.items():
        head.add_row(f"pass@{k}", f"{100 * v:.2f}%")
    head.add_row("mean response (tokens)", f"{result.mean_response_tokens:.1f}")
    head.add_row("answered (boxed)", f"{100 * result.answered_rate:.1f}%")
    head.add_row("truncated", f"{100 * result.truncated_rate:.1f}%")
    for ch, v in sorted(result.rewards.items()):
        head.add_row(f"reward/{ch}", f"{v:+.4f}")
    head.add_row("generation", f"{result.generate_s:.1f} s ({result.tokens_per_s:.0f} tok/s)")
    console.print(head)
    for title, groups in (("level", result.by_level), ("subject", result.by_subject)):
        if len(groups) <= 1 and "n/a" in groups:
            continue
        t = Table(title=f"by {title}")
        for col in (title, "problems", "accuracy", f"pass@{result.n}", "mean tokens"):
            t.add_column(col, justify="left" if col == title else "right")
        for name, g in groups.items():
            t.add_row(
                name,
                str(g.problems),
                f"{100 * g.accuracy:.1f}%",
                f"{100 * g.pass_at_n:.1f}%",
                f"{g.mean_response_tokens:.0f}",
            )
        console.print(t)


def _parse_env_arg(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ValueError(f"--env-arg expects KEY=VALUE, got {text!r}")
    key, raw = text.split("=", 1)
    try:
        value = json.loads(raw)  # numbers, true/false, lists, quoted strings; never code
    except json.JSONDecodeError:
        value = raw
    return key.strip(), value


DESCRIPTION = """Evaluate a model on a registered environment: accuracy, pass@k (unbiased), mean
response length, a per-level / per-subject table, JSON and a PNG plot.

examples:
  rlsp eval --env rlsp/MATH500-v0 --model smollm2-135m --limit 50
  rlsp eval --env rlsp/Arithmetic-v0 --env-arg split=test --env-arg difficulty=1 --limit 100
  rlsp eval --env rlsp/GSM8K-v0 --n 8 --temperature 0.7 --max-new-tokens 384 --out outputs/gsm8k
  rlsp eval --env rlsp/Arithmetic-v0 --backend transformers --model runs/ppo/checkpoint --limit 20

writes OUT/eval.json (summary), OUT/samples.jsonl (every completion and verdict), OUT/eval.png.
"""


@dataclass
class EvalConfig:
    """``rlsp eval`` options (the command line is this dataclass, through tyro)."""

    env: str
    """Environment id, e.g. ``rlsp/MATH500-v0``."""
    model: str = "smollm2-135m"
    """Checkpoint directory, embedded name or Hub id."""
    n: int = 1
    """Completions per problem."""
    temperature: float | None = None
    """Sampling temperature (default: 0 = greedy for n=1, 0.7 for n>1)."""
    top_p: float = 1.0
    """Nucleus threshold."""
    max_new_tokens: int = 512
    """The most tokens per completion."""
    limit: int | None = None
    """Evaluate the first N problems only."""
    backend: Literal["vllm", "transformers"] = "vllm"
    """Sampling back end."""
    dtype: Literal["native", "bfloat16", "float16", "float32"] = "native"
    """Weights dtype of the sampler (``native``: bfloat16 where the hardware computes it
    natively, else float32)."""
    seed: int = 0
    """Sampler seed (and the environment's reset seed)."""
    env_arg: tyro.conf.UseAppendAction[tuple[str, ...]] = ()
    """Extra environment argument KEY=VALUE (repeatable; VALUE read as JSON, else as text)."""
    out: str | None = None
    """Output directory (default ``outputs/eval/<env>-<time>``)."""
    plot: bool = True
    """Write the PNG plot (``--no-plot`` skips it)."""
    quiet: bool = False
    """No progress bars."""


def _usage_error(msg: str) -> NoReturn:
    print(f"rlsp eval: error: {msg}", file=sys.stderr)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    """``rlsp eval``: see ``rlsp eval --help``."""
    args = tyro.cli(
        EvalConfig, args=sys.argv[1:] if argv is None else argv, prog="rlsp eval",
        description=DESCRIPTION,
    )  # fmt: skip
    if args.n < 1:
        _usage_error("--n must be >= 1")
    if args.max_new_tokens < 1:
        _usage_error("--max-new-tokens must be >= 1")
    if args.limit is not None and args.limit < 1:
        _usage_error("--limit must be >= 1")
    try:
        env_kwargs = dict(_parse_env_arg(a) for a in args.env_arg)
    except ValueError as e:
        _usage_error(str(e))
    temperature = args.temperature
    if temperature is None:
        temperature = 0.0 if args.n == 1 else 0.7

    import gymnasium as gym

    import rlsp_env  # noqa: F401

    if args.env not in gym.registry:
        known = sorted(k for k in gym.registry if k.startswith("rlsp/"))
        _usage_error(f"unknown environment {args.env!r}; registered rlsp ids: {known}")

    from rlsp_env.data import DataNotFoundError

    try:
        result = evaluate(
            args.env,
            args.model,
            n=args.n,
            temperature=temperature,
            top_p=args.top_p,
            max_new_tokens=args.max_new_tokens,
            limit=args.limit,
            backend=args.backend,
            seed=args.seed,
            env_kwargs=env_kwargs,
            dtype=args.dtype,
            progress=not args.quiet,
        )
    except (DataNotFoundError, ValueError, TypeError) as e:
        # bad env arguments or missing data: one clear line, no traceback
        print(f"rlsp eval: error: {e}", file=sys.stderr)
        return 2
    out = args.out
    if out is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out = Path("outputs") / "eval" / f"{args.env.replace('/', '_')}-{stamp}"
    paths = result.save(out, plot=args.plot)
    print_result(result)
    for kind, p in paths.items():
        print(f"{kind}: {p}")
    return 0
