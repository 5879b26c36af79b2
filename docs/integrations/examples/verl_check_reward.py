"""Load rlsp's reward through verl's own loader and compute GDPO advantages over our channels.

Run it where verl is installed (it needs verl's reward loader, not a GPU):

    python docs/integrations/examples/verl_check_reward.py

It builds the same config keys a verl run uses (``reward.custom_reward_function``,
``reward.reward_manager``), loads ``compute_score`` from rlsp's file with
``verl.trainer.ppo.reward.load_reward_manager``, scores a small batch of tokenized responses
through verl's GDPO reward manager, and feeds the per-channel scores to verl's GDPO advantage
estimator. It prints one JSON object.
"""

import json

import numpy as np
import torch
from omegaconf import OmegaConf
from transformers import AutoTokenizer
from verl import DataProto
from verl.trainer.ppo.core_algos import compute_gdpo_outcome_advantage
from verl.trainer.ppo.reward import load_reward_manager

import rlsp_env.integrations.verl as rlsp_verl
from rlsp_agents.models import resolve_model

WEIGHTS = "default"  # correctness + format (RLSP's r_c: 1 / 0 / -0.5)
gdpo = rlsp_verl.gdpo_config(WEIGHTS)  # {"adv_estimator": "gdpo", "gdpo_reward_keys": [...], ...}

config = OmegaConf.create(
    {
        "reward": {
            "custom_reward_function": {
                "path": rlsp_verl.__file__,  # .../rlsp_env/integrations/verl.py
                "name": "compute_score",
                "reward_kwargs": {"weights": WEIGHTS},
            },
            "reward_manager": {"source": "register", "name": "gdpo"},
        },
        "trainer": {"experiment_name": "rlsp-verl-check"},
        "algorithm": gdpo,
    }
)
tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
manager = load_reward_manager(config, tokenizer)

# Two groups (uid) of two responses each, as a GRPO/GDPO rollout would produce.
rows = [
    ("a", "What is 12 + 30?", "12 + 30 = 42, so the answer is \\boxed{42}.", "42"),
    ("a", "What is 12 + 30?", "The answer is 41.", "42"),
    ("b", "What is 7 * 6?", "7 * 6 = 42. \\boxed{42}", "42"),
    ("b", "What is 7 * 6?", "7 * 6 = 36. \\boxed{36}", "42"),
]
P, R = 16, 32  # prompt and response lengths (left-padded prompts, right-padded responses)
pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0


def left_pad(ids):
    ids = ids[-P:]
    return [pad] * (P - len(ids)) + ids, [0] * (P - len(ids)) + [1] * len(ids)


def right_pad(ids):
    ids = ids[:R]
    return ids + [pad] * (R - len(ids)), [1] * len(ids) + [0] * (R - len(ids))


prompts, responses, masks = [], [], []
for _, prompt, response, _ in rows:
    p_ids, p_mask = left_pad(tokenizer.encode(prompt, add_special_tokens=False))
    r_ids, r_mask = right_pad(tokenizer.encode(response, add_special_tokens=False))
    prompts.append(p_ids)
    responses.append(r_ids)
    masks.append(p_mask + r_mask)
batch = DataProto.from_dict(
    tensors={
        "prompts": torch.tensor(prompts),
        "responses": torch.tensor(responses),
        "attention_mask": torch.tensor(masks),
    },
    non_tensors={
        "data_source": np.array(["rlsp/Arithmetic-v0"] * len(rows), dtype=object),
        "reward_model": np.array(
            [{"style": "rule", "ground_truth": gold} for *_, gold in rows], dtype=object
        ),
        "extra_info": np.array([{"index": i} for i in range(len(rows))], dtype=object),
        "uid": np.array([uid for uid, *_ in rows], dtype=object),
    },
)

# verl's reward loop calls run_single per sample.
outs = [
    manager.loop.run_until_complete(manager.run_single(batch[i : i + 1])) for i in range(len(rows))
]
scores = [o["reward_score"] for o in outs]
extra = {k: [o["reward_extra_info"][k] for o in outs] for k in outs[0]["reward_extra_info"]}

# verl's GDPO estimator: each channel normalised per group, then the weighted sum.
for key in gdpo["gdpo_reward_keys"]:
    batch.non_tensor_batch[key] = np.array(extra[key], dtype=np.float32)
response_mask = batch.batch["attention_mask"][:, P:]
token_rewards = torch.zeros(len(rows), R)
advantages, _ = compute_gdpo_outcome_advantage(
    token_level_rewards=token_rewards,
    response_mask=response_mask,
    index=batch.non_tensor_batch["uid"],
    config=OmegaConf.create(gdpo),
    non_tensor_batch=batch.non_tensor_batch,
    batch=batch.batch,
)
print(
    json.dumps(
        {
            "manager": type(manager).__name__,
            "scores": scores,
            "extra": {k: [float(x) for x in v] for k, v in extra.items()},
            "gdpo": gdpo,
            "advantage": [float(a[0]) for a in advantages],
        }
    )
)
