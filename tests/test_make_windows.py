import numpy as np
import pandas as pd
import pytest

from tsattn import make_windows


def test_one_series_by_hand():
    X, Y = make_windows(np.arange(6.0), input_size=3, horizon=2)
    np.testing.assert_array_equal(X, [[0, 1, 2], [1, 2, 3]])
    np.testing.assert_array_equal(Y, [[3, 4], [4, 5]])


def test_step_skips_origins():
    X, Y = make_windows(np.arange(10.0), input_size=3, horizon=2, step=2)
    # n = (10 - 3 - 2) // 2 + 1 = 3 rows starting at 0, 2, 4
    np.testing.assert_array_equal(X, [[0, 1, 2], [2, 3, 4], [4, 5, 6]])
    np.testing.assert_array_equal(Y, [[3, 4], [5, 6], [7, 8]])


def test_step_that_does_not_divide_the_length():
    X, Y = make_windows(np.arange(10.0), input_size=2, horizon=1, step=3)
    # origins 0, 3, 6 (9 would need a target at index 11)
    np.testing.assert_array_equal(X, [[0, 1], [3, 4], [6, 7]])
    np.testing.assert_array_equal(Y, [[2], [5], [8]])


def test_exactly_one_window():
    X, Y = make_windows([1.0, 2.0, 3.0], input_size=2, horizon=1)
    np.testing.assert_array_equal(X, [[1, 2]])
    np.testing.assert_array_equal(Y, [[3]])


def test_features_by_hand():
    values = np.column_stack([np.arange(6.0), 10 * np.arange(6.0)])  # target, covariate
    X, Y = make_windows(values, input_size=2, horizon=2)
    assert X.shape == (3, 2, 2)
    np.testing.assert_array_equal(X[1], [[1, 10], [2, 20]])  # (input_size, n_features)
    np.testing.assert_array_equal(X[2], [[2, 20], [3, 30]])
    np.testing.assert_array_equal(Y, [[2, 3], [3, 4], [4, 5]])  # the first column only


def test_one_column_2d_gives_3d_windows():
    X, Y = make_windows(np.arange(5.0)[:, None], input_size=2, horizon=1)
    assert X.shape == (3, 2, 1)
    np.testing.assert_array_equal(X[..., 0], [[0, 1], [1, 2], [2, 3]])
    np.testing.assert_array_equal(Y, [[2], [3], [4]])


def test_pandas_inputs_match_arrays():
    values = np.column_stack([np.arange(8.0), np.arange(8.0) ** 2])
    frame = pd.DataFrame(values, columns=["sales", "price"], index=pd.RangeIndex(100, 108))
    X, Y = make_windows(frame, input_size=3, horizon=2)
    X_ref, Y_ref = make_windows(values, input_size=3, horizon=2)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(Y, Y_ref)
    Xs, Ys = make_windows(frame["sales"], input_size=3, horizon=2)
    np.testing.assert_array_equal(Xs, X_ref[..., 0])
    np.testing.assert_array_equal(Ys, Y_ref)


def test_views_not_copies():
    values = np.arange(1000.0)
    X, Y = make_windows(values, input_size=50, horizon=10)
    assert X.shape == (941, 50) and Y.shape == (941, 10)
    assert np.shares_memory(X, values) and np.shares_memory(Y, values)
    # read-only: writing to one row would silently change every overlapping row
    assert not X.flags.writeable and not Y.flags.writeable
    grid = np.column_stack([values, -values])
    X3, _ = make_windows(grid, input_size=5, horizon=1)
    assert np.shares_memory(X3, grid)


def test_integer_series_keeps_dtype():
    X, Y = make_windows(np.arange(5), input_size=2, horizon=1)
    assert X.dtype == np.arange(5).dtype and Y.dtype == X.dtype


@pytest.mark.parametrize(
    ("length", "input_size", "horizon"),
    [(4, 3, 2), (0, 1, 1), (10, 10, 1)],
)
def test_too_short(length, input_size, horizon):
    with pytest.raises(ValueError, match="too short") as info:
        make_windows(np.zeros(length), input_size=input_size, horizon=horizon)
    message = str(info.value)
    assert f"{length} time steps" in message
    assert f"= {input_size + horizon}" in message


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        (dict(input_size=0, horizon=1), ValueError, "input_size must be an integer >= 1"),
        (dict(input_size=3, horizon=0), ValueError, "horizon must be an integer >= 1"),
        (dict(input_size=3, horizon=1, step=0), ValueError, "step must be an integer >= 1"),
        (dict(input_size=2.5, horizon=1), TypeError, "input_size must be an integer"),
        (dict(input_size=3, horizon=True), TypeError, "horizon must be an integer"),
    ],
)
def test_bad_sizes(kwargs, error, words):
    with pytest.raises(error, match=words):
        make_windows(np.arange(20.0), **kwargs)


def test_too_many_dimensions():
    with pytest.raises(ValueError, match=r"1-D .* or 2-D .*got shape \(4, 3, 2\)"):
        make_windows(np.zeros((4, 3, 2)), input_size=1, horizon=1)


def test_no_columns():
    with pytest.raises(ValueError, match="no columns"):
        make_windows(np.zeros((10, 0)), input_size=2, horizon=1)


def test_non_numeric_values():
    with pytest.raises(TypeError, match="numeric"):
        make_windows(np.array(["a", "b", "c", "d"]), input_size=2, horizon=1)
    frame = pd.DataFrame({"sales": np.arange(6.0), "store": list("abcdef")})
    with pytest.raises(TypeError, match="non-numeric columns"):
        make_windows(frame, input_size=2, horizon=1)


def test_numeric_object_values_are_converted():
    X, Y = make_windows(np.array([1, 2, 3, 4], dtype=object), input_size=2, horizon=1)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(Y, [[3], [4]])


def test_make_windows_is_importable_from_its_old_home():
    from tsattn.forecast import regressor
    from tsattn.forecast.windows import arrays as windowed

    assert make_windows is windowed.make_windows is regressor.make_windows
