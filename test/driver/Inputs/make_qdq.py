"""Writes a small QDQ model as ONNX Runtime's quantize_static lays it out
(int8 activations, per-channel int8 weights, i32 bias at s_x * s_w, Relu
before the output QuantizeLinear) with seeded random weights, and a seeded
input: argv[1] model, argv[2] input .npy."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)
xs, ys = np.float32(0.05), np.float32(0.02)
ws = (rng.uniform(0.002, 0.01, 4)).astype(np.float32)
w = rng.integers(-127, 128, (4, 2, 3, 3)).astype(np.int8)
b = rng.integers(-2000, 2000, 4).astype(np.int32)
inits = [
    numpy_helper.from_array(xs, "xs"),
    numpy_helper.from_array(np.int8(-3), "xz"),
    numpy_helper.from_array(w, "w"),
    numpy_helper.from_array(ws, "ws"),
    numpy_helper.from_array(np.zeros(4, np.int8), "wz"),
    numpy_helper.from_array(b, "b"),
    numpy_helper.from_array(xs * ws, "bs"),
    numpy_helper.from_array(np.zeros(4, np.int32), "bz"),
    numpy_helper.from_array(ys, "ys"),
    numpy_helper.from_array(np.int8(-128), "yz"),
]
nodes = [
    helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
    helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"]),
    helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], axis=0),
    helper.make_node("DequantizeLinear", ["b", "bs", "bz"], ["bd"], axis=0),
    helper.make_node("Conv", ["xd", "wd", "bd"], ["c"], pads=[1, 1, 1, 1]),
    helper.make_node("Relu", ["c"], ["r"]),
    helper.make_node("QuantizeLinear", ["r", "ys", "yz"], ["yq"]),
    helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
]
graph = helper.make_graph(
    nodes, "qdq",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])],
    inits)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
np.save(sys.argv[2], rng.standard_normal((1, 2, 8, 8)).astype(np.float32))
