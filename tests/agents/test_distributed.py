"""The multi-process agent (rlsp_agents.distributed) on CPU: 2 gloo ranks started by ``torchrun``.

The update is the trainer's own (``rlsp_agents.train.ppo_update`` with a ``DistContext``, through
``distributed.update_samples``). One PPO update on 2 ranks, each with whole groups of the global batch, must give the parameters
of the single-process update on the whole batch, with the project's loss functions
(``rlsp_agents.losses``) and a tiny real transformers model built from a config (random weights,
no download). Tolerance: max |param difference| <= 1e-5 after AdamW steps of lr 1e-3 (the updates
are ~1e-3; the rest is float summation order: the ranks add their micro-batches' gradients in a
different order than one process does). The two ranks themselves must agree exactly.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from rlsp_agents import distributed as D
from rlsp_agents import losses as L
from rlsp_agents.config import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("distributed_worker.py")
TOL = 1e-5

GROUPS, K = 5, 4  # 5 prompts x 4 samples: rank 0 gets 3 groups, rank 1 gets 2 (uneven on purpose)
HP = {
    "lr": 1e-3,
    "update": {
        "micro_batch_size": 3,
        "update_epochs": 2,
        "num_minibatches": 1,
        "max_grad_norm": 0.5,  # small enough to clip: the norm must be the global one
        "clip": 0.2,
    },
}


def _spec() -> dict:
    g = torch.Generator().manual_seed(7)
    n = GROUPS * K
    scores = torch.rand(n, 2, generator=g).round(decimals=1)  # ties inside groups happen
    adv = L.group_advantages(scores, K)  # [N, 2]
    per_sample = L.combine_channels({"c": adv[:, 0], "f": adv[:, 1]}, {"c": 1.0, "f": 0.5})
    samples = []
    for i in range(n):
        t = int(torch.randint(2, 10, (1,), generator=g))
        samples.append(
            D.Sample(
                prompt_ids=torch.randint(
                    1, 96, (int(torch.randint(3, 7, (1,))),), generator=g
                ).tolist(),
                response_ids=torch.randint(1, 96, (t,), generator=g).tolist(),
                advantages=per_sample[i].repeat(t),
                returns=torch.rand(t, 2, generator=g),
            )
        )
    # the trainer's own rollouts: two channels, a critic's values per token (decoupled mode)
    from rlsp_agents.rollouts import Rollout

    rollouts = [
        Rollout(
            group=i // K,
            prompt_ids=s.prompt_ids,
            response_ids=s.response_ids,
            text="",
            finish_reason="stop" if i % 3 else "length",
            num_tokens=len(s.response_ids),
            rewards={"correctness": float(scores[i, 0]), "format": float(scores[i, 1])},
            total=float(scores[i, 0] + 0.5 * scores[i, 1]),
            correct=bool(scores[i, 0] > 0.5),
        )
        for i, s in enumerate(samples)
    ]
    old_values = [torch.randn(len(s.response_ids), 2, generator=g) for s in samples]
    t_max = 9
    mask = torch.zeros(n, t_max)
    for i, s in enumerate(samples):
        mask[i, : len(s.response_ids)] = 1.0
    return {
        "groups": GROUPS,
        "group_size": K,
        "scores": scores,
        "samples": samples,
        "adv_tok": torch.randn(n, t_max, generator=g) * mask,
        "mask": mask,
        "mag": torch.rand(n, generator=g),
        "tau": 0.5,
        "hp": HP,
        "rollouts": rollouts,
        "old_values": old_values,
    }


TRAIN_CFG = {"advantage": "decoupled", "channel_weights": "correctness=1,format=0.5"}


def trainer_path(rows, old_values, ctx=None):
    """The trainer's advantage step and logged row (``rlsp_agents.train``) on ``rows``; with a
    multi-process ``ctx`` the global whitening and the row reduction (used by the worker too)."""
    from rlsp_agents import train as T

    cfg = TrainConfig(**TRAIN_CFG)
    channels, weights = cfg.active_channels(), cfg.weights()
    old = T.OldPolicy([None] * len(rows), list(old_values), [None] * len(rows))
    adv, ret, mask = T.compute_advantages(cfg, rows, old, channels, weights, ctx)
    mag = (adv.abs() * mask).sum(1) / mask.sum(1)
    stats = dict.fromkeys(("policy", "entropy", "approx_kl", "clipfrac", "tokens"), 1.0)
    stats["grad_norm"] = 1.0
    kept = [i for i in range(len(rows)) if float(mag[i]) > 0.5]
    row = T._metrics(
        cfg, rows, weights=weights, stats=stats, kept=kept, sample_mag=mag,
        has_critic=False, has_ref=False,
    )  # fmt: skip
    if ctx is not None and ctx.enabled:
        row = T._global_row(row, len(rows), ctx)
    return {"adv": adv, "returns": ret, "row": row}


def _tiny_model(path: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        tie_word_embeddings=False,
    )  # fmt: skip
    LlamaForCausalLM(cfg).save_pretrained(path)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dist")
    _tiny_model(tmp / "model")
    spec = _spec()
    torch.save(spec, tmp / "spec.pt")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = "1"
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        str(WORKER), str(tmp / "model"), str(tmp / "spec.pt"), str(tmp),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    ranks = [torch.load(tmp / f"rank{r}.pt", weights_only=False) for r in range(2)]
    return {"tmp": tmp, "spec": spec, "ranks": ranks}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _single(model_dir: Path, samples, *, critic_init=None, steps=(1,)):
    """The reference: the same update on one process over the whole batch."""
    from transformers import AutoModelForCausalLM

    from rlsp_agents.critic import ValueHeads

    policy = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    critic = None
    groups = [{"params": list(policy.parameters()), "lr": HP["lr"]}]
    if critic_init is not None:
        critic = ValueHeads(policy.config.hidden_size, ["correctness", "format"], width=8)
        with torch.no_grad():
            for p, v in zip(critic.parameters(), critic_init):
                p.copy_(v)
        groups.append({"params": list(critic.parameters()), "lr": 10 * HP["lr"]})
    opt = torch.optim.AdamW(groups)
    stats = None
    cfg = TrainConfig(**HP["update"])
    for step in steps:
        stats = D.update_samples(
            cfg, policy, opt, samples, D.DistContext(), critic=critic, step=step
        )
    mods = [policy] + ([critic] if critic is not None else [])
    return [p.detach() for m in mods for p in m.parameters()], stats


def _max_diff(a, b) -> float:
    assert len(a) == len(b)
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


def _by_rank(run, key):
    return torch.cat([run["ranks"][r][key] for r in range(2)])


@pytest.mark.slow
@pytest.mark.timeout(900)
class TestTwoGlooRanks:
    def test_whole_groups_per_rank(self, run):
        assert [r["groups"] for r in run["ranks"]] == [[0, 1, 2], [3, 4]]
        # group advantages computed where each group lives == over the whole batch
        expected = L.group_advantages(run["spec"]["scores"], K)
        assert torch.allclose(_by_rank(run, "group_adv"), expected, atol=1e-6)

    def test_batch_statistics_are_global(self, run):
        spec = run["spec"]
        expected = L.masked_whiten(spec["adv_tok"], spec["mask"])
        assert torch.allclose(_by_rank(run, "whitened"), expected, atol=1e-5)
        assert torch.equal(_by_rank(run, "keep"), L.filter_by_advantage(spec["mag"], spec["tau"]))
        none = L.filter_by_advantage(spec["mag"] * 0.01, spec["tau"])
        assert int(none.sum()) == 1  # the single global argmax, on whichever rank holds it
        assert torch.equal(_by_rank(run, "keep_none"), none)

    def test_metrics_are_reduced(self, run):
        # weights 12 and 8 samples: a = (1*12 + 2*8) / 20, b = (0*12 + 10*8) / 20
        for r in run["ranks"]:
            assert r["metrics"] == pytest.approx({"a": 1.4, "b": 4.0})
            assert "different metric keys" in r["bad_keys"]

    def test_ppo_update_equals_the_single_process_update(self, run):
        ref, stats = _single(run["tmp"] / "model", run["spec"]["samples"])
        r0, r1 = run["ranks"]
        assert all(torch.equal(a, b) for a, b in zip(r0["params_group"], r1["params_group"]))
        assert _max_diff(r0["params_group"], ref) <= TOL
        # it moved: the comparison is not between two untouched models
        from transformers import AutoModelForCausalLM

        init = [
            p.detach()
            for p in AutoModelForCausalLM.from_pretrained(run["tmp"] / "model").parameters()
        ]
        assert _max_diff(ref, init) > 100 * TOL
        for key in ("policy", "clipfrac", "approx_kl", "grad_norm", "tokens"):
            assert r0["stats_group"][key] == pytest.approx(stats[key], rel=1e-4, abs=1e-6), key

    def test_trainer_advantages_and_logged_row_are_global(self, run):
        # rlsp_agents.train's own steps: decoupled advantages (GAE local, whitening global) and
        # the logged row (batch means and standard deviations of the union of the ranks)
        spec = run["spec"]
        ref = trainer_path(spec["rollouts"], spec["old_values"])
        t_max = ref["adv"].shape[1]
        for key in ("adv", "returns"):
            got = [r["trainer"][key] for r in run["ranks"]]
            pad = [
                torch.nn.functional.pad(x, (0, 0) * (x.dim() - 2) + (0, t_max - x.shape[1]))
                for x in got
            ]
            assert torch.allclose(torch.cat(pad), ref[key], atol=1e-5), key
        for r in run["ranks"]:
            assert r["trainer"]["row"].keys() == ref["row"].keys()
            for k, v in ref["row"].items():
                assert r["trainer"]["row"][k] == pytest.approx(v, rel=1e-5, abs=1e-6), k
        assert ref["row"]["reward/correctness_std"] > 0  # the spread is really compared

    def test_with_value_heads(self, run):
        r0, r1 = run["ranks"]
        # the broadcast made the differently initialised heads identical
        assert all(torch.equal(a, b) for a, b in zip(r0["critic_init"], r1["critic_init"]))
        ref, stats = _single(
            run["tmp"] / "model", run["spec"]["samples"], critic_init=r0["critic_init"]
        )
        assert all(torch.equal(a, b) for a, b in zip(r0["params_critic"], r1["params_critic"]))
        assert _max_diff(r0["params_critic"], ref) <= TOL
        assert r0["stats_critic"]["value"] == pytest.approx(stats["value"], rel=1e-4)

    def test_checkpoint_written_once_and_resumed(self, run):
        r0, r1 = run["ranks"]
        assert r0["wrote_checkpoint"] and not r1["wrote_checkpoint"]
        ckpts = sorted((run["tmp"] / "run" / "checkpoints").glob("step-*"))
        assert [p.name for p in ckpts] == ["step-000001"]
        assert r0["resumed_equal"] and r1["resumed_equal"]
        # resumed on both ranks, the second update equals an uninterrupted two-step run
        ref, _ = _single(run["tmp"] / "model", run["spec"]["samples"], steps=(1, 2))
        assert all(torch.equal(a, b) for a, b in zip(r0["params_resumed"], r1["params_resumed"]))
        assert _max_diff(r0["params_resumed"], ref) <= 2 * TOL


def test_shard_groups_cover_every_group_once():
    for n in range(2, 12):
        for world in range(1, n + 1):
            shards = [list(D.shard_groups(n, D.DistContext(r, world))) for r in range(world)]
            assert sum(shards, []) == list(range(n))
            assert max(map(len, shards)) - min(map(len, shards)) <= 1
    with pytest.raises(ValueError, match="cannot be split"):
        D.shard_groups(1, D.DistContext(0, 2))


def test_single_process_context_is_a_no_op():
    ctx = D.DistContext()
    x = torch.tensor([1.0, 2.0, 3.0])
    m = torch.tensor([1.0, 1.0, 0.0])
    assert torch.allclose(D.global_masked_whiten(x, m, ctx), L.masked_whiten(x, m))
    assert D.reduce_metrics({"a": 2.0}, ctx) == {"a": 2.0}
    assert D.on_main(ctx, lambda: 5) == 5
    if "WORLD_SIZE" not in os.environ:  # not under torchrun: a one-process context
        ctx1 = D.init_distributed()
        assert ctx1.world_size == 1 and not ctx1.enabled and ctx1.is_main
    with pytest.raises(ValueError, match="at least one sample"):
        D.update_samples(TrainConfig(), None, None, [], ctx)  # type: ignore[arg-type]


def test_selfcheck_cli_help():
    cmd = [sys.executable, "-m", "rlsp_agents.distributed", "--help"]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=True)
    assert "examples:" in out.stdout and "torchrun --nproc_per_node 2" in out.stdout
