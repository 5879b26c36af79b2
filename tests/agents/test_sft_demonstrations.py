"""``rlsp sft``: demonstrations (environment worked solutions and JSONL), tokenization identical
to the samplers', loss on response tokens only, and a real fine-tuning run that lowers the loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_train_helpers import tiny_model_dir

from rlsp_agents.batching import collate
from rlsp_agents.config import SFTConfig
from rlsp_agents.sft import load_demonstrations, main, sft, tokenize_example


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir())


def test_env_demonstrations_are_the_env_prompts_and_worked_solutions() -> None:
    import gymnasium as gym

    pairs = load_demonstrations(SFTConfig(num_examples=5, seed=3))
    assert len(pairs) == 5
    env = gym.make("rlsp/Arithmetic-v0", difficulty=1, split="train")
    _, info = env.reset(seed=3 * 7_919 + 1_000_000)
    assert pairs[0] == (info["messages"], info["solution"])
    for msgs, resp in pairs:
        assert msgs[-1]["role"] == "user" and "\\boxed{" in resp


def test_prompt_tokens_match_the_samplers(tokenizer) -> None:
    from rlsp_agents.sampler import BaseSampler

    msgs = [{"role": "user", "content": "What is $12 + 30$?"}]
    ex = tokenize_example(tokenizer, msgs, "12 + 30 = 42. \\boxed{42}")
    sampler_ids = BaseSampler(tokenizer, max_model_len=512, seed=0).encode_prompts([msgs])[0]
    assert ex.prompt_ids == sampler_ids
    assert ex.response_ids[-1] == tokenizer.eos_token_id
    assert tokenizer.decode(ex.response_ids[:-1]) == "12 + 30 = 42. \\boxed{42}"


def test_loss_mask_covers_exactly_the_response(tokenizer) -> None:
    a = tokenize_example(tokenizer, [{"role": "user", "content": "hi"}], "one two three")
    b = tokenize_example(tokenizer, [{"role": "user", "content": "a longer question here"}], "x")
    batch = collate([a, b], tokenizer.pad_token_id)
    assert batch["mask"].sum(1).tolist() == [len(a.response_ids), len(b.response_ids)]
    assert batch["resp_tokens"][0, : len(a.response_ids)].tolist() == a.response_ids
    # the hidden state that predicts response token 0 is the last prompt position
    assert int(batch["resp_pos"][1, 0]) == len(b.prompt_ids) - 1
    ids = batch["input_ids"][1, : len(b.prompt_ids) + len(b.response_ids)].tolist()
    assert ids == b.prompt_ids + b.response_ids


def test_jsonl_sources_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "d.jsonl"
    good.write_text(
        json.dumps({"prompt": "2+2?", "response": "\\boxed{4}"})
        + "\n\n"
        + json.dumps(
            {
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {"role": "user", "content": "3+3?"},
                    {"role": "assistant", "content": "\\boxed{6}"},
                ]
            }
        )
        + "\n"
    )
    pairs = load_demonstrations(SFTConfig(source="jsonl", jsonl=str(good)))
    assert pairs == [
        ([{"role": "user", "content": "2+2?"}], "\\boxed{4}"),
        (
            [{"role": "system", "content": "be brief"}, {"role": "user", "content": "3+3?"}],
            "\\boxed{6}",
        ),
    ]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"prompt": "x", "response": "y"}) + "\n{oops\n")
    with pytest.raises(ValueError, match=r"bad.jsonl:2: not valid JSON"):
        load_demonstrations(SFTConfig(source="jsonl", jsonl=str(bad)))
    bad.write_text(json.dumps({"question": "x"}) + "\n")
    with pytest.raises(ValueError, match=r":1: expected string fields"):
        load_demonstrations(SFTConfig(source="jsonl", jsonl=str(bad)))
    bad.write_text(json.dumps({"messages": [{"role": "user", "content": "x"}]}) + "\n")
    with pytest.raises(ValueError, match="ending with the assistant"):
        load_demonstrations(SFTConfig(source="jsonl", jsonl=str(bad)))
    bad.write_text("\n")
    with pytest.raises(ValueError, match="no demonstrations"):
        load_demonstrations(SFTConfig(source="jsonl", jsonl=str(bad)))
    with pytest.raises(FileNotFoundError):
        load_demonstrations(SFTConfig(source="jsonl", jsonl=str(tmp_path / "missing.jsonl")))
    with pytest.raises(ValueError, match="--jsonl"):
        load_demonstrations(SFTConfig(source="jsonl"))


@pytest.mark.slow
def test_sft_lowers_the_response_loss(tmp_path: Path) -> None:
    cfg = SFTConfig(
        model=tiny_model_dir(),
        num_examples=8,
        epochs=6,
        batch_size=8,
        micro_batch_size=4,
        lr=1e-2,
        out=str(tmp_path / "sft"),
        progress=False,
        threads=2,
    )
    res = sft(cfg)
    assert res["steps"] == 6 and res["examples"] == 8 and res["skipped"] == 0
    assert res["loss_last"] < 0.7 * res["loss_first"], res
    assert Path(res["final_model"], "config.json").is_file()
    assert Path(res["final_model"], "tokenizer_config.json").is_file()
    assert Path(res["plot"]).is_file()
    rows = [json.loads(x) for x in (tmp_path / "sft" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6] and all("losses/sft" in r for r in rows)


def test_sft_too_long_examples_are_an_error_not_silent(tmp_path: Path) -> None:
    cfg = SFTConfig(model=tiny_model_dir(), num_examples=2, max_length=8, out=str(tmp_path / "s"))
    with pytest.raises(ValueError, match="exceed max_length=8"):
        sft(cfg)


def test_sft_cli_errors_and_help(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--source", "jsonl", "--out", str(tmp_path / "x")]) == 2
    assert "--jsonl" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "--num-examples" in text
