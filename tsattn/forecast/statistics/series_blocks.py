"""Series of similar lengths padded into blocks, so per-series recursions run as array operations.

The seasonal test, the Theta baseline and damped Holt all walk a panel this way: series sorted
by length, grouped while the padded (series x longest length) block stays under a cell budget,
each group copied into a left-aligned block, and the block's results written back to the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np


def length_chunks(
    lengths: np.ndarray, order: np.ndarray, max_cells: int, max_series: int | None = None
) -> Iterator[np.ndarray]:
    """Split series sorted by length into groups whose padded block stays small.

    Parameters
    ----------
    lengths : numpy.ndarray
        (n_series,) the length of every series.
    order : numpy.ndarray
        Positions of the series to group, shortest first.
    max_cells : int
        The most (series x longest length) cells of one group; a single series longer than
        this still forms a group of its own.
    max_series : int or None, default=None
        The most series of one group; None for no limit.

    Yields
    ------
    numpy.ndarray
        Consecutive slices of ``order``, together covering it once.
    """
    begin = 0
    while begin < len(order):
        end = begin + 1
        # grow the group while the padded (series x longest length) block stays small
        while (
            end < len(order)
            and (max_series is None or end - begin < max_series)
            and (end - begin + 1) * int(lengths[order[end]]) <= max_cells
        ):
            end += 1
        yield order[begin:end]
        begin = end


def observed_to_left(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's observed values moved to the left, for recursions that skip missing values.

    Parameters
    ----------
    block : numpy.ndarray
        (n, T) values, NaN where missing or padding.

    Returns
    -------
    compact : numpy.ndarray
        (n, K) each row's observed values in order, zeros after them; K >= 1.
    seen : numpy.ndarray
        (n, T) how many values each row has observed up to and including each step.
    """
    observed = ~np.isnan(block)  # (n, T)
    seen = np.cumsum(observed, axis=1)  # (n, T)
    compact = np.zeros((block.shape[0], max(int(seen[:, -1].max()), 1)))  # (n, K)
    row, step = np.nonzero(observed)
    compact[row, seen[row, step] - 1] = block[row, step]
    return compact, seen


def back_on_time_axis(compact: np.ndarray, seen: np.ndarray, before: float) -> np.ndarray:
    """(n, K) results per observed value read back at every step of the (n, T) time axis.

    A step reads the result after the last value observed up to it; steps before any value
    read ``before``. The inverse of :func:`observed_to_left` for states that missing values
    leave unchanged.
    """
    last = np.maximum(seen - 1, 0)  # (n, T)
    rows = np.arange(compact.shape[0])[:, None]
    return np.where(seen > 0, compact[rows, last], before)


def padded_block(
    values: np.ndarray, offsets: np.ndarray, chunk: np.ndarray, fill: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The series ``chunk`` as one left-aligned block.

    Parameters
    ----------
    values : numpy.ndarray
        (rows,) the panel's values, series after series.
    offsets : numpy.ndarray
        (n_series + 1,) int64 series boundaries.
    chunk : numpy.ndarray
        (k,) positions of the series to gather.
    fill : float
        The value of the cells after each series' end.

    Returns
    -------
    block : numpy.ndarray
        (k, T) float64 values, T the longest length of the chunk.
    rows : numpy.ndarray
        (k, T) the row of ``values`` behind every cell (meaningful where ``inside``).
    inside : numpy.ndarray
        (k, T) bool, True on a series' own values.
    """
    lengths = offsets[chunk + 1] - offsets[chunk]  # (k,)
    width = int(lengths.max())
    rows = offsets[chunk][:, None] + np.arange(width)  # (k, T)
    inside = np.arange(width) < lengths[:, None]  # (k, T)
    block = np.full((len(chunk), width), fill, dtype=np.float64)  # (k, T)
    block[inside] = values[rows[inside]]
    return block, rows, inside


def prefix_states(
    values: np.ndarray,
    offsets: np.ndarray,
    size: int,
    block_states: Callable[[np.ndarray], np.ndarray],
    max_cells: int,
    max_series: int | None = None,
) -> np.ndarray:
    """A state after every value of a panel, computed block by block.

    Parameters
    ----------
    values : numpy.ndarray
        (rows,) the panel's values, series after series; NaN is a missing value.
    offsets : numpy.ndarray
        (n_series + 1,) series boundaries.
    size : int
        The width of one state.
    block_states : callable
        Maps a NaN-padded (n, T) block to its (n, T, size) states.
    max_cells, max_series : int, int or None
        The bounds of one block, as in :func:`length_chunks`.

    Returns
    -------
    numpy.ndarray
        (rows, size) float32 states, row for row with ``values``.
    """
    values = np.asarray(values, dtype=np.float64)
    offsets = np.asarray(offsets, dtype=np.int64)
    lengths = np.diff(offsets)
    states = np.zeros((len(values), size), dtype=np.float32)
    if len(values) == 0:
        return states
    order = np.argsort(lengths, kind="stable")  # similar lengths share a padded block
    for chunk in length_chunks(lengths, order, max_cells, max_series):
        block, rows, inside = padded_block(values, offsets, chunk, np.nan)  # NaN: padding
        states[rows[inside]] = block_states(block)[inside]
    return states
