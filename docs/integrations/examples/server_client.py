"""Talk to a running ``rlsp serve`` with plain HTTP (httpx), using OpenRLHF's contract and ours.

    rlsp serve --env rlsp/Arithmetic-v0 --port 8000 &
    python docs/integrations/examples/server_client.py http://127.0.0.1:8000

Prints one JSON object with both answers.
"""

import json
import sys

import httpx

url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"

# OpenRLHF: query = prompt + response (as decoded by the trainer), prompts, labels (gold answers).
prompt = "<|im_start|>user\nWhat is 12 + 30?<|im_end|>\n<|im_start|>assistant\n"
responses = ["12 + 30 = 42. So the answer is \\boxed{42}.", "It is 41."]
openrlhf = httpx.post(
    f"{url}/get_reward",
    json={
        "query": [prompt + r + "<|im_end|>" for r in responses],
        "prompts": [prompt, prompt],
        "labels": ["42", "42"],
    },
    timeout=60,
).json()
# openrlhf == {"rewards": [...], "scores": [1.0, 0.0], "extra_logs": {"correctness": [...], ...}}

# Our API: every channel and the verifier's verdict per item.
ours = httpx.post(
    f"{url}/v1/score",
    json={"items": [{"response": r, "gold": "42"} for r in responses]},
    timeout=60,
).json()
# ours["results"][0] == {"reward": ..., "rewards": {...}, "verdict": {"correct": True, ...}, ...}

health = httpx.get(f"{url}/healthz", timeout=10).json()
metrics = httpx.get(f"{url}/metrics", timeout=10).text
print(json.dumps({"get_reward": openrlhf, "score": ours, "healthz": health, "metrics": metrics}))
