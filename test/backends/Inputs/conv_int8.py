"""Writes an int8 model of convs with random weights, and random u8 and i8
inputs for it. Two sets: `direct`, the shapes the direct kernel must get
right (no padding, odd kernel widths, asymmetric padding, stride 2, rows
longer than a vector, u8 weights whose w - zw needs 16 bits); `pointwise`,
1x1 convs whose channels are no multiple of any reduction step and whose
pixels are no multiple of any vector, with int8 and with wider weights.

usage: conv_int8.py direct|pointwise OUT.mnir XU8.npy XI8.npy"""
import sys

import numpy as np

rng = np.random.default_rng(7)
# Per set: the shapes of the u8 and i8 inputs, and the convs: input, out
# channels, groups, kernel, strides, pads (t, l, b, r), weight kind.
SETS = {
    "direct": ([1, 2, 9, 37], [1, 3, 10, 21], [
        ("xu", 3, 1, (3, 3), 1, (0, 0, 0, 0), "u8"),
        ("xu", 2, 2, (5, 5), 1, (2, 2, 2, 2), "i8"),
        ("xu", 4, 2, (1, 3), 1, (0, 1, 0, 1), "u8"),
        ("xu", 2, 2, (3, 3), 1, (1, 1, 1, 1), "i8"),
        ("xi", 3, 3, (3, 3), 2, (0, 0, 1, 1), "i8"),
        ("xi", 3, 3, (3, 3), 2, (1, 1, 1, 1), "u8"),
        ("xi", 6, 1, (3, 3), 2, (1, 1, 1, 1), "i8"),
    ]),
    "pointwise": ([1, 17, 5, 7], [1, 40, 3, 3], [
        ("xu", 5, 1, (1, 1), 1, (0, 0, 0, 0), "i8"),
        ("xu", 16, 1, (1, 1), 1, (0, 0, 0, 0), "u8"),
        ("xi", 33, 1, (1, 1), 1, (0, 0, 0, 0), "i8"),
        ("xi", 3, 1, (1, 1), 1, (0, 0, 0, 0), "u8"),
    ]),
}


def dense(values):
    return "dense<[" + ", ".join(str(int(v)) for v in values.flat) + "]>"


def main():
    kind, out, xu_path, xi_path = sys.argv[1:]
    u8_shape, i8_shape, convs = SETS[kind]
    shapes = {"xu": u8_shape, "xi": i8_shape}
    types = {"xu": "u8<0.05:7>", "xi": "i8<0.04:-3>"}
    scales = {"xu": 0.05, "xi": 0.04}
    body, results = [], []
    for i, (x, m, groups, (kh, kw), s, pads, wkind) in enumerate(convs):
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
    np.save(xu_path, rng.integers(0, 256, u8_shape).astype(np.uint8))
    np.save(xi_path, rng.integers(-128, 128, i8_shape).astype(np.int8))


if __name__ == "__main__":
    main()
