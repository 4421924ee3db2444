#!/usr/bin/python3
"""Quantizes an fp32 CNN ONNX model to int8 in the QDQ format.

The layout is the one ONNX Runtime's static quantizer writes for QDQ:
- Conv weights: int8 initializers, symmetric per output channel (axis 0),
  behind DequantizeLinear; Gemm weights the same per tensor. Biases: int32
  with scale input_scale * weight_scale, behind DequantizeLinear.
- Activations: int8, asymmetric per tensor, a QuantizeLinear ->
  DequantizeLinear pair on the graph input and after every Conv, Clip, Relu,
  Add, GlobalAveragePool, Flatten and Gemm, except after a Conv whose only
  consumer is its activation (Clip or Relu): that pair would only narrow the
  range the activation clamps anyway.
- Activation ranges are calibrated by running the fp32 model with ONNX
  Runtime (node tools/ort/run.mjs) on seeded standard-normal inputs, with
  every tensor to quantize exposed as a graph output; the range is widened
  to contain 0 so that 0 is exact. ONNX Runtime's f32 kernels sum in an
  order that depends on the CPU's vector ISA, so the calibrated scales, and
  the int32 biases derived from them, may differ in their last bits between
  CPU kinds (measured for mobilenet_v2_0.35_96: 54 of 450 initializers
  differ between an AVX-512 host and emulated AVX2, scales by a few ulps,
  6 biases by 1; the pretrained MobileNetV2 of examples/data quantizes to
  the same bytes on both). Tests therefore compare runtimes on the file
  they quantized, never against numbers from another machine's file.

Needs only python3-onnx and python3-numpy, plus node for the calibration.

--expose-activations also makes every quantized activation a graph output
(int8, named activation_NN in graph order), so that runtimes can be compared
layer by layer: int8 differences compound from layer to layer, and a
comparison of the final output alone cannot tell one step of rounding
difference in an early layer from a wrong kernel.

usage: /usr/bin/python3 tools/models/quantize_qdq.py IN.onnx OUT.onnx
           [--samples 4] [--seed 0] [--ort tools/ort/run.mjs]
           [--expose-activations]
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ACTIVATION_OPS = {"Conv", "Clip", "Relu", "Add", "GlobalAveragePool",
                  "Flatten", "Gemm"}
FUSED_ACTIVATIONS = {"Clip", "Relu"}


def consumers(graph):
    uses = {}
    for node in graph.node:
        for name in node.input:
            uses.setdefault(name, []).append(node)
    return uses


def tensors_to_quantize(graph):
    """Graph inputs and outputs of activation ops, in graph order."""
    inits = {i.name for i in graph.initializer}
    uses = consumers(graph)
    outputs = {o.name for o in graph.output}
    names = [i.name for i in graph.input if i.name not in inits]
    for node in graph.node:
        if node.op_type not in ACTIVATION_OPS:
            continue
        out = node.output[0]
        users = uses.get(out, [])
        if (node.op_type == "Conv" and out not in outputs and len(users) == 1
                and users[0].op_type in FUSED_ACTIVATIONS):
            continue
        names.append(out)
    return names


def calibrate(model, names, samples, seed, ort):
    """Per tensor (min, max) over ONNX Runtime runs on random inputs."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    graph = probe.graph
    for i, name in enumerate(names):
        graph.node.append(helper.make_node("Identity", [name], [f"calib_{i}"]))
        graph.output.append(helper.make_tensor_value_info(
            f"calib_{i}", TensorProto.FLOAT, None))
    inputs = [i for i in graph.input
              if i.name not in {t.name for t in graph.initializer}]
    if len(inputs) != 1:
        sys.exit("calibration supports models with one input")
    dims = [d.dim_value for d in inputs[0].type.tensor_type.shape.dim]
    if not dims or min(dims) <= 0:
        sys.exit(f"input '{inputs[0].name}' needs a static shape, got {dims}")
    rng = np.random.default_rng(seed)
    lo = np.full(len(names), np.inf)
    hi = np.full(len(names), -np.inf)
    with tempfile.TemporaryDirectory() as tmp:
        probe_path = os.path.join(tmp, "probe.onnx")
        onnx.save(probe, probe_path)
        for s in range(samples):
            x = rng.standard_normal(dims).astype(np.float32)
            x_path = os.path.join(tmp, f"input{s}.npy")
            np.save(x_path, x)
            out_dir = os.path.join(tmp, f"out{s}")
            subprocess.run(["node", ort, probe_path, "--input",
                            f"{inputs[0].name}={x_path}", "--output-dir",
                            out_dir], check=True, stdout=subprocess.DEVNULL)
            for i in range(len(names)):
                t = np.load(os.path.join(out_dir, f"calib_{i}.npy"))
                lo[i] = min(lo[i], float(t.min()))
                hi[i] = max(hi[i], float(t.max()))
    return dict(zip(names, zip(lo, hi)))


def activation_params(lo, hi):
    """int8 asymmetric scale and zero point of a range widened to hold 0."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 if hi > lo else 1.0
    zero = int(np.clip(np.round(-128.0 - lo / scale), -128, 127))
    return np.float32(scale), np.int8(zero)


class Rewriter:
    def __init__(self, graph):
        self.graph = graph
        self.inits = {i.name: i for i in graph.initializer}
        self.new_inits = []
        self.params = {}  # activation name -> (scale, zero point)

    def constant(self, name, array):
        self.new_inits.append(numpy_helper.from_array(array, name))
        return name

    def qdq(self, source, target, scale, zero):
        """Q/DQ nodes from `source` to `target` (the dequantized value)."""
        s = self.constant(f"{target}_scale", np.array(scale, np.float32))
        z = self.constant(f"{target}_zero_point", np.array(zero, np.int8))
        q = f"{target}_quantized"
        return [helper.make_node("QuantizeLinear", [source, s, z], [q]),
                helper.make_node("DequantizeLinear", [q, s, z], [target])]

    def weight(self, name, axis):
        """Replaces float initializer `name` by int8 + DequantizeLinear
        (symmetric, per channel along `axis` or per tensor); returns the
        DequantizeLinear node and the scales."""
        w = numpy_helper.to_array(self.inits[name]).astype(np.float64)
        if axis is None:
            scale = np.array(max(np.abs(w).max() / 127.0, 1e-12), np.float32)
            shaped = scale
        else:
            other = tuple(a for a in range(w.ndim) if a != axis)
            scale = np.maximum(np.abs(w).max(axis=other) / 127.0,
                               1e-12).astype(np.float32)
            shaped = scale.reshape([-1 if a == axis else 1
                                    for a in range(w.ndim)])
        q = np.clip(np.round(w / shaped), -127, 127).astype(np.int8)
        return self.dequantize(name, q, scale, np.int8, axis), scale

    def bias(self, name, scale):
        """int32 bias with the accumulator's scale, per channel if `scale`
        has more than one element."""
        b = numpy_helper.to_array(self.inits[name]).astype(np.float64)
        q = np.round(b / scale.astype(np.float64)).astype(np.int32)
        axis = 0 if scale.ndim else None
        return self.dequantize(name, q, scale.astype(np.float32), np.int32,
                               axis)

    def dequantize(self, name, q, scale, dtype, axis):
        self.graph.initializer.remove(self.inits.pop(name))
        zero = np.zeros(scale.shape, dtype)
        inputs = [self.constant(f"{name}_quantized", q),
                  self.constant(f"{name}_scale", scale),
                  self.constant(f"{name}_zero_point", zero)]
        attrs = {} if axis is None else {"axis": axis}
        return helper.make_node("DequantizeLinear", inputs, [name], **attrs)

    def conv_or_gemm(self, node):
        """Weight and bias DequantizeLinear nodes for a Conv or Gemm."""
        if node.input[1] not in self.inits:
            return []
        if node.op_type == "Gemm":
            attrs = {a.name: helper.get_attribute_value(a)
                     for a in node.attribute}
            if attrs.get("transA", 0) or attrs.get("alpha", 1.0) != 1.0 or \
                    attrs.get("beta", 1.0) != 1.0:
                sys.exit(f"Gemm '{node.name}': only transB, alpha = beta = 1")
            axis = None
        else:
            axis = 0
        dq, w_scale = self.weight(node.input[1], axis)
        nodes = [dq]
        if len(node.input) > 2 and node.input[2] in self.inits:
            if node.input[0] not in self.params:
                sys.exit(f"{node.op_type} '{node.name}': input "
                         f"'{node.input[0]}' is not quantized")
            in_scale = self.params[node.input[0]][0]
            nodes.append(self.bias(node.input[2], in_scale * w_scale))
        return nodes


def quantize(model, ranges):
    graph = model.graph
    rw = Rewriter(graph)
    for name, (lo, hi) in ranges.items():
        rw.params[name] = activation_params(lo, hi)
    graph_inputs = {i.name for i in graph.input}
    nodes = []
    renamed = {}
    for name in graph_inputs & ranges.keys():
        renamed[name] = f"{name}_dequantized"
        rw.params[renamed[name]] = rw.params[name]
        nodes += rw.qdq(name, renamed[name], *rw.params[name])
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
        if node.op_type in ("Conv", "Gemm"):
            nodes += rw.conv_or_gemm(node)
        out = node.output[0] if node.output else None
        if out in ranges:
            node.output[0] = f"{out}_float"
            nodes.append(node)
            nodes += rw.qdq(node.output[0], out, *rw.params[out])
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(rw.new_inits)
    del graph.value_info[:]
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < 13:
            opset.version = 13
    return model


def expose_activations(model):
    graph = model.graph
    inferred = onnx.shape_inference.infer_shapes(model).graph.value_info
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in inferred}
    quantized = [n.output[0] for n in graph.node
                 if n.op_type == "QuantizeLinear"]
    for i, name in enumerate(quantized):
        out = f"activation_{i:02d}"
        graph.node.append(helper.make_node("Identity", [name], [out]))
        graph.output.append(
            helper.make_tensor_value_info(out, TensorProto.INT8, shapes[name]))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--samples", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--expose-activations", action="store_true")
    p.add_argument("--ort", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "ort", "run.mjs"))
    args = p.parse_args()
    model = onnx.load(args.input)
    names = tensors_to_quantize(model.graph)
    ranges = calibrate(model, names, args.samples, args.seed, args.ort)
    model = quantize(model, ranges)
    if args.expose_activations:
        expose_activations(model)
    onnx.checker.check_model(model)
    tmp = args.output + ".tmp"
    onnx.save(model, tmp)
    os.replace(tmp, args.output)
    print(f"quantized {len(names)} activations to {args.output}")


if __name__ == "__main__":
    main()
