"""Writes an UNTRAINED UNet of the given level widths as a model package folder, so that `edge-models bench` can
measure what a width costs on a CPU before anything is trained (speed does not depend on the weights' values).
Used to test the NCHWc block explanation of the pruned model's CPU throughput (models/README.md, Results):

  /usr/bin/python3 models/training/width_probe.py --widths 16,16,48,96 --out /tmp/w-16-16-48-96
  ./build.sh tool edge-models package /tmp/w-16-16-48-96 --update-hash --out /tmp/w.edgepkg
  ./build.sh tool edge-models bench --model /tmp/w-16-16-48-96 --compare /tmp/w-16-32-64-128 --threads 1
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import UNet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "packages", "defect-unet-pruned-fp32", "manifest.json")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--widths", required=True, help="four level widths, e.g. 12,24,48,96")
    p.add_argument("--out", required=True)
    p.add_argument("--size", type=int, default=256)
    a = p.parse_args()
    widths = [int(w) for w in a.widths.split(",")]
    torch.manual_seed(0)
    model = UNet(widths).eval()
    os.makedirs(a.out, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 3, a.size, a.size), os.path.join(a.out, "model.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    manifest = json.load(open(TEMPLATE))
    manifest.pop("goldenSamples", None)
    manifest["id"] = "width-probe-" + "-".join(str(w) for w in widths)
    manifest["model"]["sha256"] = ""
    manifest["provenance"] = {"trainingData": "none: untrained weights, for timing only"}
    json.dump(manifest, open(os.path.join(a.out, "manifest.json"), "w"), indent=2)
    print(f"wrote {a.out}: widths {widths}, {sum(p.numel() for p in model.parameters())} parameters (untrained)")


if __name__ == "__main__":
    main()
