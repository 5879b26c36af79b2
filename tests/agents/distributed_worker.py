"""One rank of tests/agents/test_distributed.py, started by ``torchrun`` (not collected by pytest).

    torchrun --nproc_per_node 2 tests/agents/distributed_worker.py MODEL_DIR SPEC.pt OUT_DIR

Loads the tiny model from MODEL_DIR, takes its whole groups of the global batch in SPEC.pt, and
runs the scenarios of the test on them with the gloo backend; writes ``rank<r>.pt`` into OUT_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from rlsp_agents import distributed as D
from rlsp_agents import losses as L
from rlsp_agents.checkpoint import latest_checkpoint, load_trainer_state, save_checkpoint
from rlsp_agents.config import TrainConfig
from rlsp_agents.critic import ValueHeads


def params(*modules: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for m in modules for p in m.parameters()]


def main() -> None:
    model_dir, spec_path, out_dir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    spec = torch.load(spec_path, weights_only=False)
    torch.set_num_threads(1)
    ctx = D.init_distributed("gloo", timeout_s=300)
    out: dict = {"rank": ctx.rank, "world": ctx.world_size}
    try:
        k = spec["group_size"]
        mine = list(D.shard_groups(spec["groups"], ctx))
        rows = [i for g in mine for i in range(g * k, (g + 1) * k)]
        out["groups"] = mine

        # group advantages on this rank's whole groups == the global ones
        scores = spec["scores"][rows]
        out["group_adv"] = L.group_advantages(scores, k)

        # batch-wide statistics with global sums
        x, mask = spec["adv_tok"][rows], spec["mask"][rows]
        out["whitened"] = D.global_masked_whiten(x, mask, ctx)
        mag = spec["mag"][rows]
        out["keep"] = D.global_filter_by_advantage(mag, spec["tau"], ctx)
        out["keep_none"] = D.global_filter_by_advantage(mag * 0.01, spec["tau"], ctx)
        out["metrics"] = D.reduce_metrics(
            {"a": float(ctx.rank + 1), "b": 10.0 * ctx.rank}, ctx, weight=len(rows)
        )
        try:
            D.reduce_metrics({f"only-{ctx.rank}": 1.0}, ctx)
            out["bad_keys"] = None
        except ValueError as exc:
            out["bad_keys"] = str(exc)

        # the trainer's advantage step and logged row on this rank's rollouts
        from test_distributed import trainer_path

        out["trainer"] = trainer_path(
            [spec["rollouts"][i] for i in rows], [spec["old_values"][i] for i in rows], ctx
        )

        samples = [spec["samples"][i] for i in rows]
        hp = spec["hp"]
        cfg = TrainConfig(**hp["update"])

        # 1. group mode (critic-free): one iteration of two epochs
        policy = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        opt = torch.optim.AdamW(policy.parameters(), lr=hp["lr"])
        out["stats_group"] = D.update_samples(cfg, policy, opt, samples, ctx)
        out["params_group"] = params(policy)

        # 2. with value heads (replicated, trained on the detached states)
        policy = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        torch.manual_seed(1234 + ctx.rank)  # different init per rank: the broadcast fixes it
        critic = ValueHeads(policy.config.hidden_size, ["correctness", "format"], width=8)
        with torch.no_grad():
            critic.fc2.normal_()
        D.broadcast_module_(critic, ctx)
        groups = [
            {"params": list(policy.parameters()), "lr": hp["lr"]},
            {"params": list(critic.parameters()), "lr": 10 * hp["lr"]},
        ]
        opt = torch.optim.AdamW(groups)
        out["critic_init"] = params(critic)
        out["stats_critic"] = D.update_samples(cfg, policy, opt, samples, ctx, critic=critic)
        out["params_critic"] = params(policy, critic)

        # 3. checkpoint written once, every rank resumes, the next update continues the run
        policy = AutoModelForCausalLM.from_pretrained(model_dir).eval()
        opt = torch.optim.AdamW(policy.parameters(), lr=hp["lr"])
        D.update_samples(cfg, policy, opt, samples, ctx, step=1)
        run = out_dir / "run"
        written = D.on_main(
            ctx,
            save_checkpoint,
            run,
            1,
            policy=policy,
            tokenizer=_NoTokenizer(),
            trainer_state={"optimizer": opt.state_dict()},
            state={"world_size": ctx.world_size},
        )
        out["wrote_checkpoint"] = written is not None
        ckpt = latest_checkpoint(run)
        assert ckpt is not None
        resumed = AutoModelForCausalLM.from_pretrained(ckpt / "policy").eval()
        opt2 = torch.optim.AdamW(resumed.parameters(), lr=hp["lr"])
        _, trainer_state = load_trainer_state(ckpt)
        opt2.load_state_dict(trainer_state["optimizer"])
        out["resumed_equal"] = all(
            torch.equal(a, b) for a, b in zip(params(resumed), params(policy))
        )
        D.update_samples(cfg, resumed, opt2, samples, ctx, step=2)
        out["params_resumed"] = params(resumed)
        torch.save(out, out_dir / f"rank{ctx.rank}.pt")
    finally:
        D.teardown(ctx)


class _NoTokenizer:
    """The test's model has no tokenizer; the checkpoint writer only calls save_pretrained."""

    def save_pretrained(self, path: str | Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)


if __name__ == "__main__":
    main()
