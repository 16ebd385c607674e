"""Statistical methods, vectorised over a panel's series.

``series_blocks`` (series of similar lengths padded into blocks for per-series recursions),
``seasonal`` (multiplicative seasonal adjustment), ``theta`` and ``holt`` (their states and
forecasts from every window's origin), ``baseline`` (the statistical forecast the network
corrects) and ``forecasters`` (user-facing statistical forecasters with fit/predict).
"""
