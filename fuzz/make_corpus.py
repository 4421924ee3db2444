"""Writes the seed corpus of the importer fuzzer: tiny valid models that
between them reach the main import paths (conv, QDQ, shape folding, resize,
constants, external data). Run: /usr/bin/python3 make_corpus.py corpus/

corpus/found/ holds what fuzzing added (libFuzzer names files by their
SHA-1): the inputs that reach coverage these seeds do not, kept by
  mnc-import-fuzzer -merge=1 NEW build-fuzz/corpus build-fuzz/seeds
run with NEW first holding these seeds, then dropping the mutated real
models over 100 KB. A crash reproducer goes there too once fixed.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def vinfo(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def model(nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def tensor(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def conv_relu():
    rng = np.random.default_rng(1)
    w = tensor("w", rng.standard_normal((4, 2, 3, 3)).astype(np.float32))
    b = tensor("b", rng.standard_normal(4).astype(np.float32))
    return model([helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1] * 4,
                                   strides=[2, 2]),
                  helper.make_node("Clip", ["c", "lo", "hi"], ["y"])],
                 [vinfo("x", [1, 2, 6, 6])], [vinfo("y", [1, 4, 3, 3])],
                 [w, b, tensor("lo", np.float32(0)), tensor("hi", np.float32(6))])


def depthwise_pool_gemm():
    rng = np.random.default_rng(2)
    nodes = [
        helper.make_node("Conv", ["x", "dw"], ["d"], group=3, pads=[1] * 4),
        helper.make_node("BatchNormalization", ["d", "s", "bb", "m", "v"], ["n"]),
        helper.make_node("HardSwish", ["n"], ["h"]),
        helper.make_node("GlobalAveragePool", ["h"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "gw", "gb"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ]
    inits = [tensor("dw", rng.standard_normal((3, 1, 3, 3)).astype(np.float32)),
             tensor("s", np.ones(3, np.float32)),
             tensor("bb", np.zeros(3, np.float32)),
             tensor("m", np.zeros(3, np.float32)),
             tensor("v", np.ones(3, np.float32)),
             tensor("gw", rng.standard_normal((5, 3)).astype(np.float32)),
             tensor("gb", np.zeros(5, np.float32))]
    return model(nodes, [vinfo("x", [1, 3, 4, 4])], [vinfo("y", [1, 5])], inits,
                 opset=14)


def qdq():
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sc", "zp"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "sc", "zp"], ["dq"]),
        helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["w"]),
        helper.make_node("Conv", ["dq", "w"], ["c"]),
        helper.make_node("Add", ["c", "dq"], ["y"]),
    ]
    inits = [tensor("sc", np.float32(0.05)), tensor("zp", np.uint8(128)),
             tensor("wq", np.arange(4, dtype=np.int8).reshape(2, 2, 1, 1)),
             tensor("ws", np.float32(0.1)), tensor("wz", np.int8(0))]
    return model(nodes, [vinfo("x", [1, 2, 3, 3])], [vinfo("y", [1, 2, 3, 3])],
                 inits)


def shape_subgraph():
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "i0"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax"], ["nu"]),
        helper.make_node("Concat", ["nu", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("Transpose", ["r"], ["t"], perm=[1, 0]),
        helper.make_node("ReduceMean", ["t"], ["y"], axes=[0], keepdims=1),
    ]
    inits = [tensor("i0", np.int64(0)), tensor("ax", np.array([0], np.int64)),
             tensor("minus1", np.array([-1], np.int64))]
    return model(nodes, [vinfo("x", [2, 3, 2])], [vinfo("y", None)], inits)


def resize_pad_slice():
    nodes = [
        helper.make_node("Resize", ["x", "", "scales"], ["r"], mode="nearest"),
        helper.make_node("Pad", ["r", "pads"], ["p"]),
        helper.make_node("Slice", ["p", "st", "en", "axes"], ["s"]),
        helper.make_node("MaxPool", ["s"], ["y"], kernel_shape=[2, 2]),
    ]
    inits = [tensor("scales", np.array([1, 1, 2, 2], np.float32)),
             tensor("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
             tensor("st", np.array([1], np.int64)),
             tensor("en", np.array([5], np.int64)),
             tensor("axes", np.array([2], np.int64))]
    return model(nodes, [vinfo("x", [1, 1, 2, 2])], [vinfo("y", None)], inits)


def constants():
    nodes = [
        helper.make_node("Constant", [], ["k"],
                         value=tensor("k", np.array([[1.5, -2]], np.float32))),
        helper.make_node("ConstantOfShape", ["shp"], ["z"],
                         value=tensor("v", np.array([0.5], np.float32))),
        helper.make_node("Mul", ["x", "k"], ["m"]),
        helper.make_node("Sub", ["m", "z"], ["y"]),
    ]
    return model(nodes, [vinfo("x", [1, 2])], [vinfo("y", None)],
                 [tensor("shp", np.array([1, 2], np.int64))])


def qoperator():
    rng = np.random.default_rng(3)
    nodes = [helper.make_node(
        "QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"])]
    inits = [tensor("xs", np.float32(0.02)), tensor("xz", np.uint8(128)),
             tensor("w", rng.integers(-8, 8, (2, 2, 1, 1)).astype(np.int8)),
             tensor("ws", np.float32(0.1)), tensor("wz", np.int8(0)),
             tensor("ys", np.float32(0.05)), tensor("yz", np.uint8(100))]
    return model(nodes, [vinfo("x", [1, 2, 2, 2], TensorProto.UINT8)],
                 [vinfo("y", None)], inits, opset=13)


def split_pad_gather():
    """Split (with sizes), Pad in each mode and Gather of an activation with
    constant and runtime indices."""
    nodes = [
        helper.make_node("Split", ["x", "sizes"], ["a", "b"], axis=1),
        helper.make_node("Pad", ["a", "pads"], ["pr"], mode="reflect"),
        helper.make_node("Pad", ["b", "pads"], ["pe"], mode="edge"),
        helper.make_node("Pad", ["pr", "pads"], ["pc"], mode="constant"),
        helper.make_node("Gather", ["pc", "idx"], ["g"], axis=2),
        helper.make_node("Gather", ["pe", "i"], ["h"], axis=3),
    ]
    inits = [tensor("sizes", np.array([1, 2], np.int64)),
             tensor("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)),
             tensor("idx", np.array([0, -1, 2], np.int64))]
    return model(nodes, [vinfo("x", [1, 3, 3, 3]),
                         vinfo("i", [3], TensorProto.INT64)],
                 [vinfo("g", None), vinfo("h", None)], inits)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for fn in (conv_relu, depthwise_pool_gemm, qdq, shape_subgraph,
               resize_pad_slice, constants, qoperator, split_pad_gather):
        with open(os.path.join(out, fn.__name__.replace("_", "-") + ".onnx"),
                  "wb") as f:
            f.write(fn().SerializeToString())


if __name__ == "__main__":
    main()
