"""Run the notebooks in place, so they are committed with their outputs (plots visible when browsing).

    python scripts/execute_notebooks.py                          # every notebook in notebooks/
    python scripts/execute_notebooks.py notebooks/ranking.ipynb  # one

Each notebook runs from the repository root, top to bottom, as ``tests/test_notebooks.py`` runs
it; cell timings are not recorded, so the same code and data give the same file.
Needs the ``[eval]`` extra (nbclient, nbformat, ipykernel, matplotlib).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 600  # seconds per cell
QUIET = "ignore:IProgress not found"  # tqdm's note that ipywidgets is missing: machine-specific, not a result


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=TIMEOUT, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    nbformat.write(notebook, path)


def main(paths: list[str]) -> None:
    os.environ["PYTHONWARNINGS"] = QUIET  # the kernel inherits it
    for path in [Path(p) for p in paths] or sorted((ROOT / "notebooks").glob("*.ipynb")):
        execute(path)
        print(f"executed {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
