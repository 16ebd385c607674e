"""Series padded into blocks: groups cover every series once and respect their bounds."""

import numpy as np

from tsattn.forecast.statistics.series_blocks import length_chunks, padded_block, prefix_states


def test_length_chunks_cover_the_order_once_within_bounds():
    lengths = np.array([5, 1, 9, 3, 3, 7, 2])
    order = np.argsort(lengths, kind="stable")
    chunks = list(length_chunks(lengths, order, max_cells=12, max_series=3))
    np.testing.assert_array_equal(np.concatenate(chunks), order)
    for chunk in chunks:
        assert len(chunk) <= 3
        assert len(chunk) == 1 or len(chunk) * lengths[chunk].max() <= 12
    # a series longer than the budget still forms a group of its own
    assert [len(c) for c in length_chunks(np.array([50]), np.array([0]), max_cells=4)] == [1]


def test_padded_block_left_aligns_and_fills():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    offsets = np.array([0, 2, 5])
    block, rows, inside = padded_block(values, offsets, np.array([0, 1]), fill=-1.0)
    np.testing.assert_array_equal(block, [[1.0, 2.0, -1.0], [3.0, 4.0, 5.0]])
    np.testing.assert_array_equal(inside, [[True, True, False], [True, True, True]])
    np.testing.assert_array_equal(rows[inside], [0, 1, 2, 3, 4])


def test_prefix_states_do_not_depend_on_the_block_bounds():
    rng = np.random.default_rng(0)
    lengths = np.array([4, 11, 1, 7, 7, 2])
    offsets = np.r_[0, np.cumsum(lengths)]
    values = rng.normal(size=offsets[-1])
    values[3] = np.nan

    def running(block):  # (n, T) -> (n, T, 2): running sum of the observed values, and count
        seen = ~np.isnan(block)
        return np.stack([np.cumsum(np.nan_to_num(block), 1), np.cumsum(seen, 1)], -1)

    whole = prefix_states(values, offsets, 2, running, max_cells=1000)
    split = prefix_states(values, offsets, 2, running, max_cells=8, max_series=2)
    np.testing.assert_array_equal(whole, split)
    expected = [np.nancumsum(part) for part in np.split(values, offsets[1:-1])]
    np.testing.assert_allclose(whole[:, 0], np.concatenate(expected), rtol=1e-6)
    assert prefix_states(values[:0], np.array([0]), 2, running, max_cells=8).shape == (0, 2)
