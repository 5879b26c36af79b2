"""OpenRLHF's own remote-reward client against ``rlsp serve``.

In an OpenRLHF run (>= 0.10.2) you only pass ``--reward.remote_url http://HOST:8000/get_reward``
and ``--data.label_key <your gold-answer column>`` (older releases: ``--remote_rm_url`` and
``--label_key``). This script makes the same call outside a training job, with OpenRLHF's request
code (``openrlhf.utils.agent.SingleTurnAgentExecutor``), to check a deployment:

    rlsp serve --env rlsp/Arithmetic-v0 --port 8000 &
    python docs/integrations/examples/openrlhf_remote_rm.py http://127.0.0.1:8000/get_reward

It needs only OpenRLHF's Python files (``pip install --no-deps openrlhf==0.11.2 pylatexenc``),
not its GPU stack. Prints one JSON object.
"""

import asyncio
import json
import sys

from openrlhf.utils.agent import SingleTurnAgentExecutor

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/get_reward"
executor = SingleTurnAgentExecutor(remote_rm_url=url)

prompt = "<|im_start|>user\nWhat is 12 + 30?<|im_end|>\n<|im_start|>assistant\n"
cases = [
    ("Let me add: 12 + 30 = 42. Wait, let me verify: 42 - 30 = 12. \\boxed{42}", "42"),
    ("The answer is \\boxed{41}.", "42"),
    ("I am not sure.", "42"),
]
out = []
for response, label in cases:
    # OpenRLHF sends one rollout per request: query = prompt + response, as decoded.
    query = prompt + response + "<|im_end|>"
    infos = asyncio.run(executor._fetch_rewards_via_http([query], [prompt], [label]))
    info = infos[0]
    # What OpenRLHF does with the answer (SingleTurnAgentExecutor.execute):
    reward = info.get("rewards")
    scores = info.get("scores") if info.get("scores") is not None else reward
    out.append({"reward": reward, "scores": scores, "extra_logs": info.get("extra_logs") or {}})
print(json.dumps(out))
