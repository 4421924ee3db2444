"""Writes the f32 inputs of quantize-extremes.mnir to argv[1]: beyond the
i32 range, infinities, beyond +-2^16 and values whose scaled form is a
half."""
import sys

import numpy as np

values = [1e10, -1e10, np.inf, -np.inf, 3e9, -3e9, 70000.0, -70000.0,
          60.25, -61.25]
np.save(sys.argv[1], np.array(values, dtype=np.float32))
