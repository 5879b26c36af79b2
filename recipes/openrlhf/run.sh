#!/usr/bin/env bash
# RLSP on OpenRLHF 0.11: writes the prompt dataset, serves the RLSP reward with `rlsp serve`, and
# runs OpenRLHF's PPO trainer against it (the RLSP paper's own set-up: PPO with a critic, GAE,
# one scalar reward from an HTTP reward server).
#
#   bash recipes/openrlhf/run.sh 7b              # Qwen2.5-7B-Instruct, 1 node x 8 GPUs
#   bash recipes/openrlhf/run.sh 0.5b            # Qwen2.5-0.5B-Instruct, 1 GPU
#   bash recipes/openrlhf/run.sh 7b --train.seed 1   # extra train_ppo_ray flags go last
#   RLSP_DRY_RUN=1 bash recipes/openrlhf/run.sh 7b   # parse the command line with OpenRLHF's
#                                                    # own parser and stop (no GPU, no server)
#   RLSP_PRINT_ARGS=1 bash recipes/openrlhf/run.sh 7b  # print the flags, NUL-separated
#
# Needs OpenRLHF 0.11 with its GPU stack (pip install "openrlhf[vllm]") and rlsp
# (pip install "rlsp[integrations]") on the node that runs this script; the reward server runs
# here and only this node talks to it. For several nodes, start Ray first, run `rlsp serve` on a
# host every node reaches (RLSP_REWARD_URL=http://HOST:PORT/get_reward; the server is not started
# then), and raise the --*.num_nodes flags. Environment: RLSP_DATA_OUT, RLSP_TRAIN_ENV,
# RLSP_VAL_ENV, RLSP_N_TRAIN, RLSP_N_VAL, RLSP_REWARD_WORKERS, RLSP_WEIGHTS (the server's scalar, default rlsp-length:
# the paper's r_c - L/ell), RLSP_PORT, RLSP_REWARD_URL, RLSP_DATA_DIR, PYTHON.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
size=${1:-}
case "$size" in
  7b)
    model=Qwen/Qwen2.5-7B-Instruct
    train_env=${RLSP_TRAIN_ENV:-rlsp/MATH-v0} train_split=train n_train=${RLSP_N_TRAIN:-3633}
    val_env=${RLSP_VAL_ENV:-rlsp/MATH500-v0} val_split=all n_val=${RLSP_N_VAL:-500}
    # 8 GPUs shared by actor, critic, reference and 4 vLLM engines of TP 2 (sleep mode between)
    sizes=(
      --actor.num_gpus_per_node 8 --critic.num_gpus_per_node 8 --ref.num_gpus_per_node 8
      --vllm.num_engines 4 --vllm.tensor_parallel_size 2 --vllm.gpu_memory_utilization 0.6
      --rollout.batch_size 512 --train.batch_size 128
      --rollout.micro_batch_size 8 --train.micro_batch_size 2
      --ds.zero_stage 3 --actor.gradient_checkpointing_enable --ds.packing_samples
      --rollout.max_new_tokens 4096 --data.max_len 5120
    )
    ;;
  0.5b)
    model=Qwen/Qwen2.5-0.5B-Instruct
    train_env=${RLSP_TRAIN_ENV:-rlsp/Arithmetic-v0} train_split=train n_train=${RLSP_N_TRAIN:-8192}
    val_env=${RLSP_VAL_ENV:-rlsp/Arithmetic-v0} val_split=test n_val=${RLSP_N_VAL:-512}
    sizes=(
      --actor.num_gpus_per_node 1 --critic.num_gpus_per_node 1 --ref.num_gpus_per_node 1
      --vllm.num_engines 1 --vllm.tensor_parallel_size 1 --vllm.gpu_memory_utilization 0.4
      --rollout.batch_size 128 --train.batch_size 32
      --rollout.micro_batch_size 16 --train.micro_batch_size 4
      --ds.zero_stage 2 --rollout.max_new_tokens 1024 --data.max_len 1536
    )
    ;;
  *)
    echo "usage: bash recipes/openrlhf/run.sh {7b|0.5b} [train_ppo_ray flags...]" >&2
    exit 2
    ;;
esac
shift
out=${RLSP_DATA_OUT:-$PWD/data/openrlhf-rlsp-$size}
port=${RLSP_PORT:-8000}
url=${RLSP_REWARD_URL:-http://127.0.0.1:$port/get_reward}

# The RLSP paper's PPO (docs/method.md): actor lr 2e-7, critic lr 2e-6, clip 0.2, value clip 0.2,
# GAE lambda 0.95, gamma 1, KL 0.05, temperature 0.7; the sizes above.
args=(
  --actor.model_name_or_path "$model"
  --data.prompt_dataset "$out/train.jsonl" --data.input_key prompt --data.label_key label
  --data.apply_chat_template
  --eval.dataset "$out/test.jsonl" --eval.steps 10 --eval.temperature 0.7
  --reward.remote_url "$url"
  --algo.advantage.estimator gae --algo.advantage.gamma 1 --algo.advantage.lambd 0.95
  --actor.adam.lr 2e-7 --critic.adam.lr 2e-6 --actor.eps_clip 0.2 --critic.value_clip 0.2
  --algo.kl.init_coef 0.05
  --rollout.temperature 0.7 --rollout.n_samples_per_prompt 1
  --train.colocate_all --vllm.enable_sleep --ds.enable_sleep
  --ds.param_dtype bf16 --train.seed 42 --train.num_episodes 1 --train.max_epochs 1
  --ckpt.output_dir "$out/ckpt" --ckpt.path "$out/ckpt/checkpoints" --ckpt.save_steps 20
  --ckpt.save_hf --logger.logging_steps 1
  "${sizes[@]}"
  "$@"
)

if [ -n "${RLSP_PRINT_ARGS:-}" ]; then
  printf '%s\0' "${args[@]}"  # the command line, NUL-separated (for tools and tests)
  exit 0
fi
if [ -n "${RLSP_DRY_RUN:-}" ]; then
  # OpenRLHF's own parser and argument checks on exactly this command line; nothing starts.
  exec "$PYTHON" "$here/check_args.py" "${args[@]}"
fi

"$PYTHON" -m rlsp_env.integrations.write_dataset openrlhf --env "$train_env" \
  --split "$train_split" --n "$n_train" --out "$out/train.jsonl"
"$PYTHON" -m rlsp_env.integrations.write_dataset openrlhf --env "$val_env" \
  --split "$val_split" --n "$n_val" --out "$out/test.jsonl"

server_pid=""
if [ -z "${RLSP_REWARD_URL:-}" ]; then
  # the reward: every channel scored by rlsp's verifier pool, the scalar by RLSP_WEIGHTS
  "$PYTHON" -m rlsp_agents.cli serve --env "$train_env" --weights "${RLSP_WEIGHTS:-rlsp-length}" \
    --host 127.0.0.1 --port "$port" --workers "${RLSP_REWARD_WORKERS:-8}" &
  server_pid=$!
  trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do
    if "$PYTHON" -c "import httpx,sys; sys.exit(httpx.get('http://127.0.0.1:$port/healthz').status_code != 200)" 2>/dev/null; then
      break
    fi
    sleep 1
  done
fi
"$PYTHON" -m openrlhf.cli.train_ppo_ray "${args[@]}"
