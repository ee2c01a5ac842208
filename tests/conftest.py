import os
import sys

import numpy as np
import pytest
from hypothesis import settings

# CI replays a fixed set of examples (LPTRAIN_HYPOTHESIS_PROFILE=ci); a plain `pytest`
# draws new ones each run, which is how the fuzz tests keep finding new inputs.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("LPTRAIN_HYPOTHESIS_PROFILE", "default"))

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
