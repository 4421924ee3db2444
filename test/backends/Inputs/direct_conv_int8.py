"""Writes an int8 model of direct convs (the shapes the direct kernel must
get right: no padding, odd kernel widths, asymmetric padding, stride 2,
rows longer than a vector, u8 weights whose w - zw needs 16 bits) with
random weights, and random u8 and i8 inputs for it.

usage: direct_conv_int8.py OUT.mnir XU8.npy XI8.npy"""
import sys

import numpy as np

rng = np.random.default_rng(7)
U8_SHAPE, I8_SHAPE = [1, 2, 9, 37], [1, 3, 10, 21]
# input, out channels, groups, kernel, strides, pads (t, l, b, r), weight kind
CONVS = [
    ("xu", 3, 1, (3, 3), 1, (0, 0, 0, 0), "u8"),
    ("xu", 2, 2, (5, 5), 1, (2, 2, 2, 2), "i8"),
    ("xu", 4, 2, (1, 3), 1, (0, 1, 0, 1), "u8"),
    ("xu", 2, 2, (3, 3), 1, (1, 1, 1, 1), "i8"),
    ("xi", 3, 3, (3, 3), 2, (0, 0, 1, 1), "i8"),
    ("xi", 3, 3, (3, 3), 2, (1, 1, 1, 1), "u8"),
    ("xi", 6, 1, (3, 3), 2, (1, 1, 1, 1), "i8"),
]


def dense(values):
    return "dense<[" + ", ".join(str(int(v)) for v in values.flat) + "]>"


def main():
    out, xu_path, xi_path = sys.argv[1:]
    shapes = {"xu": U8_SHAPE, "xi": I8_SHAPE}
    types = {"xu": "u8<0.05:7>", "xi": "i8<0.04:-3>"}
    scales = {"xu": 0.05, "xi": 0.04}
    body, results = [], []
    for i, (x, m, groups, (kh, kw), s, pads, wkind) in enumerate(CONVS):
        n, c, h, w = shapes[x]
        oh = (h + pads[0] + pads[2] - kh) // s + 1
        ow = (w + pads[1] + pads[3] - kw) // s + 1
        wscales = rng.uniform(0.002, 0.02, m)
        if wkind == "u8":
            wz = rng.integers(0, 256, m)
            weights = rng.integers(0, 256, (m, c // groups, kh, kw))
            wq = ",".join(f"{v:.6g}:{z}" for v, z in zip(wscales, wz))
        else:
            weights = rng.integers(-127, 128, (m, c // groups, kh, kw))
            wq = ",".join(f"{v:.6g}:0" for v in wscales)
        bscales = ",".join(f"{scales[x] * v:.6g}:0" for v in wscales)
        bias = rng.integers(-3000, 3000, m)
        yq = "u8<0.03:100>" if i % 2 else "i8<0.05:4>"
        body += [
            f"  %w{i} = constant {{value={dense(weights)}}} : "
            f"{wkind}<axis=0:{wq}>[{m},{c // groups},{kh},{kw}]",
            f"  %b{i} = constant {{value={dense(bias)}}} : "
            f"i32<axis=0:{bscales}>[{m}]",
            f"  %y{i} = conv2d %{x}, %w{i}, %b{i} {{dilations=[1,1], "
            f"group={groups}, pads=[{','.join(map(str, pads))}], "
            f"strides=[{s},{s}]}} : {yq}[1,{m},{oh},{ow}]",
        ]
        results.append((f"%y{i}", f'{yq}[1,{m},{oh},{ow}] "y{i}"'))
    args = ", ".join(f'%{x}: {types[x]}[{",".join(map(str, shapes[x]))}] "{x}"'
                     for x in ("xu", "xi"))
    with open(out, "w") as f:
        f.write(f"func @main({args}) -> ({', '.join(t for _, t in results)}) {{\n")
        f.write("\n".join(body) + "\n")
        f.write(f"  return {', '.join(v for v, _ in results)}\n}}\n")
    np.save(xu_path, rng.integers(0, 256, U8_SHAPE).astype(np.uint8))
    np.save(xi_path, rng.integers(-128, 128, I8_SHAPE).astype(np.int8))


if __name__ == "__main__":
    main()
