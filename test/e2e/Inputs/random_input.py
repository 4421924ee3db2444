"""Writes a reproducible uniform [0, 1) f32 tensor: random_input.py OUT SHAPE."""
import sys

import numpy as np

shape = [int(d) for d in sys.argv[2].split("x")]
np.save(sys.argv[1], np.random.default_rng(0).random(shape, dtype=np.float32))
