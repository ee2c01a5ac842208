"""Resources: ``memory=`` (``--memory``) bounds the peak memory of a scan, and sizes are refused
before anything is allocated (issue 8)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from lptrain import api
from lptrain.data import make_dataset
from lptrain.exceptions import LPTrainError


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_memory_limit_bounds_peak_rss(tmp_path, rng):
    """A face whose loss table is ~1 GiB is solved in blocks under --memory 300M.

    Peak RSS is VmHWM of the child's own address space (ru_maxrss would carry the
    pytest parent's high-water mark across fork+exec on Linux).
    """
    x = np.linspace(-1, 1, 64)
    y = rng.uniform(-1, 1, 64)
    d = tmp_path / "d.csv"
    d.write_text("x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y)))
    code = (
        "import re, sys; from lptrain.cli import main; "
        "rc = main(sys.argv[1:]); "
        "print('RSS', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); sys.exit(rc)"
    )
    r = subprocess.run([sys.executable, "-c", code, "train", str(d), "--arch", "1-2-1", "--bits", "3",
                        "--loss", "absolute", "--memory", "300M", "--json", str(tmp_path / "o.json")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rss_kib = int(r.stdout.strip().split("RSS")[-1])
    rep = json.loads((tmp_path / "o.json").read_text())
    table_bytes = rep["distinct_points"] * rep["grid_points"] * 8
    assert table_bytes > 300 << 20  # without chunking it would not fit
    assert rss_kib * 1024 < 300 << 20
    assert rep["certificate"]["valid"] and rep["certificate"]["method"] == "implicit"


def test_refused_before_allocation_names_size(tmp_path, rng):
    x = rng.uniform(-1, 1, (30, 1))
    ds = make_dataset(np.column_stack([x, x]), 1)
    with pytest.raises(LPTrainError, match="too large.*variables"):
        api.train(ds, "1-2-1", bits=3, solver="highs", memory=50 << 20)
