#!/usr/bin/python3
"""flatten4x4.onnx: input [N, 3, 4, 4] float32 -> output 'values' [N, 48] = the input flattened (C, H, W
order). A "network" whose features are exactly what the image pipeline fed it, so tests can check each
--normalize map end to end through ONNX Runtime. Run with Debian's /usr/bin/python3 (python3-onnx)."""
import os
import onnx
from onnx import TensorProto, helper

graph = helper.make_graph(
    [helper.make_node("Flatten", ["input"], ["values"], axis=1)],
    "flatten4x4",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 4, 4])],
    [helper.make_tensor_value_info("values", TensorProto.FLOAT, ["N", 48])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="genmetrics-tests")
model.ir_version = 8
onnx.checker.check_model(model, full_check=True)
onnx.save(model, os.path.join(os.path.dirname(os.path.abspath(__file__)), "flatten4x4.onnx"))
