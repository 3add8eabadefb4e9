"""Writes tiny-segmenter.onnx, the test model of EdgeRuntime.ModelPackages.Tests.

A one-layer stand-in for the defect UNet with the same interface: input "input" float32 [N, 3, 32, 32]
(dynamic batch), output "logits" float32 [N, 3, 32, 32] (3 classes: good, linear, blob). Deterministic:
running it again writes the same bytes. Run with the system Python, which has onnx:
    /usr/bin/python3 make_tiny_segmenter.py
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIZE = 32
CLASSES = 3

rng = np.random.default_rng(20261122)
weights = rng.normal(0.0, 0.5, size=(CLASSES, 3, 3, 3)).astype(np.float32)
bias = np.zeros(CLASSES, dtype=np.float32)

graph = helper.make_graph(
    nodes=[helper.make_node("Conv", ["input", "w", "b"], ["logits"], pads=[1, 1, 1, 1], name="head")],
    name="tiny_segmenter",
    inputs=[helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, SIZE, SIZE])],
    outputs=[helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES, SIZE, SIZE])],
    initializer=[numpy_helper.from_array(weights, "w"), numpy_helper.from_array(bias, "b")],
)
model = helper.make_model(graph, producer_name="EdgeRuntime.ModelPackages.Tests", opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 7
onnx.checker.check_model(model)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-segmenter.onnx")
onnx.save(model, path)
print(f"wrote {path} ({os.path.getsize(path)} bytes)")
