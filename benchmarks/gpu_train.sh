#!/usr/bin/env bash
# The GPU recipe (experiment=stylebrush_bg_gpu) as one prepared run for a lent GPU machine: measure
# the training step's speed, train as many steps as fill TRAIN_S seconds, publish the run's EMA weights as tsb/weights/stylebrush_bg_gpu.ckpt (tsb.publish, no card: the
# evaluation runs afterwards on the CPU machine), and copy what the CPU machine needs into OUT_DIR:
# the weights, their manifest entry, metrics.jsonl, summary.json, train.log and the run's
# .hydra/ and last sample grid (run.tgz). From the repository root:
#   bash benchmarks/gpu_train.sh [OUT_DIR] [overrides...]     # default OUT_DIR: $OUT, else ./gpu_train
# Environment: TRAIN_S (training seconds to fill, default 380), STEPS (skip the speed probe).
# The lent machine lacks Hydra and the font packages: make them here once, then carry .devsite
# (25 MB once the CJK fonts that tsb.data.fonts skips anyway are removed):
#   echo /.devsite/ >> .git/info/exclude
#   .venv/bin/pip install -q --no-deps --target .devsite hydra-core==1.3.8 omegaconf==2.3.1 \
#       antlr4-python3-runtime==4.9.3 rendercv-fonts==0.5.1 pymupdf-fonts==1.0.5 yadisk
#   find .devsite/rendercv_fonts \( -name 'NotoSans[JKS][PRC]-*' -o -name 'NotoSansMath*' -o -name 'NotoSansSymbols*' \) -delete
# and call the device tool with command 'bash benchmarks/gpu_train.sh "$OUT"', carry [".devsite"].
# A dry run on CPU: bash benchmarks/gpu_train.sh /tmp/gt trainer.device=cpu data.num_workers=2 trainer.max_steps=4
set -uo pipefail
out=${1:-${OUT:-gpu_train}}
shift || true
mkdir -p "$out"
# shellcheck source=benchmarks/device_env.sh
source "$(dirname "$0")/device_env.sh"
run=outputs/stylebrush_bg_gpu/device_run
rm -rf "$run"
device_info > "$out/env.txt" 2>&1
cat "$out/env.txt"

# size the run to the budget: the training step's speed on this machine, data loading included
# (benchmarks/train_speed.py with the experiment's model, loss, batch, precision and workers), so
# that the cosine schedule ends inside TRAIN_S seconds; a run that still overruns is stopped
# (SIGTERM: the trainer finishes its step and writes last.ckpt) at TRAIN_S + 60
train_s=${TRAIN_S:-380}
# loss=split's weight-0 terms that build a helper network (EasyOCR, ImageNet VGG16): the lent
# machine has neither package, and at weight 0 they add nothing
NO_HELPERS=("~loss.recognition" "~loss.perceptual")
steps=${STEPS:-}
if [ -z "$steps" ]; then
    # ~experiment: model=stylebrush_bg at the preset's (the GPU recipe's) widths, not narrowed by
    # python train.py's default experiment=quickstart
    timeout 120 "$PY" benchmarks/train_speed.py --model stylebrush_bg --loss split --batch 32 --precision none \
        --workers 14 --steps 150 --warmup 30 "${NO_HELPERS[@]}" "~experiment" > "$out/speed.txt" 2>&1
    grep -E "^(device|step time|data wait|images/s|model GFLOP|achieved)" "$out/speed.txt"
    ips=$(sed -n 's/^images\/s *: *//p' "$out/speed.txt")
    steps=$("$PY" -c "import sys; r = float(sys.argv[1] or 0); print(min(20000, max(1000, int(0.85 * r / 32 * $train_s))) if r else 4000)" "$ips")
fi
echo "== training $steps steps"
start=$(date +%s)
timeout -s TERM -k 60 "$((train_s + 60))" "$PY" train.py experiment=stylebrush_bg_gpu "hydra.run.dir=$run" \
    trainer.progress_bar=false "trainer.max_steps=$steps" "${NO_HELPERS[@]}" "$@" > "$out/train.log" 2>&1
echo "== train: rc=$? in $(( $(date +%s) - start )) s"
tail -n 3 "$out/train.log"; tail -n 2 "$run/metrics.jsonl" 2>/dev/null; cat "$run/summary.json" 2>/dev/null

machine=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
"$PY" -m tsb.publish "$run/checkpoints/last.ckpt" --no-card --name stylebrush_bg_gpu \
    --machine "1 ${machine:-CPU} + $(nproc) CPU cores" 2>&1 | tail -n 3
cp tsb/weights/stylebrush_bg_gpu.ckpt tsb/weights/manifest.json "$out/" 2>/dev/null
cp "$run/metrics.jsonl" "$run/summary.json" "$out/" 2>/dev/null
last=$(ls "$run"/samples/*.png 2>/dev/null | sort -V | tail -n 1)
tar czf "$out/run.tgz" -C "$run" .hydra ${last:+"samples/$(basename "$last")"} 2>/dev/null
ls -la "$out"
