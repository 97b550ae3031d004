#!/usr/bin/env bash
# The split design's ablation rows (benchmarks/split_ablation.sh) trained on a lent GPU, as one
# prepared run: the CPU recipe's shards rendered there by every core (the same command and seed
# as docs/training.md), then ROWS trained at once at the CPU recipe's budget (1,500 steps, batch
# 16; only trainer.device differs), each run's EMA weights exported (tsb.publish, no card) into
# OUT_DIR with the runs' logs (ablation_logs.tgz). The evaluation runs afterwards on the CPU
# machine (it needs the judge and the LPIPS weights, which the lent machine lacks):
#   mkdir -p outputs/ablation_gpu/ROW/checkpoints; cp OUT/abl_ROW.ckpt outputs/ablation_gpu/ROW/checkpoints/last.ckpt
#   tar xzf OUT/ablation_logs.tgz -C outputs/ablation_gpu        # each row's summary.json
#   bash benchmarks/split_ablation.sh outputs/ablation_gpu           # evaluates, does not retrain
# From the repository root, with .devsite carried (benchmarks/gpu_train.sh's header):
#   bash benchmarks/gpu_ablation.sh [OUT_DIR]      # default: $OUT, else ./gpu_ablation
# Environment: ROWS (default: split residual_bg no_layout no_bg_loss no_layout_loss; the second run
# of docs/models.md: "split no_mask_loss no_src_mask_loss adversarial"), STEPS
# (1500), BUDGET_S (the whole script's seconds, default 290: the training is stopped, SIGTERM and
# last.ckpt written, 45 s before, to leave the export its time), N (30000),
# DATA (the shards' folder, default data_cache; shards already there are used as they are),
# DEVICE (default cuda; a dry run on CPU: DEVICE=cpu N=64 STEPS=2 DATA=/tmp/d bash ... /tmp/out).
set -uo pipefail
out=${1:-${OUT:-gpu_ablation}}
mkdir -p "$out"
# shellcheck source=benchmarks/device_env.sh
source "$(dirname "$0")/device_env.sh"
rows=${ROWS:-"split residual_bg no_layout no_bg_loss no_layout_loss"}
abl=outputs/ablation_gpu
begin=$(date +%s)
data=$(realpath -m "${DATA:-data_cache}")
start=$(date +%s)
if [ ! -d "$data/synth_shards" ]; then
    "$PY" -m tsb.data.synth render --format shards --split train --n "${N:-30000}" --workers "$(nproc)" \
        --out "$data/synth_shards" > "$out/render.log" 2>&1
fi
if [ ! -d "$data/synth_shards_val" ]; then
    "$PY" -m tsb.data.synth render --format shards --split heldout --n 256 --seed 1 \
        --out "$data/synth_shards_val" >> "$out/render.log" 2>&1
fi
echo "== shards: $(tail -n 1 "$out/render.log" 2>/dev/null) in $(( $(date +%s) - start )) s"
start=$(date +%s)
# the weight-0 terms of loss=split that build a helper network: the lent machine has neither package
PYTHON="$PY" ROWS="$rows" STEPS="${STEPS:-1500}" JOBS=99 TRAIN_ONLY=1 \
    EXTRA="paths.data_dir=$data trainer.device=${DEVICE:-cuda} trainer.precision=null ~loss.recognition ~loss.perceptual ${EXTRA:-}" \
    timeout -s TERM -k 15 "$(( ${BUDGET_S:-290} - 45 - ($(date +%s) - begin) ))" bash benchmarks/split_ablation.sh "$abl"
echo "== rows trained: rc=$? in $(( $(date +%s) - start )) s"
# the export goes through tsb.publish, which records each file in tsb/weights/manifest.json: kept
# as it was (a dry run here must not change the repository's published weights)
cp tsb/weights/manifest.json "$out/.manifest.json"
for row in $rows; do
    "$PY" -c "import json, sys; d = json.load(open(sys.argv[1])); print(sys.argv[2], d.get('step'), 'steps', d.get('wall_s'), 's', 'val/psnr', d.get('val/psnr'))" \
        "$abl/$row/summary.json" "$row" 2>/dev/null
    "$PY" -m tsb.publish "$abl/$row/checkpoints/last.ckpt" --no-card --name "abl_$row" --machine gpu \
        > /dev/null 2>&1 && mv "tsb/weights/abl_$row.ckpt" "$out/"
done
mv "$out/.manifest.json" tsb/weights/manifest.json
(cd "$(dirname "$abl")" && tar czf - --exclude='*.ckpt' "$(basename "$abl")" "$(basename "$abl")".*.log) \
    > "$out/ablation_logs.tgz"
ls -la "$out"
