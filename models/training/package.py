"""Writes a model package folder (model.onnx + manifest.json, schema version 1) from an exported ONNX file,
the tuned per-class rules and the evaluation results.
Example: /usr/bin/python3 models/training/package.py --onnx runs/fp32/model.onnx --eval runs/fp32/eval.json --tuned runs/fp32/tuned.json --train-run runs/fp32 --out models/packages/defect-unet-fp32 --id defect-unet
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil

import torch


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run_info(run):
    """Training command, steps and wall time of a run folder (final.pt and log)."""
    ck = torch.load(os.path.join(run, "final.pt"), map_location="cpu")
    return {"command": "/usr/bin/python3 " + " ".join(ck["argv"]), "seed": ck["args"]["seed"],
            "steps": ck["step"], "batch": ck["args"]["batch"], "crop": ck["args"]["crop"],
            "wallTimeSeconds": round(ck["elapsed"]), "widths": ck["config"]["widths"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--onnx", required=True)
    p.add_argument("--eval", required=True)
    p.add_argument("--tuned", required=True)
    p.add_argument("--train-run", nargs="+", required=True, help="run folders, in order (fp32 training, then fine-tuning)")
    p.add_argument("--continues", help="manifest.json of the package whose checkpoint the first --train-run started from "
                                       "(training/checkpoints): its training stages and pruning command come first")
    p.add_argument("--prune-command", default=None)
    p.add_argument("--out", required=True)
    p.add_argument("--id", required=True)
    p.add_argument("--version", default="1.0.0")
    p.add_argument("--data-description", required=True)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    target = os.path.join(a.out, "model.onnx")
    shutil.copyfile(a.onnx, target)
    ev = json.load(open(a.eval))
    tuned = json.load(open(a.tuned))
    rules = tuned["rules"]
    stages = [run_info(r) for r in a.train_run]
    prune_command = a.prune_command
    if a.continues:
        earlier = json.load(open(a.continues))["provenance"]
        stages = earlier["training"] + stages
        prune_command = prune_command or earlier.get("pruning")
    provenance = {
        "framework": f"pytorch {torch.__version__.split('a')[0].rsplit('.', 1)[0]}",
        "trainingData": a.data_description,
        "createdUtc": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "metrics": {
            "anyDefectDice": round(ev["anyDefectDice"], 4),
            "diceLinear": round(ev["dice_linear"], 4),
            "diceBlob": round(ev["dice_blob"], 4),
            "iouLinear": round(ev["iou_linear"], 4),
            "iouBlob": round(ev["iou_blob"], 4),
            "imageRecall": round(ev["recall"], 4),
            "falseRejectRate": round(ev["falseRejectRate"], 4),
            "evaluationImages": ev["images"],
        },
        "evaluationData": "edge-models generate --seed 9001 --count 300 --width 256 --height 256 (held out, never trained on)",
        "thresholdTuning": f"tuned on edge-models generate --seed 2 (validation, training seeds) with {tuned['images']} images: "
                           f"recall {tuned['recall']:.4f}, false rejects {tuned['falseRejectRate']:.4f}",
        "recipe": "models/training/pipeline.sh (exact commands, in order)",
        "training": stages,
    }
    if prune_command:
        provenance["pruning"] = prune_command
    manifest = {
        "schemaVersion": 1,
        "id": a.id,
        "version": a.version,
        "task": "semantic-segmentation",
        "model": {"file": "model.onnx", "sha256": sha256(target), "precision": "fp32"},
        "input": {
            "name": "input", "layout": "NCHW", "width": 256, "height": 256, "channels": 3, "colorOrder": "RGB",
            "dtype": "float32", "resize": "tile",
            "normalization": {"scale": 1 / 255, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]},
        },
        "output": {"name": "logits", "kind": "logits", "activation": "softmax"},
        "classes": [
            {"index": 0, "name": "good", "color": "#000000"},
            {"index": 1, "name": "linear", "color": "#ff3030", "threshold": rules["1"]["threshold"], "minArea": rules["1"]["minArea"]},
            {"index": 2, "name": "blob", "color": "#30a0ff", "threshold": rules["2"]["threshold"], "minArea": rules["2"]["minArea"]},
        ],
        "tiling": {"tileWidth": 256, "tileHeight": 256, "overlap": 32},
        "provenance": provenance,
    }
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
