#!/usr/bin/env bash
# RLSP on verl 0.9.1: writes the datasets, then runs verl's own trainer with the recipe's config.
#
#   bash recipes/verl/run.sh 7b                 # Qwen2.5-7B-Instruct, 1 node x 8 GPUs
#   bash recipes/verl/run.sh 0.5b               # Qwen2.5-0.5B-Instruct, 1 GPU
#   bash recipes/verl/run.sh 7b trainer.nnodes=2 algorithm.rlsp.mode=scalar   # any Hydra override
#   RLSP_DRY_RUN=1 bash recipes/verl/run.sh 7b  # print the composed config and stop (no GPU needed)
#
# Needs, on every node of the Ray cluster: verl 0.9.1 with its GPU stack (pip install "verl[vllm]"
# or verl's docker image) and rlsp (pip install "rlsp[integrations]"): the reward function and the
# "rlsp" advantage estimator are imported in verl's workers. For several nodes start Ray first
# (`ray start --head` on one, `ray start --address=HEAD:6379` on the others) and pass
# trainer.nnodes=N. Environment: RLSP_DATA_OUT (where the parquet files go), RLSP_TRAIN_ENV,
# RLSP_VAL_ENV, RLSP_N_TRAIN, RLSP_N_VAL, RLSP_DATA_DIR (the reference datasets), PYTHON.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
size=${1:-}
case "$size" in
  7b)
    config=rlsp_qwen2.5-7b
    train_env=${RLSP_TRAIN_ENV:-rlsp/MATH-v0}  # MATH without the MATH-500 problems
    train_split=train n_train=${RLSP_N_TRAIN:-3633}
    val_env=${RLSP_VAL_ENV:-rlsp/MATH500-v0} val_split=all n_val=${RLSP_N_VAL:-500}
    ;;
  0.5b)
    config=rlsp_qwen2.5-0.5b
    train_env=${RLSP_TRAIN_ENV:-rlsp/Arithmetic-v0}  # procedural: as many problems as asked
    train_split=train n_train=${RLSP_N_TRAIN:-8192}
    val_env=${RLSP_VAL_ENV:-rlsp/Arithmetic-v0} val_split=test n_val=${RLSP_N_VAL:-512}
    ;;
  *)
    echo "usage: bash recipes/verl/run.sh {7b|0.5b} [hydra overrides...]" >&2
    exit 2
    ;;
esac
shift
RLSP_DATA_OUT=${RLSP_DATA_OUT:-$PWD/data/verl-rlsp-$size}
"$PYTHON" -m rlsp_env.integrations.write_dataset verl --env "$train_env" --split "$train_split" \
  --n "$n_train" --out "$RLSP_DATA_OUT/train.parquet"
"$PYTHON" -m rlsp_env.integrations.write_dataset verl --env "$val_env" --split "$val_split" \
  --n "$n_val" --out "$RLSP_DATA_OUT/test.parquet"
reward_py=$("$PYTHON" -c "import rlsp_env.integrations.verl as m; print(m.__file__)")
extra=()
if [ -n "${RLSP_DRY_RUN:-}" ]; then
  extra=(--cfg job)  # Hydra: compose and print the config, run nothing
fi
exec "$PYTHON" -m verl.trainer.main_ppo --config-path="$here/config" --config-name="$config" \
  "${extra[@]}" reward.custom_reward_function.path="$reward_py" \
  data.train_files="$RLSP_DATA_OUT/train.parquet" data.val_files="$RLSP_DATA_OUT/test.parquet" "$@"
