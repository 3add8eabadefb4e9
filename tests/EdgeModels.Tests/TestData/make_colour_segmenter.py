"""Writes colour-segmenter.onnx, the model the eval and bench tests run (a few hundred bytes).

Run with the system interpreter, which has torch and onnx:
    /usr/bin/python3 tests/EdgeModels.Tests/TestData/make_colour_segmenter.py

A single 1x1 convolution with fixed weights, so its answer is a known function of each pixel and a test can
work out every metric by hand. Under the test manifest's normalisation v = (pixel / 255 - 0.5) / 0.25 (RGB, NCHW):
    logit(good)   = 0
    logit(linear) = 10 * v_red  - 10    pure red   (255) -> +10, mid grey (128) -> -9.9
    logit(blob)   = 10 * v_blue - 10    pure blue  (255) -> +10, mid grey (128) -> -9.9
so after the softmax a pixel whose red channel is 255 is class 1 (p > 0.9999), one whose blue channel is 255 is
class 2, and mid grey is good. Being pointwise, the model gives every pixel the same answer whichever tile it is in.
Input "input" [batch, 3, 32, 32], output "logits" [batch, 3, 32, 32], dynamic batch, opset 13.
"""
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 32


def build():
    conv = nn.Conv2d(3, 3, kernel_size=1, bias=True)
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        conv.weight[1, 0, 0, 0] = 10.0   # linear <- red
        conv.bias[1] = -10.0
        conv.weight[2, 2, 0, 0] = 10.0   # blob <- blue
        conv.bias[2] = -10.0
    return conv.eval()


if __name__ == "__main__":
    model = build()
    dummy = torch.zeros(1, 3, SIZE, SIZE)
    torch.onnx.export(model, dummy, os.path.join(HERE, "colour-segmenter.onnx"), opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
