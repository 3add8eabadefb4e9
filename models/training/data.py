"""Loads a data set written by `edge-models generate` (images/, masks/, labels.jsonl) into memory."""
import json
import os

import numpy as np
from PIL import Image


def load(root, limit=None):
    labels = [json.loads(line) for line in open(os.path.join(root, "labels.jsonl"))]
    if limit:
        labels = labels[:limit]
    return load_labelled(root, labels)


def load_labelled(root, labels):
    """The images and masks of the `labels` entries of the set at `root` -> (images, masks, labels)."""
    images = np.stack([np.array(Image.open(os.path.join(root, "images", l["file"])).convert("RGB")) for l in labels])
    masks = np.stack([np.array(Image.open(os.path.join(root, "masks", l["file"]))) for l in labels])
    return images, masks, labels


def load_sets(roots):
    """The sets at `roots`, concatenated in order -> (images, masks). Scenes larger than the smallest set's are cut
    into tiles of that size, row by row (split_tiles), so 512x512 line-size frames train beside 256x256 ones; an
    index into the result is stable for a given list of roots, which is what mine.py's points rely on."""
    tile = tile_size(roots)
    parts = [load(r)[:2] for r in roots]
    return (np.concatenate([split_tiles(p[0], tile) for p in parts]),
            np.concatenate([split_tiles(p[1], tile) for p in parts]))


def scene_size(root):
    """(count, width) of the set at `root`, from its labels and first image (square scenes)."""
    labels = [json.loads(line) for line in open(os.path.join(root, "labels.jsonl"))]
    return len(labels), Image.open(os.path.join(root, "images", labels[0]["file"])).size[0]


def tile_size(roots):
    return min(scene_size(r)[1] for r in roots)


def tile_count(root, tile):
    count, width = scene_size(root)
    return count * (width // tile) ** 2


def points_to_tiles(points, width, tile, first_tile):
    """[K,3] (scene, y, x) in `width`-wide scenes -> (tile, y, x) in load_sets' numbering, from `first_tile` on."""
    per_row = width // tile
    index = first_tile + points[:, 0] * per_row * per_row + (points[:, 1] // tile) * per_row + points[:, 2] // tile
    return np.stack([index, points[:, 1] % tile, points[:, 2] % tile], axis=1).astype(np.int32)


def split_tiles(array, tile):
    """[N,H,W,...] -> [N*(H/tile)*(W/tile), tile, tile, ...], scene by scene, tiles row by row."""
    n, h, w = array.shape[:3]
    if h % tile or w % tile:
        raise ValueError(f"{h}x{w} scenes do not cut into {tile}x{tile} tiles")
    rest = array.shape[3:]
    t = array.reshape(n, h // tile, tile, w // tile, tile, *rest).swapaxes(2, 3)
    return np.ascontiguousarray(t.reshape(-1, tile, tile, *rest))


def normalize(images_uint8):
    """uint8 NHWC RGB -> float32 NCHW, value = (pixel/255 - 0.5) / 0.25 (matches manifest normalization)."""
    import torch
    x = torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float()
    return (x / 255.0 - 0.5) / 0.25


def spread_points(selected, first_index, per_image=8):
    """(image, y, x) of up to `per_image` pixels per image of the bool batch `selected` [N,H,W], spread evenly over
    each image's selected pixels (a few per region are enough to centre training crops on it); `first_index` is the
    batch's first image index in the data set."""
    points = []
    for j in range(len(selected)):
        ys, xs = np.nonzero(selected[j])
        if len(ys):
            pick = np.linspace(0, len(ys) - 1, min(len(ys), per_image)).astype(int)
            points += [(first_index + j, ys[k], xs[k]) for k in pick]
    return points
