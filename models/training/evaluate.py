"""Evaluates a checkpoint on a generated data set, and tunes per-class threshold/minArea.

Verdict rule (as the runtime applies it): an image is FAIL if, for any defect class c, a connected component
(8-connected) of pixels with softmax probability p_c >= threshold_c has an area >= minArea_c.

Tune on a validation split of the TRAINING seeds (never the evaluation seed):
  /usr/bin/python3 models/training/evaluate.py --ckpt runs/fp32/final.pt --data .data/val-s2 --tune --out runs/fp32/tuned.json
Evaluate on the held-out evaluation seed with the tuned settings:
  /usr/bin/python3 models/training/evaluate.py --ckpt runs/fp32/final.pt --data .data/eval-s9001 --rules runs/fp32/tuned.json --out runs/fp32/eval.json
"""
import argparse
import itertools
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from unet import load_checkpoint  # noqa: E402

THRESHOLDS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
MIN_AREAS = [1, 2, 3, 4, 6, 8, 10, 12, 16, 20, 30]


@torch.no_grad()
def predict(model, images, batch=16):
    probs = []
    for s in range(0, len(images), batch):
        probs.append(model(data.normalize(images[s:s + batch])).softmax(1))
    return torch.cat(probs)


AREA_CAP = 64


def max_component_area(binary, cap=AREA_CAP):
    """binary: bool [N,H,W] -> int array [N], area of the largest 8-connected component, capped at `cap`
    (the verdict only compares it with minArea < cap, and the cap keeps a flooded prediction cheap)."""
    binary = binary.numpy() if isinstance(binary, torch.Tensor) else binary
    n, h, w = binary.shape
    result = np.zeros(n, dtype=np.int64)
    for i in range(n):
        ys, xs = np.nonzero(binary[i])
        if len(ys) == 0:
            continue
        remaining = set(zip(ys.tolist(), xs.tolist()))
        best = 0
        while remaining and best < cap:
            stack = [remaining.pop()]
            area = 0
            while stack and area < cap:
                y, x = stack.pop()
                area += 1
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        q = (y + dy, x + dx)
                        if q in remaining:
                            remaining.remove(q)
                            stack.append(q)
            best = max(best, area)
        result[i] = min(best, cap)
    return result


def areas_by_threshold(probs):
    """{class: {threshold: max component area per image}}"""
    return {c: {t: max_component_area(probs[:, c] >= t) for t in THRESHOLDS} for c in (1, 2)}


def verdicts(areas, rules):
    fail = np.zeros(len(next(iter(areas[1].values()))), dtype=bool)
    for c in (1, 2):
        fail |= areas[c][rules[str(c)]["threshold"]] >= rules[str(c)]["minArea"]
    return fail


def image_metrics(fail, truth):
    tp = int(np.sum(fail & truth))
    fn = int(np.sum(~fail & truth))
    fp = int(np.sum(fail & ~truth))
    tn = int(np.sum(~fail & ~truth))
    return {"recall": tp / max(tp + fn, 1), "falseRejectRate": fp / max(fp + tn, 1), "tp": tp, "fn": fn, "fp": fp, "tn": tn}


def pixel_metrics(probs, masks):
    pred = probs.argmax(1).numpy()
    out = {}
    for c, name in ((1, "linear"), (2, "blob")):
        p, g = pred == c, masks == c
        inter, union = np.sum(p & g), np.sum(p | g)
        out[f"iou_{name}"] = float(inter / max(union, 1))
        out[f"dice_{name}"] = float(2 * inter / max(p.sum() + g.sum(), 1))
    p, g = pred > 0, masks > 0
    out["anyDefectDice"] = float(2 * np.sum(p & g) / max(p.sum() + g.sum(), 1))
    out["anyDefectIou"] = float(np.sum(p & g) / max(np.sum(p | g), 1))
    return out


def tune(areas, truth):
    best = None
    for t1, m1, t2, m2 in itertools.product(THRESHOLDS, MIN_AREAS, THRESHOLDS, MIN_AREAS):
        fail = (areas[1][t1] >= m1) | (areas[2][t2] >= m2)
        m = image_metrics(fail, truth)
        # Meet the targets with the largest margin; prefer thresholds near 0.5 and larger minArea on ties.
        score = (min(m["recall"] - 0.99, 0.02 - m["falseRejectRate"]), -abs(t1 - 0.5) - abs(t2 - 0.5), m1 + m2)
        if best is None or score > best[0]:
            best = (score, {"1": {"threshold": t1, "minArea": m1}, "2": {"threshold": t2, "minArea": m2}}, m)
    return best[1], best[2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--count", type=int)
    p.add_argument("--tune", action="store_true")
    p.add_argument("--rules", help="json with per-class threshold/minArea (from --tune)")
    p.add_argument("--out")
    a = p.parse_args()
    torch.set_num_threads(2)
    t0 = time.time()
    model, ckpt = load_checkpoint(a.ckpt)
    model.eval()
    images, masks, labels = data.load(a.data, a.count)
    truth = np.array([l["verdict"] == "FAIL" for l in labels])
    probs = predict(model, images)
    result = {"checkpoint": a.ckpt, "data": a.data, "images": len(images), "defective": int(truth.sum()),
              **pixel_metrics(probs, masks)}
    areas = areas_by_threshold(probs)
    if a.tune:
        rules, m = tune(areas, truth)
        result["rules"] = rules
        result.update(m)
    else:
        rules = json.load(open(a.rules))["rules"] if a.rules else {"1": {"threshold": 0.5, "minArea": 6}, "2": {"threshold": 0.5, "minArea": 10}}
        result["rules"] = rules
        fail = verdicts(areas, rules)
        result.update(image_metrics(fail, truth))
        result["missed"] = [labels[i]["file"] for i in np.nonzero(~fail & truth)[0]]
        result["falseRejects"] = [labels[i]["file"] for i in np.nonzero(fail & ~truth)[0]]
    result["seconds"] = round(time.time() - t0, 1)
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        open(a.out, "w").write(text)


if __name__ == "__main__":
    main()
