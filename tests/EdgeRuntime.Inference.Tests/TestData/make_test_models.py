"""Writes the tiny UNet-shaped ONNX models the inference tests load (a few KB each).

Run with the system interpreter, which has torch and onnx:
    /usr/bin/python3 tests/EdgeRuntime.Inference.Tests/TestData/make_test_models.py

The models are real convolutional encoder-decoders (conv, pool, transposed conv, skip concat, 1x1 head)
so ONNX Runtime exercises the same kernels as the production UNet, only 64x64 and a few channels wide.
Weights come from fixed seeds, so the files are reproducible; two seeds give two distinguishable models
for hot-swap tests. tiny-unet-nan.onnx loads and runs but outputs NaN, for the warm-up check.
"""
import os

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 64
CLASSES = 3


class TinyUNet(nn.Module):
    def __init__(self, poisoned=False):
        super().__init__()
        self.poisoned = poisoned
        self.enc1 = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(4, 8, 3, padding=1), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.dec = nn.Sequential(nn.Conv2d(8, 4, 3, padding=1), nn.ReLU())
        self.head = nn.Conv2d(4, CLASSES, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        logits = self.head(self.dec(torch.cat([self.up(e2), e1], 1)))
        # A model that loads and runs but whose output is garbage: the warm-up check must refuse it.
        return logits * float("nan") if self.poisoned else logits


def export(seed, file_name, dynamic_batch, batch=1, poisoned=False):
    torch.manual_seed(seed)
    model = TinyUNet(poisoned).eval()
    dummy = torch.randn(batch, 3, SIZE, SIZE)
    axes = {"input": {0: "batch"}, "logits": {0: "batch"}} if dynamic_batch else None
    torch.onnx.export(model, dummy, os.path.join(HERE, file_name), opset_version=13,
                      input_names=["input"], output_names=["logits"], dynamic_axes=axes)


if __name__ == "__main__":
    export(1, "tiny-unet.onnx", dynamic_batch=True)
    export(2, "tiny-unet-retrained.onnx", dynamic_batch=True)
    export(1, "tiny-unet-batch4.onnx", dynamic_batch=False, batch=4)
    export(1, "tiny-unet-nan.onnx", dynamic_batch=True, poisoned=True)
