"""Files are whole or absent: ``lptrain build`` killed with SIGKILL at random moments leaves no
file or a complete one (issue 8)."""

import os
import signal
import subprocess
import sys
import time

from lptrain.polytope import Polytope


def test_sigkill_during_build_leaves_no_file_or_the_previous_one(tmp_path):
    target = tmp_path / "P.npz"
    cmd = [sys.executable, "-m", "lptrain.cli", "build", "--arch", "2-1-1", "--bits", "3", "--samples", "5",
           "--out", str(target)]
    previous = None
    for delay in (0.05, 0.3, 0.6, 0.9, 1.2, 1.6, 2.0, 3.0):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if target.exists():
            P = Polytope.load(target)  # whole, or this raises
            assert P.samples == 5
            data = target.read_bytes()
            if previous is not None:
                assert data == previous  # deterministic builds: the same complete file
            previous = data
    assert not [f for f in os.listdir(tmp_path) if not f.startswith(".tmp-") and f != "P.npz"]
