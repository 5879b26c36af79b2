"""``rlsp serve``: an HTTP reward server for OpenRLHF (``--reward.remote_url``) and any HTTP client.

Endpoints:

* ``POST /get_reward``: OpenRLHF's contract. ``{"query": [...], "prompts": [...], "labels": [...]}``
  in, ``{"rewards": [...], "scores": [...], "extra_logs": {<channel>: [...], ...}}`` out. OpenRLHF's
  ``query`` is the prompt and the response decoded as one string; when ``prompts`` is given the
  prompt part is located and removed before scoring (:func:`strip_prompt`: exact prefix, a BOS
  before it, whitespace drift of the decoder, and the left-truncated prompts OpenRLHF sends when
  a prompt exceeds its ``max_prompt_length``; a query that matches none of these is refused, since
  scoring the prompt's text could reward an answer the model never wrote). ``labels`` are gold
  answers (strings or numbers; an empty label, what OpenRLHF sends without ``--data.label_key``,
  is refused). ``rewards`` is the weighted scalar, ``scores`` is 1.0 for a verified-correct answer
  else 0.0 (what OpenRLHF's dynamic filtering and accuracy logging expect), ``extra_logs`` has
  every channel plus ``correct`` and ``timed_out``.
* ``POST /v1/score``: our JSON API. ``{"items": [{"response": "...", "gold": "...",
  "group": "optional id"}, ...]}`` in, every channel, the weighted scalar and the verifier's
  verdict per item out. Items sharing a ``group`` are each other's ``diversity`` group.
* ``GET /healthz``: liveness, queue depth and configuration (never waits for scoring).
* ``GET /metrics``: Prometheus text (requests, latency histogram, timeouts, aborted clients,
  dropped connections, queue depth, per-channel means).

Scoring: the one scoring path. The reward spec is the env's (:func:`server_spec`); each item is
verified in one :class:`rlsp_verifiers.VerifierPool` (a hard per-item timeout measured inside the
worker), then each request is scored by :func:`rlsp_env.scoring.score_batch` from its verdicts
(:class:`ScoringBackend`), so every channel equals ``env.step``'s.

Scheduling: every request's items wait in their own queue; a scheduler hands items to the
verifier workers round-robin across requests, never more items than there are live workers, so
an item starts the moment it is handed over. One worker beyond ``--workers``
(``--express-workers``) is kept for requests that have had nothing started yet: a one-item
request is never stuck behind another client's batch of slow items. When more than
``--max-queued-items`` items wait, new requests get 429 with ``Retry-After``. An item whose
worker died for another reason than its timeout (SIGKILL, OOM) is retried once. The workers run
at a lower CPU priority (``--worker-nice``).

HTTP hardening: request headers must arrive within ``--header-timeout-s`` and the body within
``--body-timeout-s`` (the connection is dropped otherwise; by default a half-sent request is
dropped within 10 + 15 s), idle keep-alive connections close after
``--keep-alive-s``, bodies are limited while they are read, JSON with absurd numbers or nesting gets
400, clients that go away are counted as aborted (not as errors), and no response carries an
internal message.

Example (a shell)::

    rlsp serve --env rlsp/Arithmetic-v0 --port 8000 &
    curl -s localhost:8000/get_reward -d '{"query": ["Q: 2+3? A: \\\\boxed{5}"],
        "prompts": ["Q: 2+3? A: "], "labels": ["5"]}'
"""

# No "from __future__ import annotations" here: FastAPI reads the endpoint annotations (Request)
# at runtime, and Request is imported inside create_app to keep "rlsp --help" light.
import argparse
import asyncio
import collections
import dataclasses
import json
import logging
import math
import re
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

__all__ = [
    "COMMAND",
    "HELP",
    "BadRequest",
    "FairScheduler",
    "Metrics",
    "Overloaded",
    "ScoringBackend",
    "ServerConfig",
    "create_app",
    "loads_bounded",
    "main",
    "parse_get_reward",
    "parse_score",
    "score_group_ids",
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

#: JSON nesting deeper than this gets 400 (our bodies nest 3 levels).
MAX_JSON_DEPTH = 32
#: JSON number literals longer than this (digits, sign, exponent) get 400.
MAX_NUMBER_CHARS = 64
#: A left-truncated prompt must overlap the query's start by this many non-whitespace characters
#: (or the whole prompt, when shorter) for the response boundary to be trusted.
MIN_PROMPT_OVERLAP = 16

log = logging.getLogger("rlsp.serve")


class BadRequest(ValueError):
    """Input that the server refuses, with the HTTP status to answer (400, 413 or 422)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class Overloaded(Exception):
    """Too many items are queued: answer 429 with ``Retry-After: retry_after_s``."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class _ClientGone(Exception):
    """The client went away (aborted mid-body, timed out, or disconnected while waiting)."""

    def __init__(self, phase: str) -> None:
        super().__init__(phase)
        self.phase = phase


@dataclass
class ServerConfig:
    """Settings of ``rlsp serve`` (each is also a command-line option).

    Attributes:
        env_id: the registered environment whose reward weighting the server applies.
        weights: a preset name of ``rlsp_env.rewards.PRESETS`` or ``{channel: weight}``; ``None``
            takes the environment's default.
        reward_spec: a whole :class:`rlsp_env.spec.RewardSpec` as :meth:`~RewardSpec.to_dict`
            writes it (weights, length scale, cap, tokenizer, verifier mode, answer policy,
            timeout), instead of the env's spec with ``weights`` and ``timeout_s``.
        workers: verifier worker processes shared round-robin by all requests.
        express_workers: extra verifier processes (of the same pool) kept for requests with
            nothing in flight (a one-item request never waits behind another client's slow
            batch); 0 disables.
        timeout_s: hard per-item verification limit, measured inside the worker (the spec's
            ``timeout_s``; ignored with ``reward_spec``, which carries its own).
        max_body_bytes: larger request bodies get 413 (checked while the body is read).
        max_items: more items in one request get 413.
        max_queued_items: when this many items already wait, new requests get 429 + Retry-After.
        header_timeout_s: a connection whose request headers are not complete this long after
            its first byte (or after it opened) is dropped.
        body_timeout_s: a request whose body is not complete this long after its headers is
            dropped (slow clients, half-sent bodies).
        keep_alive_s: idle keep-alive connections are closed after this many seconds.
        diversity_budget_s: time for the log-only ``diversity`` channel (weight 0) of one
            request, computed in the server beside the scoring and never inside the per-item
            timeout; groups not done in time report 0.0 and are listed in ``log_only_skipped``.
        worker_nice: how much lower the verifier workers' CPU priority is than the HTTP front
            end's (a ``nice`` increment, :class:`rlsp_verifiers.VerifierPool`'s ``nice``; 0
            keeps them equal): on busy cores, accepting connections, ``/healthz`` and parsing
            never wait behind verification.
        host: interface to bind.
        port: TCP port (0 picks a free one).
        strip_eos: remove trailing end-of-text markers (``<|im_end|>``, ``</s>``, ...) before scoring.
        graceful_timeout_s: on SIGTERM, how long to wait for requests in flight.
    """

    env_id: str = "rlsp/MATH500-v0"
    weights: str | dict[str, float] | None = None
    reward_spec: dict[str, Any] | None = None
    workers: int = 2
    express_workers: int = 1
    timeout_s: float = 5.0
    max_body_bytes: int = 16 * 1024 * 1024
    max_items: int = 4096
    max_queued_items: int = 16384
    header_timeout_s: float = 10.0
    body_timeout_s: float = 15.0
    keep_alive_s: float = 5.0
    diversity_budget_s: float = 5.0
    worker_nice: int = 5
    host: str = "127.0.0.1"
    port: int = 8000
    strip_eos: bool = True
    graceful_timeout_s: float = 60.0


# ---------------------------------------------------------------------------------------------
# Input parsing (pure functions: tested directly and through HTTP)


def _refuse_number(text: str) -> None:
    raise BadRequest(
        f"a JSON number of {len(text)} characters exceeds the limit of {MAX_NUMBER_CHARS}", 400
    )


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        _refuse_number(text)
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        _refuse_number(text)
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"the JSON number {text[:20]} is out of range", 400)
    return value


def _parse_constant(name: str) -> Any:
    raise BadRequest(f"{name} is not valid JSON (use a finite number)", 400)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _json_depth(text: str) -> int:
    """Maximum nesting of ``[`` / ``{`` outside strings (a fast pre-check before parsing)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return 0
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    depth = deepest = 0
    for c in brackets:
        if c in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        else:
            depth -= 1
    return deepest


def loads_bounded(raw: bytes) -> Any:
    """Parses a JSON body, refusing what would cost the server more than the request is worth.

    Refused with :class:`BadRequest` (400): not UTF-8, malformed, nesting deeper than
    :data:`MAX_JSON_DEPTH`, a number literal longer than :data:`MAX_NUMBER_CHARS` characters
    (Python refuses integers over 4,300 digits with a ``ValueError``; we answer before that),
    a float out of range, and ``NaN`` / ``Infinity`` (not JSON).

    Example:
        >>> loads_bounded(b'{"labels": [5, "7"]}')
        {'labels': [5, '7']}
        >>> loads_bounded(b"[" + b"9" * 5000 + b"]")
        Traceback (most recent call last):
        ...
        rlsp_env.server.BadRequest: a JSON number of 5000 characters exceeds the limit of 64
    """
    if not raw.strip():
        raise BadRequest("empty request body; send a JSON object", 400)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BadRequest(f"the body is not valid UTF-8 (byte offset {e.start})", 400) from None
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise BadRequest(f"JSON nested deeper than {MAX_JSON_DEPTH} levels", 400)
    try:
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as e:
        raise BadRequest(
            f"malformed JSON: {e.msg} at line {e.lineno} column {e.colno}", 400
        ) from None
    except RecursionError:
        raise BadRequest("JSON nested too deeply", 400) from None


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


def _label_text(value: Any, i: int) -> str:
    """A gold label as text: strings as they are, JSON numbers written the way a dataset would."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadRequest(
            f"labels[{i}] must be a string or a number (the gold answer), "
            f"got {type(value).__name__}"
        )
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    _check_unicode(value, f"labels[{i}]")
    if not value.strip():
        raise BadRequest(
            f"labels[{i}] is empty: OpenRLHF sends an empty label when its dataset has no label "
            "column; pass --data.label_key <the column with the gold answer>"
        )
    return value


def _labels(body: Mapping[str, Any]) -> list[str]:
    if "labels" not in body or body["labels"] is None:
        raise BadRequest(
            "field 'labels' is required (the gold answers: a list of strings or numbers); "
            "with OpenRLHF, pass --data.label_key <the column with the gold answer>"
        )
    value = body["labels"]
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise BadRequest(f"field 'labels' must be a list of strings, got {type(value).__name__}")
    return [_label_text(v, i) for i, v in enumerate(value)]


def _check_unicode(text: str, where: str) -> None:
    """Refuses lone surrogates (``"\\ud800"`` escapes): valid JSON, but not text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        raise BadRequest(
            f"{where} is not valid Unicode: a lone surrogate at position {e.start}", 400
        ) from None


_NON_SPACE = re.compile(r"\S")


def _non_space(text: str) -> tuple[str, list[int]]:
    """The non-whitespace characters of ``text`` and the position of each in ``text``."""
    positions = [m.start() for m in _NON_SPACE.finditer(text)]
    return "".join(text[i] for i in positions), positions


def _overlap(prompt: str, query: str) -> int:
    """The longest ``k`` with ``query[:k] == prompt[-k:]`` (KMP's failure function, O(n))."""
    head = query[: len(prompt)]
    seq: list[str | None] = [*head, None, *prompt]  # None never equals a character
    fail = [0] * len(seq)
    for i in range(1, len(seq)):
        k = fail[i - 1]
        while k and seq[i] != seq[k]:
            k = fail[k - 1]
        if seq[i] == seq[k]:
            k += 1
        fail[i] = k
    return fail[-1]


def _response_start(query: str, prompt: str) -> int:
    """Where the response begins in ``query`` when the prompt is not an exact part of it."""
    p_chars, _ = _non_space(prompt)
    if not p_chars:
        return 0
    window = query[: 2 * len(prompt) + 1024]  # the prompt part cannot be much longer than that
    q_chars, q_pos = _non_space(window)
    at = q_chars.find(p_chars)
    if at >= 0:  # the whole prompt, with its whitespace changed by the decoder
        end = q_pos[at + len(p_chars) - 1] + 1
    else:  # the prompt's end only: OpenRLHF kept its last max_prompt_length tokens
        skip = 0
        while skip < len(q_chars) and q_chars[skip] == "\ufffd":  # half a multi-byte token
            skip += 1
        k = _overlap(p_chars, q_chars[skip:])
        if k < min(len(p_chars), MIN_PROMPT_OVERLAP):
            raise BadRequest(
                "the query does not contain its prompt (exactly, with different whitespace, or "
                f"as the prompt's last {MIN_PROMPT_OVERLAP}+ characters at the query's start, "
                "as a left-truncated prompt is); send the prompt as it was given to the model, or "
                "omit 'prompts' to score the whole query"
            )
        end = q_pos[skip + k - 1] + 1
    tail = prompt[len(prompt.rstrip()) :]  # the prompt's own trailing whitespace
    if query.startswith(tail, end):
        return end + len(tail)
    while end < len(query) and query[end].isspace():
        end += 1
    return end


def strip_prompt(query: str, prompt: str, *, strip_eos: bool = True) -> str:
    """The response part of an OpenRLHF query (prompt + response), with trailing EOS markers removed.

    How the boundary is found, in order:

    1. the query starts with the prompt exactly: the response is the rest;
    2. the prompt occurs in the query (a BOS token before it): the response starts after it;
    3. the prompt's non-whitespace characters occur in the query's (the decoder changed spaces
       or newlines): the response starts after the last of them, and after the prompt's own
       trailing whitespace;
    4. the query starts with the END of the prompt (OpenRLHF keeps the last ``max_prompt_length``
       tokens of a long prompt but sends the whole prompt string), compared without whitespace,
       after any U+FFFD left by a multi-byte character cut in half: the longest such overlap,
       which must be at least :data:`MIN_PROMPT_OVERLAP` non-whitespace characters (or the whole
       prompt when shorter).

    Anything else is refused (a 422): scoring text that may be the prompt's could reward an
    answer the model never wrote.

    Args:
        query: the prompt and the response as one decoded string.
        prompt: the prompt text that OpenRLHF sent alongside.
        strip_eos: remove trailing end-of-text markers (see :data:`EOS_MARKERS`).

    Returns:
        The text after the prompt.

    Raises:
        BadRequest: the prompt cannot be located in the query.

    Example:
        >>> strip_prompt("<s>Q: 1+1? A: \\\\boxed{2}</s>", "Q: 1+1? A: ")
        '\\\\boxed{2}'
        >>> strip_prompt("add the numbers 1 and 1.\\nA: \\\\boxed{2}", "Q: please add the numbers 1 and 1.\\nA: ")
        '\\\\boxed{2}'
    """
    if not prompt:
        response = query
    elif query.startswith(prompt):
        response = query[len(prompt) :]
    else:
        at = query.find(prompt)
        response = query[at + len(prompt) :] if at >= 0 else query[_response_start(query, prompt) :]
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

    ``labels`` may be strings or JSON numbers (``5`` scores like ``"5"``); an empty label (what
    OpenRLHF sends when ``--data.label_key`` is not set) is refused.

    Raises:
        BadRequest: missing or wrong-typed fields, lists of different lengths, an empty label,
            a prompt that cannot be located in its query (see :func:`strip_prompt`).

    Example:
        >>> parse_get_reward({"query": ["Q A \\\\boxed{2}"], "prompts": ["Q A "], "labels": [2]})
        [('\\\\boxed{2}', '2')]
    """
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    queries = _list_of_str(body, "query", required=True)
    labels = _labels(body)
    prompts = _list_of_str(body, "prompts", required=False)
    assert queries is not None
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
        if item.get("problem") is not None:
            if not isinstance(item["problem"], str):
                raise BadRequest(
                    f"items[{i}].problem must be a string, got {type(item['problem']).__name__}"
                )
            _check_unicode(item["problem"], f"items[{i}].problem")
        if "group" in item and item["group"] is not None:
            g = item["group"]
            if isinstance(g, bool) or not isinstance(g, str | int):
                raise BadRequest(
                    f"items[{i}].group must be a string or an integer, got {type(g).__name__}"
                )
        pairs.append((item["response"], item["gold"]))
    return pairs


def score_problems(body: dict[str, Any]) -> list[str] | None:
    """The optional ``problem`` text of each item of a valid ``/v1/score`` body (``""`` where an
    item has none; ``None`` when no item has one).

    Example:
        >>> score_problems({"items": [{"problem": "1+1?"}, {}]}), score_problems({"items": [{}]})
        (['1+1?', ''], None)
    """
    found = [it.get("problem") or "" for it in body["items"]]
    return found if any(found) else None


def score_group_ids(body: dict[str, Any]) -> list[Any]:
    """One group id per item of a valid ``/v1/score`` body, for ``score_batch``'s ``groups``.

    Items that share a ``group`` value (``"a"`` and ``1`` differ from ``"1"``) are each other's
    ``diversity`` group; an item without one is a group of its own.

    Example:
        >>> score_group_ids({"items": [{"group": "a"}, {"group": 1}, {}]})
        [('str', 'a'), ('int', 1), ('solo', 2)]
    """
    return [
        ("solo", i) if it.get("group") is None else (type(it["group"]).__name__, it["group"])
        for i, it in enumerate(body["items"])
    ]


def _members(keys: Sequence[Any]) -> list[list[int]]:
    from rlsp_env.scoring import group_members

    return group_members(keys)


def score_groups(body: dict[str, Any]) -> list[list[int]]:
    """For each item of a valid ``/v1/score`` body, the indices of the other items in its group
    (what :func:`rlsp_env.scoring.score_batch` makes of :func:`score_group_ids`).

    Example:
        >>> score_groups({"items": [{"group": "a"}, {"group": "a"}, {}]})
        [[1], [0], []]
    """
    return _members(score_group_ids(body))


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
        self.aborted: dict[tuple[str, str], int] = {}
        self.dropped: dict[str, int] = {}
        self.retried = 0
        self.gauges: dict[str, tuple[str, Any]] = {}  # name -> (help, zero-argument callable)
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

    def observe_abort(self, path: str, phase: str) -> None:
        """Counts a client that went away before its answer (never an error of ours)."""
        with self._lock:
            self.aborted[(path, phase)] = self.aborted.get((path, phase), 0) + 1

    def observe_drop(self, reason: str) -> None:
        """Counts a connection the server closed (``header_timeout``, ``body_timeout``)."""
        with self._lock:
            self.dropped[reason] = self.dropped.get(reason, 0) + 1

    def observe_items(self, items: Sequence[Any]) -> None:
        """Adds scored items (``ItemScore``) to the item, timeout and channel statistics."""
        with self._lock:
            for it in items:
                self.items += 1
                if it.verdict.get("reason") == "internal_error":
                    self.errors += 1
                    continue
                if it.timed_out:
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
                "# HELP rlsp_item_errors_total Items the verifier could not check (internal_error).",
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
                "# HELP rlsp_client_aborts_total Clients that went away before their answer.",
                "# TYPE rlsp_client_aborts_total counter",
            ]
            for (path, phase), n in sorted(self.aborted.items()):
                out.append(f'rlsp_client_aborts_total{{path="{path}",phase="{phase}"}} {n}')
            out += [
                "# HELP rlsp_connections_dropped_total Connections closed by the server's timeouts.",
                "# TYPE rlsp_connections_dropped_total counter",
            ]
            for reason, n in sorted(self.dropped.items()):
                out.append(f'rlsp_connections_dropped_total{{reason="{reason}"}} {n}')
            out += [
                "# HELP rlsp_item_retries_total Items re-run once after their worker died.",
                "# TYPE rlsp_item_retries_total counter",
                f"rlsp_item_retries_total {self.retried}",
            ]
            for name, (help_text, fn) in sorted(self.gauges.items()):
                out += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {fn()}"]
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
# Scoring: the one adapter the server scores through, and the fair scheduler in front of it


class ScoringBackend:
    """The server's only path to scoring, in two steps over the one scoring path.

    1. :meth:`submit` verifies one ``(response, gold)`` pair in the env's
       :class:`rlsp_verifiers.VerifierPool` (a hard per-item timeout measured inside the worker;
       an overrun gives ``reason="timeout"``, a worker that died ``reason="worker_died"``). The
       pool's ``map`` is called with one pair from one thread per busy worker, so items run side
       by side and the :class:`FairScheduler` decides which item starts next.
    2. :meth:`score` turns one request's verdicts into every channel with
       :func:`rlsp_env.scoring.score_batch` (``verdicts=``): the same channels ``env.step``
       gives; its ``groups`` are the request's ``diversity`` groups.

    Args:
        spec: the :class:`rlsp_env.spec.RewardSpec` (an env's, see
            :func:`rlsp_env.integrations.scoring.env_reward_spec`).
        processes: verifier worker processes.
        pool: an open :class:`rlsp_verifiers.VerifierPool` matching the spec to use instead (the
            caller closes it).
        nice: lower the workers' CPU priority by this ``nice`` increment (0: unchanged).
    """

    def __init__(self, spec: Any, *, processes: int, pool: Any = None, nice: int = 0) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from rlsp_env.scoring import make_pool

        self.spec = spec
        self.own = pool is None
        self.verifiers = make_pool(spec, processes, nice=nice) if pool is None else pool
        self.processes = int(self.verifiers.n)
        self._threads = ThreadPoolExecutor(self.processes, thread_name_prefix="rlsp-verify")
        self._warm_up()

    def _warm_up(self) -> None:
        """Starts every worker (one item each, side by side) and this process's scoring code,
        so the first requests never wait for imports."""
        pair = ("\\boxed{1}", "1")
        verdicts = [f.result() for f in [self.submit(*pair) for _ in range(self.processes)]]
        self.score([pair], verdicts[:1])

    def _verify(self, response: str, gold: str) -> Any:
        try:
            return self.verifiers.map([(response, gold)])[0]
        except Exception as e:  # a closed or broken pool: this item fails, the server goes on
            log.warning("verifier pool refused an item: %s: %s", type(e).__name__, e)
            return self.failed()

    def submit(self, response: str, gold: str) -> Future:
        """Starts verifying one pair; the future's result is a ``Verdict`` (never an exception)."""
        return self._threads.submit(self._verify, response, gold)

    def score(
        self,
        pairs: Sequence[tuple[str, str]],
        verdicts: Sequence[Any],
        groups: Any = None,
        problems: Sequence[str] | None = None,
    ) -> list[Any]:
        """Every channel of one request's items (``ItemScore``), from their verdicts; ``problems``
        (the problem texts, where the client sent them) are what the exploration channel measures
        novelty against, as ``env.step`` does."""
        from rlsp_env.integrations.scoring import item_from_result, targets_of
        from rlsp_env.scoring import score_batch

        golds = [g for _, g in pairs]
        results = score_batch(
            [r for r, _ in pairs], targets_of(golds, problems), groups, self.spec, verdicts=verdicts
        )
        return [item_from_result(r) for r in results]

    def ready(self) -> int:
        """Workers able to take an item (fewer while a killed one is being replaced)."""
        return self.verifiers.alive()

    @staticmethod
    def worker_died(verdict: Any) -> bool:
        """The item was lost with its worker for a reason other than its own timeout."""
        return verdict.reason == "worker_died"

    @staticmethod
    def failed() -> Any:
        """The verdict of an item that could not be verified (``reason="internal_error"``)."""
        from rlsp_verifiers import Verdict

        return Verdict(False, None, "internal_error", "input")

    def close(self) -> None:
        """Stops the verifier threads and workers (the workers only of a pool it created)."""
        self._threads.shutdown(wait=True)
        if self.own:
            self.verifiers.close()


class _Job:
    """One request's items: a queue of indices still to start, and the results so far."""

    __slots__ = (
        "items", "pending", "results", "started", "in_flight", "remaining", "done", "retried"
    )  # fmt: skip

    def __init__(self, items: list[tuple[str, str]], done: asyncio.Future) -> None:
        self.items = items
        self.pending = collections.deque(range(len(items)))
        self.results: list[Any] = [None] * len(items)
        self.started = 0
        self.in_flight = 0
        self.remaining = len(items)
        self.done = done
        self.retried: set[int] = set()


class FairScheduler:
    """Hands the items of many requests to a :class:`ScoringBackend`'s verifier, fairly and
    boundedly.

    Policy:

    * every request's items wait in its own queue; the scheduler never has more items in flight
      than the backend has ready workers, so a handed-over item starts at once;
    * a free worker takes the next item of the next request in round-robin order (one item per
      request per round: a big or slow request never holds the queue);
    * the last ``express`` ready workers only take a request that has had nothing started yet,
      so a newcomer's first item starts at once even while every other worker runs another
      client's slow items (while killed workers restart, the reservation shrinks last);
    * when more than ``max_queued`` items wait, :meth:`submit` raises :class:`Overloaded` with
      a ``Retry-After`` estimate; a request that goes away is removed with :meth:`cancel`;
    * an item whose worker died (not its own timeout) is retried once, at the front.

    Runs on one asyncio loop (not thread-safe); results arrive from the backend's threads
    through ``call_soon_threadsafe``.
    """

    def __init__(self, backend: ScoringBackend, *, express: int, max_queued: int) -> None:
        self.backend = backend
        self.express = express
        self.max_queued = max_queued
        self.ring: collections.deque[_Job] = collections.deque()
        self.queued = 0
        self.in_flight = 0
        self.item_s = 0.05  # running mean of an item's wall time, for Retry-After
        self.retries = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    def submit(self, items: list[tuple[str, str]]) -> _Job:
        """Queues one request's ``(response, gold)`` items; ``await job.done`` gives their
        verdicts in order."""
        self.loop = asyncio.get_running_loop()
        if self.queued + len(items) > self.max_queued:
            workers = max(1, self.backend.processes)
            wait = math.ceil((self.queued + self.in_flight) * self.item_s / workers)
            raise Overloaded(
                f"{self.queued} items are queued (the limit is {self.max_queued}); retry later",
                max(1, min(60, wait)),
            )
        job = _Job(items, self.loop.create_future())
        if not items:
            job.done.set_result([])
            return job
        self.ring.append(job)
        self.queued += len(items)
        self.pump()
        return job

    def cancel(self, job: _Job) -> None:
        """Drops the items of ``job`` that have not started (its client went away)."""
        if job.pending:
            self.queued -= len(job.pending)
            job.pending.clear()
        if job in self.ring:
            self.ring.remove(job)
        if not job.done.done():
            job.done.cancel()

    def _pick(self, express_only: bool) -> _Job | None:
        if not express_only:
            return self.ring[0] if self.ring else None  # plain round-robin
        for job in self.ring:  # the reserved workers: requests with nothing started yet
            if job.started == 0:
                return job
        return None

    def pump(self) -> None:
        """Starts items while workers are free (also called by a ticker while workers restart)."""
        capacity = self.backend.ready()
        shared = capacity - min(self.express, capacity)  # the workers any request may take
        while self.ring and self.in_flight < capacity:
            express_only = self.in_flight >= shared
            job = self._pick(express_only)
            if job is None:
                return
            i = job.pending.popleft()
            self.ring.remove(job)
            if job.pending:
                self.ring.append(job)  # to the back of the round
            self.queued -= 1
            job.started += 1
            job.in_flight += 1
            self.in_flight += 1
            t0 = time.perf_counter()
            try:
                fut = self.backend.submit(*job.items[i])
            except Exception as e:  # the backend is closed or broken: fail the item, not the loop
                log.warning("scoring backend refused an item: %s: %s", type(e).__name__, e)
                fut = Future()
                fut.set_result(self.backend.failed())
            loop = self.loop
            assert loop is not None
            fut.add_done_callback(
                lambda f, job=job, i=i, t0=t0, loop=loop: loop.call_soon_threadsafe(
                    self._finished, job, i, f, t0
                )
            )

    def _finished(self, job: _Job, i: int, fut: Future, t0: float) -> None:
        self.in_flight -= 1
        job.in_flight -= 1
        self.item_s = 0.9 * self.item_s + 0.1 * (time.perf_counter() - t0)
        try:
            item = fut.result()
        except BaseException:  # the backend's futures carry results; this is a backstop
            item = self.backend.failed()
        if job.done.done():  # cancelled: its client is gone
            self.pump()
            return
        if self.backend.worker_died(item) and i not in job.retried:
            job.retried.add(i)
            self.retries += 1
            job.pending.appendleft(i)
            self.queued += 1
            if job not in self.ring:
                self.ring.appendleft(job)
        else:
            job.results[i] = item
            job.remaining -= 1
            if job.remaining == 0:
                job.done.set_result(job.results)
        self.pump()


def _log_only_diversity(
    responses: Sequence[str], groups: Sequence[Sequence[int]], budget_s: float
) -> list[float | None]:
    """The ``diversity`` channel of each item (``None`` past the budget), computed once per text.

    The same value as :func:`rlsp_env.rewards.diversity` (mean trigram Jaccard distance to the
    group's other responses), with each response's shingles computed once and each pair's
    distance once (instead of once per item and pair), within a cooperative time budget.
    """
    from rlsp_env.text import shingles

    deadline = time.perf_counter() + budget_s
    cache: dict[int, frozenset] = {}
    pair: dict[tuple[int, int], float] = {}

    def distance(i: int, j: int) -> float:
        key = (i, j) if i < j else (j, i)
        if key not in pair:
            for k in key:
                if k not in cache:
                    cache[k] = shingles(responses[k])
            a, b = cache[key[0]], cache[key[1]]
            common = len(a & b) if len(a) < len(b) else len(b & a)
            union = len(a) + len(b) - common
            pair[key] = 0.0 if not union else 1.0 - common / union
        return pair[key]

    out: list[float | None] = [None] * len(responses)
    for i, others in enumerate(groups):
        dists = []
        for j in others:
            if time.perf_counter() > deadline:
                break
            dists.append(distance(i, j))
        if len(dists) == len(others):
            out[i] = float(sum(dists) / len(dists)) if dists else 0.0
    return out


# ---------------------------------------------------------------------------------------------
# HTTP: timeouts on the connection, aborted clients, no internal messages


def _protocol_class(config: ServerConfig, metrics: "Metrics") -> type:
    """uvicorn's h11 protocol with a header deadline and a body deadline per request."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class TimedH11Protocol(H11Protocol):
        _phase: str | None = None
        _deadline: Any = None

        def connection_made(self, transport: Any) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm("headers")  # a connection that never sends a byte is dropped too

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            self._update()

        def on_response_complete(self) -> None:
            self._arm(None)  # idle now: uvicorn's keep-alive timeout takes over
            super().on_response_complete()
            self._update()

        def connection_lost(self, exc: Exception | None) -> None:
            self._arm(None)
            super().connection_lost(exc)

        def _update(self) -> None:
            state = self.conn.their_state
            if state is h11.SEND_BODY:
                self._arm("body")
            elif state is h11.IDLE and self.conn.trailing_data[0]:
                self._arm("headers")  # a partial request line or header block is buffered
            elif state is not h11.IDLE:
                self._arm(None)

        def _arm(self, phase: str | None) -> None:
            if phase == self._phase:
                return
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            self._phase = phase
            if phase is not None:
                limit = config.header_timeout_s if phase == "headers" else config.body_timeout_s
                self._deadline = self.loop.call_later(limit, self._expire, phase)

        def _expire(self, phase: str) -> None:
            self._deadline = None
            if self.transport.is_closing():
                return
            who = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            limit = config.header_timeout_s if phase == "headers" else config.body_timeout_s
            log.warning("dropped %s: request %s not complete after %.0f s", who, phase, limit)
            metrics.observe_drop(f"{phase[:-1] if phase == 'headers' else phase}_timeout")
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.scope["rlsp.dropped"] = phase
            elif phase == "headers" and self.conn.trailing_data[0]:
                try:  # no request to answer yet: tell the client why, in raw HTTP
                    self.transport.write(
                        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                        b"connection: close\r\ncontent-length: 46\r\n\r\n"
                        b'{"error": "request headers not sent in time"}\n'
                    )
                except Exception:
                    pass
            self.transport.close()

    return TimedH11Protocol


class _Observe:
    """ASGI middleware: counts every answer, aborted clients apart; turns a bug into a bare 500."""

    def __init__(self, app: Any, metrics: "Metrics") -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status: list[int] = []
        path = scope.get("path", "")

        async def send_counted(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        self.metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_counted)
        except _ClientGone as e:
            phase = "timeout" if scope.get("rlsp.dropped") else e.phase
            log.info("client %s went away (%s) on %s", _who(scope), phase, path)
            self.metrics.observe_abort(path, phase)
            return
        except Exception:  # a bug of ours: logged with its traceback, answered without details
            log.exception("internal error on %s", path)
            if not status:
                status.append(500)
                body = b'{"error": "internal error (logged by the server)"}'
                try:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 500,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                except Exception:
                    pass
        finally:
            self.metrics.in_flight -= 1
        if status:
            self.metrics.observe_request(path, status[0], time.perf_counter() - t0)


def _who(scope: dict) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "?"


async def _read_body(request: Any, limit: int) -> bytes:
    """The request body, refused (413) as soon as it exceeds ``limit``; a gone client raises."""
    from starlette.requests import ClientDisconnect

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
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BadRequest(f"request body exceeds the limit of {limit} bytes", 413)
            chunks.append(chunk)
    except ClientDisconnect:
        raise _ClientGone("body") from None
    return b"".join(chunks)


async def _read_json(request: Any, limit: int) -> Any:
    raw = await _read_body(request, limit)
    if len(raw) > 65536:  # parse big bodies off the event loop (healthz stays responsive)
        return await asyncio.to_thread(loads_bounded, raw)
    return loads_bounded(raw)


# ---------------------------------------------------------------------------------------------
# The application


def server_spec(config: ServerConfig) -> Any:
    """The :class:`rlsp_env.spec.RewardSpec` the server scores with: ``config.reward_spec`` when
    given, else the env's own spec (as ``gym.make(env_id)`` holds it: its answer policy, length
    scale, ...) with ``config.weights`` and ``config.timeout_s``.

    Raises:
        ValueError: an unregistered env id, invalid weights or spec, or both weights and a spec.

    Example:
        >>> spec = server_spec(ServerConfig(env_id="rlsp/Arithmetic-v0", weights="correctness"))
        >>> spec.answer_policy, spec.weights["correctness"], spec.timeout_s
        ('literal', 1.0, 5.0)
    """
    from rlsp_env.integrations.scoring import env_reward_spec
    from rlsp_env.spec import RewardSpec

    if config.reward_spec is not None:
        if config.weights is not None:
            raise ValueError("give the weights or a whole reward spec, not both")
        env_reward_spec(config.env_id)  # the id must be registered all the same
        return RewardSpec.from_dict(config.reward_spec)
    kwargs: dict[str, Any] = {"verifier_timeout_s": config.timeout_s}
    if config.weights is not None:
        kwargs["reward_weights"] = config.weights
    return env_reward_spec(config.env_id, **kwargs)


def create_app(config: ServerConfig, pool: Any = None) -> Any:
    """Builds the FastAPI application.

    Args:
        config: the server settings.
        pool: an open :class:`rlsp_verifiers.VerifierPool` matching the spec to use (the caller
            closes it); ``None`` creates one on start-up (``workers + express_workers``
            processes) and closes it on shutdown, after the requests in flight have finished.

    Returns:
        A ``fastapi.FastAPI`` instance (serve it with uvicorn; :func:`main` adds the header and
        body timeouts, which live in the HTTP protocol).
    """
    from contextlib import asynccontextmanager

    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse, PlainTextResponse

    spec = server_spec(config)
    resolved = dict(spec.weights)
    diversity_weighted = resolved.get("diversity", 0.0) != 0.0
    metrics = Metrics()
    state: dict[str, Any] = {"backend": None, "scheduler": None}

    @asynccontextmanager
    async def lifespan(app: Any):  # noqa: ANN202
        backend = await asyncio.to_thread(
            ScoringBackend,
            spec,
            processes=config.workers + config.express_workers,
            pool=pool,
            nice=config.worker_nice,
        )
        scheduler = FairScheduler(
            backend, express=config.express_workers, max_queued=config.max_queued_items
        )
        state["backend"], state["scheduler"] = backend, scheduler
        metrics.gauges["rlsp_items_queued"] = (
            "Items waiting for a worker.",
            lambda: scheduler.queued,
        )
        metrics.gauges["rlsp_items_in_flight"] = (
            "Items being scored now.",
            lambda: scheduler.in_flight,
        )
        metrics.gauges["rlsp_workers_alive"] = ("Scoring workers ready now.", backend.ready)

        async def tick() -> None:  # restarts of killed workers finish off the loop: look again
            while True:
                await asyncio.sleep(0.05)
                if scheduler.ring:
                    scheduler.pump()

        ticker = asyncio.create_task(tick())
        print(
            f"[rlsp serve] ready: env={config.env_id} workers={config.workers}"
            f"+{config.express_workers} express timeout_s={spec.timeout_s} "
            f"answer_policy={spec.answer_policy} weights={resolved}",
            file=sys.stderr,
            flush=True,
        )
        try:
            yield
        finally:
            ticker.cancel()
            await asyncio.to_thread(backend.close)
            print("[rlsp serve] stopped", file=sys.stderr, flush=True)

    app = FastAPI(
        title="rlsp reward server",
        description="Reward channels and the rlsp verifier over HTTP (OpenRLHF compatible).",
        lifespan=lifespan,
    )
    app.add_middleware(_Observe, metrics=metrics)

    async def _score(
        request: Any,
        pairs: list[tuple[str, str]],
        keys: list[Any] | None = None,
        problems: list[str] | None = None,
    ) -> tuple[list[Any], list[str]]:
        if len(pairs) > config.max_items:
            raise BadRequest(
                f"{len(pairs)} items exceed the limit of {config.max_items} per request", 413
            )
        if len(pairs) > config.max_queued_items:
            raise BadRequest(
                f"{len(pairs)} items exceed the queue of {config.max_queued_items} items", 413
            )
        scheduler: FairScheduler = state["scheduler"]
        backend: ScoringBackend = state["backend"]
        job = scheduler.submit(list(pairs))
        grouped = keys is not None and len(set(keys)) < len(keys)
        log_only = None
        if grouped and not diversity_weighted:
            # a log-only channel: computed beside the verification, within its own budget
            assert keys is not None
            members = _members(keys)
            log_only = asyncio.ensure_future(
                asyncio.to_thread(
                    _log_only_diversity, [r for r, _ in pairs], members, config.diversity_budget_s
                )
            )
        try:
            while True:
                done, _ = await asyncio.wait({job.done}, timeout=0.25)
                if done:
                    break
                if await request.is_disconnected():
                    raise _ClientGone("scoring")
        except BaseException:
            scheduler.cancel(job)
            if log_only is not None:
                log_only.cancel()
            raise
        verdicts = list(job.done.result())
        groups = keys if grouped and diversity_weighted else None
        results = await asyncio.to_thread(backend.score, pairs, verdicts, groups, problems)
        skipped: list[str] = []
        if log_only is not None:
            values = await log_only
            for i, v in enumerate(values):
                if "diversity" in results[i].rewards:
                    if v is None:
                        skipped.append("diversity")
                        v = 0.0
                    rewards = dict(results[i].rewards, diversity=v)
                    results[i] = dataclasses.replace(results[i], rewards=rewards)
        metrics.retried = scheduler.retries
        metrics.observe_items(results)
        return results, sorted(set(skipped))

    def _error(e: Exception) -> Any:
        if isinstance(e, Overloaded):
            return JSONResponse(
                {"error": str(e), "retry_after_s": e.retry_after_s},
                status_code=429,
                headers={"Retry-After": str(e.retry_after_s)},
            )
        assert isinstance(e, BadRequest)
        return JSONResponse({"error": str(e)}, status_code=e.status)

    @app.post("/get_reward")
    async def get_reward(request: Request) -> Any:
        """OpenRLHF's remote reward contract."""
        try:
            body = await _read_json(request, config.max_body_bytes)
            pairs = parse_get_reward(body, strip_eos=config.strip_eos)
            # no problem text: OpenRLHF's prompt is the chat-formatted one, not the problem, so the
            # exploration channel measures novelty against nothing (as score_batch given golds)
            items, _ = await _score(request, pairs)
        except (BadRequest, Overloaded) as e:
            return _error(e)
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
            items, skipped = await _score(
                request, pairs, score_group_ids(body), score_problems(body)
            )
        except (BadRequest, Overloaded) as e:
            return _error(e)
        out = {
            "env": config.env_id,
            "weights": resolved,
            "results": [it.to_dict() for it in items],
        }
        if skipped:
            out["log_only_skipped"] = skipped
        return out

    @app.get("/healthz")
    async def healthz() -> Any:
        """Liveness, queue depth and configuration."""
        backend, scheduler = state["backend"], state["scheduler"]
        return {
            "status": "ok" if backend is not None else "starting",
            "env": config.env_id,
            "weights": resolved,
            "workers": config.workers,
            "express_workers": config.express_workers,
            "workers_alive": backend.ready() if backend is not None else 0,
            "items_queued": scheduler.queued if scheduler is not None else 0,
            "items_in_flight": scheduler.in_flight if scheduler is not None else 0,
            "timeout_s": spec.timeout_s,
            "reward_spec": spec.to_dict(),
            "max_body_bytes": config.max_body_bytes,
            "uptime_s": round(time.time() - metrics.started, 3),
        }

    @app.get("/metrics")
    async def prometheus() -> Any:
        """Prometheus text exposition."""
        return PlainTextResponse(metrics.render(), media_type="text/plain; version=0.0.4")

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


def _parse_spec(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"--reward-spec is not valid JSON: {e.msg}") from None
    if not isinstance(value, dict):
        raise ValueError("--reward-spec must be a JSON object (RewardSpec.to_dict())")
    return value


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
            '  rlsp serve --reward-spec \'{"weights": "rlsp", "length_scale": 500}\'\n'
            '  rlsp serve --env rlsp/MATH500-v0 --weights \'{"correctness": 1, "format": 0.1}\'\n'
            "\n"
            "  # slow or hostile clients: tighter HTTP deadlines, a smaller queue\n"
            "  rlsp serve --header-timeout-s 5 --body-timeout-s 15 --max-queued-items 4096\n"
            "\n"
            "  # OpenRLHF (>= 0.10.2) on the trainer side:\n"
            "  #   --reward.remote_url http://HOST:8000/get_reward --data.label_key answer\n"
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
        "--reward-spec",
        default=None,
        help="a whole reward spec as JSON (RewardSpec.to_dict(): weights, length_scale, "
        "exploration_cap, tokenizer, verifier_mode, answer_policy, timeout_s) instead of the "
        "env's spec; not with --weights or --timeout-s",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=d.workers,
        help=f"verifier processes (default {d.workers})",
    )
    parser.add_argument(
        "--express-workers",
        type=int,
        default=d.express_workers,
        help="extra scoring processes kept for requests with nothing in flight, so a small "
        f"request never waits behind another client's slow batch (default {d.express_workers})",
    )
    parser.add_argument(
        "--timeout-s",
        type=float,
        default=None,
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
        "--max-queued-items",
        type=int,
        default=d.max_queued_items,
        help="when this many items wait, new requests get HTTP 429 with Retry-After "
        f"(default {d.max_queued_items})",
    )
    parser.add_argument(
        "--header-timeout-s",
        type=float,
        default=d.header_timeout_s,
        help=f"drop a connection whose request headers take longer (default {d.header_timeout_s})",
    )
    parser.add_argument(
        "--body-timeout-s",
        type=float,
        default=d.body_timeout_s,
        help=f"drop a request whose body takes longer after its headers (default {d.body_timeout_s})",
    )
    parser.add_argument(
        "--keep-alive-s",
        type=float,
        default=d.keep_alive_s,
        help=f"close idle keep-alive connections after this long (default {d.keep_alive_s})",
    )
    parser.add_argument(
        "--diversity-budget-s",
        type=float,
        default=d.diversity_budget_s,
        help="time for the log-only diversity channel of one request, outside the per-item "
        f"timeout (default {d.diversity_budget_s})",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=d.worker_nice,
        help="lower the scoring workers' CPU priority by this nice increment, so the HTTP "
        f"front end (and /healthz) never waits behind scoring; 0 disables (default {d.worker_nice})",
    )
    parser.add_argument(
        "--no-strip-eos",
        action="store_true",
        help="keep trailing end-of-text markers (<|im_end|>, </s>, ...) in responses",
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
    if args.workers < 1 or args.express_workers < 0:
        parser.error("--workers must be at least 1 and --express-workers at least 0")
    for name in ("header_timeout_s", "body_timeout_s", "keep_alive_s", "diversity_budget_s"):
        value = getattr(args, name)
        if not (value > 0 and math.isfinite(value)):
            parser.error(f"--{name.replace('_', '-')} must be a positive number")
    if not 0 <= args.worker_nice <= 19:
        parser.error("--worker-nice must be in 0..19")
    if args.max_queued_items < 1:
        parser.error("--max-queued-items must be positive")
    if args.reward_spec is not None and (args.weights is not None or args.timeout_s is not None):
        parser.error(
            "--reward-spec carries its own weights and timeout_s: not with --weights or --timeout-s"
        )
    timeout_s = ServerConfig.timeout_s if args.timeout_s is None else args.timeout_s
    if not (timeout_s > 0 and math.isfinite(timeout_s)):
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
            express_workers=args.express_workers,
            reward_spec=_parse_spec(args.reward_spec),
            timeout_s=timeout_s,
            max_body_bytes=args.max_body_bytes,
            max_items=args.max_items,
            max_queued_items=args.max_queued_items,
            header_timeout_s=args.header_timeout_s,
            body_timeout_s=args.body_timeout_s,
            keep_alive_s=args.keep_alive_s,
            diversity_budget_s=args.diversity_budget_s,
            worker_nice=args.worker_nice,
            host=args.host,
            port=args.port,
            strip_eos=not args.no_strip_eos,
            graceful_timeout_s=args.graceful_timeout_s,
        )
        app = create_app(config)
    except (ValueError, ImportError) as e:
        parser.error(str(e))

    import uvicorn

    logging.basicConfig(
        level=logging.INFO, format="[rlsp serve] %(levelname)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=config.host,
            port=config.port,
            log_level="warning",
            access_log=False,
            http=_protocol_class(config, app.state.metrics),
            timeout_keep_alive=config.keep_alive_s,
            timeout_graceful_shutdown=config.graceful_timeout_s,
            lifespan="on",
        )
    )
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
