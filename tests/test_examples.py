"""The notebook under examples/ runs from top to bottom (its code cells, in order)."""

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["tutorial.ipynb"])
def test_notebook_runs(name, tmp_path, monkeypatch):
    nb = json.loads((ROOT / "examples" / name).read_text())
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "__notebook__"}
    for k, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), f"{name}[{k}]", "exec"), ns)
    assert ns["cert"].valid


def test_cli_reference_is_current():
    from lptrain.cli import cli_reference

    assert (ROOT / "docs" / "cli.md").read_text() == cli_reference(), \
        "docs/cli.md is stale: python -c 'from lptrain.cli import cli_reference; print(cli_reference(), end=\"\")' > docs/cli.md"
