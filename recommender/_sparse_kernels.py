"""scipy's compiled sparse kernels, called directly where the public wrapper costs more than the work.

The profile overlap of a query (or of a block of queries), the core overlap of a block, the
sums of a few pair cosines, a request's rows and their products with a query vector are each
one call to a kernel scipy already has; the public
``A @ B`` around it counts the output in a first pass and builds and checks matrices, which
at one query costs as much as the product. The kernels are scipy's own, so results are equal
bit for bit to the public product's.

:func:`rows_times` returns ``None`` where the private module or the arrays' types do not fit
(its callers then take the public product); :func:`matvec_into`, :func:`rows_of` and
:func:`running_sums` fall back to the public calls themselves.

Pure computation.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

try:  # private, but stable for a decade; the fallbacks below keep results the same without it
    from scipy.sparse._sparsetools import csr_matmat as _csr_matmat, csr_matvec as _csr_matvec
    from scipy.sparse._sparsetools import csr_row_index as _csr_row_index
except ImportError:  # pragma: no cover - a scipy without them takes the public product
    _csr_matmat = _csr_matvec = _csr_row_index = None

__all__ = ["matvec_into", "rows_of", "rows_times", "running_sums", "unsigned"]


def rows_times(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray,
            right: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """CSR parts of sparse float32 rows (``indptr, indices, data``) times CSR ``right``.

    The output is sized by the lengths of the ``right`` rows it reads (pages never written are
    never touched), which skips the public product's counting pass. Columns come unordered
    within a row, as from the public product. ``None`` where the arrays' types do not fit the
    kernel (the caller then takes the public product).
    """
    index_type = right.indptr.dtype
    if (_csr_matmat is None or right.indices.dtype != index_type or data.dtype != np.float32
            or right.data.dtype != np.float32):
        return None
    concepts = indices.astype(index_type, copy=False)
    size = int((right.indptr[concepts + 1] - right.indptr[concepts]).sum(dtype=np.int64))
    if size > np.iinfo(index_type).max:
        return None
    product_indptr = np.empty(len(indptr), dtype=index_type)
    columns, values = np.empty(size, dtype=index_type), np.empty(size, dtype=np.float32)
    _csr_matmat(len(indptr) - 1, right.shape[1], indptr.astype(index_type, copy=False), concepts, data,
                right.indptr, right.indices, right.data, product_indptr, columns, values)
    nnz = int(product_indptr[-1])
    return product_indptr, columns[:nnz], values[:nnz]


def running_sums(values: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sum of each run of float32 ``values`` (run ``i`` ends before ``ends[i]``), added strictly
    left to right in float32: float32 of shape (len(ends),).

    scipy's sparse-times-vector kernel over the runs as rows of one column, times 1 (exact),
    so no dense padding and no pairwise summation.
    """
    values = np.asarray(values, dtype=np.float32)
    indptr = np.concatenate([[0], ends]).astype(np.int64)
    totals = np.zeros(len(ends), dtype=np.float32)
    column = np.zeros(len(values), dtype=np.int64)
    one = np.ones(1, dtype=np.float32)
    if _csr_matvec is None:  # pragma: no cover
        return sp.csr_matrix((values, column, indptr), shape=(len(ends), 1)) @ one
    _csr_matvec(len(ends), 1, indptr, column, values, one, totals)
    return totals


def matvec_into(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, vector: np.ndarray,
                out: np.ndarray) -> None:
    """Add the CSR rows ``(indptr, indices, data)`` times the dense ``vector`` into ``out``
    (float32, one value per row): the kernel of ``matrix @ vector``, with no matrix built
    (``indptr`` and ``indices`` of one integer type)."""
    if _csr_matvec is None:  # pragma: no cover
        out += sp.csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, len(vector))) @ vector
        return
    _csr_matvec(len(indptr) - 1, len(vector), indptr, indices, data, vector, out)


def rows_of(matrix: sp.csr_matrix, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR arrays ``(indptr, indices, data)`` of ``rows`` of ``matrix``, in that order: what
    ``matrix[rows]`` holds, copied by the same compiled kernel without building and checking a
    matrix (for a request's few hundred rows those checks cost about as much as the copy).
    Rows out of range, and index arrays of two widths, go through ``matrix[rows]`` itself."""
    n_rows = matrix.shape[0]
    if (_csr_row_index is None or matrix.indptr.dtype != matrix.indices.dtype
            or (len(rows) and (int(rows.min()) < 0 or int(rows.max()) >= n_rows))):
        block = matrix[rows]
        return block.indptr, block.indices, block.data
    rows = rows.astype(matrix.indptr.dtype)
    indptr = np.zeros(len(rows) + 1, dtype=matrix.indptr.dtype)
    np.cumsum(matrix.indptr[rows + 1] - matrix.indptr[rows], out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=matrix.indices.dtype)
    data = np.empty(int(indptr[-1]), dtype=matrix.data.dtype)
    _csr_row_index(len(rows), rows, matrix.indptr, matrix.indices, matrix.data, indices, data)
    return indptr, indices, data


def unsigned(indices: np.ndarray) -> np.ndarray:
    """Non-negative integer indices viewed as the unsigned type of their width (no copy): a
    compiled loop indexing with them skips the negative-index check."""
    indices = np.asarray(indices)
    return indices.view(np.dtype(f"u{indices.dtype.itemsize}"))
