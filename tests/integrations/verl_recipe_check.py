"""Runs inside a subprocess that has verl 0.9.1 on its path (see test_integrations_verl_recipe.py).

``python verl_recipe_check.py estimator '<json>'``: the "rlsp" estimator through verl's registry
and verl's own ``compute_advantage``, on a real ``DataProto``. ``python verl_recipe_check.py
recipe <config dir> <config name>``: the recipe's config composed with verl's trainer schema,
validated by verl, its reward function loaded by verl's loader and run over a batch through the
naive reward manager, and the channels it returned turned into advantages by verl's
``compute_advantage`` with the estimator installed. Each prints one JSON object (last line).
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch

if __name__ == "__main__":  # verl exists only on the subprocess's path (pytest also imports this
    # file for its doctests, where verl is absent)
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.trainer.ppo import ray_trainer
    from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY, get_adv_estimator_fn

    import rlsp_env.integrations.verl_adv as verl_adv


def _batch(spec: dict) -> DataProto:
    n, t = len(spec["uid"]), spec["T"]
    mask = torch.zeros(n, t)
    for i, length in enumerate(spec["lengths"]):
        mask[i, :length] = 1.0
    scalar = torch.zeros(n, t)
    for i, length in enumerate(spec["lengths"]):
        scalar[i, length - 1] = spec["score"][i]
    non_tensors = {"uid": np.array(spec["uid"], dtype=object)}
    for name, values in spec["channels"].items():
        non_tensors[name] = np.array(values, dtype=np.float32)
    data = DataProto.from_dict(
        tensors={"response_mask": mask, "token_level_rewards": scalar}, non_tensors=non_tensors
    )
    data.meta_info["global_steps"] = spec.get("global_steps", 1)
    return data


def _per_sample(adv: torch.Tensor, mask: torch.Tensor) -> list[float]:
    # one value per sample, and it is constant over the response tokens and 0 on padding
    out = []
    for a, m in zip(adv, mask):
        vals = a[m.bool()]
        assert torch.allclose(vals, vals[0].expand_as(vals)), "advantage varies within a response"
        assert bool((a[~m.bool()] == 0).all()), "advantage on padding"
        out.append(float(vals[0]))
    return out


def estimator(spec: dict) -> dict:
    out: dict = {"registered": "rlsp" in ADV_ESTIMATOR_REGISTRY}
    fn = get_adv_estimator_fn("rlsp")
    out["found_by_name"] = fn is verl_adv.compute_rlsp_outcome_advantage
    results = {}
    for case_name, rlsp_cfg in spec["cases"].items():
        data = _batch(spec)
        cfg = OmegaConf.create({"adv_estimator": "rlsp", "rlsp": rlsp_cfg})
        adv, ret = fn(
            token_level_rewards=data.batch["token_level_rewards"],
            response_mask=data.batch["response_mask"],
            index=data.non_tensor_batch["uid"],
            config=cfg,
            non_tensor_batch=data.non_tensor_batch,
            global_step=spec.get("global_steps", 1),
        )
        assert torch.equal(adv, ret)
        results[case_name] = _per_sample(adv, data.batch["response_mask"])
    out["direct"] = results

    # verl's own compute_advantage, as its trainer calls it
    scalar_cfg = OmegaConf.create({"adv_estimator": "rlsp", "rlsp": {"mode": "scalar"}})
    data = ray_trainer.compute_advantage(_batch(spec), "rlsp", config=scalar_cfg)
    out["verl_scalar"] = _per_sample(data.batch["advantages"], data.batch["response_mask"])
    channels_cfg = OmegaConf.create({"adv_estimator": "rlsp", "rlsp": spec["cases"]["channels"]})
    try:  # without the hook verl does not hand the channels to a non-gdpo estimator
        ray_trainer.compute_advantage(_batch(spec), "rlsp", config=channels_cfg)
        out["unhooked_error"] = None
    except ValueError as exc:
        out["unhooked_error"] = str(exc)
    grpo_cfg = OmegaConf.create({"adv_estimator": "grpo"})
    grpo = ray_trainer.compute_advantage(_batch(spec), "grpo_vectorized", config=grpo_cfg)
    out["verl_grpo_before"] = _per_sample(grpo.batch["advantages"], grpo.batch["response_mask"])
    verl_adv.install()
    verl_adv.install()  # idempotent
    results = {}
    for case_name, rlsp_cfg in spec["cases"].items():
        cfg = OmegaConf.create({"adv_estimator": "rlsp", "rlsp": rlsp_cfg})
        data = ray_trainer.compute_advantage(_batch(spec), "rlsp", config=cfg)
        results[case_name] = _per_sample(data.batch["advantages"], data.batch["response_mask"])
    out["verl_hooked"] = results
    # other estimators still go to verl's code: grpo on the scalar
    grpo = ray_trainer.compute_advantage(_batch(spec), "grpo_vectorized", config=grpo_cfg)
    out["verl_grpo_after"] = _per_sample(grpo.batch["advantages"], grpo.batch["response_mask"])
    return out


def recipe(config_dir: str, config_name: str) -> dict:
    from hydra import compose, initialize_config_dir
    from transformers import AutoTokenizer
    from verl.trainer.ppo.reward import load_reward_manager
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    import rlsp_env.integrations.verl as rlsp_verl
    from rlsp_agents.models import resolve_model

    with initialize_config_dir(config_dir=config_dir, version_base=None):
        cfg = compose(
            config_name=config_name,
            overrides=[f"reward.custom_reward_function.path={rlsp_verl.__file__}"],
        )
    validate_config(
        config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg)
    )
    actor = omega_conf_to_dataclass(cfg.actor_rollout_ref.actor)
    rollout = omega_conf_to_dataclass(cfg.actor_rollout_ref.rollout)
    out: dict = {
        "model": cfg.actor_rollout_ref.model.path,
        "actor_class": type(actor).__name__,
        "actor_strategy": actor.strategy,
        "rollout": [rollout.name, rollout.n, rollout.tensor_model_parallel_size],
        "gpus": [cfg.trainer.nnodes, cfg.trainer.n_gpus_per_node],
        "use_v1": cfg.trainer.use_v1,
        "adv_estimator": cfg.algorithm.adv_estimator,
        "rlsp": OmegaConf.to_container(cfg.algorithm.rlsp),
        "hook": cfg.ray_kwargs.ray_init.runtime_env.worker_process_setup_hook,
        "need_critic": need_critic(cfg),
    }

    # verl's reward loader and manager over a batch, with the recipe's reward settings
    tokenizer = AutoTokenizer.from_pretrained(resolve_model(None))
    manager = load_reward_manager(cfg, tokenizer)
    out["manager"] = type(manager).__name__
    rows = [
        ("a", "12 + 30 = 42, so the answer is \\boxed{42}.", "42"),
        ("a", "The answer is 41.", "42"),
        ("b", "7 * 6 = 42. \\boxed{42}", "42"),
        ("b", "7 * 6 = 36. \\boxed{36}", "42"),
        ("a", "Let me think. 12 + 30: 10 + 30 = 40, plus 2 is 42. \\boxed{42}", "42"),
        ("b", "\\boxed{43}", "42"),
    ]
    p_len, r_len = 8, 48
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    prompts, responses, masks = [], [], []
    for _, response, _ in rows:
        p_ids = tokenizer.encode("Q?", add_special_tokens=False)[-p_len:]
        r_ids = tokenizer.encode(response, add_special_tokens=False)[:r_len]
        prompts.append([pad] * (p_len - len(p_ids)) + p_ids)
        responses.append(r_ids + [pad] * (r_len - len(r_ids)))
        masks.append(
            [0] * (p_len - len(p_ids))
            + [1] * (len(p_ids) + len(r_ids))
            + [0] * (r_len - len(r_ids))
        )
    batch = DataProto.from_dict(
        tensors={
            "prompts": torch.tensor(prompts),
            "responses": torch.tensor(responses),
            "attention_mask": torch.tensor(masks),
        },
        non_tensors={
            "data_source": np.array(["rlsp/Arithmetic-v0"] * len(rows), dtype=object),
            "reward_model": np.array(
                [{"style": "rule", "ground_truth": g} for *_, g in rows], dtype=object
            ),
            "extra_info": np.array([{"index": i} for i in range(len(rows))], dtype=object),
            "uid": np.array([u for u, *_ in rows], dtype=object),
        },
    )
    outs = [
        manager.loop.run_until_complete(manager.run_single(batch[i : i + 1]))
        for i in range(len(rows))
    ]
    out["scores"] = [float(o["reward_score"]) for o in outs]
    extra = {
        k: [float(o["reward_extra_info"][k]) for o in outs] for k in outs[0]["reward_extra_info"]
    }
    out["extra"] = extra
    # what verl's trainer does next: extras into non_tensor_batch, scalar on the last token
    response_mask = batch.batch["attention_mask"][:, p_len:].float()
    token_rewards = torch.zeros_like(response_mask)
    last = response_mask.sum(-1).long() - 1
    token_rewards[torch.arange(len(rows)), last] = torch.tensor(out["scores"])
    batch.batch["response_mask"] = response_mask
    batch.batch["token_level_rewards"] = token_rewards
    for k, v in extra.items():
        batch.non_tensor_batch[k] = np.array(v)
    verl_adv.install()
    batch = ray_trainer.compute_advantage(batch, cfg.algorithm.adv_estimator, config=cfg.algorithm)
    out["advantage"] = _per_sample(batch.batch["advantages"], response_mask)
    return out


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "estimator":
        result = estimator(json.loads(sys.argv[2]))
    else:
        result = recipe(sys.argv[2], sys.argv[3])
    print(json.dumps(result))
