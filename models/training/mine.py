"""Hard-example mining: runs a checkpoint over training images and records pixels it calls a defect where the
mask says good (e.g. PCB vias taken for pits) and, with --include-missed, defect pixels it calls good (e.g. bright
spots on a board read as silkscreen), so fine-tuning can centre crops on both.
Example: /usr/bin/python3 models/training/mine.py --ckpt runs/fp32/final.pt --data .data/train-s1 --count 1200 --out runs/hard-negatives.npz
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from unet import load_checkpoint  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", required=True)
    p.add_argument("--data", nargs="+", required=True,
                   help="the training sets in train.py's order; the points index their concatenation (data.load_sets)")
    p.add_argument("--mine", type=int, default=0, help="which of the --data sets to mine (0 = the first)")
    p.add_argument("--count", type=int, default=1200, help="how many of its scenes, from the first")
    p.add_argument("--threshold", type=float, default=0.3)
    p.add_argument("--include-missed", action="store_true", help="also record missed defect pixels")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    torch.set_num_threads(2)
    model, _ = load_checkpoint(a.ckpt)
    model.eval()
    # Whole scenes, as the line sees them (a 512x512 frame's context, not its tiles'), then numbered as training tiles.
    images, masks, _ = data.load(a.data[a.mine], a.count)
    tile = data.tile_size(a.data)
    first_tile = sum(data.tile_count(d, tile) for d in a.data[:a.mine])
    points = []
    with torch.no_grad():
        for s in range(0, len(images), 16):
            prob = model(data.normalize(images[s:s + 16])).softmax(1)
            called_defect = ((1 - prob[:, 0]) >= a.threshold).numpy()
            wrong = called_defect & (masks[s:s + 16] == 0)
            if a.include_missed:
                wrong |= ~called_defect & (masks[s:s + 16] > 0)
            points += data.spread_points(wrong, s)
    arr = data.points_to_tiles(np.array(points, dtype=np.int32).reshape(-1, 3), images.shape[2], tile, first_tile)
    np.savez(a.out, points=arr)
    print(f"{len(arr)} hard-example points in {len(np.unique(arr[:, 0]))} of {len(images) * (images.shape[2] // tile) ** 2} "
          f"training tiles ({len(images)} scenes of {a.data[a.mine]})")


if __name__ == "__main__":
    main()
