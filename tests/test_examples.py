"""The notebook under examples/ runs from top to bottom (its code cells, in order)."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = "/".join(["..", "shared"])  # the developers' notes folder, which users do not have


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


def test_docs_point_into_the_project_not_outside():
    """Users' clones have docs/design.md, not the development notes it was written from."""
    files = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "src").rglob("*.py")),
             *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "examples").glob("*.ipynb"))]
    bad = [f"{p.relative_to(ROOT)}: {word}" for p in files for word in (OUTSIDE, "PERF-NOTES", "DESIGN §",
                                                                          "DESIGN.md")
           if word in p.read_text()]
    assert not bad, bad
    design = (ROOT / "docs" / "design.md").read_text()
    for n in range(1, 11):
        assert f"\n## {n}. " in design, f"docs/design.md has no section {n}"
    import re

    cited = {int(n) for p in files for n in re.findall(r"design\.md[^§\n]{0,3}§(\d+)", p.read_text())}
    assert cited and cited <= set(range(1, 11)), cited
    assert "design.md" in (ROOT / "mkdocs.yml").read_text()
