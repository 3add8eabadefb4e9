#!/usr/bin/env bash
# Derives the pruned FP16 and INT8 packages from the pruned fp32 package with edge-models (the same tools
# an ML engineer uses on their own model). Run from the repository root after pipeline.sh.
set -euo pipefail
SRC=models/packages/defect-unet-pruned-fp32
CAL=${CALIBRATION:-models/training/.data/val-s2}   # calibration images: a training seed, never the eval seed
EM="./build.sh tool edge-models"
VAL=${VALIDATION:-models/training/.data/val-s2-1200}  # threshold tuning: 1,200 images of seed 2 (never the eval seed)

# Each package's verdict rule (per-class threshold and minimum area) is tuned on its own numerics, through the
# runtime's own session, stitching and class decision: an INT8 model's probabilities are not its float parent's.
tune() { $EM tune --model "$1" --images "$VAL/images" --masks "$VAL/masks" --write --top 3; }
tune "$SRC"

variant() { # name precision
  local out=models/packages/defect-unet-pruned-$1
  rm -rf "$out" && mkdir -p "$out"
  /usr/bin/python3 - "$SRC/manifest.json" "$out/manifest.json" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["model"]["precision"] = sys.argv[3]
m["id"] = "defect-unet-pruned-" + sys.argv[3]
json.dump(m, open(sys.argv[2], "w"), indent=2)
PY
}

variant fp16 fp16
$EM fp16 "$SRC/model.onnx" models/packages/defect-unet-pruned-fp16/model.onnx
$EM package models/packages/defect-unet-pruned-fp16 --update-hash --out /tmp/defect-unet-pruned-fp16.edgepkg
tune models/packages/defect-unet-pruned-fp16

variant int8 int8
$EM quantize "$SRC/model.onnx" models/packages/defect-unet-pruned-int8/model.onnx --calibration "$CAL" \
  --manifest "$SRC/manifest.json" --max-images 64 ${QUANTIZE_ARGS:-}
$EM package models/packages/defect-unet-pruned-int8 --update-hash --out /tmp/defect-unet-pruned-int8.edgepkg
tune models/packages/defect-unet-pruned-int8

# Golden samples: a few replay samples with clear-cut verdicts that every shipped variant judges correctly. The
# runtime judges them after each load (a candidate that gets one wrong is refused) and every GoldenCheckMinutes.
GOLDEN=${GOLDEN:-"00000.png 00001.png 00003.png 00006.png"}
G=$(mktemp -d)
for f in $GOLDEN; do cp "models/samples/$f" "$G/"; grep "\"file\":\"$f\"" models/samples/labels.jsonl >> "$G/labels.jsonl"; done
for p in fp32 pruned-fp32 pruned-fp16 pruned-int8; do
  $EM package "models/packages/defect-unet-$p" --golden "$G" --labels "$G/labels.jsonl" --out "/tmp/defect-unet-$p.edgepkg"
done
rm -rf "$G"
