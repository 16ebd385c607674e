"""tsattn: forecasting with an RNN encoder-decoder and Bahdanau attention, the scikit-learn way."""

from tsattn.forecast.forecaster import Seq2SeqForecaster
from tsattn.io import load

__version__ = "0.1.0"

__all__ = ["Seq2SeqForecaster", "load", "__version__"]
