"""The fit's compiled kernels keep their machine code on disk (recommender/_compiled.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

numba = pytest.importorskip("numba")

from recommender import _compiled, _pairs_kernel, _topm_kernel  # noqa: E402

KERNELS = [_pairs_kernel._push, _pairs_kernel._first_at_or_after, _pairs_kernel._prefetch_postings,
           _pairs_kernel._add_term, _pairs_kernel._tile,
           _pairs_kernel._by_term, _pairs_kernel._merge, _pairs_kernel._exact, _topm_kernel._sift_down,
           _topm_kernel._top_m]


@pytest.mark.parametrize("kernel", KERNELS, ids=lambda kernel: kernel.__name__)
def test_every_kernel_of_the_fit_is_cached(kernel):
    assert type(kernel._cache).__name__ == "FunctionCache"


def test_a_second_process_loads_the_kernels_the_first_compiled(tmp_path):
    script = textwrap.dedent("""
        import numpy as np, scipy.sparse as sp
        from recommender._topm_kernel import top_m_rows
        vectors = sp.random(60, 40, density=0.2, format="csr", dtype=np.float32, random_state=0)
        print(top_m_rows(vectors, vectors.T.tocsr(), 0, 60, 5)[1].tolist())
    """)
    environment = os.environ | {"NUMBA_CACHE_DIR": str(tmp_path), "NUMBA_DEBUG_CACHE": "1"}

    def run() -> str:
        return subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                              check=True).stdout

    first = run()
    assert "[cache] data saved" in first and list(tmp_path.rglob("*_top_m*.nbi"))
    second = run()
    assert "[cache] data loaded" in second and "[cache] data saved" not in second
    assert first.splitlines()[-1] == second.splitlines()[-1]


def test_without_a_writable_cache_folder_the_kernel_is_compiled_per_process(monkeypatch):
    njit = numba.njit

    def no_locator(*args, cache=False, **options):
        if cache:
            raise RuntimeError("cannot cache function 'twice': no locator available for file '<test>'")
        return njit(*args, **options)

    monkeypatch.setattr(_compiled.numba, "njit", no_locator)

    def twice(value):
        return 2 * value

    kernel = _compiled.compiled(twice, nogil=True)
    assert kernel(21) == 42 and type(kernel._cache).__name__ == "NullCache"
