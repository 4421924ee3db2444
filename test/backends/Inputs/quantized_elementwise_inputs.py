"""Inputs for quantized-elementwise.mnir: x, y and the gate g, spread over
and beyond the quantized ranges so that every step saturates somewhere."""
import sys

import numpy as np

r = np.random.default_rng(3)
out = sys.argv[1]
np.save(f"{out}/x.npy", r.uniform(-3, 3, (1, 5, 7, 3)).astype(np.float32))
np.save(f"{out}/y.npy", r.uniform(-2.5, 2.5, (1, 5, 7, 3)).astype(np.float32))
np.save(f"{out}/g.npy", r.uniform(-4, 4, (1, 5, 1, 1)).astype(np.float32))
