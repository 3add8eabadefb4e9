#!/usr/bin/env bash
# Rebuilds the sample defect UNet packages from nothing: data, fp32 training, pruning, fine-tuning, threshold
# tuning, evaluation, ONNX export, packages. Run from the repository root. Takes about 1.5 h on 2 idle cores.
set -euo pipefail
PY=/usr/bin/python3                      # has torch 1.13 + onnx 1.12 (plain python3 does not)
T=models/training
D=$T/.data
R=$T/runs
GEN="dotnet run --project models/tools/EdgeModels.Cli -c Release -- generate"

$GEN --out $D/train-s1    --count 4000 --seed 1                          # training
$GEN --out $D/val-s2      --count 400  --seed 2                          # validation: threshold tuning (training seeds)
$GEN --out $D/eval-s9001  --count 300  --seed 9001                       # held-out evaluation, never trained on
$GEN --out /tmp/samples-7001 --count 12 --seed 7001 --width 512 --height 512     # replay samples
mkdir -p models/samples/masks
cp /tmp/samples-7001/images/*.png /tmp/samples-7001/labels.jsonl models/samples/
cp /tmp/samples-7001/masks/*.png models/samples/masks/

$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/fp32 --seed 1 --steps ${FP32_STEPS:-1800}
$PY $T/prune.py --in $R/fp32/final.pt --out $R/pruned-init.pt --ratio 0.75
$PY $T/train.py --data $D/train-s1 --val $D/val-s2 --out $R/pruned --init $R/pruned-init.pt --seed 1 \
    --steps ${PRUNED_STEPS:-500} --lr 1e-3 --warmup 20

for m in fp32 pruned; do
  $PY $T/evaluate.py --ckpt $R/$m/final.pt --data $D/val-s2 --tune --out $R/$m/tuned.json
  $PY $T/evaluate.py --ckpt $R/$m/final.pt --data $D/eval-s9001 --rules $R/$m/tuned.json --out $R/$m/eval.json
  $PY $T/export.py --ckpt $R/$m/final.pt --out $R/$m/model.onnx
done
$PY $T/package.py --onnx $R/fp32/model.onnx --eval $R/fp32/eval.json --tuned $R/fp32/tuned.json \
    --train-run $R/fp32 --out models/packages/defect-unet-fp32 --id defect-unet \
    --data-description "edge-models generate --seed 1 --count 4000 --width 256 --height 256"
$PY $T/package.py --onnx $R/pruned/model.onnx --eval $R/pruned/eval.json --tuned $R/pruned/tuned.json \
    --train-run $R/fp32 $R/pruned --out models/packages/defect-unet-pruned-fp32 --id defect-unet-pruned \
    --prune-command "$PY $T/prune.py --in $R/fp32/final.pt --out $R/pruned-init.pt --ratio 0.75" \
    --data-description "edge-models generate --seed 1 --count 4000 --width 256 --height 256"
