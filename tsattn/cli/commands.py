"""The commands: ``fit`` saves a model, ``forecast`` fits and writes, ``predict`` loads and writes."""

from __future__ import annotations

import sys
import warnings

import pandas as pd

from tsattn.cli.options import InputError, estimator_params
from tsattn.cli.output import PREFIX, as_long, plot_image, with_names, write_whole
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
    if args.command == "forecast":
        _check_plot_ids(args, y, names)
        if X is not None:
            check_horizon_covered(y, X, names, args)
    model = Seq2SeqForecaster(**estimator_params(args))
    from tsattn.distributed import is_main_process

    with warnings.catch_warnings():
        # An interrupt is reported as the exit code, on one line, not as this warning.
        warnings.filterwarnings("ignore", message="training interrupted", category=RuntimeWarning)
        if not is_main_process():
            # Every rank fits the same model and would warn the same; rank 0 speaks for all.
            warnings.simplefilter("ignore")
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
    return _write_forecast(args, model, y, names, X=X)


def predict(args, interrupt: Interrupt) -> int:
    """``tsattn predict``: forecast the histories of a CSV file with a saved model.

    The histories, covariates and static features go to the model's ``predict`` as ``y``,
    ``X`` and ``static``: no training. The model's horizon and quantiles apply.

    Parameters
    ----------
    args : argparse.Namespace
        The checked options.
    interrupt : Interrupt
        The SIGINT handler in place (nothing to interrupt but reading and writing).

    Returns
    -------
    int
        The exit code, 0.
    """
    from tsattn import Seq2SeqForecaster, load

    model = load(args.model)
    if not isinstance(model, Seq2SeqForecaster):
        raise InputError(
            f"--model {args.model} holds a {type(model).__name__}; tsattn predict forecasts with "
            f"a Seq2SeqForecaster (tsattn fit --save)"
        )
    # What the files are checked against: the model's horizon and handling of NaN.
    args.horizon, args.missing = model.horizon_, model.missing
    y, names = load_y(args)
    X = load_covariates(args, names)
    static = load_static(args)
    _check_plot_ids(args, y, names)
    if X is not None:
        check_horizon_covered(y, X, names, args)
    return _write_forecast(args, model, y, names, X=X, y=y, static=static)


def _write_forecast(args, model, history, names: dict, **data) -> int:
    """Write the forecast (with the model's quantiles and interval) and the plot."""
    point = model.predict(**data)
    band = None
    levels = model.quantiles_ or ()
    if levels:
        frame = as_long(model.predict_quantiles(**data), names)
        if min(levels) < 0.5 < max(levels):
            band = as_long(model.predict_interval(coverage=args.coverage, **data), names)
            frame = frame.merge(band)
        frame = as_long(point, names).merge(frame)
    else:
        frame = point
    out = with_names(frame, names)
    image = None
    if args.plot:
        image = plot_image(
            history, point, band, names, args.plot, ids=args.plot_ids,
            history_steps=args.plot_history,
        )  # fmt: skip
    text = out.to_csv(index=names["layout"] == "wide" and not levels)
    write_whole(args.out, text.encode("utf-8"))
    renamed = [str(c) for c in out.columns if str(c).startswith(PREFIX)]
    if renamed:
        print(
            f"the input's columns take the names of the forecast's own: wrote them as "
            f"{', '.join(renamed)}",
            file=sys.stderr,
        )
    print(
        f"wrote {len(out)} rows of {model.horizon_}-step forecasts to {args.out}", file=sys.stderr
    )
    if image is not None:
        write_whole(args.plot, image)
        print(f"wrote the plot to {args.plot}", file=sys.stderr)
    return 0


def _check_plot_ids(args, y, names: dict) -> None:
    """Refuse --plot-ids naming a series the file does not hold, before any training."""
    if not args.plot_ids:
        return
    ids = y.columns if names["layout"] == "wide" else pd.unique(y["unique_id"])
    known = [str(i) for i in ids]
    unknown = [i for i in args.plot_ids if i not in known]
    if unknown:
        raise InputError(
            f"--plot-ids {' '.join(unknown)}: no such series in {args.csv} (it holds "
            f"{', '.join(known[:5])}{' ...' if len(known) > 5 else ''})"
        )
