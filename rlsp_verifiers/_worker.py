"""The worker process of :class:`rlsp_verifiers.VerifierPool` (JSON lines on stdin/stdout).

Protocol: it prints ``{"ready": true}`` once imported; for each request line
``{"id", "r", "g", "m", "t", "p"}`` (``p``: the answer policy) it prints ``{"ack": id}`` when it starts the item and
``{"id": id, "v": verdict}`` when done. It exits at end of input.

Test-only hooks (active only with ``RLSP_VERIFIERS_TEST_HOOKS=1`` in the worker's environment):
a response starting with ``__rlsp_test_sleep__:N`` blocks for N seconds without checking any
deadline (a stand-in for a pathological input), ``__rlsp_test_spin__:N`` burns N seconds of CPU
the same way, and ``__rlsp_test_exit__`` makes the worker die.

``--nice N`` (from :class:`rlsp_verifiers.VerifierPool`'s ``nice``) lowers the worker's CPU
priority by ``N`` before it imports anything.
"""

from __future__ import annotations

import json
import os
import sys
import time


def _hook(response: str) -> None:
    if os.environ.get("RLSP_VERIFIERS_TEST_HOOKS") != "1":
        return
    if response.startswith("__rlsp_test_sleep__:"):
        time.sleep(float(response.split(":", 1)[1].split()[0]))
    elif response.startswith("__rlsp_test_spin__:"):
        end = time.perf_counter() + float(response.split(":", 1)[1].split()[0])
        x = 0
        while time.perf_counter() < end:
            x = (x * 31 + 7) % 1000003
    elif response.startswith("__rlsp_test_exit__"):
        os._exit(3)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "--nice":
        try:
            os.nice(int(args[1]))
        except OSError:  # not permitted here: verify at the same priority
            pass
    from rlsp_verifiers.api import verify
    from rlsp_verifiers.verdict import Verdict

    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        idx = req["id"]
        out.write(json.dumps({"ack": idx}) + "\n")
        out.flush()
        try:
            _hook(req["r"])
            v = verify(
                req["r"],
                req["g"],
                mode=req.get("m", "strict"),
                timeout_s=req.get("t"),
                answer_policy=req.get("p", "closed_form"),
            )
        except Exception:  # noqa: BLE001 - report, keep serving
            v = Verdict(False, None, "internal_error", "input")
        out.write(json.dumps({"id": idx, "v": v.to_dict()}) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
