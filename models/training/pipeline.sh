#!/usr/bin/env bash
# Rebuilds the sample defect UNet packages from nothing: data, fp32 training, pruning, fine-tuning, threshold
# tuning, evaluation, ONNX export, packages. Run from the repository root. Takes about 2.5 h on 2 idle cores.
set -euo pipefail
PY=/usr/bin/python3                      # has torch 1.13 + onnx 1.12 (plain python3 does not)
T=models/training
D=$T/.data
R=$T/runs
GEN="dotnet run --project models/tools/EdgeModels.Cli -c Release -- generate"

$GEN --out $D/train-s1    --count 4000 --seed 1                          # training
$GEN --out $D/val-s2      --count 400  --seed 2                          # validation: training curves, evaluate.py --tune
$GEN --out $D/val-s2-1200 --count 1200 --seed 2                          # the same seed, 1,200 images (a superset): edge-models tune
$GEN --out $D/eval-s9001  --count 300  --seed 9001                       # held-out evaluation, never trained on
$GEN --out /tmp/samples-7001 --count 12 --seed 7001 --width 512 --height 512     # replay samples
mkdir -p models/samples/masks
cp /tmp/samples-7001/images/*.png /tmp/samples-7001/labels.jsonl models/samples/
cp /tmp/samples-7001/masks/*.png models/samples/masks/

# 1. fp32 UNet [16,32,64,128] from scratch (the recorded run was resumed once at step 200 after a restart).
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/fp32 --seed 1 --steps 1800
# 2. Hard-negative mining (PCB vias taken for pits) and a short fine-tune that centres 30% of crops on them.
$PY $T/mine.py --ckpt $R/fp32/final.pt --data $D/train-s1 --count 1200 --out $R/hard-negatives-fp32.npz
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/fp32-hn --init $R/fp32/final.pt \
    --hard-negatives $R/hard-negatives-fp32.npz --seed 2 --steps 500 --lr 1e-3 --warmup 20
# 3. Structured L1 channel pruning to 0.75 width [12,24,48,96], then fine-tuning.
$PY $T/prune.py --in $R/fp32-hn/final.pt --out $R/pruned-init.pt --ratio 0.75
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/pruned-hn --init $R/pruned-init.pt \
    --hard-negatives $R/hard-negatives-fp32.npz --seed 3 --steps ${PRUNED_STEPS:-300} --lr 1e-3 --warmup 20

# 4. Round 2: the fp32 model continued with crops centred on both its false positives and its missed defect pixels
#    (mine.py --include-missed), then pruned again from it and fine-tuned longer. These are the shipped models.
$PY $T/mine.py --ckpt $R/fp32-hn/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-fp32-hn.npz
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/fp32-r2 --init $R/fp32-hn/final.pt \
    --hard-negatives $R/hard-examples-fp32-hn.npz --seed 4 --steps 800 --lr 1e-3 --warmup 20
$PY $T/mine.py --ckpt $R/fp32-r2/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-fp32-r2.npz
$PY $T/prune.py --in $R/fp32-r2/final.pt --out $R/pruned-r2-init.pt --ratio 0.75
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/pruned-r2 --init $R/pruned-r2-init.pt \
    --hard-negatives $R/hard-examples-fp32-r2.npz --seed 5 --steps 1200 --lr 1e-3 --warmup 20

# 5. Round 3: the fp32 model continued 1,200 more steps at a lower rate (closes the fp32-pruned Dice gap); the pruned
#    model fine-tuned on points mined from itself, with 20% of crops centred on bright defects (the rarer polarity,
#    most of round 2's misses), then 2,400 more steps centred on bright linear defects (scratches, cracks).
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/fp32-r3 --init $R/fp32-r2/final.pt \
    --hard-negatives $R/hard-examples-fp32-r2.npz --seed 6 --steps 1200 --lr 5e-4 --warmup 20
$PY $T/mine.py --ckpt $R/pruned-r2/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-pruned-r2.npz
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/pruned-r3 --init $R/pruned-r2/final.pt \
    --hard-negatives $R/hard-examples-pruned-r2.npz --hard-fraction 0.25 --bright-fraction 0.2 --seed 7 --steps 1200 --lr 5e-4 --warmup 20
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/pruned-r4 --init $R/pruned-r3/final.pt \
    --hard-negatives $R/hard-examples-pruned-r2.npz --hard-fraction 0.25 --bright-fraction 0.15 --bright-classes 1 --seed 11 --steps 2400 --lr 5e-4 --warmup 20
# Tried and not shipped (more recall and Dice, but 3.5% false rejects and a 1.9-point gap to fp32):
#   $GEN --out $D/train-s3 --count 6000 --seed 3 --defect-free 0.2
#   $PY $T/train.py --data $D/train-s1 $D/train-s3 --val $D/val-s2 --out $R/pruned-r5 --init $R/pruned-r4/final.pt \
#       --hard-negatives $R/hard-examples-pruned-r2.npz --hard-fraction 0.2 --bright-fraction 0.15 --bright-classes 1 --seed 12 --steps 1800 --lr 4e-4 --warmup 20

# 6. Rounds 7 and 8: a targeted set of the scenes with bright scratches or cracks (1,107 of 12,000 defective scenes of
#    seed 21), then the model's own mistakes mined again (checkpoints/pruned-r8.pt).
$GEN --out /tmp/pool-s21 --count 12000 --seed 21 --defect-free 0
$PY $T/select_bright.py --data /tmp/pool-s21 --classes 1 --out $D/bright-s21
$PY $T/train.py --data $D/train-s1 $D/bright-s21 --val $D/val-s2 --out $R/pruned-r7 --init $R/pruned-r4/final.pt \
    --hard-negatives $R/hard-examples-pruned-r2.npz --hard-fraction 0.25 --bright-fraction 0.3 --bright-classes 1 --seed 13 --steps 2400 --lr 5e-4 --warmup 20
$PY $T/mine.py --ckpt $R/pruned-r7/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-pruned-r7.npz
$PY $T/train.py --data $D/train-s1 $D/bright-s21 --val $D/val-s2 --out $R/pruned-r8 --init $R/pruned-r7/final.pt \
    --hard-negatives $R/hard-examples-pruned-r7.npz --hard-fraction 0.3 --bright-fraction 0.15 --bright-classes 1 --seed 14 --steps 2400 --lr 3e-4 --warmup 20

# 7. Rounds 9 and 10: the thin-defect weight (train.py --thin-weight: up to 3x cross-entropy on defect pixels whose
#    9x9 neighbourhood is mostly good, i.e. thin scratches and small pits, the image-level misses of round 8),
#    on points mined from round 8, then from round 9. One intra-op thread each: two runs side by side on 2 cores.
#    pruned-r9 (the same without --thin-weight, seed 15, lr 2e-4) was run beside pruned-r9t as the control.
$PY $T/mine.py --ckpt $R/pruned-r8/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-pruned-r8.npz
$PY $T/train.py --data $D/train-s1 $D/bright-s21 --val $D/val-s2 --out $R/pruned-r9t --init $R/pruned-r8/final.pt \
    --hard-negatives $R/hard-examples-pruned-r8.npz --hard-fraction 0.3 --bright-fraction 0.15 --bright-classes 1 --threads 1 --warmup 20 \
    --steps 2400 --seed 16 --lr 3e-4 --thin-weight 2
$PY $T/mine.py --ckpt $R/pruned-r9t/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-pruned-r9t.npz
# Round 10: round 9t continued on its own mined mistakes (1.3.0). A twin with --thin-weight 3
# --hard-fraction 0.35 --seed 18 (pruned-r10b) was stopped at step 600 to free the core for packaging.
$PY $T/train.py --data $D/train-s1 $D/bright-s21 --val $D/val-s2 --out $R/pruned-r10a --init $R/pruned-r9t/final.pt \
    --hard-negatives $R/hard-examples-pruned-r9t.npz --bright-fraction 0.15 --bright-classes 1 --threads 1 --warmup 20 \
    --steps 2400 --seed 17 --lr 2e-4 --thin-weight 2 --hard-fraction 0.3

# 8. Rounds 11 and 12 (session 6): round 10 reshaped to widths that are whole 16-channel blocks, [12,24,48,96] ->
#    [16,16,48,96] (prune.py --widths: level 1 grows by four filters that start unread, level 2 is pruned by L1 norm
#    to 16), because ONNX Runtime's NCHWc kernels on AVX-512 leave unaligned widths on slower paths (models/README.md,
#    Results). Round 11 recovers from the level-2 cut on points mined from round 10 (the twin at lr 3e-4, seed 20,
#    aligned-r11b, ended 14 + 14 errors on the 1,200 validation images against round 11a's 10 + 11); round 12 continues
#    on round 11's own mistakes (the shipped 1.4.0: 8 + 9 errors there).
$PY $T/prune.py --in $T/checkpoints/pruned-r10a.pt --out $R/aligned-init.pt --widths 16,16,48,96
$PY $T/mine.py --ckpt $T/checkpoints/pruned-r10a.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-pruned-r10a.npz
$PY $T/train.py --data $D/train-s1 $D/bright-s21 --val $D/val-s2 --out $R/aligned-r11a --init $R/aligned-init.pt \
    --hard-negatives $R/hard-examples-pruned-r10a.npz --hard-fraction 0.3 --bright-fraction 0.15 --bright-classes 1 --threads 1 --warmup 20 \
    --steps 2400 --thin-weight 2 --seed 19 --lr 5e-4
$PY $T/mine.py --ckpt $R/aligned-r11a/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-aligned-r11a.npz
$PY $T/train.py --data $D/train-s1 $D/bright-s21 --val $D/val-s2 --out $R/aligned-r12 --init $R/aligned-r11a/final.pt \
    --hard-negatives $R/hard-examples-aligned-r11a.npz --hard-fraction 0.3 --bright-fraction 0.15 --bright-classes 1 --threads 1 --warmup 20 \
    --steps 2400 --thin-weight 2 --seed 21 --lr 2e-4

# 9. Rounds 13 and 14 (session 7). Each continues the one before on its mined mistakes; round 14 (not shipped on its
#    own: it rejected two good 512x512 replay frames) is training/checkpoints/aligned-r14.pt, where round 15 starts.
$PY $T/mine.py --ckpt $R/aligned-r12/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-aligned-r12.npz
$PY $T/train.py --data $D/train-s1 $D/bright-s21 --val $D/val-s2 --out $R/aligned-r13 --init $R/aligned-r12/final.pt \
    --hard-negatives $R/hard-examples-aligned-r12.npz --hard-fraction 0.3 --bright-fraction 0.15 --bright-classes 1 --threads 1 --warmup 20 \
    --steps 2400 --thin-weight 2 --seed 22 --lr 1.5e-4
$PY $T/mine.py --ckpt $R/aligned-r13/final.pt --data $D/train-s1 --count 2000 --include-missed --out $R/hard-examples-aligned-r13.npz
$PY $T/train.py --data $D/train-s1 $D/bright-s21 --val $D/val-s2 --out $R/aligned-r14 --init $R/aligned-r13/final.pt \
    --hard-negatives $R/hard-examples-aligned-r13.npz --hard-fraction 0.3 --bright-fraction 0.15 --bright-classes 1 --threads 1 --warmup 20 \
    --steps 2400 --thin-weight 2 --seed 24 --lr 1.5e-4

# 10. Round 15 (session 9, the shipped 1.5.0): round 14 continued with line-size frames. On 512x512 frames (the
#     replay samples' size) round 14 rejected good brushed-metal frames for their dark streaks, and per-frame false
#     rejects grow with the frame's area, so 1,000 scenes of 512x512 (seed 31) join the training sets, cut into
#     256x256 tiles (data.load_sets), and round 14's mistakes are mined on those whole frames. The rules are tuned on
#     256x256 and 512x512 validation frames together (val-mixed: both sets of seed 2, linked under one folder).
#     A twin at lr 1.5e-4, hard fraction 0.3, seed 25 (aligned-r15a) ended worse on every set.
$GEN --out $D/train512-s31   --count 1000 --seed 31   --width 512 --height 512   # training, line size
$GEN --out $D/val512-s2      --count 600  --seed 2    --width 512 --height 512   # validation, line size
$GEN --out $D/eval512-s7002  --count 300  --seed 7002 --width 512 --height 512   # held-out evaluation, line size
mkdir -p $D/val-mixed/images $D/val-mixed/masks
for s in val-s2-1200:a val512-s2:b; do
  for f in $D/${s%%:*}/images/*.png; do
    n=$(basename "$f")
    ln -sf "../../${s%%:*}/images/$n" "$D/val-mixed/images/${s##*:}-$n"
    ln -sf "../../${s%%:*}/masks/$n" "$D/val-mixed/masks/${s##*:}-$n"
  done
done
$PY $T/mine.py --ckpt $T/checkpoints/aligned-r14.pt --data $D/train-s1 $D/bright-s21 $D/train512-s31 --mine 2 --count 1000 \
    --include-missed --out $R/hard-examples-aligned-r14-512.npz
$PY $T/train.py --data $D/train-s1 $D/bright-s21 $D/train512-s31 --val $D/val-s2 --out $R/aligned-r15b --init $T/checkpoints/aligned-r14.pt \
    --hard-negatives $T/checkpoints/hard-examples-aligned-r13.npz $R/hard-examples-aligned-r14-512.npz --hard-fraction 0.4 \
    --bright-fraction 0.15 --bright-classes 1 --threads 1 --warmup 20 --steps 2400 --thin-weight 2 --seed 26 --lr 1e-4
# Tried and not shipped (the fp32 reference with the same recipe: Dice 0.942, models/README.md):
#   $PY $T/train.py --data $D/train-s1 $D/bright-s21 $D/train512-s31 --val $D/val-s2 --out $R/fp32-r4 --init $T/checkpoints/fp32-r3.pt \
#       --hard-negatives $T/checkpoints/hard-examples-aligned-r13.npz $R/hard-examples-aligned-r14-512.npz --hard-fraction 0.4 \
#       --bright-fraction 0.15 --bright-classes 1 --threads 1 --warmup 20 --steps 2400 --thin-weight 2 --seed 27 --lr 3e-4

# Evaluation, export and packages. Rules from evaluate.py --tune are the packages' starting point; variants.sh then
# tunes every package on its own numerics with edge-models tune and records its held-out evaluations. (The fp32
# reference 1.2.0 was tuned on val-s2-1200 here; the pruned 1.5.0 on val-s2, then re-tuned by variants.sh.)
FP32=fp32-r3 PRUNED=${PRUNED:-aligned-r15b}
for m in $FP32 $PRUNED; do
  $PY $T/evaluate.py --ckpt $R/$m/final.pt --data $D/val-s2 --tune --out $R/$m/tuned.json
  $PY $T/evaluate.py --ckpt $R/$m/final.pt --data $D/eval-s9001 --rules $R/$m/tuned.json --out $R/$m/eval.json
  $PY $T/export.py --ckpt $R/$m/final.pt --out $R/$m/model.onnx
done
$PY $T/package.py --onnx $R/$FP32/model.onnx --eval $R/$FP32/eval.json --tuned $R/$FP32/tuned.json \
    --train-run $R/fp32 $R/fp32-hn $R/fp32-r2 $R/fp32-r3 --out models/packages/defect-unet-fp32 --id defect-unet --version 1.2.0 \
    --data-description "edge-models generate --seed 1 --count 4000 --width 256 --height 256"
$PY $T/package.py --onnx $R/$PRUNED/model.onnx --eval $R/$PRUNED/eval.json --tuned $R/$PRUNED/tuned.json \
    --train-run $R/fp32 $R/fp32-hn $R/fp32-r2 $R/pruned-r2 $R/pruned-r3 $R/pruned-r4 $R/pruned-r8 $R/pruned-r9t $R/pruned-r10a \
    $R/aligned-r11a $R/aligned-r12 $R/aligned-r13 $R/aligned-r14 $R/aligned-r15b --out models/packages/defect-unet-pruned-fp32 \
    --id defect-unet-pruned --version 1.5.0 \
    --prune-command "$PY $T/prune.py --in $R/fp32-r2/final.pt --out $R/pruned-r2-init.pt --ratio 0.75; then, to whole 16-channel blocks from round 10: $PY $T/prune.py --in $T/checkpoints/pruned-r10a.pt --out $R/aligned-init.pt --widths 16,16,48,96" \
    --data-description "edge-models generate --seed 1 --count 4000 --width 256 --height 256; from round 7 on also the 1,107 scenes with bright scratches or cracks among 12,000 defective scenes of seed 21 (select_bright.py); in round 15 also edge-models generate --seed 31 --count 1000 --width 512 --height 512 (the line's frame size, cut into 256x256 tiles)"
# Then FP16, INT8 (calibrated on 256 images), tuning on both frame sizes, golden samples:
VALIDATION=$D/val-mixed CALIBRATION_IMAGES=256 \
  VALIDATION_DESCRIPTION="edge-models generate --seed 2 --count 1200 (256x256) and --seed 2 --count 600 --width 512 --height 512" \
  bash $T/variants.sh
