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
