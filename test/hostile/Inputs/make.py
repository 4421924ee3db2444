"""Writes one hostile input for the test/hostile lit tests.

usage: make.py OUTDIR CASE

Each case writes OUTDIR/CASE.onnx (or .npy, or the files its test names).
The models are built with onnx.helper so that each one is wrong in exactly
the way its name says and valid otherwise.
"""
import os
import random
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

F = TensorProto.FLOAT


def model(nodes, inputs, outputs, inits=(), opset=13):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def vinfo(name, shape, elem=F):
    return helper.make_tensor_value_info(name, elem, shape)


def relu_model():
    """x: f32[1,4] -> relu -> y; the valid base of several cases."""
    return model([helper.make_node("Relu", ["x"], ["y"])], [vinfo("x", [1, 4])],
                 [vinfo("y", [1, 4])])


def add_init_model(init, xshape=(1, 4)):
    """y = x + init, with the initializer given as a TensorProto."""
    return model([helper.make_node("Add", ["x", init.name], ["y"])],
                 [vinfo("x", list(xshape))], [vinfo("y", None)], [init])


def shaped_init(name, dims, raw=b""):
    """An f32 initializer whose dims are not checked by onnx.helper."""
    t = TensorProto()
    t.name = name
    t.data_type = F
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def external_init(name, dims, location, offset=None, length=None):
    t = shaped_init(name, dims)
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    entries = [("location", location)]
    if offset is not None:
        entries.append(("offset", str(offset)))
    if length is not None:
        entries.append(("length", str(length)))
    for k, v in entries:
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def shape_const(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)


def save(m, path):
    write_bytes(path, m.SerializeToString())


def case_truncated(out):
    data = relu_model().SerializeToString()
    write_bytes(out + ".onnx", data[: len(data) - 5])


def case_random_bytes(out):
    rng = random.Random(7)
    write_bytes(out + ".onnx", bytes(rng.randrange(256) for _ in range(4096)))


def case_empty(out):
    write_bytes(out + ".onnx", b"")


def case_png(out):
    write_bytes(out + ".onnx", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(16))


def case_zip(out):
    write_bytes(out + ".onnx", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(20))


def case_npy_as_model(out):
    np.save(out + ".npy", np.zeros((1, 4), np.float32))


def case_huge_init_dims(out):
    # 1e12 elements declared, no data.
    save(add_init_model(shaped_init("w", [1000000, 1000000])), out + ".onnx")


def case_negative_init_dims(out):
    save(add_init_model(shaped_init("w", [-1, 4])), out + ".onnx")


def case_huge_input_dims(out):
    m = model([helper.make_node("Relu", ["x"], ["y"])],
              [vinfo("x", [1000000, 1000000])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_negative_input_dims(out):
    m = model([helper.make_node("Relu", ["x"], ["y"])], [vinfo("x", [1, -4])],
              [vinfo("y", None)])
    save(m, out + ".onnx")


def case_raw_size_mismatch(out):
    # f32[1,4] needs 16 bytes; 12 are given.
    save(add_init_model(shaped_init("w", [1, 4], bytes(12))), out + ".onnx")


def case_typed_size_mismatch(out):
    t = shaped_init("w", [1, 4])
    t.ClearField("raw_data")
    t.float_data.extend([1.0, 2.0, 3.0])
    save(add_init_model(t), out + ".onnx")


def case_raw_and_typed(out):
    # Both raw_data and float_data: which one is meant is not knowable.
    t = shaped_init("w", [1, 4], bytes(16))
    t.float_data.extend([1.0, 2.0, 3.0, 4.0])
    save(add_init_model(t), out + ".onnx")


def case_int8_out_of_range(out):
    # int8 data travels in int32_data; 300 does not fit an int8.
    t = TensorProto()
    t.name, t.data_type = "w", TensorProto.INT8
    t.dims.extend([4])
    t.int32_data.extend([1, 2, 300, 4])
    m = model([helper.make_node("Cast", ["w"], ["c"], to=F),
               helper.make_node("Add", ["x", "c"], ["y"])],
              [vinfo("x", [1, 4])], [vinfo("y", None)], [t])
    save(m, out + ".onnx")


def case_zero_point_out_of_range(out):
    # A uint8 zero point of -1 (it would wrap to 255).
    zp = TensorProto()
    zp.name, zp.data_type = "zp", TensorProto.UINT8
    zp.int32_data.append(-1)
    m = model([helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["y"],
                                name="q")],
              [vinfo("x", [1, 4])], [vinfo("y", None)],
              [helper.make_tensor("s", F, [], [0.1]), zp])
    save(m, out + ".onnx")


def case_weights_over_cap(out):
    # 3 GiB of f32 in one initializer, more than the 2 GiB weight cap.
    save(add_init_model(shaped_init("w", [3 << 28])), out + ".onnx")


def case_undefined_input(out):
    m = model([helper.make_node("Add", ["x", "ghost"], ["y"])],
              [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_cycle(out):
    # a = x + b; b = relu(a): each node needs the other's output.
    m = model([helper.make_node("Add", ["x", "b"], ["a"], name="add"),
               helper.make_node("Relu", ["a"], ["b"], name="relu")],
              [vinfo("x", [1, 4])], [vinfo("b", None)])
    save(m, out + ".onnx")


def case_self_loop(out):
    m = model([helper.make_node("Add", ["x", "y"], ["y"], name="loop")],
              [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_duplicate_output(out):
    m = model([helper.make_node("Relu", ["x"], ["y"], name="first"),
               helper.make_node("Neg", ["x"], ["y"], name="second")],
              [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_duplicate_initializer(out):
    w = helper.make_tensor("w", F, [1, 4], [1, 2, 3, 4])
    m = add_init_model(w)
    m.graph.initializer.append(helper.make_tensor("w", F, [1, 4], [5, 6, 7, 8]))
    save(m, out + ".onnx")


def case_output_shadows_input(out):
    m = model([helper.make_node("Relu", ["x"], ["x"], name="shadow")],
              [vinfo("x", [1, 4])], [vinfo("x", None)])
    save(m, out + ".onnx")


def external_model(out, init):
    os.makedirs(os.path.dirname(out + ".onnx"), exist_ok=True)
    save(add_init_model(init), out + ".onnx")


def case_external_dotdot(out):
    external_model(out, external_init("w", [1, 4], "../secret.bin"))


def case_external_absolute(out):
    external_model(out, external_init("w", [1, 4], "/etc/passwd"))


def case_external_symlink(out):
    # OUTDIR/link.bin -> OUTDIR-outside.bin, a file outside the folder.
    folder = os.path.dirname(out + ".onnx")
    outside = folder + "-outside.bin"
    write_bytes(outside, bytes(16))
    os.makedirs(folder, exist_ok=True)
    link = os.path.join(folder, "link.bin")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.abspath(outside), link)
    external_model(out, external_init("w", [1, 4], "link.bin"))


def case_external_missing(out):
    external_model(out, external_init("w", [1, 4], "missing.bin"))


def case_external_offset_past_end(out):
    folder = os.path.dirname(out + ".onnx")
    os.makedirs(folder, exist_ok=True)
    write_bytes(os.path.join(folder, "w.bin"), bytes(16))
    external_model(out, external_init("w", [1, 4], "w.bin", offset=8))


def case_external_offset_huge(out):
    folder = os.path.dirname(out + ".onnx")
    os.makedirs(folder, exist_ok=True)
    write_bytes(os.path.join(folder, "w.bin"), bytes(16))
    external_model(out, external_init("w", [1, 4], "w.bin", offset=1 << 62))


def case_external_length_mismatch(out):
    folder = os.path.dirname(out + ".onnx")
    os.makedirs(folder, exist_ok=True)
    write_bytes(os.path.join(folder, "w.bin"), bytes(16))
    external_model(out, external_init("w", [1, 4], "w.bin", length=1 << 40))


def case_external_big_declared(out):
    # 1 GiB declared, 16 bytes on disk: rejected before 1 GiB is allocated.
    folder = os.path.dirname(out + ".onnx")
    os.makedirs(folder, exist_ok=True)
    write_bytes(os.path.join(folder, "w.bin"), bytes(16))
    external_model(out, external_init("w", [1 << 28], "w.bin"))


def case_external_fifo(out):
    # An empty tensor whose data file is a FIFO: opening it would block.
    folder = os.path.dirname(out + ".onnx")
    os.makedirs(folder, exist_ok=True)
    fifo = os.path.join(folder, "w.bin")
    if os.path.lexists(fifo):
        os.remove(fifo)
    os.mkfifo(fifo)
    init = external_init("w", [0], "w.bin")
    m = model([helper.make_node("Add", ["x", "w"], ["y"])],
              [vinfo("x", [0])], [vinfo("y", None)], [init])
    save(m, out + ".onnx")


def case_reshape_huge(out):
    m = model([helper.make_node("Reshape", ["x", "s"], ["y"], name="big")],
              [vinfo("x", [1, 4])], [vinfo("y", None)],
              [shape_const("s", [100000, 100000])])
    save(m, out + ".onnx")


def case_constant_of_shape_huge(out):
    m = model([helper.make_node("ConstantOfShape", ["s"], ["c"], name="fill"),
               helper.make_node("Add", ["x", "c"], ["y"])],
              [vinfo("x", [1])], [vinfo("y", None)],
              [shape_const("s", [100000, 100000])])
    save(m, out + ".onnx")


def case_constant_of_shape_4gib(out):
    # 2^30 f32 elements: within the element cap, but 4 GiB to fold.
    m = model([helper.make_node("ConstantOfShape", ["s"], ["c"], name="fill"),
               helper.make_node("Add", ["x", "c"], ["y"])],
              [vinfo("x", [1])], [vinfo("y", None)],
              [shape_const("s", [1 << 30])])
    save(m, out + ".onnx")


def case_fold_bomb(out):
    # A constant [4096,4096] times itself: 2^36 multiply-adds if folded.
    one = helper.make_tensor("one", F, [1], [1.0])
    m = model([helper.make_node("ConstantOfShape", ["s"], ["c"], value=one),
               helper.make_node("MatMul", ["c", "c"], ["p"], name="square"),
               helper.make_node("Add", ["x", "p"], ["y"])],
              [vinfo("x", [1, 4096])], [vinfo("y", None)],
              [shape_const("s", [4096, 4096])])
    save(m, out + ".onnx")


def case_fold_budget(out):
    # Eight constant products of 2^31 multiply-adds each: every one is under
    # the per-op folding cap, together they are four times the total budget.
    one = helper.make_tensor("one", F, [1], [1.0])
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c"], value=one)]
    total = "x"
    for i in range(8):
        nodes.append(helper.make_node("MatMul", ["c", "c"], [f"p{i}"],
                                      name=f"square{i}"))
        nodes.append(helper.make_node("Add", [total, f"p{i}"], [f"t{i}"]))
        total = f"t{i}"
    m = model(nodes, [vinfo("x", [1, 1280])], [vinfo(total, None)],
              [shape_const("s", [1280, 1280])])
    save(m, out + ".onnx")


def case_expand_huge(out):
    m = model([helper.make_node("Expand", ["x", "s"], ["y"], name="wide")],
              [vinfo("x", [1, 1])], [vinfo("y", None)],
              [shape_const("s", [100000, 100000])])
    save(m, out + ".onnx")


def case_resize_huge(out):
    scales = helper.make_tensor("scales", F, [4], [1, 1, 1e5, 1e5])
    m = model([helper.make_node("Resize", ["x", "", "scales"], ["y"],
                                name="zoom", mode="nearest")],
              [vinfo("x", [1, 1, 4, 4])], [vinfo("y", None)], [scales])
    save(m, out + ".onnx")


def case_huge_attribute(out):
    # A Transpose whose perm lists a million axes.
    node = helper.make_node("Transpose", ["x"], ["y"], name="perm",
                            perm=list(range(1000000)))
    m = model([node], [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_many_attributes(out):
    node = helper.make_node("Relu", ["x"], ["y"], name="noisy")
    for i in range(100000):
        node.attribute.append(helper.make_attribute(f"a{i}", i))
    m = model([node], [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_deep_chain(out):
    n = 100000
    nodes = [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"])
             for i in range(n)]
    m = model(nodes, [vinfo("t0", [1, 4])], [vinfo(f"t{n}", None)])
    save(m, out + ".onnx")
    np.save(out + "-input.npy", np.array([[-1, 2, -3, 4]], np.float32))


def case_deep_qdq_chain(out):
    # The chain between a dequantize and a quantize: fold-qdq must not
    # recurse over it looking for an elementwise function to tabulate.
    n = 100000
    scale = helper.make_tensor("s", F, [], [0.1])
    zero = helper.make_tensor("z", TensorProto.INT8, [], [0])
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q0"]),
             helper.make_node("DequantizeLinear", ["q0", "s", "z"], ["t0"])]
    nodes += [helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"])
              for i in range(n)]
    nodes += [helper.make_node("QuantizeLinear", [f"t{n}", "s", "z"], ["q1"]),
              helper.make_node("DequantizeLinear", ["q1", "s", "z"], ["y"])]
    m = model(nodes, [vinfo("x", [1, 4])], [vinfo("y", None)], [scale, zero])
    save(m, out + ".onnx")
    np.save(out + "-input.npy", np.array([[-1, 2, -3, 4]], np.float32))


def conv_case(out, **attrs):
    w = helper.make_tensor("w", F, [2, 2, 3, 3], [1.0] * 36)
    m = model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv", **attrs)],
              [vinfo("x", [1, 2, 5, 5])], [vinfo("y", None)], [w])
    save(m, out + ".onnx")


def case_conv_huge_pads(out):
    # 2^62 on both sides overflows int64 if added unchecked.
    conv_case(out, pads=[1 << 62] * 4)


def case_conv_huge_dilations(out):
    conv_case(out, dilations=[1 << 40, 1 << 40])


def case_conv_zero_strides(out):
    conv_case(out, strides=[0, 0])


def case_conv_negative_group(out):
    conv_case(out, group=-2)


def case_pool_huge_kernel(out):
    m = model([helper.make_node("MaxPool", ["x"], ["y"], name="pool",
                                kernel_shape=[1 << 62, 1 << 62],
                                strides=[1 << 62, 1 << 62])],
              [vinfo("x", [1, 2, 5, 5])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_pad_huge(out):
    pads = shape_const("p", [0, 0, 1 << 62, 0, 0, 0, 1 << 62, 0])
    m = model([helper.make_node("Pad", ["x", "p"], ["y"], name="pad")],
              [vinfo("x", [1, 2, 5, 5])], [vinfo("y", None)], [pads])
    save(m, out + ".onnx")


def case_split_overflow(out):
    # The sizes sum to 2 only modulo 2^64.
    sizes = shape_const("s", [(1 << 63) - 1, -(1 << 63) + 3])
    m = model([helper.make_node("Split", ["x", "s"], ["y", "z"], name="split",
                                axis=1)],
              [vinfo("x", [1, 2, 5, 5])], [vinfo("y", None), vinfo("z", None)],
              [sizes])
    save(m, out + ".onnx")


def case_unsqueeze_huge_axis(out):
    m = model([helper.make_node("Unsqueeze", ["x", "a"], ["y"], name="unsq")],
              [vinfo("x", [1, 4])], [vinfo("y", None)],
              [shape_const("a", [1 << 62])])
    save(m, out + ".onnx")


def case_softmax_huge_axis(out):
    m = model([helper.make_node("Softmax", ["x"], ["y"], name="soft",
                                axis=-(1 << 62))],
              [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_resize_huge_sizes(out):
    m = model([helper.make_node("Resize", ["x", "", "", "s"], ["y"],
                                name="zoom")],
              [vinfo("x", [1, 1, 4, 4])], [vinfo("y", None)],
              [shape_const("s", [1, 1, 1 << 62, 1 << 62])])
    save(m, out + ".onnx")


def case_resize_infinite_scale(out):
    scales = helper.make_tensor("scales", F, [4], [1, 1, float("inf"), 2])
    m = model([helper.make_node("Resize", ["x", "", "scales"], ["y"],
                                name="zoom", mode="nearest")],
              [vinfo("x", [1, 1, 4, 4])], [vinfo("y", None)], [scales])
    save(m, out + ".onnx")


def case_slice_extremes(out):
    consts = [shape_const(n, [v]) for n, v in
              [("s", -(1 << 63)), ("e", (1 << 63) - 1), ("a", 2),
               ("st", -(1 << 63))]]
    m = model([helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"],
                                name="slice")],
              [vinfo("x", [1, 2, 5, 5])], [vinfo("y", None)], consts)
    save(m, out + ".onnx")


def split_model(outputs, opset=13, **attrs):
    return model([helper.make_node("Split", ["x"], outputs, name="split",
                                   axis=1, **attrs),
                  helper.make_node("Relu", ["x"], ["r"])],
                 [vinfo("x", [1, 4])], [vinfo(o, None) for o in outputs] +
                 [vinfo("r", None)], opset=opset)


def case_split_no_outputs(out):
    save(split_model([]), out + ".onnx")


def case_split_zero_num_outputs(out):
    save(split_model(["y"], opset=18, num_outputs=0), out + ".onnx")


def case_split_many_outputs(out):
    m = model([helper.make_node("Split", ["x"],
                                [f"y{i}" for i in range(5000)], name="split",
                                axis=1)],
              [vinfo("x", [1, 5000])], [vinfo("y0", None)])
    save(m, out + ".onnx")


def case_unsqueeze_many_axes(out):
    m = model([helper.make_node("Unsqueeze", ["x", "a"], ["y"], name="unsq")],
              [vinfo("x", [1, 4])], [vinfo("y", None)],
              [shape_const("a", list(range(1000000)))])
    save(m, out + ".onnx")


def pad_const_model(data, pads, mode):
    """y = x + pad(constant data): the pad folds at import."""
    shape = list(np.array(data).shape)
    padded = [shape[d] + pads[d] + pads[d + len(shape)]
              for d in range(len(shape))]
    m = model([helper.make_node("Pad", ["d", "p"], ["q"], name="pad",
                                mode=mode),
               helper.make_node("Add", ["x", "q"], ["y"])],
              [vinfo("x", padded)], [vinfo("y", None)],
              [helper.make_tensor("d", F, shape,
                                  np.array(data, np.float32).ravel()),
               shape_const("p", pads)])
    return m


def case_pad_edge_empty_axis(out):
    # Edge padding of an axis of extent 0 has no edge to repeat.
    save(pad_const_model(np.zeros((0, 3)), [1, 0, 1, 0], "edge"),
         out + ".onnx")


def case_pad_reflect_wide(out):
    # Reflecting 3 entries of an axis of 3 needs a 4th.
    save(pad_const_model(np.ones((2, 3)), [0, 3, 0, 0], "reflect"),
         out + ".onnx")


def case_dequantize_extra_scales(out):
    # Three scales along axis 1 of extent 1: broadcasting would widen y.
    m = model([helper.make_node("DequantizeLinear", ["x", "s", "zp"], ["y"],
                                name="dq", axis=1)],
              [vinfo("x", [2, 1], TensorProto.INT8)], [vinfo("y", None)],
              [helper.make_tensor("s", F, [3], [0.1, 0.2, 0.3]),
               helper.make_tensor("zp", TensorProto.INT8, [3], [0, 0, 0])])
    save(m, out + ".onnx")


def case_constant_int64_max(out):
    # x[:, 1:INT64_MAX] with the end from Constant value_int: 3 columns.
    m = model([helper.make_node("Constant", [], ["e0"],
                                value_int=(1 << 63) - 1),
               helper.make_node("Unsqueeze", ["e0", "zero"], ["e"]),
               helper.make_node("Slice", ["x", "s", "e", "a"], ["y"],
                                name="slice")],
              [vinfo("x", [1, 4])], [vinfo("y", None)],
              [shape_const("s", [1]), shape_const("a", [1]),
               shape_const("zero", [0])])
    save(m, out + ".onnx")


def case_cast_to_huge(out):
    # 2^32 + 1 is FLOAT (1) only when truncated to 32 bits.
    m = model([helper.make_node("Cast", ["x"], ["y"], name="cast",
                                to=(1 << 32) + 1)],
              [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_slice_step_min(out):
    # x[:, :, 4::INT64_MIN]: one row; the step times a stride overflows.
    consts = [shape_const(n, [v]) for n, v in
              [("s", -1), ("e", -(1 << 63)), ("a", 2), ("st", -(1 << 63))]]
    m = model([helper.make_node("Slice", ["x", "s", "e", "a", "st"], ["y"],
                                name="slice")],
              [vinfo("x", [1, 2, 5, 5])], [vinfo("y", None)], consts)
    save(m, out + ".onnx")
    np.save(out + "-input.npy",
            np.arange(50, dtype=np.float32).reshape(1, 2, 5, 5))


def case_attr_float_for_int(out):
    conv_case(out, group=1.0)


def case_attr_string_for_int(out):
    m = model([helper.make_node("Cast", ["x"], ["y"], name="cast",
                                to="FLOAT")],
              [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_constant_wrong_attr_type(out):
    # Constant 'value' given as an INT, not a TENSOR.
    node = helper.make_node("Constant", [], ["c"], name="const")
    node.attribute.append(helper.make_attribute("value", 5))
    node.attribute[0].name = "value"
    m = model([node, helper.make_node("Add", ["x", "c"], ["y"])],
              [vinfo("x", [1])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_long_node_name(out):
    m = model([helper.make_node("Softmax", ["x"], ["y"], name="n" * (10 << 20),
                                axis=5)],
              [vinfo("x", [1, 4])], [vinfo("y", None)])
    save(m, out + ".onnx")


def case_valid(out):
    save(relu_model(), out + ".onnx")


def case_bad_npy(out):
    """The valid model plus one malformed .npy per way it can be wrong."""
    save(relu_model(), out + ".onnx")
    np.save(out + "-f64.npy", np.zeros((1, 4), np.float64))
    np.save(out + "-shape.npy", np.zeros((2, 4), np.float32))
    np.save(out + "-i64.npy", np.zeros((1, 4), np.int64))
    np.save(out + "-ok.npy", np.zeros((1, 4), np.float32))
    ok = open(out + "-ok.npy", "rb").read()
    write_bytes(out + "-truncated.npy", ok[:-3])
    write_bytes(out + "-header.npy", ok[:20])
    write_bytes(out + "-garbage.npy", b"\x93NUMPY\x01\x00\xff\xff" + bytes(8))
    write_bytes(out + "-huge.npy",
                b"\x93NUMPY\x01\x00" + len_header(
                    "{'descr': '<f4', 'fortran_order': False, "
                    "'shape': (100000, 100000), }"))
    write_bytes(out + "-negative.npy",
                b"\x93NUMPY\x01\x00" + len_header(
                    "{'descr': '<f4', 'fortran_order': False, "
                    "'shape': (-1, 4), }"))
    write_bytes(out + "-fortran.npy",
                b"\x93NUMPY\x01\x00" + len_header(
                    "{'descr': '<f4', 'fortran_order': True, "
                    "'shape': (1, 4), }") + bytes(16))


def len_header(text):
    body = text.encode() + b"\n"
    return len(body).to_bytes(2, "little") + body


# Generated code and outputs (backend side): indices and pad widths that
# would read outside a buffer, names that are not safe as file names or C
# string literals, a scratch arena larger than a 32-bit address space.

def gather_model(indices=None, xshape=(3, 2), ishape=(2,)):
    """y = gather(x, indices, axis 0); indices constant, or an i64 input."""
    node = helper.make_node("Gather", ["x", "i"], ["y"], name="gather")
    inputs = [vinfo("x", list(xshape))]
    inits = []
    if indices is None:
        inputs.append(vinfo("i", list(ishape), TensorProto.INT64))
    else:
        inits.append(helper.make_tensor("i", TensorProto.INT64,
                                        [len(indices)], indices))
    return model([node], inputs, [vinfo("y", None)], inits)


def case_gather_past_end(out):
    save(gather_model([0, 3]), out + ".onnx")


def case_gather_below_start(out):
    save(gather_model([-4, 1]), out + ".onnx")


def case_gather_huge(out):
    save(gather_model([10 ** 6]), out + ".onnx")


def case_gather_runtime(out):
    """Indices from the caller: in range (negative counts from the end), one
    past the end, below -extent, 10^6, and 2^32 + 1 (1 if truncated to 32
    bits)."""
    save(gather_model(), out + ".onnx")
    np.save(out + "-x.npy", np.arange(6, dtype=np.float32).reshape(3, 2))
    for name, idx in [("ok", [2, -3]), ("past-end", [0, 3]),
                      ("below-start", [-4, 0]), ("huge", [1, 10 ** 6]),
                      ("wrap", [1, (1 << 32) + 1])]:
        np.save(f"{out}-{name}.npy", np.array(idx, np.int64))


def pad_model(xshape, pads, mode):
    node = helper.make_node("Pad", ["x", "p"], ["y"], name="pad", mode=mode)
    return model([node], [vinfo("x", list(xshape))], [vinfo("y", None)],
                 [shape_const("p", pads)])


def case_pad_modes(out):
    """Pads of each mode as wide as ONNX allows (reflect: kept entries - 1), with
    cropping on the other side, and constant padding of an empty axis."""
    rng = np.random.default_rng(3)
    for mode, xshape, pads in [
            ("reflect", (1, 2, 3, 4), [0, 1, 2, 1, 0, 0, 2, -2]),
            ("edge", (1, 1, 3, 1), [0, 0, 3, 5, 0, 0, -1, 2]),
            ("constant", (2, 0, 3), [0, 2, 1, 1, 3, 0])]:
        save(pad_model(xshape, pads, mode), f"{out}-{mode}.onnx")
        np.save(f"{out}-{mode}.npy",
                rng.standard_normal(xshape).astype(np.float32))


def case_output_names(out):
    """Outputs named a/b, a_b and .hidden: distinct, visible files."""
    nodes = [helper.make_node("Relu", ["x"], ["a/b"]),
             helper.make_node("Neg", ["x"], ["a_b"]),
             helper.make_node("Abs", ["x"], [".hidden"])]
    m = model(nodes, [vinfo("x", [1, 4])],
              [vinfo(n, None) for n in ["a/b", "a_b", ".hidden"]])
    save(m, out + ".onnx")
    np.save(out + "-x.npy", np.array([[-1, 2, -3, 4]], np.float32))


def case_c_hostile_names(out):
    """Tensor names with a trigraph, a control byte and UTF-8."""
    m = model([helper.make_node("Relu", ["x??/"], ["y\x01\u00e9??="])],
              [vinfo("x??/", [1, 4])], [vinfo("y\x01\u00e9??=", None)])
    save(m, out + ".onnx")


def case_arena_6gib(out):
    """Six 1 GiB activations live at once: 6 GiB of scratch."""
    ops = ["Relu", "Neg", "Abs", "Sigmoid", "Tanh", "Exp"]
    nodes = [helper.make_node(op, ["x"], [f"a{i}"]) for i, op in enumerate(ops)]
    total = "a0"
    for i in range(1, len(ops)):
        nodes.append(helper.make_node("Add", [total, f"a{i}"], [f"s{i}"]))
        total = f"s{i}"
    nodes.append(helper.make_node("Relu", [total], ["y"]))
    save(model(nodes, [vinfo("x", [1 << 28])], [vinfo("y", None)]),
         out + ".onnx")

CASES = {name[len("case_"):].replace("_", "-"): fn
         for name, fn in globals().items() if name.startswith("case_")}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        sys.exit("usage: make.py OUTDIR CASE\ncases: " + " ".join(sorted(CASES)))
    outdir, case = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    CASES[case](os.path.join(outdir, case))


if __name__ == "__main__":
    main()
