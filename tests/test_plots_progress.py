"""Figures are written (and are PNGs); progress bars only on a terminal, never under --json."""

import io
import json
import sys

import pytest

from lptrain import progress
from lptrain.api import demo_data_path
from lptrain.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def test_plots(tmp_path):
    pytest.importorskip("matplotlib")
    assert main(["plot", "size", "--arch", "1-2-1", "--out", str(tmp_path / "s.png"), "--json", str(tmp_path / "s.json")]) == 0
    s = json.loads((tmp_path / "s.json").read_text())
    v = [r["variables"] for r in s["by_samples"]]
    assert all(b > a for a, b in zip(v, v[1:]))
    assert main(["plot", "epsilon", demo_data_path(), "--arch", "1-1-1", "--max-bits", "2",
                 "--out", str(tmp_path / "e.png"), "--json", str(tmp_path / "e.json")]) == 0
    e = json.loads((tmp_path / "e.json").read_text())
    assert e["epsilon"][0] > e["epsilon"][1]
    assert main(["demo", "--model", str(tmp_path / "m.json")]) == 0
    assert main(["plot", "fit", str(tmp_path / "m.json"), demo_data_path(), "--out", str(tmp_path / "f.png")]) == 0
    for f in ("s.png", "e.png", "f.png"):
        assert (tmp_path / f).read_bytes()[:8] == PNG


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_only_on_a_terminal(monkeypatch):
    with progress.bar(10, "x", True) as pb:  # pytest's stderr is not a terminal
        assert isinstance(pb, progress._Null)
    monkeypatch.setattr(sys, "stderr", FakeTTY())
    with progress.bar(10, "x", True) as pb:
        assert not isinstance(pb, progress._Null)
        pb.update(10)
    assert "x" in sys.stderr.getvalue()
    with progress.bar(10, "x", False) as pb:  # --json mode
        assert isinstance(pb, progress._Null)


def test_cli_quiet_under_json_even_on_a_terminal(monkeypatch, tmp_path):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["train", demo_data_path(), "--arch", "1-1-1", "--bits", "3", "--solver", "structured",
                 "--json", str(tmp_path / "r.json")]) == 0
    assert "it/s" not in tty.getvalue() and "pt/s" not in tty.getvalue() and "%|" not in tty.getvalue()
