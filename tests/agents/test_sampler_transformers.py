"""The transformers sampler (no vLLM needed): batching, padding, seeds, sync, errors.

A small Llama (SmolLM2's tokenizer and chat template, 2 layers of width 64, random weights in
float32) keeps these tests fast; the real SmolLM2 runs in ``test_sampler_vllm.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from rlsp_agents.models import resolve_model  # noqa: E402
from rlsp_agents.sampler import (  # noqa: E402
    Completion,
    Sampler,
    TransformersSampler,
    make_sampler,
)

PROMPTS = [
    [{"role": "user", "content": "What is 2 + 3?"}],
    [
        {
            "role": "user",
            "content": "A much longer question, so that the batch needs left padding: "
            "what is the sum of the first ten positive integers?",
        }
    ],
    "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One torch thread: two OpenMP threads on a shared 2-core machine spin-wait each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    src = resolve_model("smollm2-135m")
    tok = transformers.AutoTokenizer.from_pretrained(src)
    cfg = transformers.AutoConfig.from_pretrained(src)
    cfg.hidden_size, cfg.intermediate_size = 64, 128
    cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads = 2, 4, 2
    cfg.head_dim = 16
    torch.manual_seed(0)
    model = transformers.AutoModelForCausalLM.from_config(cfg).to(torch.float32)
    with torch.no_grad():  # a mildly peaked output layer: greedy paths vary, samples differ
        model.lm_head.weight.mul_(5)
    out = tmp_path_factory.mktemp("tiny") / "model"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def sampler(tiny_dir: Path) -> TransformersSampler:
    s = make_sampler("transformers", str(tiny_dir), seed=0, dtype="float32", batch_size=2)
    yield s
    s.close()


def test_shapes_fields_and_finish(sampler: TransformersSampler) -> None:
    assert isinstance(sampler, Sampler) and sampler.backend == "transformers"
    out = sampler.generate(PROMPTS, n=3, max_new_tokens=10, temperature=1.0)
    assert [len(r) for r in out] == [3, 3, 3]
    eos = sampler.tokenizer.eos_token_id
    for row in out:
        assert len({tuple(c.prompt_token_ids) for c in row}) == 1
        for c in row:
            assert isinstance(c, Completion) and c.num_tokens == len(c.token_ids)
            assert sampler.tokenizer.pad_token_id not in c.token_ids[:-1] or c.finish_reason
            if c.finish_reason == "length":
                assert len(c.token_ids) == 10 and eos not in c.token_ids
            else:
                assert c.finish_reason == "stop" and c.token_ids[-1] == eos
                assert eos not in c.token_ids[:-1]
            assert c.text == sampler.tokenizer.decode(c.token_ids, skip_special_tokens=True)


def test_left_padding_does_not_change_greedy_output(tiny_dir: Path) -> None:
    one = make_sampler("transformers", str(tiny_dir), dtype="float32", batch_size=1)
    many = make_sampler("transformers", str(tiny_dir), dtype="float32", batch_size=8)
    a = one.generate(PROMPTS, max_new_tokens=12, temperature=0)
    b = many.generate(PROMPTS, max_new_tokens=12, temperature=0)
    assert [r[0].token_ids for r in a] == [r[0].token_ids for r in b]
    assert [r[0].prompt_token_ids for r in a] == [r[0].prompt_token_ids for r in b]


def test_seeded_sampling_is_reproducible(tiny_dir: Path) -> None:
    def draw(seed: int) -> list:
        s = make_sampler("transformers", str(tiny_dir), seed=seed, dtype="float32")
        first = s.generate(PROMPTS[:2], n=4, max_new_tokens=8, temperature=1.0)
        second = s.generate(PROMPTS[:2], n=4, max_new_tokens=8, temperature=1.0)
        return [[c.token_ids for c in r] for r in first + second]

    rng_before = torch.random.get_rng_state()
    a, b, c = draw(0), draw(0), draw(1)
    assert torch.equal(rng_before, torch.random.get_rng_state()), "global RNG was disturbed"
    assert a == b
    assert a != c
    assert a[:2] != a[2:], "two calls of one sampler drew the same samples"


def test_sync_weights_from_another_model_and_from_a_shared_one(
    sampler: TransformersSampler, tiny_dir: Path
) -> None:
    policy = transformers.AutoModelForCausalLM.from_pretrained(tiny_dir, dtype=torch.float32)
    before = sampler.generate(PROMPTS, max_new_tokens=8, temperature=0)
    with torch.no_grad():
        for p in policy.model.layers[0].parameters():
            p.add_(torch.randn_like(p) * 0.5)
    sampler.sync_weights(policy)
    after = sampler.generate(PROMPTS, max_new_tokens=8, temperature=0)
    assert [r[0].token_ids for r in after] != [r[0].token_ids for r in before]
    shared = make_sampler("transformers", policy, tokenizer=sampler.tokenizer)
    assert shared.model is policy
    shared.sync_weights(policy)  # the same object: nothing to copy
    assert [r[0].token_ids for r in shared.generate(PROMPTS, max_new_tokens=8, temperature=0)] == [
        r[0].token_ids for r in after
    ]
    policy.train()
    shared.generate(PROMPTS[:1], max_new_tokens=2)
    assert policy.training, "generate must restore the model's training mode"
    shared.close()
    assert shared.closed and sampler.model is not None


def test_sync_rejects_foreign_weights(sampler: TransformersSampler) -> None:
    with pytest.raises(KeyError, match="no tensor"):
        sampler.sync_weights({"not.a.weight": torch.zeros(2)})
    with pytest.raises(KeyError, match="shape"):
        sampler.sync_weights({"model.norm.weight": torch.zeros(3)})
    with pytest.raises(TypeError):
        sampler.sync_weights("model.safetensors")


def test_errors(sampler: TransformersSampler, tiny_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown sampler backend"):
        make_sampler("tgi", str(tiny_dir))
    with pytest.raises(ValueError, match="dtype"):
        make_sampler("transformers", str(tiny_dir), dtype="int8")
    with pytest.raises(ValueError, match="leaves no room"):
        small = make_sampler("transformers", str(tiny_dir), max_model_len=8)
        small.generate(["one two three four five six seven eight nine ten"])
    with pytest.raises(ValueError, match="max_new_tokens"):
        sampler.generate(["hi"], max_new_tokens=0)
    with pytest.raises(TypeError, match="chat-formatted string"):
        sampler.generate([42])
    with pytest.raises(FileNotFoundError, match="config.json"):
        make_sampler("transformers", str(tiny_dir.parent))
    closed = make_sampler("transformers", str(tiny_dir))
    with closed:
        pass
    with pytest.raises(RuntimeError, match="closed"):
        closed.generate(["hi"])


def test_generation_respects_max_model_len(tiny_dir: Path) -> None:
    s = make_sampler("transformers", str(tiny_dir), max_model_len=40, dtype="float32")
    prompt = "<|im_start|>user\n" + "word " * 25 + "<|im_end|>\n<|im_start|>assistant\n"
    c = s.generate([prompt], max_new_tokens=64, temperature=0)[0][0]
    assert len(c.prompt_token_ids) + len(c.token_ids) <= 40
