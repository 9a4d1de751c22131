"""The request-sized set operations equal numpy's."""

import numpy as np
import pytest

from recommender._small_sets import isin, unique


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_unique_and_isin_equal_numpy(dtype):
    rng = np.random.default_rng(0)
    for size, other in [(0, 0), (1, 0), (0, 3), (1, 1), (2, 2), (50, 7), (400, 30), (1000, 1000)]:
        values = rng.integers(0, 60, size).astype(dtype)
        test = rng.integers(0, 60, other).astype(np.int64)
        assert np.array_equal(unique(values), np.unique(values))
        assert unique(values).dtype == np.unique(values).dtype
        assert np.array_equal(isin(values, test), np.isin(values, test))


def test_isin_takes_lists_and_extremes():
    assert isin(np.array([1, 5, 9]), []).tolist() == [False, False, False]
    assert isin(np.array([1, 5, 9]), [9, 1]).tolist() == [True, False, True]
    assert isin(np.array([0, 10]), np.array([5])).tolist() == [False, False]  # below and beyond every test value
    assert unique(np.array([3, 3, 3])).tolist() == [3]
