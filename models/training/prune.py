"""Structured channel pruning of the UNet: keeps the filters with the largest L1 norm in every conv and removes
the rest consistently through BN, the next conv, the skip concatenations and the decoder.
Example: /usr/bin/python3 models/training/prune.py --in models/training/runs/fp32/final.pt --out models/training/runs/pruned-init.pt --ratio 0.75
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import UNet, load_checkpoint  # noqa: E402


def top_l1(weight, keep, out_dim=0):
    """Indices (sorted) of the `keep` output filters with the largest L1 norm."""
    dims = [d for d in range(weight.dim()) if d != out_dim]
    norms = weight.abs().sum(dim=dims)
    return torch.sort(torch.topk(norms, keep).indices).values


def copy_bn(dst, src, idx):
    dst.weight.data = src.weight.data[idx].clone()
    dst.bias.data = src.bias.data[idx].clone()
    dst.running_mean.data = src.running_mean.data[idx].clone()
    dst.running_var.data = src.running_var.data[idx].clone()
    dst.num_batches_tracked.data = src.num_batches_tracked.data.clone()


def prune_block(dst, src, in_idx, mid_keep, out_keep):
    mid = top_l1(src.conv1.weight.data, mid_keep)
    out = top_l1(src.conv2.weight.data, out_keep)
    dst.conv1.weight.data = src.conv1.weight.data[mid][:, in_idx].clone()
    copy_bn(dst.bn1, src.bn1, mid)
    dst.conv2.weight.data = src.conv2.weight.data[out][:, mid].clone()
    copy_bn(dst.bn2, src.bn2, out)
    return out


def prune_up(dst, src, in_idx, keep):
    # ConvTranspose2d weight is [in, out, k, k]: output filters are dimension 1.
    out = top_l1(src.weight.data, keep, out_dim=1)
    dst.weight.data = src.weight.data[in_idx][:, out].clone()
    dst.bias.data = src.bias.data[out].clone()
    return out


def prune(model, ratio):
    keep = lambda c: max(1, int(round(c * ratio)))  # noqa: E731
    widths = [keep(w) for w in model.widths]
    mids = [keep(m) for m in model.mids]
    ups = [keep(u) for u in model.ups]
    small = UNet(widths, mids, ups)
    rgb = torch.arange(3)
    e1 = prune_block(small.enc1, model.enc1, rgb, mids[0], widths[0])
    e2 = prune_block(small.enc2, model.enc2, e1, mids[1], widths[1])
    e3 = prune_block(small.enc3, model.enc3, e2, mids[2], widths[2])
    e4 = prune_block(small.enc4, model.enc4, e3, mids[3], widths[3])

    def decoder(up_dst, up_src, dec_dst, dec_src, below, skip, up_keep, mid_keep, out_keep):
        u = prune_up(up_dst, up_src, below, up_keep)
        # Decoder input is cat([up, skip]): skip channels follow the up-conv's original channels.
        concat = torch.cat([u, skip + up_src.weight.shape[1]])
        return prune_block(dec_dst, dec_src, concat, mid_keep, out_keep)

    d3 = decoder(small.up3, model.up3, small.dec3, model.dec3, e4, e3, ups[0], mids[4], widths[2])
    d2 = decoder(small.up2, model.up2, small.dec2, model.dec2, d3, e2, ups[1], mids[5], widths[1])
    d1 = decoder(small.up1, model.up1, small.dec1, model.dec1, d2, e1, ups[2], mids[6], widths[0])
    small.head.weight.data = model.head.weight.data[:, d1].clone()
    small.head.bias.data = model.head.bias.data.clone()
    return small


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--in", dest="src", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--ratio", type=float, default=0.75)
    a = p.parse_args()
    model, ckpt = load_checkpoint(a.src)
    model.eval()
    small = prune(model, a.ratio).eval()
    params = lambda m: sum(t.numel() for t in m.parameters())  # noqa: E731
    print(f"widths {model.widths} -> {small.widths}; parameters {params(model)} -> {params(small)}")
    torch.save({"config": small.config(), "model": small.state_dict(), "pruned_from": a.src, "ratio": a.ratio,
                "parent_step": ckpt.get("step")}, a.out)


if __name__ == "__main__":
    main()
