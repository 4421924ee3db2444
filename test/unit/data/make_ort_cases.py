#!/usr/bin/env python3
"""Generates quantized op cases the ONNX node tests lack (padding, groups,
strides, per-channel weights, bias), with expected outputs from ONNX Runtime.

Each case is a directory shaped like an ONNX node test: model.onnx and
test_data_set_0/{input_N,output_0}.pb. Run from the repository root after
scripts/install-deps.sh:  /usr/bin/python3 test/unit/data/make_ort_cases.py
"""
import os
import subprocess
import tempfile

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))


def make_model(name, node, inputs, constants, output_type, output_shape):
    """One-node model: `inputs` as graph inputs, `constants` as initializers
    (both lists of (name, np.ndarray))."""
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info(n, onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype], a.shape)
         for n, a in inputs],
        [helper.make_tensor_value_info('y', output_type, output_shape)],
        [numpy_helper.from_array(a, n) for n, a in constants])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def write_case(name, node, inputs, output_type, output_shape):
    """inputs: list of (name, np.ndarray); runs ONNX Runtime for output y.

    ONNX Runtime computes y on a copy of the model whose inputs after the
    first are initializers, with --exact-int8: its exact u8 x s8 kernels
    (session.x64quantprecision=1) only take constant weights, and its
    default ones saturate at int16 on x86-64 CPUs without AVX-512 VNNI."""
    model = make_model(name, node, inputs, [], output_type, output_shape)
    probe = make_model(name, node, inputs[:1], inputs[1:], output_type,
                       output_shape)
    case = os.path.join(HERE, name)
    os.makedirs(os.path.join(case, 'test_data_set_0'), exist_ok=True)
    onnx.save(model, os.path.join(case, 'model.onnx'))
    with tempfile.TemporaryDirectory() as tmp:
        onnx.save(probe, os.path.join(tmp, 'probe.onnx'))
        for i, (n, a) in enumerate(inputs):
            with open(os.path.join(case, 'test_data_set_0', f'input_{i}.pb'), 'wb') as f:
                f.write(numpy_helper.from_array(a, n).SerializeToString())
        n, a = inputs[0]
        np.save(os.path.join(tmp, f'{n}.npy'), a)
        subprocess.run(['node', os.path.join(ROOT, 'tools/ort/run.mjs'),
                        os.path.join(tmp, 'probe.onnx'), '--exact-int8',
                        '--input', f'{n}={os.path.join(tmp, n + ".npy")}',
                        '--output-dir', tmp], check=True)
        y = np.load(os.path.join(tmp, 'y.npy'))
    with open(os.path.join(case, 'test_data_set_0', 'output_0.pb'), 'wb') as f:
        f.write(numpy_helper.from_array(y, 'y').SerializeToString())


def qlinearconv_case(name, rng, x_shape, w_shape, group, strides, pads):
    x = rng.integers(0, 256, x_shape, dtype=np.uint8)
    w = rng.integers(-127, 128, w_shape, dtype=np.int8)
    m = w_shape[0]
    x_scale = np.array(0.0213, np.float32)
    x_zp = np.array(131, np.uint8)
    w_scale = rng.uniform(0.002, 0.02, m).astype(np.float32)
    w_zp = np.zeros(m, np.int8)
    y_scale = np.array(0.173, np.float32)
    y_zp = np.array(119, np.uint8)
    b = rng.integers(-3000, 3000, m, dtype=np.int32)
    node = helper.make_node(
        'QLinearConv',
        ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point',
         'y_scale', 'y_zero_point', 'b'], ['y'],
        group=group, strides=strides, pads=pads,
        kernel_shape=list(w_shape[2:]))
    write_case(name, node,
               [('x', x), ('x_scale', x_scale), ('x_zero_point', x_zp),
                ('w', w), ('w_scale', w_scale), ('w_zero_point', w_zp),
                ('y_scale', y_scale), ('y_zero_point', y_zp), ('b', b)],
               TensorProto.UINT8, ['n', 'm', 'h', 'w'])


def main():
    rng = np.random.default_rng(20240601)
    qlinearconv_case('ort_qlinearconv_depthwise', rng, (1, 8, 9, 7),
                     (8, 1, 3, 3), 8, [2, 2], [1, 1, 0, 1])
    qlinearconv_case('ort_qlinearconv_grouped', rng, (1, 6, 8, 8),
                     (4, 3, 3, 3), 2, [1, 1], [1, 1, 1, 1])
    qlinearconv_case('ort_qlinearconv_pointwise', rng, (1, 16, 5, 5),
                     (24, 16, 1, 1), 1, [1, 1], [0, 0, 0, 0])


if __name__ == '__main__':
    main()
