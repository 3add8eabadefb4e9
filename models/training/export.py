"""Exports a checkpoint to ONNX (opset 13, input "input" [N,3,256,256] dynamic N, output "logits" [N,3,256,256]).
Example: /usr/bin/python3 models/training/export.py --ckpt models/training/runs/fp32/final.pt --out /tmp/model.onnx
"""
import argparse
import os
import sys

import numpy as np
import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from unet import load_checkpoint  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ckpt", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--size", type=int, default=256)
    a = p.parse_args()
    torch.set_num_threads(2)
    model, _ = load_checkpoint(a.ckpt)
    model.eval()  # BN uses running statistics in the exported graph
    dummy = torch.zeros(1, 3, a.size, a.size)
    torch.onnx.export(model, dummy, a.out, opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, do_constant_folding=True)
    m = onnx.load(a.out)
    onnx.checker.check_model(m, full_check=True)
    # Deterministic files: no producer timestamp exists in ONNX, but strip doc strings to keep the file lean.
    for node in m.graph.node:
        node.doc_string = ""
    onnx.save(m, a.out)
    ins = [(i.name, [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]) for i in m.graph.input]
    outs = [(o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim]) for o in m.graph.output]
    print(f"exported {a.out}: inputs {ins} outputs {outs}, {os.path.getsize(a.out)} bytes, ops {sorted({n.op_type for n in m.graph.node})}")


if __name__ == "__main__":
    main()
