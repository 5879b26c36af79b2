"""``rlsp serve``: an HTTP reward server for OpenRLHF (``--remote_rm_url``) and any HTTP client.

Endpoints:

* ``POST /get_reward``: OpenRLHF's contract. ``{"query": [...], "prompts": [...], "labels": [...]}``
  in, ``{"rewards": [...], "scores": [...], "extra_logs": {<channel>: [...], ...}}`` out. OpenRLHF's
  ``query`` is the prompt and the response concatenated; when ``prompts`` is given the prompt
  prefix is removed before scoring (a query that does not contain its prompt is rejected: scoring
  the prompt's text could reward an answer the model never wrote). ``labels`` are gold answers.
  ``rewards`` is the weighted scalar, ``scores`` is 1.0 for a verified-correct answer else 0.0
  (what OpenRLHF's dynamic filtering and accuracy logging expect), ``extra_logs`` has every
  channel plus ``correct`` and ``timed_out``.
* ``POST /v1/score``: our JSON API. ``{"items": [{"response": "...", "gold": "...",
  "group": "optional id"}, ...]}`` in, every channel, the weighted scalar and the verifier's
  verdict per item out. Items sharing a ``group`` are each other's ``diversity`` group.
* ``GET /healthz``: liveness and configuration.
* ``GET /metrics``: Prometheus text (requests, latency histogram, timeouts, per-channel means).

Scoring runs in a :class:`~rlsp_env.integrations.scoring.ScoringPool`: worker processes with a
per-item timeout that starts inside the worker, so one poisoned response never delays or fails the
others (it gets ``timed_out: true`` and zero rewards). Bad input gets a 4xx with a message and the
server keeps serving. SIGTERM / Ctrl-C finish the requests in flight before the server exits.

Example (a shell)::

    rlsp serve --env rlsp/Arithmetic-v0 --port 8000 &
    curl -s localhost:8000/get_reward -d '{"query": ["Q: 2+3? A: \\\\boxed{5}"],
        "prompts": ["Q: 2+3? A: "], "labels": ["5"]}'
"""

# No "from __future__ import annotations" here: FastAPI reads the endpoint annotations (Request)
# at runtime, and Request is imported inside create_app to keep "rlsp --help" light.
import argparse
import asyncio
import json
import math
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "COMMAND",
    "HELP",
    "BadRequest",
    "Metrics",
    "ServerConfig",
    "create_app",
    "main",
    "parse_get_reward",
    "parse_score",
    "score_groups",
    "strip_prompt",
]

COMMAND = "serve"
HELP = "HTTP reward server (OpenRLHF /get_reward, /v1/score, /healthz, /metrics)"

#: End-of-text markers removed from the end of a response before scoring (OpenRLHF decodes the
#: query with special tokens kept).
EOS_MARKERS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>", "<｜end▁of▁sentence｜>")

#: Latency histogram buckets in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class BadRequest(ValueError):
    """Input that the server refuses, with the HTTP status to answer (400, 413 or 422)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ServerConfig:
    """Settings of ``rlsp serve`` (each is also a command-line option).

    Attributes:
        env_id: the registered environment whose reward weighting the server applies.
        weights: a preset name of ``rlsp_env.rewards.PRESETS`` or ``{channel: weight}``; ``None``
            takes the environment's default.
        workers: scoring worker processes.
        timeout_s: per-item scoring limit, measured inside the worker.
        max_body_bytes: larger request bodies get 413.
        max_items: more items in one request get 413.
        host: interface to bind.
        port: TCP port (0 picks a free one).
        strip_eos: remove trailing end-of-text markers (``<|im_end|>``, ``</s>``, ...) before scoring.
    """

    env_id: str = "rlsp/MATH500-v0"
    weights: str | dict[str, float] | None = None
    workers: int = 2
    timeout_s: float = 5.0
    max_body_bytes: int = 16 * 1024 * 1024
    max_items: int = 4096
    host: str = "127.0.0.1"
    port: int = 8000
    strip_eos: bool = True
    graceful_timeout_s: float = 60.0
    scorer: str = "rlsp_env.rewards:score"
    extra: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# Input parsing (pure functions: tested directly and through HTTP)


def _list_of_str(body: Mapping[str, Any], key: str, *, required: bool) -> list[str] | None:
    if key not in body or body[key] is None:
        if required:
            raise BadRequest(f"field {key!r} is required (a list of strings)")
        return None
    value = body[key]
    if isinstance(value, str):
        value = [value]  # one item sent as a bare string: accepted, as OpenRLHF's examples do
    if not isinstance(value, list):
        raise BadRequest(f"field {key!r} must be a list of strings, got {type(value).__name__}")
    for i, v in enumerate(value):
        if not isinstance(v, str):
            raise BadRequest(f"{key}[{i}] must be a string, got {type(v).__name__}")
        _check_unicode(v, f"{key}[{i}]")
    return value


def _check_unicode(text: str, where: str) -> None:
    """Refuses lone surrogates (``"\\ud800"`` escapes): valid JSON, but not text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadRequest(
            f"{where} is not valid Unicode: a lone surrogate at position {e.start}", 400
        ) from None


def strip_prompt(query: str, prompt: str, *, strip_eos: bool = True) -> str:
    """The response part of an OpenRLHF query (prompt + response), with trailing EOS markers removed.

    Args:
        query: the prompt and the response as one decoded string.
        prompt: the prompt text that OpenRLHF sent alongside.
        strip_eos: remove trailing end-of-text markers (see :data:`EOS_MARKERS`).

    Returns:
        The text after the prompt. A query that starts with special tokens before the prompt (a
        BOS added by the tokenizer) is handled: the response starts after the first occurrence.

    Raises:
        BadRequest: the prompt does not occur in the query.

    Example:
        >>> strip_prompt("<s>Q: 1+1? A: \\\\boxed{2}</s>", "Q: 1+1? A: ")
        '\\\\boxed{2}'
    """
    if query.startswith(prompt):
        response = query[len(prompt) :]
    else:
        at = query.find(prompt) if prompt else 0
        if at < 0:
            raise BadRequest(
                "the query does not contain its prompt; send the prompt exactly as it appears at "
                "the start of the query, or omit 'prompts' to score the whole query"
            )
        response = query[at + len(prompt) :]
    if strip_eos:
        changed = True
        while changed:
            changed = False
            stripped = response.rstrip()
            for marker in EOS_MARKERS:
                if stripped.endswith(marker):
                    response = stripped[: -len(marker)]
                    changed = True
    return response


def parse_get_reward(body: Any, *, strip_eos: bool = True) -> list[tuple[str, str]]:
    """Validates an OpenRLHF ``/get_reward`` body; returns ``(response, gold)`` pairs.

    Raises:
        BadRequest: missing or wrong-typed fields, lists of different lengths, a prompt missing
            from its query.

    Example:
        >>> parse_get_reward({"query": ["Q A \\\\boxed{2}"], "prompts": ["Q A "], "labels": ["2"]})
        [('\\\\boxed{2}', '2')]
    """
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    queries = _list_of_str(body, "query", required=True)
    labels = _list_of_str(body, "labels", required=True)
    prompts = _list_of_str(body, "prompts", required=False)
    assert queries is not None and labels is not None
    if len(labels) != len(queries):
        raise BadRequest(
            f"'query' and 'labels' must have the same length, got {len(queries)} and {len(labels)}"
        )
    if prompts is not None and len(prompts) != len(queries):
        raise BadRequest(
            f"'query' and 'prompts' must have the same length, got {len(queries)} and {len(prompts)}"
        )
    pairs = []
    for i, (q, g) in enumerate(zip(queries, labels)):
        if prompts is None:
            response = strip_prompt(q, "", strip_eos=strip_eos)
        else:
            try:
                response = strip_prompt(q, prompts[i], strip_eos=strip_eos)
            except BadRequest as e:
                raise BadRequest(f"item {i}: {e}") from None
        pairs.append((response, g))
    return pairs


def parse_score(body: Any) -> list[tuple[str, str]]:
    """Validates a ``/v1/score`` body ``{"items": [{"response": str, "gold": str}, ...]}``.

    Raises:
        BadRequest: a missing or wrong-typed field, with the item index in the message.

    Example:
        >>> parse_score({"items": [{"response": "\\\\boxed{2}", "gold": "2"}]})
        [('\\\\boxed{2}', '2')]
    """
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    items = body.get("items")
    if items is None:
        raise BadRequest('field \'items\' is required: a list of {"response": str, "gold": str}')
    if not isinstance(items, list):
        raise BadRequest(f"field 'items' must be a list, got {type(items).__name__}")
    pairs = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"items[{i}] must be an object, got {type(item).__name__}")
        for key in ("response", "gold"):
            if key not in item:
                raise BadRequest(f"items[{i}] lacks the field {key!r}")
            if not isinstance(item[key], str):
                raise BadRequest(
                    f"items[{i}].{key} must be a string, got {type(item[key]).__name__}"
                )
            _check_unicode(item[key], f"items[{i}].{key}")
        if "group" in item and item["group"] is not None:
            g = item["group"]
            if isinstance(g, bool) or not isinstance(g, str | int):
                raise BadRequest(
                    f"items[{i}].group must be a string or an integer, got {type(g).__name__}"
                )
        pairs.append((item["response"], item["gold"]))
    return pairs


def score_groups(body: dict[str, Any]) -> list[list[int]]:
    """For each item of a valid ``/v1/score`` body, the indices of the other items in its group.

    Items that share a ``group`` value are each other's ``diversity`` group (several samples
    for one problem); an item without one has none.

    Example:
        >>> score_groups({"items": [{"group": "a"}, {"group": "a"}, {}]})
        [[1], [0], []]
    """
    items = body["items"]
    keys = [item.get("group") for item in items]
    members: dict[Any, list[int]] = {}
    for i, k in enumerate(keys):
        if k is not None:
            members.setdefault((type(k).__name__, k), []).append(i)
    return [
        [] if k is None else [j for j in members[(type(k).__name__, k)] if j != i]
        for i, k in enumerate(keys)
    ]


# ---------------------------------------------------------------------------------------------
# Metrics (Prometheus text exposition format, no extra dependency)


class Metrics:
    """Counters, a latency histogram and per-channel running means, rendered as Prometheus text.

    Example:
        >>> m = Metrics()
        >>> m.observe_request("/get_reward", 200, 0.02)
        >>> 'rlsp_requests_total{path="/get_reward",code="200"} 1' in m.render()
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = {}
        self.latency_buckets: dict[str, list[int]] = {}
        self.latency_sum: dict[str, float] = {}
        self.latency_count: dict[str, int] = {}
        self.items = 0
        self.timeouts = 0
        self.errors = 0
        self.correct = 0
        self.reward_sum = 0.0
        self.channel_sum: dict[str, float] = {}
        self.channel_count: dict[str, int] = {}
        self.in_flight = 0
        self.started = time.time()

    def observe_request(self, path: str, code: int, seconds: float) -> None:
        """Counts one HTTP request and its latency."""
        with self._lock:
            self.requests[(path, code)] = self.requests.get((path, code), 0) + 1
            buckets = self.latency_buckets.setdefault(path, [0] * len(LATENCY_BUCKETS))
            for i, b in enumerate(LATENCY_BUCKETS):
                if seconds <= b:
                    buckets[i] += 1
            self.latency_sum[path] = self.latency_sum.get(path, 0.0) + seconds
            self.latency_count[path] = self.latency_count.get(path, 0) + 1

    def observe_items(self, items: Sequence[Any]) -> None:
        """Adds scored items (``ItemScore``) to the item, timeout and channel statistics."""
        with self._lock:
            for it in items:
                self.items += 1
                if it.timed_out:
                    if str(it.verdict.get("reason", "")).startswith("error"):
                        self.errors += 1
                    else:
                        self.timeouts += 1
                    continue
                self.correct += int(bool(it.verdict.get("correct")))
                self.reward_sum += it.reward
                for name, value in it.rewards.items():
                    self.channel_sum[name] = self.channel_sum.get(name, 0.0) + value
                    self.channel_count[name] = self.channel_count.get(name, 0) + 1

    def render(self) -> str:
        """The Prometheus text exposition of every metric."""
        with self._lock:
            out = [
                "# HELP rlsp_requests_total HTTP requests by path and status code.",
                "# TYPE rlsp_requests_total counter",
            ]
            for (path, code), n in sorted(self.requests.items()):
                out.append(f'rlsp_requests_total{{path="{path}",code="{code}"}} {n}')
            out += [
                "# HELP rlsp_request_duration_seconds Request latency.",
                "# TYPE rlsp_request_duration_seconds histogram",
            ]
            for path in sorted(self.latency_buckets):
                for b, n in zip(LATENCY_BUCKETS, self.latency_buckets[path]):
                    out.append(
                        f'rlsp_request_duration_seconds_bucket{{path="{path}",le="{b}"}} {n}'
                    )
                count = self.latency_count[path]
                out.append(
                    f'rlsp_request_duration_seconds_bucket{{path="{path}",le="+Inf"}} {count}'
                )
                out.append(
                    f'rlsp_request_duration_seconds_sum{{path="{path}"}} {self.latency_sum[path]:.6f}'
                )
                out.append(f'rlsp_request_duration_seconds_count{{path="{path}"}} {count}')
            scored = self.items - self.timeouts - self.errors
            out += [
                "# HELP rlsp_items_total Items (responses) scored, including abandoned ones.",
                "# TYPE rlsp_items_total counter",
                f"rlsp_items_total {self.items}",
                "# HELP rlsp_item_timeouts_total Items abandoned after the per-item timeout.",
                "# TYPE rlsp_item_timeouts_total counter",
                f"rlsp_item_timeouts_total {self.timeouts}",
                "# HELP rlsp_item_errors_total Items whose scorer raised (reported as abandoned).",
                "# TYPE rlsp_item_errors_total counter",
                f"rlsp_item_errors_total {self.errors}",
                "# HELP rlsp_correct_total Items the verifier judged correct.",
                "# TYPE rlsp_correct_total counter",
                f"rlsp_correct_total {self.correct}",
                "# HELP rlsp_reward_mean Mean weighted reward of the scored items.",
                "# TYPE rlsp_reward_mean gauge",
                f"rlsp_reward_mean {self.reward_sum / scored if scored else 0.0:.6f}",
                "# HELP rlsp_channel_mean Mean of each reward channel over the scored items.",
                "# TYPE rlsp_channel_mean gauge",
            ]
            for name in sorted(self.channel_sum):
                mean = self.channel_sum[name] / max(1, self.channel_count[name])
                out.append(f'rlsp_channel_mean{{channel="{name}"}} {mean:.6f}')
            out += [
                "# HELP rlsp_requests_in_flight Requests being handled now.",
                "# TYPE rlsp_requests_in_flight gauge",
                f"rlsp_requests_in_flight {self.in_flight}",
                "# HELP rlsp_uptime_seconds Seconds since the server started.",
                "# TYPE rlsp_uptime_seconds gauge",
                f"rlsp_uptime_seconds {time.time() - self.started:.3f}",
            ]
        return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# The application


async def _read_json(request: Any, limit: int) -> Any:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            n = int(declared)
        except ValueError:
            raise BadRequest("invalid Content-Length header", 400) from None
        if n > limit:
            raise BadRequest(f"request body of {n} bytes exceeds the limit of {limit} bytes", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"request body exceeds the limit of {limit} bytes", 413)
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.strip():
        raise BadRequest("empty request body; send a JSON object", 400)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"the body is not valid UTF-8 (byte offset {e.start})", 400) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BadRequest(
            f"malformed JSON: {e.msg} at line {e.lineno} column {e.colno}", 400
        ) from None
    except RecursionError:
        raise BadRequest("JSON nested too deeply", 400) from None


def create_app(config: ServerConfig, pool: Any = None) -> Any:
    """Builds the FastAPI application.

    Args:
        config: the server settings.
        pool: an open scoring pool to use (the caller closes it); ``None`` creates one on start-up
            and closes it on shutdown, after the requests in flight have finished.

    Returns:
        A ``fastapi.FastAPI`` instance (serve it with uvicorn).
    """
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse

    from rlsp_env.integrations.scoring import ScoringPool, env_default_weights, resolve_weights

    env_weights = env_default_weights(config.env_id)  # also checks that the id is registered
    weights = config.weights if config.weights is not None else env_weights
    resolved = resolve_weights(weights)
    metrics = Metrics()
    state: dict[str, Any] = {"pool": pool}

    @asynccontextmanager
    async def lifespan(app: Any):  # noqa: ANN202
        own = state["pool"] is None
        if own:
            state["pool"] = await asyncio.to_thread(
                ScoringPool,
                resolved,
                workers=config.workers,
                timeout_s=config.timeout_s,
                scorer=config.scorer,
            )
        print(
            f"[rlsp serve] ready: env={config.env_id} workers={config.workers} "
            f"timeout_s={config.timeout_s} weights={resolved}",
            file=sys.stderr,
            flush=True,
        )
        try:
            yield
        finally:
            if own:
                await asyncio.to_thread(state["pool"].close)
            print("[rlsp serve] stopped", file=sys.stderr, flush=True)

    app = FastAPI(
        title="rlsp reward server",
        description="Reward channels and the rlsp verifier over HTTP (OpenRLHF compatible).",
        lifespan=lifespan,
    )

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Any:
        t0 = time.perf_counter()
        metrics.in_flight += 1
        code = 500
        try:
            response = await call_next(request)
            code = response.status_code
            return response
        except Exception as e:  # a bug: answer with the reason instead of a bare 500
            return JSONResponse({"error": f"internal error: {type(e).__name__}: {e}"}, 500)
        finally:
            metrics.in_flight -= 1
            metrics.observe_request(request.url.path, code, time.perf_counter() - t0)

    async def _score(
        pairs: list[tuple[str, str]], groups: list[list[int]] | None = None
    ) -> list[Any]:
        if len(pairs) > config.max_items:
            raise BadRequest(
                f"{len(pairs)} items exceed the limit of {config.max_items} per request", 413
            )
        pool = state["pool"]
        futures = [
            asyncio.wrap_future(
                pool.submit(r, g, [pairs[j][0] for j in groups[i]])
                if groups and groups[i]
                else pool.submit(r, g)
            )
            for i, (r, g) in enumerate(pairs)
        ]
        items = list(await asyncio.gather(*futures))
        metrics.observe_items(items)
        return items

    def _bad(e: BadRequest) -> Any:
        return JSONResponse({"error": str(e)}, status_code=e.status)

    @app.post("/get_reward")
    async def get_reward(request: Request) -> Any:
        """OpenRLHF's remote reward contract."""
        try:
            body = await _read_json(request, config.max_body_bytes)
            pairs = parse_get_reward(body, strip_eos=config.strip_eos)
            items = await _score(pairs)
        except BadRequest as e:
            return _bad(e)
        channels = sorted(set(resolved) | {k for it in items for k in it.rewards})
        extra: dict[str, list[float]] = {
            c: [float(it.rewards.get(c, 0.0)) for it in items] for c in channels
        }
        extra["correct"] = [1.0 if it.verdict.get("correct") else 0.0 for it in items]
        extra["timed_out"] = [1.0 if it.timed_out else 0.0 for it in items]
        return {
            "rewards": [it.reward for it in items],
            "scores": extra["correct"],
            "extra_logs": extra,
        }

    @app.post("/v1/score")
    async def score(request: Request) -> Any:
        """Every channel, the weighted scalar and the verdict per item."""
        try:
            body = await _read_json(request, config.max_body_bytes)
            pairs = parse_score(body)
            items = await _score(pairs, score_groups(body))
        except BadRequest as e:
            return _bad(e)
        return {
            "env": config.env_id,
            "weights": resolved,
            "results": [it.to_dict() for it in items],
        }

    @app.get("/healthz")
    async def healthz() -> Any:
        """Liveness and configuration."""
        p = state["pool"]
        return {
            "status": "ok" if p is not None else "starting",
            "env": config.env_id,
            "weights": resolved,
            "workers": config.workers,
            "workers_alive": p.alive() if p is not None and hasattr(p, "alive") else 0,
            "timeout_s": config.timeout_s,
            "max_body_bytes": config.max_body_bytes,
            "uptime_s": round(time.time() - metrics.started, 3),
        }

    @app.get("/metrics")
    async def prometheus() -> Any:
        """Prometheus text exposition."""
        p = state["pool"]
        alive = p.alive() if p is not None and hasattr(p, "alive") else 0
        text = metrics.render() + (
            "# HELP rlsp_workers_alive Scoring worker processes running now.\n"
            "# TYPE rlsp_workers_alive gauge\n"
            f"rlsp_workers_alive {alive}\n"
        )
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    app.state.metrics = metrics
    app.state.config = config
    return app


# ---------------------------------------------------------------------------------------------
# The command


def _parse_weights(text: str | None) -> str | dict[str, float] | None:
    if text is None:
        return None
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"--weights is not valid JSON: {e.msg}") from None
        if not isinstance(value, dict):
            raise ValueError("--weights JSON must be an object of channel: weight")
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise ValueError(f"--weights: weight of {k!r} must be a finite number")
        return {str(k): float(v) for k, v in value.items()}
    return text


def build_parser() -> argparse.ArgumentParser:
    """The ``rlsp serve`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="rlsp serve",
        description=(
            "Serve rlsp's reward channels and verifier over HTTP: OpenRLHF's POST /get_reward, "
            "our POST /v1/score, GET /healthz and GET /metrics (Prometheus)."
        ),
        epilog=(
            "examples:\n"
            "  rlsp serve --env rlsp/Arithmetic-v0 --port 8000\n"
            "  rlsp serve --env rlsp/MATH500-v0 --port 8000 --workers 4 --timeout-s 10\n"
            "  rlsp serve --env rlsp/MATH500-v0 --weights correctness\n"
            '  rlsp serve --env rlsp/MATH500-v0 --weights \'{"correctness": 1, "format": 0.1}\'\n'
            "\n"
            "  # OpenRLHF >= 0.10.2: --reward.remote_url http://HOST:8000/get_reward\n"
            '  curl -s localhost:8000/v1/score -d \'{"items": [{"response": "\\\\boxed{5}", "gold": "5"}]}\''
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d = ServerConfig()
    parser.add_argument("--env", default=d.env_id, help=f"registered env id (default {d.env_id})")
    parser.add_argument("--host", default=d.host, help=f"interface to bind (default {d.host})")
    parser.add_argument("--port", type=int, default=d.port, help=f"TCP port (default {d.port})")
    parser.add_argument(
        "--weights",
        default=None,
        help="reward weighting: a preset (rlsp, correctness, default) or a JSON object; "
        "default: the environment's own",
    )
    parser.add_argument(
        "--workers", type=int, default=d.workers, help=f"scoring processes (default {d.workers})"
    )
    parser.add_argument(
        "--timeout-s",
        type=float,
        default=d.timeout_s,
        help=f"per-item scoring limit in seconds, measured inside the worker (default {d.timeout_s})",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=d.max_body_bytes,
        help=f"larger bodies get HTTP 413 (default {d.max_body_bytes})",
    )
    parser.add_argument(
        "--max-items",
        type=int,
        default=d.max_items,
        help=f"more items per request get HTTP 413 (default {d.max_items})",
    )
    parser.add_argument(
        "--no-strip-eos",
        action="store_true",
        help="keep trailing end-of-text markers (<|im_end|>, </s>, ...) in responses",
    )
    parser.add_argument(
        "--scorer",
        default=d.scorer,
        help="advanced: module:function with the signature of rlsp_env.rewards.score "
        f"(default {d.scorer})",
    )
    parser.add_argument(
        "--graceful-timeout-s",
        type=float,
        default=d.graceful_timeout_s,
        help=f"on SIGTERM, how long to wait for requests in flight (default {d.graceful_timeout_s})",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs ``rlsp serve``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if not (args.timeout_s > 0 and math.isfinite(args.timeout_s)):
        parser.error("--timeout-s must be a positive number")
    if args.max_body_bytes < 1 or args.max_items < 1:
        parser.error("--max-body-bytes and --max-items must be positive")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be in 0..65535")
    try:
        weights = _parse_weights(args.weights)
        config = ServerConfig(
            env_id=args.env,
            weights=weights,
            workers=args.workers,
            timeout_s=args.timeout_s,
            max_body_bytes=args.max_body_bytes,
            max_items=args.max_items,
            host=args.host,
            port=args.port,
            strip_eos=not args.no_strip_eos,
            graceful_timeout_s=args.graceful_timeout_s,
            scorer=args.scorer,
        )
        app = create_app(config)
    except (ValueError, ImportError) as e:
        parser.error(str(e))

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            timeout_graceful_shutdown=config.graceful_timeout_s,
            lifespan="on",
        )
    )
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
