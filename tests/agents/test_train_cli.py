"""``rlsp train`` configuration and command line: presets, overrides, validation, help."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from rlsp_agents import cli
from rlsp_agents.config import TrainConfig, config_to_dict, parse_weights
from rlsp_agents.presets import PRESETS, get_preset
from rlsp_agents.train import main, parse_args


def test_every_config_field_is_documented_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and "--preset" in text
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in text, f.name


def test_presets_carry_the_paper_settings() -> None:
    for name in ("llama3.1-8b-rlsp", "qwen2.5-32b-rlsp"):
        p = get_preset(name)
        assert (p.lr, p.critic_lr, p.clip, p.value_clip, p.lam, p.gamma, p.kl_coef) == (
            2e-7, 2e-6, 0.2, 0.2, 0.95, 1.0, 0.05,
        )  # fmt: skip
        assert p.rollout_size == 512 and p.rollout_size // p.num_minibatches == 128
        assert (p.temperature, p.max_new_tokens, p.advantage) == (0.7, 4096, "rlsp")
        p.validate()
    cpu = get_preset("cpu-smollm2")
    cpu.validate()
    assert cpu.model == "smollm2-135m" and cpu.temperature <= 0.7
    get_preset("cpu-smollm2").total_steps = 999  # a copy: the preset itself is unchanged
    assert PRESETS["cpu-smollm2"].total_steps != 999
    with pytest.raises(KeyError, match="known"):
        get_preset("gpt-5")


def test_preset_then_overrides() -> None:
    cfg = parse_args(["--preset", "llama3.1-8b-rlsp", "--lr", "1e-6", "--out", "x"])
    assert cfg.lr == 1e-6 and cfg.critic_lr == 2e-6 and cfg.out == "x"
    cfg = parse_args(["--preset=cpu-smollm2", "--advantage", "decoupled"])
    assert cfg.advantage == "decoupled" and cfg.model == "smollm2-135m"
    cfg = parse_args(["--channel-weights", "correctness=1,exploration=0.25"])
    assert cfg.weights() == {"correctness": 1.0, "exploration": 0.25}
    cfg = parse_args(["--env-kwargs", '{"length_scale": 50}', "--channel-weights", "diversity=1"])
    assert cfg.env_kwargs == {"length_scale": 50} and cfg.channel_weights == {"diversity": 1.0}


def test_unknown_preset_is_refused_by_the_parser(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        parse_args(["--preset", "nope"])
    assert e.value.code == 2
    err = _flat(capsys.readouterr().err)
    assert "nope" in err and all(name in err for name in PRESETS)


def test_preset_defaults_show_in_its_help(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        parse_args(["--preset", "llama3.1-8b-rlsp", "--help"])
    assert e.value.code == 0
    assert "meta-llama/Llama-3.1-8B-Instruct" in _flat(capsys.readouterr().out)


def _flat(text: str) -> str:
    """Terminal text without tyro's box borders and line breaks."""
    return " ".join(text.replace("│", " ").split())


def _exit_code(args: list[str]) -> int:
    """``main``'s status: its return value, or the parser's exit code (values it cannot read)."""
    try:
        return main(args)
    except SystemExit as e:
        return int(e.code)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--advantage", "group", "--samples-per-prompt", "1"], "samples_per_prompt >= 2"),
        (["--channel-weights", "correctness=0"], "nonzero weight"),
        (["--channel-weights", "correctness"], "name=number"),
        (["--env-kwargs", "[1, 2]"], "JSON object"),
        (["--env-kwargs", "{bad"], "not valid JSON"),
        (["--top-p", "0"], "top_p"),
        (["--num-minibatches", "100", "--prompts-per-step", "2"], "num_minibatches"),
    ],
)
def test_bad_settings_are_clear_errors(args: list[str], message: str, capsys) -> None:
    assert _exit_code(args) == 2
    assert message in _flat(capsys.readouterr().err)


def test_weights_and_channels() -> None:
    assert parse_weights({"a": 1}) == {"a": 1.0}
    assert parse_weights(" correctness = 1 , format=-0.5,") == {"correctness": 1.0, "format": -0.5}
    cfg = TrainConfig(channel_weights="correctness=1,format=0,exploration=0.1")
    assert cfg.active_channels() == ["correctness", "exploration"]
    assert TrainConfig(advantage="rlsp").active_channels() == ["total"]
    assert TrainConfig(env_kwargs='{"length_scale": 50}').env_kwargs_dict() == {
        "length_scale": 50,
        "difficulty": 1,
    }
    # typed fields: a dict stays a dict, a string is parsed once, when the config is made
    cfg = TrainConfig(channel_weights={"correctness": 1}, env_kwargs={"difficulty": 3})
    assert cfg.channel_weights == {"correctness": 1.0} and cfg.env_kwargs_dict() == {
        "difficulty": 3
    }
    assert json.loads(json.dumps(config_to_dict(cfg)))["channel_weights"] == {"correctness": 1.0}
    with pytest.raises(ValueError, match="JSON object"):
        TrainConfig(env_kwargs="[1]")
    # assigned after construction (as a script editing a preset does): parsed by validate()
    cfg = TrainConfig(samples_per_prompt=2)
    cfg.channel_weights, cfg.env_kwargs = "correctness=1,format=0.5", '{"length_scale": 96}'
    cfg.validate()
    assert cfg.channel_weights == {"correctness": 1.0, "format": 0.5}
    assert cfg.env_kwargs == {"length_scale": 96}
    cfg.channel_weights = "correctness"
    with pytest.raises(ValueError, match="bad channel weight"):
        cfg.validate()


def test_dispatcher_lists_the_trainer_commands() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "rlsp_agents.cli", "--help"], capture_output=True, text=True
    )
    assert res.returncode == 0
    for cmd in ("demo", "sft", "train"):
        assert f"  {cmd} " in res.stdout
    mods = cli._available()
    assert {"demo", "sft", "train"} <= set(mods)


def test_dispatcher_without_the_agent_extra() -> None:
    """A core install (no tyro) still runs ``rlsp verify``; ``rlsp train`` names the extra."""
    code = (
        "import sys; sys.modules['tyro'] = None\n"
        "from rlsp_agents import cli\n"
        "assert cli.main(['verify', '--response', 'so \\\\boxed{1}', '--gold', '1']) == 0\n"
        "assert cli.main(['train']) == 2\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "train is not available" in res.stderr and "rlsp[agent]" in res.stderr


@pytest.mark.parametrize(
    "module",
    [
        "batching",
        "config",
        "critic",
        "presets",
        "checkpoint",
        "metrics",
        "plots",
        "demo",
        "sft",
        "train",
        "rollouts",
        "evaluate",
        "sampler",
        "models",
    ],  # fmt: skip
)
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    mod = importlib.import_module(f"rlsp_agents.{module}")
    result = doctest.testmod(mod)
    assert result.failed == 0
