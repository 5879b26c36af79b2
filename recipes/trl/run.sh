#!/usr/bin/env bash
# GRPO with TRL 1.16 on an rlsp env, bf16, vLLM generation, accelerate + DeepSpeed.
#
#   bash recipes/trl/run.sh 7b colocate   # 8 GPUs train (ZeRO-3), vLLM inside each process
#   bash recipes/trl/run.sh 7b server     # GPU 0: trl vllm-serve; GPUs 1-7 train (ZeRO-2)
#   bash recipes/trl/run.sh 0.5b colocate # 1 GPU
#   bash recipes/trl/run.sh 7b colocate --max-steps 100   # extra recipes/trl/grpo.py flags last
#
# Needs CUDA, and: pip install "rlsp[agent,vllm-cuda,integrations]" deepspeed
# (vllm-cuda is vllm 0.22.0-0.31.0, the range TRL 1.16 supports). RLSP_DATA_DIR must point at the
# reference datasets for the default env (rlsp/MATH-v0: MATH without the MATH-500 problems).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
size=${1:-} mode=${2:-}
case "$size" in
  7b) model=Qwen/Qwen2.5-7B-Instruct gpus=${RLSP_GPUS:-8} ;;
  0.5b) model=Qwen/Qwen2.5-0.5B-Instruct gpus=${RLSP_GPUS:-1} ;;
  *) size="" ;;
esac
if [ -z "$size" ] || { [ "$mode" != colocate ] && [ "$mode" != server ]; }; then
  echo "usage: bash recipes/trl/run.sh {7b|0.5b} {colocate|server} [grpo.py flags...]" >&2
  exit 2
fi
shift 2
if [ "$mode" = colocate ]; then
  zero=$([ "$size" = 7b ] && echo zero3 || echo zero2)
  CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-$(seq -s, 0 $((gpus - 1)))} \
    accelerate launch --config_file "$here/accelerate/$zero.yaml" --num_processes "$gpus" \
    "$here/grpo.py" --model "$model" --vllm-mode colocate "$@"
else
  if [ "$gpus" -lt 2 ]; then
    echo "server mode needs 2 GPUs or more (one for vLLM); use colocate" >&2
    exit 2
  fi
  CUDA_VISIBLE_DEVICES=0 trl vllm-serve --model "$model" --port "${RLSP_VLLM_PORT:-8000}" &
  server=$!
  trap 'kill "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 1 600); do  # vLLM's OpenAI server (behind trl vllm-serve) answers /health once loaded
    curl -sf "http://127.0.0.1:${RLSP_VLLM_PORT:-8000}/health" >/dev/null && break
    sleep 1
  done
  CUDA_VISIBLE_DEVICES=$(seq -s, 1 $((gpus - 1))) \
    accelerate launch --config_file "$here/accelerate/zero2.yaml" --num_processes $((gpus - 1)) \
    "$here/grpo.py" --model "$model" --vllm-mode server \
    --vllm-server-port "${RLSP_VLLM_PORT:-8000}" "$@"
fi
