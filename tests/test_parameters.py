"""One declaration per parameter: checks, the sktime adapter and the CLI all follow the rows."""

import inspect
import re

import numpy as np
import pytest

import tsattn
from tsattn import Seq2SeqForecaster, Seq2SeqRegressor, Seq2SeqTranslator
from tsattn.cli import main
from tsattn.cli.options import build_parser, estimator_params, forecaster_options
from tsattn.parameters import (
    PARAMETERS,
    REGRESSOR_PARAMETERS,
    Param,
    Real,
    check_params,
    declarations,
    init_defaults,
)

TABLES = {
    Seq2SeqForecaster: PARAMETERS,
    Seq2SeqRegressor: REGRESSOR_PARAMETERS,
    Seq2SeqTranslator: PARAMETERS,
}


def _subparser(parser, command):
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices[command]


def _parse(*options):
    """The forecaster's parameters that `tsattn fit` builds from these options."""
    argv = ["fit", "y.csv", "--save", "m.tsattn", "--horizon", "3", *options]
    return estimator_params(build_parser().parse_args(argv))


# --------------------------------------------------------------------------------------------
# the declarations and the signatures


@pytest.mark.parametrize("cls", TABLES, ids=lambda c: c.__name__)
def test_every_parameter_is_declared_and_documented(cls):
    rows = declarations(cls, TABLES[cls])
    assert list(rows) == list(inspect.signature(cls).parameters)
    for name, row in rows.items():
        assert row.help and "\n" not in row.help, name
        assert f"\n    {name} :" in cls.__doc__, f"{name} is not in {cls.__name__}'s docstring"


def test_every_declaration_belongs_to_an_estimator():
    used = {name for cls in TABLES for name in inspect.signature(cls).parameters}
    assert set(PARAMETERS) == used
    assert set(REGRESSOR_PARAMETERS) - set(PARAMETERS) == set()


@pytest.mark.parametrize("cls", TABLES, ids=lambda c: c.__name__)
def test_the_defaults_pass_their_own_checks(cls):
    values = check_params(cls(), TABLES[cls])
    assert values == {name: value for name, value in init_defaults(cls).items() if name in values}


def test_bool_parameters_are_checked_alike_in_every_estimator():
    for est, name in [
        (Seq2SeqForecaster(covariate_gate="yes"), "covariate_gate"),
        (Seq2SeqRegressor(bidirectional=1), "bidirectional"),
        (Seq2SeqTranslator(reverse_source="no"), "reverse_source"),
    ]:
        with pytest.raises(TypeError, match=f"{name} must be True or False"):
            check_params(est, TABLES[type(est)])
    check_params(Seq2SeqForecaster(nonnegative=np.True_))


def test_the_regressor_has_its_own_scalers():
    with pytest.raises(ValueError, match=r"scaler must be one of \['standard', 'none'\]"):
        check_params(Seq2SeqRegressor(scaler="log"), REGRESSOR_PARAMETERS)
    check_params(Seq2SeqForecaster(scaler="log"))


def test_literals_and_none_where_declared():
    check_params(Seq2SeqForecaster(windows_per_epoch=None, segment_length="auto", baseline=None))
    with pytest.raises(ValueError, match="did you mean 'theta_holt'"):
        check_params(Seq2SeqForecaster(baseline="theta_hlt"))
    with pytest.raises(TypeError, match="hidden_size must be an integer, got None"):
        check_params(Seq2SeqForecaster(hidden_size=None))


def test_a_parameter_without_a_row_is_refused():
    class Undeclared(Seq2SeqForecaster):
        def __init__(self, horizon=1, *, smoothing=0.5):
            super().__init__(horizon)
            self.smoothing = smoothing

    with pytest.raises(LookupError, match=r"Undeclared has parameters without a declaration.*"):
        check_params(Undeclared())


# --------------------------------------------------------------------------------------------
# a new parameter: its row and its __init__ argument are all the checks, the CLI and sktime need


class Extended(Seq2SeqForecaster):
    """A forecaster with one more parameter, ``example_parameter``."""

    def __init__(self, horizon=1, *, example_parameter=None, **params):
        super().__init__(horizon, **params)
        self.example_parameter = example_parameter


Extended.__init__.__signature__ = inspect.signature(Seq2SeqForecaster.__init__).replace(
    parameters=[
        *inspect.signature(Seq2SeqForecaster.__init__).parameters.values(),
        inspect.Parameter("example_parameter", inspect.Parameter.KEYWORD_ONLY, default=None),
    ]
)


@pytest.fixture
def example_parameter(monkeypatch):
    """Declare ``example_parameter`` and make ``Extended`` the forecaster the CLI and sktime wrap."""
    try:  # the adapter, imported before the patch, wraps the real forecaster
        import tsattn.sktime  # noqa: F401
    except ImportError:
        pass
    row = Param(Real(0.0, float("inf"), low_open=True), "a parameter added by the test", none=True)
    monkeypatch.setitem(PARAMETERS, "example_parameter", row)
    monkeypatch.setattr("tsattn.forecast.forecaster.Seq2SeqForecaster", Extended)
    return row


def test_a_new_parameter_is_checked(example_parameter):
    assert check_params(Extended(example_parameter=1))["example_parameter"] == 1.0
    with pytest.raises(ValueError, match=r"example_parameter must be in \(0.0, inf\)"):
        check_params(Extended(example_parameter=0.0))
    with pytest.raises(TypeError, match="example_parameter must be a number"):
        check_params(Extended(example_parameter="big"))


def test_a_new_parameter_reaches_the_cli(example_parameter):
    assert "example_parameter" in forecaster_options()
    assert _parse()["example_parameter"] is None
    assert _parse("--example-parameter", "0.5")["example_parameter"] == 0.5
    assert _parse("--example-parameter", "none")["example_parameter"] is None


def test_a_new_parameter_reaches_sktime(example_parameter, monkeypatch):
    sktime = pytest.importorskip("tsattn.sktime")
    monkeypatch.setattr(sktime, "Seq2SeqForecaster", Extended)
    assert sktime._adapter_signature().parameters["example_parameter"].default is None


# --------------------------------------------------------------------------------------------
# the sktime adapter


def test_sktime_parameters_are_the_forecasters():
    sktime = pytest.importorskip("tsattn.sktime")
    adapter = init_defaults(sktime.Seq2SeqSktimeForecaster)
    forecaster = init_defaults(Seq2SeqForecaster)
    assert set(adapter) == set(forecaster) - {"horizon", "warm_start"}
    differ = {name for name in adapter if adapter[name] != forecaster[name]}
    assert differ == {"quantiles"} and adapter["quantiles"] == (0.1, 0.5, 0.9)
    model = sktime.Seq2SeqSktimeForecaster(hidden_size=8, baseline="theta_holt")
    assert model.get_params()["hidden_size"] == 8 and model.baseline == "theta_holt"
    with pytest.raises(TypeError):
        sktime.Seq2SeqSktimeForecaster(hidden_sise=8)


# --------------------------------------------------------------------------------------------
# the command line


def test_cli_options_are_the_forecasters_parameters_with_its_defaults():
    parsed = _parse()
    expected = {
        name: value for name, value in init_defaults(Seq2SeqForecaster).items()
        if name != "warm_start"
    }  # fmt: skip
    assert parsed == {**expected, "horizon": 3}
    assert parsed["random_state"] is None  # --seed: none by default, as the estimator


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--baseline", "theta_holt"], {"baseline": "theta_holt"}),
        (["--baseline", "none"], {"baseline": None}),
        (["--no-baseline"], {"baseline": None}),
        (["--seed", "7"], {"random_state": 7}),
        (["--random-state", "none"], {"random_state": None}),
        (["--epochs", "3"], {"max_epochs": 3}),
        (["--windows-per-epoch", "none"], {"windows_per_epoch": None}),
        (["--windows-per-epoch", "64"], {"windows_per_epoch": 64}),
        (["--segment-length", "2"], {"segment_length": 2}),
        (["--calendar-features"], {"calendar_features": True}),
        (["--calendar-features", "month"], {"calendar_features": ["month"]}),
        (["--past-covariates", "price", "promo"], {"past_covariates": ("price", "promo")}),
        (["--quantiles", "0.1", "0.9"], {"quantiles": (0.1, 0.9)}),
        (["--quiet"], {"verbose": False}),
        (["--no-covariate-gate"], {"covariate_gate": False}),
        (["--learning-rate", "0.01", "--cell", "gru"], {"learning_rate": 0.01, "cell": "gru"}),
    ],
)
def test_cli_reaches_every_allowed_value(options, expected):
    parsed = _parse(*options)
    assert {name: parsed[name] for name in expected} == expected


@pytest.mark.parametrize(
    "options, words",
    [
        (["--cell", "rnn"], r"--cell: cell must be one of \['lstm', 'gru'\]"),
        (["--baseline", "thta"], "did you mean 'theta'"),
        (["--dropout", "1.5"], r"--dropout: must be in \[0.0, 1.0\), got 1.5"),
        (["--hidden-size", "0"], "--hidden-size: must be at least 1, got 0"),
        (["--device", "tpu"], "--device: device must be one of"),
    ],
)
def test_cli_refuses_a_value_the_row_refuses(tmp_path, capsys, options, words):
    argv = ["fit", str(tmp_path / "y.csv"), "--horizon", "2", "--save", str(tmp_path / "m")]
    try:
        code = main([*argv, *options])
    except SystemExit as done:  # refused by argparse itself, as a script expects
        code = done.code
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("tsattn: error:") and re.search(words, err)


def test_every_option_has_help():
    parser = build_parser()
    for command in ("fit", "forecast"):
        for action in _subparser(parser, command)._actions:
            assert action.help, f"tsattn {command} {action.option_strings} has no help"


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"tsattn {tsattn.__version__}"
