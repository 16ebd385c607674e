"""The numeric path: panels, windows, the forecaster and the regressor."""
