#!/usr/bin/env bash
# The split design's ablation at equal budget (docs/models.md): each row trains STEPS steps from the
# same shards with the same optimizer and schedule, then evaluate.py measures it on the fixed
# held-out benchmark and tsb.summary gathers one table. From the repository root, after the shards
# of experiment=stylebrush_bg (docs/training.md) and the benchmark
#   python -m tsb.data.synth render --n 200 --split heldout --seed 0 --out data_cache/bench_heldout200
# exist:
#   bash benchmarks/split_ablation.sh [OUT_DIR]      # default outputs/ablation_split
# Environment: STEPS (default 400), ROWS (a subset of the row names below, default all), EXTRA
# (overrides added to every row, e.g. "trainer.device=cuda"), PYTHON (default python), JOBS (rows trained at
# once, default 1: a GPU that one small row leaves idle trains several), TRAIN_ONLY=1 (no
# evaluation: benchmarks/gpu_ablation.sh trains on a lent GPU, the evaluation runs here later
# on the rows' last.ckpt, which this script then does not train again).
# Rows:
#   split          model=stylebrush_bg loss=split (everything)
#   mask_residual  the text branch corrects the placed ink's mask (learned letter shapes)
#   residual_bg    the eraser as a residual on the whole crop (no segment-then-fill)
#   no_layout      without the spatial transformer (the content ink stays where it was rendered)
#   no_bg_loss     without the background L1 (the background branch learns only from the image terms)
#   no_layout_loss without the layout term (the transformer learns only from the image terms)
#   no_mask_loss   without the mask BCE on the new word's mask (the text branch learns its mask
#                  only from the image terms)
#   no_src_mask_loss without the old word's mask BCE (the eraser segments only for the image terms)
#   recognition    + the CTC loss of the pretrained EasyOCR recognizer on the new word (weight 1,
#                  the paper's; needs the easyocr packages of the README's install)
#   perceptual     + the perceptual term on the packaged ImageNet VGG16 (L1 between relu1_1..relu5_1
#                  activations of the output and the ground truth, weight 1; about 3x the step on the CPU)
#   texture        + the paper's texture term on the same VGG16 (L1 between Gram matrices of the
#                  output's and the style image's relu1_1..relu5_1 activations, weight 500 against
#                  the L1's 10, the paper's ratio; not in loss=split, added by the row)
#   adversarial    + the non-saturating GAN term (weight 1 against the supervised L1's 10, the
#                  paper's ratio) with lazy R1 (gamma 1, every 16 steps) and the preset's discriminator
#   paper_gen      the paper's generator (model=stylebrush_quickstart: style code + StyleGAN2 G,
#                  content skips) with its pixel losses (loss=quickstart), same data and budget
set -euo pipefail
out=${1:-outputs/ablation_split}
steps=${STEPS:-400}
rows=${ROWS:-"split mask_residual residual_bg no_layout no_bg_loss no_layout_loss no_mask_loss no_src_mask_loss adversarial paper_gen"}
bench=${BENCH:-data_cache/bench_heldout200}
read -r -a more <<< "${EXTRA:-}"
common=("trainer.max_steps=$steps" trainer.val_every_n_steps=$steps
        trainer.checkpoint_every_n_steps=$steps trainer.progress_bar=false "${more[@]}")
# what a row starts from: the recipe, experiment=stylebrush_bg; paper_gen's network does not take
# the recipe's widths of the split design's branches (composing refuses them), so it starts from
# the paper-style experiment with the recipe's data and trainer settings (tests/test_configs.py
# checks they are the recipe's)
recipe=experiment=stylebrush_bg
declare -A base=(
  [paper_gen]="experiment=quickstart_paper data=synth_shards data.val_root=\${paths.data_dir}/synth_shards_val data.num_workers=1 data.pin_memory=false trainer.num_threads=2 trainer.limit_val_batches=4 trainer.ema_decay=0.995 trainer.monitor=val/psnr trainer.monitor_mode=max trainer.log_every_n_steps=25"
)
declare -A extra=(
  [split]=""
  [mask_residual]="model.net.mask_residual=true"
  [residual_bg]="model.net.background.inpaint=false"
  [no_layout]="model.net.layout=null ~loss.layout"
  [no_bg_loss]="loss.background.weight=0"
  [no_layout_loss]="loss.layout.weight=0"
  [no_mask_loss]="loss.mask.weight=0"
  [no_src_mask_loss]="loss.source_mask.weight=0"
  [adversarial]="loss.adversarial.weight=1 loss.r1.weight=1"
  [recognition]="loss.recognition.weight=1"
  [perceptual]="loss.perceptual.weight=1"
  [texture]="+loss.texture={_target_:tsb.losses.typeface.TypefaceTexture,weight:500,network:imagenet_vgg16,source:fake,reference:style}"
  [paper_gen]=""
)
mkdir -p "$out"
train() {
  local row=$1 run="$out/$1"
  if [ ! -f "$run/checkpoints/last.ckpt" ] || [ ! -f "$run/summary.json" ]; then
    # shellcheck disable=SC2086
    "${PYTHON:-python}" train.py ${base[$row]:-$recipe} "${common[@]}" ${extra[$row]} "hydra.run.dir=$run" > "$out.$row.log" 2>&1
  fi
}
running=0
for row in $rows; do
  train "$row" &
  running=$((running + 1))
  if [ "$running" -ge "${JOBS:-1}" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
if [ -n "${TRAIN_ONLY:-}" ]; then exit 0; fi
for row in $rows; do
  run="$out/$row"
  "${PYTHON:-python}" evaluate.py "ckpt_path=$run/checkpoints/last.ckpt" data=paired "data.root=$bench" \
    "metrics=[mse,psnr,ssim,lpips,rec_acc,ned]" save_images=false progress=false \
    "hydra.run.dir=$out/eval/$row" > "$out.eval.$row.log" 2>&1
done
"${PYTHON:-python}" -m tsb.summary "$out/eval" --columns 'metrics/model/*' 'metrics/copy_source/psnr' --sort model/psnr --desc
