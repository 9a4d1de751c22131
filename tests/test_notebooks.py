"""The offline-evaluation notebooks run from top to bottom, and are committed with their outputs
(``python scripts/execute_notebooks.py``), so their plots show when browsing the repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TIMEOUT = 180  # seconds per cell; each notebook takes well under a minute on the bundled data


MAX_NOTEBOOK_BYTES = 1_000_000  # outputs stay small: a few PNG plots and tables


def test_the_three_notebooks_are_committed_with_their_outputs():
    assert {p.stem for p in NOTEBOOKS} >= {"related_quality", "ranking", "recommendation"}
    images = 0
    for path in NOTEBOOKS:
        assert path.stat().st_size < MAX_NOTEBOOK_BYTES, f"{path.name} outputs are too large"
        code = [cell for cell in json.loads(path.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]
        counts = [cell["execution_count"] for cell in code]
        assert counts == list(range(1, len(code) + 1)), \
            f"{path.name} is not run top to bottom: python scripts/execute_notebooks.py {path.relative_to(ROOT)}"
        outputs = [output for cell in code for output in cell["outputs"]]
        assert outputs and not [o for o in outputs if o["output_type"] == "error"], path.name
        images += sum("image/png" in output.get("data", {}) for output in outputs)
    assert images >= len(NOTEBOOKS)  # each draws at least one plot


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_executes(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError naming the failing cell
    errors = [out for cell in notebook.cells for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert not errors
