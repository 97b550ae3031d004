# Sourced by the scripts that run on a lent GPU machine (gpu_check.sh, gpu_train.sh,
# gpu_ablation.sh): the carried pure-Python packages (.devsite, see gpu_train.sh's header) and
# the repository on PYTHONPATH, offline settings, PY (the interpreter: $PYTHON, else python3),
# and device_info, which prints the GPU, torch and the CPU count.
if [ -d .devsite ]; then export PYTHONPATH="$PWD/.devsite${PYTHONPATH:+:$PYTHONPATH}"; fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 WANDB_MODE=offline HF_HUB_OFFLINE=1
PY=${PYTHON:-python3}

device_info() {
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
    "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
    echo "cpus $(nproc)"
}
