"""Where a checkpoint misses defects, by surface and polarity: for every image whose defects are all of one class,
whether the model finds them (peak probability of that class on the defect's pixels >= --threshold), split by
surface and by whether the defect is brighter than its surroundings (train.bright_defect_points).
Example (the figures in models/README.md, round 4):
  /usr/bin/python3 models/training/errors.py --ckpt models/training/checkpoints/pruned-r4.pt --data models/training/.data/train-s1 --count 1500
"""
import argparse
import collections
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from train import bright_defect_points  # noqa: E402
from unet import load_checkpoint  # noqa: E402

CLASSES = {1: "linear", 2: "blob"}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--count", type=int)
    p.add_argument("--threshold", type=float, default=0.5)
    a = p.parse_args()
    torch.set_num_threads(2)
    model, _ = load_checkpoint(a.ckpt)
    model.eval()
    images, masks, labels = data.load(a.data, a.count)
    points = bright_defect_points(images, masks, tuple(CLASSES))
    bright_images = {c: set(points[masks[points[:, 0], points[:, 1], points[:, 2]] == c, 0].tolist()) for c in CLASSES}
    found = collections.Counter()
    total = collections.Counter()
    missed = collections.defaultdict(list)
    with torch.no_grad():
        for i, label in enumerate(labels):
            classes = {d["class"] for d in label["defects"]}
            if len(classes) != 1:
                continue
            c = classes.pop()
            prob = model(data.normalize(images[i:i + 1])).softmax(1)[0, c].numpy()
            key = (CLASSES[c], label["surface"], "bright" if i in bright_images[c] else "dark")
            total[key] += 1
            if prob[masks[i] == c].max() >= a.threshold:
                found[key] += 1
            else:
                missed[key].append(label["file"])
    print(f"{'class':8}{'surface':14}{'polarity':10}{'found':>12}  missed (first 8)")
    for key in sorted(total):
        print(f"{key[0]:8}{key[1]:14}{key[2]:10}{found[key]:>6} of {total[key]:<3}  {' '.join(missed[key][:8])}")


if __name__ == "__main__":
    main()
