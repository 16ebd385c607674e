"""Covariates: X, calendar and static features as the network's inputs.

``rows`` (X in any format -> rows keyed by series and time), ``scaling`` (each column's scaling
rule and the predict-time range check), ``calendar`` (features from timestamps), ``static``
(per-series features), ``spec`` (:class:`CovariateSpec`, what was learnt, saved with the model)
and ``design`` (the arrays aligned with a panel for fit, and the horizon's rows for predict).
"""

from tsattn.forecast.covariates.design import Design, apply_design, fit_design, future_design
from tsattn.forecast.covariates.spec import (
    CovariateSpec,
    check_past_covariates,
    check_predict_columns,
    split_x_columns,
)

__all__ = [
    "CovariateSpec",
    "Design",
    "apply_design",
    "check_past_covariates",
    "check_predict_columns",
    "fit_design",
    "future_design",
    "split_x_columns",
]
