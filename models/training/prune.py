"""Structured channel pruning of the UNet: keeps the filters with the largest L1 norm in every conv and removes
the rest consistently through BN, the next conv, the skip concatenations and the decoder.
Example: /usr/bin/python3 models/training/prune.py --in models/training/runs/fp32/final.pt --out models/training/runs/pruned-init.pt --ratio 0.75

--widths sets each level's width instead of one ratio, so that every width is a whole number of the inference
kernels' channel blocks (16 for ONNX Runtime's NCHWc kernels on AVX-512, 8 for TensorRT's FP16 tensor cores):
  /usr/bin/python3 models/training/prune.py --in models/training/checkpoints/pruned-r10a.pt --out runs/aligned-init.pt --widths 16,16,48,96
A level may grow as well as shrink (here level 1, 12 -> 16): the added filters start random and everything that
reads them starts at zero weight, so the grown network computes exactly what its source did.
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import UNet, load_checkpoint  # noqa: E402


def top_l1(weight, keep, out_dim=0):
    """Indices (sorted) of the `keep` output filters with the largest L1 norm; when `keep` exceeds the filters
    there are, all of them followed by -1 for each new filter."""
    dims = [d for d in range(weight.dim()) if d != out_dim]
    norms = weight.abs().sum(dim=dims)
    if keep >= norms.numel():
        return torch.cat([torch.arange(norms.numel()), torch.full((keep - norms.numel(),), -1)])
    return torch.sort(torch.topk(norms, keep).indices).values


def remap(dst, src, out_idx, in_idx=None, out_dim=0):
    """`dst` (freshly initialised) with the source filters `out_idx` over the source inputs `in_idx` copied in.
    A new filter (-1 in out_idx) keeps its random initialisation; a new input (-1 in in_idx) gets zero weight in
    every filter, so adding channels leaves the network's function unchanged until fine-tuning moves them."""
    result = dst.clone()
    if in_idx is not None:
        for j, s in enumerate(in_idx.tolist()):
            if s < 0:
                result.select(1 - out_dim, j).zero_()
    for o, so in enumerate(out_idx.tolist()):
        if so < 0:
            continue
        row_src, row_dst = src.select(out_dim, so), result.select(out_dim, o)
        if in_idx is None:
            row_dst.copy_(row_src)
            continue
        for j, sj in enumerate(in_idx.tolist()):
            if sj >= 0:
                row_dst.select(0, j).copy_(row_src.select(0, sj))
    return result


def copy_bn(dst, src, idx):
    for name in ("weight", "bias", "running_mean", "running_var"):
        getattr(dst, name).data = remap(getattr(dst, name).data, getattr(src, name).data, idx)
    dst.num_batches_tracked.data = src.num_batches_tracked.data.clone()


def prune_block(dst, src, in_idx, mid_keep, out_keep):
    mid = top_l1(src.conv1.weight.data, mid_keep)
    out = top_l1(src.conv2.weight.data, out_keep)
    dst.conv1.weight.data = remap(dst.conv1.weight.data, src.conv1.weight.data, mid, in_idx)
    copy_bn(dst.bn1, src.bn1, mid)
    dst.conv2.weight.data = remap(dst.conv2.weight.data, src.conv2.weight.data, out, mid)
    copy_bn(dst.bn2, src.bn2, out)
    return out


def prune_up(dst, src, in_idx, keep):
    # ConvTranspose2d weight is [in, out, k, k]: output filters are dimension 1.
    out = top_l1(src.weight.data, keep, out_dim=1)
    dst.weight.data = remap(dst.weight.data, src.weight.data, out, in_idx, out_dim=1)
    dst.bias.data = remap(dst.bias.data, src.bias.data, out)
    return out


def target_widths(model, ratio=None, widths=None):
    """Level widths, block inner widths and up-convolution widths of the pruned model: every width times `ratio`,
    or the four level `widths` given (the blocks of a level and the up-convolution into it take the level's)."""
    if widths is None:
        keep = lambda c: max(1, int(round(c * ratio)))  # noqa: E731
        return [keep(w) for w in model.widths], [keep(m) for m in model.mids], [keep(u) for u in model.ups]
    w1, w2, w3, w4 = widths
    return list(widths), [w1, w2, w3, w4, w3, w2, w1], [w3, w2, w1]


def prune(model, ratio=None, widths=None):
    widths, mids, ups = target_widths(model, ratio, widths)
    torch.manual_seed(0)  # the random initialisation of any added filter
    small = UNet(widths, mids, ups)
    rgb = torch.arange(3)
    e1 = prune_block(small.enc1, model.enc1, rgb, mids[0], widths[0])
    e2 = prune_block(small.enc2, model.enc2, e1, mids[1], widths[1])
    e3 = prune_block(small.enc3, model.enc3, e2, mids[2], widths[2])
    e4 = prune_block(small.enc4, model.enc4, e3, mids[3], widths[3])

    def decoder(up_dst, up_src, dec_dst, dec_src, below, skip, up_keep, mid_keep, out_keep):
        u = prune_up(up_dst, up_src, below, up_keep)
        # Decoder input is cat([up, skip]): skip channels follow the up-conv's original channels.
        shifted_skip = torch.where(skip >= 0, skip + up_src.weight.shape[1], skip)
        return prune_block(dec_dst, dec_src, torch.cat([u, shifted_skip]), mid_keep, out_keep)

    d3 = decoder(small.up3, model.up3, small.dec3, model.dec3, e4, e3, ups[0], mids[4], widths[2])
    d2 = decoder(small.up2, model.up2, small.dec2, model.dec2, d3, e2, ups[1], mids[5], widths[1])
    d1 = decoder(small.up1, model.up1, small.dec1, model.dec1, d2, e1, ups[2], mids[6], widths[0])
    small.head.weight.data = remap(small.head.weight.data, model.head.weight.data,
                                   torch.arange(model.head.weight.shape[0]), d1)
    small.head.bias.data = model.head.bias.data.clone()
    return small


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--in", dest="src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ratio", type=float, default=0.75)
    p.add_argument("--widths", help="four level widths instead of --ratio, e.g. 16,16,48,96 (multiples of the CPU's "
                   "16-channel NCHWc block); a level wider than the source keeps all its filters and adds new ones")
    a = p.parse_args()
    model, ckpt = load_checkpoint(a.src)
    model.eval()
    widths = [int(w) for w in a.widths.split(",")] if a.widths else None
    small = prune(model, a.ratio, widths).eval()
    params = lambda m: sum(t.numel() for t in m.parameters())  # noqa: E731
    print(f"widths {model.widths} -> {small.widths}; parameters {params(model)} -> {params(small)}")
    torch.save({"config": small.config(), "model": small.state_dict(), "pruned_from": a.src, "ratio": a.ratio,
                "widths": widths, "parent_step": ckpt.get("step")}, a.out)


if __name__ == "__main__":
    main()
