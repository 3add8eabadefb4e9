#!/usr/bin/env bash
# Derives the pruned FP16 and INT8 packages from the pruned fp32 package with edge-models (the same tools
# an ML engineer uses on their own model). Run from the repository root after pipeline.sh.
set -euo pipefail
SRC=models/packages/defect-unet-pruned-fp32
CAL=${CALIBRATION:-models/training/.data/val-s2}   # calibration images: a training seed, never the eval seed
EM="./build.sh tool edge-models"
VAL=${VALIDATION:-models/training/.data/val-s2-1200}  # threshold tuning: 1,200 images of seed 2 (never the eval seed)
VAL_DESCRIPTION=${VALIDATION_DESCRIPTION:-"edge-models generate --seed 2 --count 1200"}
CAL_IMAGES=${CALIBRATION_IMAGES:-256}   # 1.5.0: 256 (64, to 1.4.0, left one more validation error)

# Each package's verdict rule (per-class threshold and minimum area) is tuned on its own numerics, through the
# runtime's own session, stitching and class decision: an INT8 model's probabilities are not its float parent's.
# The package's provenance then records the rule's tuning figures and the held-out evaluation of the package itself.
EVAL=${EVALUATION:-models/training/.data/eval-s9001}
# The line's own frame size (512x512, like the replay samples): false rejects per frame grow with the frame's area,
# so the packages also record their verdict figures on held-out frames of that size.
LINE_EVAL=${LINE_EVALUATION:-models/training/.data/eval512-s7002}
LINE_EVAL_DESCRIPTION=${LINE_EVALUATION_DESCRIPTION:-"edge-models generate --seed 7002 --count 300 --width 512 --height 512"}
tune() {
  local name; name=$(basename "$1")
  $EM tune --model "$1" --images "$VAL/images" --masks "$VAL/masks" --write --top 3 --json > /tmp/tune-$name.json
  $EM eval --model "$1" --images "$EVAL/images" --masks "$EVAL/masks" --json > /tmp/eval-$name.json
  $EM eval --model "$1" --images "$LINE_EVAL/images" --masks "$LINE_EVAL/masks" --json > /tmp/eval-line-$name.json
  /usr/bin/python3 - "$1/manifest.json" /tmp/tune-$name.json /tmp/eval-$name.json /tmp/eval-line-$name.json "$VAL_DESCRIPTION" \
    "$LINE_EVAL_DESCRIPTION" <<'PY'
import json, sys
m, t, e, line = (json.load(open(p)) for p in sys.argv[1:5])
best = t["best"]
rule = ", ".join(f"{c['class']} {c['threshold']}/{c['minArea']}" for c in best["classes"])
m["provenance"]["thresholdTuning"] = (f"edge-models tune on {sys.argv[5]} ({t['images']} validation images): "
                                      f"{rule}; recall {best['recall']:.4f}, false rejects {best['falseRejectRate']:.4f}")
per_class = {c["class"]: c for c in e["perClass"]}
m["provenance"]["metrics"] = {
    "anyDefectDice": round(e["anyDefectDice"], 4),
    "diceLinear": round(per_class["linear"]["dice"], 4), "diceBlob": round(per_class["blob"]["dice"], 4),
    "iouLinear": round(per_class["linear"]["iou"], 4), "iouBlob": round(per_class["blob"]["iou"], 4),
    "imageRecall": round(e["imageRecall"], 4), "falseRejectRate": round(e["falseRejectRate"], 4),
    "instanceRecall": round(e["instanceRecall"], 4), "evaluationImages": e["images"],
}
m["provenance"]["lineFrameMetrics"] = {
    "imageRecall": round(line["imageRecall"], 4), "falseRejectRate": round(line["falseRejectRate"], 4),
    "anyDefectDice": round(line["anyDefectDice"], 4), "evaluationImages": line["images"],
    "evaluationSet": f"{sys.argv[6]} (held out)",
}
m["provenance"]["metricsMeasuredWith"] = "edge-models eval (the runtime's own preprocessing, session and postprocessing)"
json.dump(m, open(sys.argv[1], "w"), indent=2)
open(sys.argv[1], "a").write("\n")
PY
}
# STEPS picks what to (re)build, in this order: the fp32 reference's and the pruned fp32 package's rules, the FP16
# and INT8 variants, the golden samples of all four (e.g. STEPS="reference golden" after retraining only the reference).
STEPS=" ${STEPS:-reference pruned fp16 int8 golden} "
step() { [[ "$STEPS" == *" $1 "* ]]; }
step reference && tune models/packages/defect-unet-fp32
step pruned && tune "$SRC"

variant() { # name precision
  local out=models/packages/defect-unet-pruned-$1
  rm -rf "$out" && mkdir -p "$out"
  /usr/bin/python3 - "$SRC/manifest.json" "$out/manifest.json" "$2" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["model"]["precision"] = sys.argv[3]
m["id"] = "defect-unet-pruned-" + sys.argv[3]
m.pop("goldenSamples", None)  # the parent's, from an earlier run; re-attached below with the files beside them
json.dump(m, open(sys.argv[2], "w"), indent=2)
PY
}

if step fp16; then
  variant fp16 fp16
  $EM fp16 "$SRC/model.onnx" models/packages/defect-unet-pruned-fp16/model.onnx
  $EM package models/packages/defect-unet-pruned-fp16 --update-hash --out /tmp/defect-unet-pruned-fp16.edgepkg
  tune models/packages/defect-unet-pruned-fp16
fi

if step int8; then
  variant int8 int8
  $EM quantize "$SRC/model.onnx" models/packages/defect-unet-pruned-int8/model.onnx --calibration "$CAL" \
    --manifest "$SRC/manifest.json" --max-images "$CAL_IMAGES" ${QUANTIZE_ARGS:-}
  $EM package models/packages/defect-unet-pruned-int8 --update-hash --out /tmp/defect-unet-pruned-int8.edgepkg
  tune models/packages/defect-unet-pruned-int8
fi

# Golden samples: a few replay samples with clear-cut verdicts that every shipped variant judges correctly. The
# runtime judges them after each load (a candidate that gets one wrong is refused) and every GoldenCheckMinutes.
step golden || exit 0
GOLDEN=${GOLDEN:-"00000.png 00001.png 00003.png 00006.png"}
G=$(mktemp -d)
for f in $GOLDEN; do cp "models/samples/$f" "$G/"; grep "\"file\":\"$f\"" models/samples/labels.jsonl >> "$G/labels.jsonl"; done
for p in fp32 pruned-fp32 pruned-fp16 pruned-int8; do
  $EM package "models/packages/defect-unet-$p" --golden "$G" --labels "$G/labels.jsonl" --out "/tmp/defect-unet-$p.edgepkg"
done
rm -rf "$G"
