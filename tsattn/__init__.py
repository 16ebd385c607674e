"""tsattn: forecasting with an RNN encoder-decoder and Bahdanau attention, the scikit-learn way."""

from importlib import metadata as _metadata

from tsattn.forecast.ensemble import Seq2SeqEnsemble
from tsattn.forecast.forecaster import Seq2SeqForecaster
from tsattn.forecast.metrics import evaluate
from tsattn.forecast.regressor import Seq2SeqRegressor
from tsattn.forecast.statistics.forecasters import ETSForecaster, SeasonalNaive, ThetaForecaster
from tsattn.forecast.windows.arrays import make_windows
from tsattn.io import load
from tsattn.translate.translator import Seq2SeqTranslator

try:
    # The version is defined once, in pyproject.toml; the installed metadata carries it.
    __version__ = _metadata.version("tsattn")
except _metadata.PackageNotFoundError:  # a source tree on sys.path without being installed
    __version__ = "0+unknown"

__all__ = [
    "ETSForecaster",
    "SeasonalNaive",
    "Seq2SeqEnsemble",
    "Seq2SeqForecaster",
    "Seq2SeqRegressor",
    "Seq2SeqTranslator",
    "ThetaForecaster",
    "evaluate",
    "load",
    "make_windows",
    "__version__",
]
