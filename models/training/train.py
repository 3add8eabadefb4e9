"""Trains the defect UNet on data from `edge-models generate`.

Reproducible: torch.manual_seed + a numpy Generator drive initialisation and the crop order; two threads.
Checkpoints every --checkpoint-every steps into --out and resumes from out/last.pt when present.
Example: /usr/bin/python3 models/training/train.py --data models/training/.data/train-s1 --val models/training/.data/val-s2 --out models/training/runs/fp32 --seed 1 --steps 3200
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from unet import UNet, build, load_checkpoint  # noqa: E402


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--data", nargs="+", required=True,
                   help="training sets, concatenated in this order (larger scenes cut into tiles of the smallest size)")
    p.add_argument("--val", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--steps", type=int, default=3200)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--defect-crop-fraction", type=float, default=0.6)
    p.add_argument("--widths", default="16,32,64,128")
    p.add_argument("--init", help="checkpoint to start from (e.g. a pruned model to fine-tune)")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--val-every", type=int, default=400)
    p.add_argument("--val-count", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--hard-negatives", nargs="+",
                   help="npz files from mine.py (of these --data sets, in this order): crops are also centred on their points")
    p.add_argument("--hard-fraction", type=float, default=0.3)
    p.add_argument("--bright-fraction", type=float, default=0.0,
                   help="fraction of crops centred on defect pixels brighter than their surroundings (the rarer polarity)")
    p.add_argument("--bright-classes", default="1,2", help="defect classes whose bright pixels --bright-fraction samples")
    p.add_argument("--thin-weight", type=float, default=0.0,
                   help="extra cross-entropy weight on defect pixels of thin or small defects (0 = plain cross-entropy)")
    return p.parse_args()


def dice_loss(logits, target):
    prob = logits.softmax(1)
    onehot = F.one_hot(target, prob.shape[1]).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    inter = (prob * onehot).sum(dims)
    denom = prob.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + 1.0) / (denom + 1.0)
    return 1 - dice[1:].mean()  # defect classes; background is dominated by CE anyway


def thin_defect_weights(target, extra):
    """Per-pixel cross-entropy weights: 1 everywhere, plus up to `extra` on defect pixels whose 9x9 neighbourhood is
    mostly good. A 1-4 px scratch or a small pit has few defect pixels around each of its own, a stain many, so the
    thin and small defects that decide an image verdict weigh as much per pixel as the large blobs that dominate
    the mean."""
    defect = (target > 0).float()
    density = F.avg_pool2d(defect[:, None], 9, stride=1, padding=4, count_include_pad=False)[:, 0]
    return 1 + extra * defect * (1 - density)


def bright_defect_points(images, masks, classes=(1, 2), margin=12.0, per_image=8, chunk=256):
    """[K,3] (image, y, x) of defect pixels whose luminance exceeds the mean of the good pixels within 7 px by
    `margin` grey levels: bright scratches and spots, which the generator paints 10-30% of the time and the
    round-2 models missed most (a thin light line on a board reads as a trace or silkscreen)."""
    def neighbourhood_sum(t):
        return F.avg_pool2d(t[:, None], 15, stride=1, padding=7)[:, 0]

    points = []
    weights = torch.tensor([0.299, 0.587, 0.114])
    for s in range(0, len(images), chunk):
        lum = torch.from_numpy(images[s:s + chunk]).float() @ weights
        defect = torch.from_numpy(np.isin(masks[s:s + chunk], classes))
        good = torch.from_numpy(masks[s:s + chunk] == 0).float()
        background = neighbourhood_sum(lum * good) / neighbourhood_sum(good).clamp_min(1e-3)
        bright = (defect & (lum - background > margin)).numpy()
        points += data.spread_points(bright, s, per_image)
    return np.array(points, dtype=np.int32).reshape(-1, 3)


class Sampler:
    """Deterministic crop sampler; defect-centred crops are oversampled, and optionally crops centred on mined hard
    examples and on bright defects."""

    def __init__(self, images, masks, rng, crop, defect_fraction, hard=None, hard_fraction=0.0, bright=None,
                 bright_fraction=0.0):
        self.images, self.masks, self.rng, self.crop, self.fraction = images, masks, rng, crop, defect_fraction
        self.hard, self.hard_fraction = hard, hard_fraction
        self.bright, self.bright_fraction = bright, bright_fraction
        self.defective = np.nonzero(masks.reshape(len(masks), -1).max(1) > 0)[0]
        self.h, self.w = images.shape[1:3]

    def batch(self, n):
        xs, ys = [], []
        c = self.crop
        for _ in range(n):
            roll = self.rng.random()
            point_pool = None
            if self.hard is not None and len(self.hard) and roll >= 1 - self.hard_fraction:
                point_pool = self.hard
            elif (self.bright is not None and len(self.bright)
                  and 1 - self.hard_fraction - self.bright_fraction <= roll < 1 - self.hard_fraction):
                point_pool = self.bright
            if point_pool is not None:
                i, hy, hx = (int(v) for v in point_pool[self.rng.integers(len(point_pool))])
                y0 = int(np.clip(hy - self.rng.integers(8, c - 8), 0, self.h - c))
                x0 = int(np.clip(hx - self.rng.integers(8, c - 8), 0, self.w - c))
            elif len(self.defective) and roll < self.fraction:
                i = int(self.defective[self.rng.integers(len(self.defective))])
                yy, xx = np.nonzero(self.masks[i])
                k = self.rng.integers(len(yy))
                y0 = int(np.clip(yy[k] - self.rng.integers(8, c - 8), 0, self.h - c))
                x0 = int(np.clip(xx[k] - self.rng.integers(8, c - 8), 0, self.w - c))
            else:
                i = int(self.rng.integers(len(self.images)))
                y0 = int(self.rng.integers(self.h - c + 1))
                x0 = int(self.rng.integers(self.w - c + 1))
            img = self.images[i, y0:y0 + c, x0:x0 + c]
            msk = self.masks[i, y0:y0 + c, x0:x0 + c]
            r = int(self.rng.integers(4))
            img, msk = np.rot90(img, r), np.rot90(msk, r)
            if self.rng.random() < 0.5:
                img, msk = img[:, ::-1], msk[:, ::-1]
            xs.append(np.ascontiguousarray(img))
            ys.append(np.ascontiguousarray(msk))
        return data.normalize(np.stack(xs)), torch.from_numpy(np.stack(ys).astype(np.int64))


@torch.no_grad()
def validate(model, images, masks):
    model.eval()
    inter = np.zeros(3)
    denom = np.zeros(3)
    any_inter = any_denom = 0
    for s in range(0, len(images), 16):
        pred = model(data.normalize(images[s:s + 16])).argmax(1).numpy()
        gt = masks[s:s + 16]
        for k in range(1, 3):
            inter[k] += np.sum((pred == k) & (gt == k))
            denom[k] += np.sum(pred == k) + np.sum(gt == k)
        any_inter += np.sum((pred > 0) & (gt > 0))
        any_denom += np.sum(pred > 0) + np.sum(gt > 0)
    model.train()
    return {"dice_linear": 2 * inter[1] / max(denom[1], 1), "dice_blob": 2 * inter[2] / max(denom[2], 1),
            "dice_any": 2 * any_inter / max(any_denom, 1)}


def main():
    a = parse()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    log = open(os.path.join(a.out, "log.jsonl"), "a")

    images, masks = data.load_sets(a.data)
    val_images, val_masks, _ = data.load(a.val, a.val_count)
    print(f"train images {len(images)}, val {len(val_images)}", flush=True)

    if a.init:
        model, _ = load_checkpoint(a.init)
    else:
        model = UNet([int(w) for w in a.widths.split(",")])
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / a.warmup) * 0.5 * (1 + math.cos(math.pi * min(s, a.steps) / a.steps)))
    rng = np.random.default_rng(a.seed)
    start = 0
    elapsed = 0.0
    last = os.path.join(a.out, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location="cpu")
        model = build(ck["config"])
        model.load_state_dict(ck["model"])
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
        opt.load_state_dict(ck["opt"])
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: min(1.0, (s + 1) / a.warmup) * 0.5 * (1 + math.cos(math.pi * min(s, a.steps) / a.steps)))
        sched.load_state_dict(ck["sched"])
        rng.bit_generator.state = ck["rng"]
        torch.set_rng_state(ck["torch_rng"])
        start, elapsed = ck["step"], ck["elapsed"]
        print(f"resumed at step {start}", flush=True)
    hard = np.concatenate([np.load(f)["points"] for f in a.hard_negatives]) if a.hard_negatives else None
    bright_classes = [int(c) for c in a.bright_classes.split(",")]
    bright = bright_defect_points(images, masks, bright_classes) if a.bright_fraction > 0 else None
    if bright is not None:
        print(f"{len(bright)} bright-defect points in {len(np.unique(bright[:, 0]))} images", flush=True)
    sampler = Sampler(images, masks, rng, a.crop, a.defect_crop_fraction, hard, a.hard_fraction, bright,
                      a.bright_fraction)
    model.train()

    def save(path, step):
        torch.save({"config": model.config(), "model": model.state_dict(), "opt": opt.state_dict(),
                    "sched": sched.state_dict(), "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                    "step": step, "elapsed": elapsed, "args": vars(a), "argv": sys.argv}, path + ".tmp")
        os.replace(path + ".tmp", path)

    t0 = time.time()
    running = None
    for step in range(start, a.steps):
        x, y = sampler.batch(a.batch)
        logits = model(x)
        if a.thin_weight > 0:
            ce = (F.cross_entropy(logits, y, reduction="none") * thin_defect_weights(y, a.thin_weight)).mean()
        else:
            ce = F.cross_entropy(logits, y)
        loss = ce + dice_loss(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        now = time.time()
        elapsed += now - t0
        t0 = now
        done = step + 1
        if done % 20 == 0:
            print(f"step {done}/{a.steps} loss {running:.4f} lr {sched.get_last_lr()[0]:.2e} elapsed {elapsed:.0f}s", flush=True)
        if done % a.val_every == 0 or done == a.steps:
            v = validate(model, val_images, val_masks)
            t0 = time.time()
            rec = {"step": done, "loss": running, "elapsed": elapsed, **v}
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()
        if done % a.checkpoint_every == 0 or done == a.steps:
            save(last, done)
    save(os.path.join(a.out, "final.pt"), a.steps)
    print(f"done in {elapsed:.0f}s", flush=True)


if __name__ == "__main__":
    main()
