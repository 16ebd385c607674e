"""The two commands, ``fit`` and ``forecast``: read the files, fit, save or write the forecast."""

from __future__ import annotations

import sys
import warnings

from tsattn.cli.options import estimator_params
from tsattn.cli.output import as_long, plot_image, with_names, write_whole
from tsattn.cli.reading import check_horizon_covered, load_covariates, load_static, load_y


class Interrupt:
    """SIGINT handler that remembers the interrupt and raises KeyboardInterrupt as usual.

    The training loop ends on KeyboardInterrupt and returns the best weights so far, so the
    command cannot tell an interrupted fit from a finished one by the exception alone.
    """

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, signum, frame):
        """Note the interrupt, then interrupt as Python's default handler does."""
        self.seen = True
        raise KeyboardInterrupt


def _fitted(args, interrupt: Interrupt):
    """Read the files and fit the forecaster the options describe: (model, y, X, names)."""
    from tsattn import Seq2SeqForecaster

    y, names = load_y(args)
    X = load_covariates(args, names)
    static = load_static(args)
    if X is not None and args.command == "forecast":
        check_horizon_covered(y, X, names, args)
    model = Seq2SeqForecaster(**estimator_params(args))
    with warnings.catch_warnings():
        # An interrupt is reported as the exit code, on one line, not as this warning.
        warnings.filterwarnings("ignore", message="training interrupted", category=RuntimeWarning)
        model.fit(y, X=X, static=static)
    if interrupt.seen:  # the training loop kept the weights so far and returned
        raise KeyboardInterrupt
    return model, y, X, names


def fit(args, interrupt: Interrupt) -> int:
    """``tsattn fit``: fit the forecaster the options describe and save it (rank 0 only).

    Parameters
    ----------
    args : argparse.Namespace
        The checked options.
    interrupt : Interrupt
        The SIGINT handler in place, to tell an interrupted fit from a finished one.

    Returns
    -------
    int
        The exit code, 0.
    """
    from tsattn.distributed import is_main_process

    model, *_ = _fitted(args, interrupt)
    if is_main_process():  # every rank holds the same model; one writes it
        model.save(args.save)
        print(
            f"saved the model ({model.n_series_} series, {len(model.history_)} epochs) to "
            f"{args.save}",
            file=sys.stderr,
        )
    return 0


def forecast(args, interrupt: Interrupt) -> int:
    """``tsattn forecast``: fit, then write the forecast (and the plot) in the input's layout.

    Parameters
    ----------
    args : argparse.Namespace
        The checked options.
    interrupt : Interrupt
        The SIGINT handler in place, to tell an interrupted fit from a finished one.

    Returns
    -------
    int
        The exit code, 0; only rank 0 writes under torchrun.
    """
    from tsattn.distributed import is_main_process

    model, y, X, names = _fitted(args, interrupt)
    if not is_main_process():  # every rank holds the same model; one writes the files
        return 0
    point = model.predict(X=X)
    band = None
    if args.quantiles:
        frame = as_long(model.predict_quantiles(X=X), names)
        band = as_long(model.predict_interval(X=X, coverage=args.coverage), names)
        frame = as_long(point, names).merge(frame).merge(band)
    else:
        frame = point
    out = with_names(frame, names)
    image = plot_image(y, point, band, names, args.plot) if args.plot else None
    text = out.to_csv(index=names["layout"] == "wide" and not args.quantiles)
    write_whole(args.out, text.encode("utf-8"))
    print(f"wrote {len(out)} rows of {args.horizon}-step forecasts to {args.out}", file=sys.stderr)
    if image is not None:
        write_whole(args.plot, image)
        print(f"wrote the plot to {args.plot}", file=sys.stderr)
    return 0
