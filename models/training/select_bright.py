"""Writes the subset of a generated data set whose images hold bright defects of the given classes (images/, masks/
and labels.jsonl, files renumbered), so that a fine-tune can see many more of the generator's rarer polarity than a
plain set holds: bright scratches are 25% of scratches, and a pale one on a board is about 1% of training images.

  /usr/bin/python3 models/training/select_bright.py --data /tmp/pool-s21 --classes 1 --out models/training/.data/bright-s21
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from train import bright_defect_points  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True, help="a set written by `edge-models generate`")
    p.add_argument("--out", required=True)
    p.add_argument("--classes", default="1", help="defect classes whose bright pixels select an image")
    p.add_argument("--chunk", type=int, default=1000, help="images held in memory at once")
    a = p.parse_args()
    classes = [int(c) for c in a.classes.split(",")]
    labels = [json.loads(line) for line in open(os.path.join(a.data, "labels.jsonl"))]
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "masks"), exist_ok=True)
    kept = []
    for s in range(0, len(labels), a.chunk):
        part = labels[s:s + a.chunk]
        images, masks, _ = data.load_labelled(a.data, part)
        selected = sorted(set(int(i) for i in bright_defect_points(images, masks, classes, per_image=1)[:, 0]))
        for i in selected:
            label = dict(part[i], file=f"{len(kept):05d}.png", source=os.path.join(a.data, part[i]["file"]))
            for folder in ("images", "masks"):
                shutil.copyfile(os.path.join(a.data, folder, part[i]["file"]), os.path.join(a.out, folder, label["file"]))
            kept.append(label)
        print(f"{min(s + a.chunk, len(labels))}/{len(labels)} read, {len(kept)} kept", flush=True)
    with open(os.path.join(a.out, "labels.jsonl"), "w") as f:
        f.writelines(json.dumps(label) + "\n" for label in kept)
    surfaces = {}
    for label in kept:
        surfaces[label["surface"]] = surfaces.get(label["surface"], 0) + 1
    print(f"kept {len(kept)} of {len(labels)} images with bright class {classes} defects: {surfaces}")


if __name__ == "__main__":
    main()
