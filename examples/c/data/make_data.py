"""Writes the two small feature files the C example's CTest test runs on (run once; outputs committed).

real.npy is float32 and fake.npy float64, so that both branches of the example's .npy reader and of the
library's dtype handling are exercised. Run with Debian's /usr/bin/python3 (numpy installed).
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.RandomState(6)
real = rng.randn(200, 16).astype(np.float32)
fake = (rng.randn(200, 16) * 1.1 + 0.2).astype(np.float64)
np.save(os.path.join(here, "real.npy"), real)
np.save(os.path.join(here, "fake.npy"), fake)
