"""The steps of :meth:`Seq2SeqForecaster.fit <tsattn.Seq2SeqForecaster.fit>`, and its saved state.

``fit`` reads as its steps: check (:meth:`FitStepsMixin._checked_options`), then
:meth:`~FitStepsMixin._fit_steps`: prepare (one :class:`~tsattn.forecast.preparation.HistoryPreparation`),
build, train, calibrate; covariate selection (:mod:`tsattn.forecast.selection`) runs the same
steps again when it drops a feature.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings

import numpy as np
import torch

from tsattn.core.seq2seq import CoreConfig
from tsattn.epoch import capped_validation
from tsattn.forecast import conformal, model_setup, rollout
from tsattn.forecast.context import ForecastContext
from tsattn.forecast.covariates.calendar import check_calendar, check_holidays
from tsattn.forecast.covariates.spec import check_past_covariates
from tsattn.forecast.importance import feature_blocks
from tsattn.forecast.params import check_quantiles, check_warm_start
from tsattn.forecast.preparation import HistoryPreparation, PreparationOptions, PreparedData
from tsattn.forecast.state import FittedSettings
from tsattn.forecast.windows.batches import WindowBatches
from tsattn.io import params_to_json
from tsattn.training import checkpoint_fingerprint, resolve_device

# Validation windows per batch in the comparison of the network with its baseline alone.
FALLBACK_GROUP = 32


class FitStepsMixin:
    """The named steps of the forecaster's ``fit`` and its model-file state."""

    def _checked_options(self) -> tuple[PreparationOptions, torch.device]:
        """Check: every parameter validated, and what the preparation reads from them."""
        horizon, input_size = self._check_params()
        levels, asked = check_quantiles(self.quantiles)
        past = check_past_covariates(self.past_covariates)
        calendar = check_calendar(self.calendar_features)
        device = resolve_device(self.device)
        options = PreparationOptions(
            horizon=horizon,
            input_size=input_size,
            season_length=self.season_length,
            baseline=self.baseline,
            scaler=self.scaler,
            mask_missing=self.missing == "mask",
            nonnegative=self.nonnegative,
            past=past,
            calendar=calendar,
            scaling=self.covariate_scaling,
            holidays=check_holidays(self.holidays),
            # A count likelihood has no quantile outputs: its levels are reported from it.
            quantiles=None if model_setup.distribution(self.loss) else levels,
            asked_quantiles=asked,
        )
        return options, device

    def _fit_steps(
        self, options, device, previous, y, X, static, draw_seed, checkpoint_dir=None
    ) -> tuple[PreparedData, WindowBatches]:
        """Prepare, build, train and calibrate; returns the data and the validation windows.

        ``previous``: the fitted context a warm start continues, or None. ``draw_seed`` gives
        the run's seed, drawn after the data are prepared.
        """
        preparation, data = self._prepare(options, previous, y, X, static)
        check_kept_names(self.keep_covariates, data.design.spec)
        model_setup.check_count_data(self.loss, data.panel.values)
        seed = draw_seed()
        train, valid = preparation.training_batches(data, self.validation_size, device)
        config = self._build(preparation.settings, train, previous)
        self._train(preparation.settings, config, data, train, valid, seed, device, checkpoint_dir,
                    previous)  # fmt: skip
        self._fall_back_to_baseline(preparation.settings, valid)
        self._calibrate(preparation, data, valid if len(valid) else train, seed)
        return data, valid

    def _prepare(self, options, previous, y, X, static):
        """Prepare: a first fit resolves its settings from ``y``; a warm start keeps them."""
        if previous is None:
            return HistoryPreparation.from_training_data(options, y, X, static)
        # Continue the fitted model: the data are prepared exactly as for its first fit.
        check_warm_start(previous, options.horizon, options.quantiles)
        data = previous.preparation().prepare(y, X, static, training=True)
        settings = dataclasses.replace(
            previous.settings, quantiles=options.quantiles, asked_quantiles=options.asked_quantiles
        )
        return HistoryPreparation(settings, previous.series), data

    def _build(self, settings: FittedSettings, train: WindowBatches, previous) -> CoreConfig:
        """Build: the core's configuration from the windows' widths and the parameters."""
        probe = train.batch(np.arange(1))
        source_covariates, target_covariates = train.covariate_widths
        config = model_setup.core_config(
            self,
            source_features=probe["source"].shape[-1],
            target_features=probe["target_in"].shape[-1],
            output_size=model_setup.output_size(self.loss, settings.quantiles),
            input_size=settings.input_size,
            source_covariates=source_covariates,
            target_covariates=target_covariates,
            covariate_gate=bool(self.covariate_gate),
            covariate_dropout=float(self.covariate_dropout),
        )
        if previous is not None and config != self.module_.config:
            raise ValueError(
                "warm_start=True continues the fitted model, but the new data or parameters "
                "change its inputs or sizes (other covariates or static features, hidden_size, "
                "...): set warm_start=False to fit a new model"
            )
        return config

    def _train(
        self, settings, config, data, train, valid, seed, device, checkpoint_dir, previous
    ) -> None:
        """Train: the module on the training windows, the epoch chosen on the validation ones."""
        fingerprint = None
        if checkpoint_dir is not None:
            design, panel = data.design, data.panel
            arrays = [a for a in (design.history, design.static) if a is not None]
            # A warm start resumes only its own run: the weights it starts from are part of it.
            fingerprint = checkpoint_fingerprint(
                params_to_json(self.get_params()), panel.values, panel.offsets, *arrays,
                start=None if previous is None else self.module_.state_dict(),
            )  # fmt: skip
        self._fit_module(
            config,
            rollout.make_loss(self.loss, settings.quantiles, free_running=not self.teacher_forcing),
            train,
            valid,
            model_setup.training_config(self),
            seed,
            device,
            checkpoint_dir=checkpoint_dir,
            fingerprint=fingerprint,
            initial=None if previous is None else self.module_,
        )

    def _fall_back_to_baseline(self, settings: FittedSettings, valid: WindowBatches) -> None:
        """Keep the baseline alone where the trained network forecasts worse than it.

        The rule (issue 23: the network must not end worse than its starting point on the
        validation windows): on the validation windows (capped as training caps them), taken
        in batches of :data:`FALLBACK_GROUP`, the loss of the trained network is compared with
        the loss of the baseline's own forecast (the network's output head zeroed, so its
        correction is none). Where the network's is higher on the mean over the batches, the
        model keeps the zeroed head, warns, and
        ``baseline_fallback_`` is True. The epoch kept was chosen on the same windows, which
        favours the network: a network that is still worse there is worse. Nothing is
        compared without a baseline or validation windows.

        A tolerance of two standard errors (measured, issue 23) kept networks that were worse
        on the validation windows and on the held-out data alike (M3 yearly, seed 0: 16.58
        against its baseline's 16.36 sMAPE).
        """
        if settings.baseline is None or not len(valid):
            return
        config = model_setup.training_config(self)
        windows = capped_validation(valid, config)
        loss = rollout.make_loss(
            self.loss, settings.quantiles, free_running=not self.teacher_forcing
        )
        alone = copy.deepcopy(self.module_)
        with torch.no_grad():
            for parameter in alone.head.parameters():
                parameter.zero_()
        self.module_.eval()
        alone.eval()
        excess, trained, baseline = [], 0.0, 0.0
        with torch.no_grad():
            for begin in range(0, len(windows), FALLBACK_GROUP):
                batch = windows.batch(np.arange(begin, min(begin + FALLBACK_GROUP, len(windows))))
                ours, theirs = float(loss(self.module_, batch)), float(loss(alone, batch))
                excess.append(ours - theirs)
                trained, baseline = trained + ours, baseline + theirs
        if np.mean(excess) > 0:
            warnings.warn(
                f"the trained network's validation loss ({trained / len(excess):.4g}) is above "
                f"its baseline's alone ({baseline / len(excess):.4g}) on the validation "
                f"windows: the model forecasts the {settings.baseline!r} baseline "
                "without correction (baseline_fallback_ is True)",
                UserWarning,
                stacklevel=4,
            )
            self.module_ = alone

    def _calibrate(self, preparation, data, windows: WindowBatches, seed: int) -> None:
        """Calibrate the quantile bands on ``windows`` and keep the fitted context."""
        settings = preparation.settings
        calibration = conformal.calibrate(
            self.module_, windows, settings.horizon, settings.quantiles, seed,
            model_setup.distribution(self.loss),
        )  # fmt: skip
        settings = dataclasses.replace(settings, calibration=calibration)
        self.context_ = ForecastContext(settings, preparation.tails(data))
        self._set_fitted_attributes()

    def _set_fitted_attributes(self) -> None:
        """The public fitted attributes, all read from ``module_`` and ``context_``."""
        context = self.context_
        self.horizon_ = context.horizon
        self.input_size_ = context.input_size
        self.segment_length_ = self.module_.config.segment_length
        self.scaler_ = context.scaler
        self.season_length_ = context.season_length
        self.seasonal_indices_ = context.seasonal_indices
        self.n_series_ = context.n_series
        self.series_ids_ = list(context.ids)
        self.freq_ = context.axis.freq
        self.quantiles_ = context.quantiles
        self.baseline_ = context.baseline
        # A zeroed output head is the baseline alone (_fall_back_to_baseline), also when loaded.
        self.baseline_fallback_ = context.baseline is not None and all(
            not bool(parameter.detach().any()) for parameter in self.module_.head.parameters()
        )

    # ------------------------------------------------------------------------------------------
    # save / load

    def _state_artifacts(self):
        state, tensors = self.context_.to_artifacts()
        return {"context": state}, tensors

    def _restore_state(self, state, tensors) -> None:
        self.context_ = ForecastContext.from_artifacts(state["context"], tensors)
        calibration = self.context_.calibration
        kind = None if calibration is None else calibration.distribution
        if self.module_.config.output_size != model_setup.output_size(
            kind or "mae", self.context_.quantiles
        ):
            raise ValueError("the model's outputs do not match its quantile levels")
        self._set_fitted_attributes()


def check_kept_names(keep, spec) -> None:
    """Raise when ``keep_covariates`` names a feature the prepared data do not have.

    Parameters
    ----------
    keep : str or sequence of str
        The forecaster's ``keep_covariates``.
    spec : CovariateSpec
        The covariate spec prepared from ``X``, ``static`` and the parameters.

    Raises
    ------
    ValueError
        Naming the unknown names and the features there are.
    """
    names = [keep] if isinstance(keep, str) else list(keep or ())
    features = [block.name for block in feature_blocks(spec)]
    unknown = [name for name in names if str(name) not in features]
    if unknown:
        raise ValueError(
            f"keep_covariates names {unknown}, which are not features of this fit (its "
            f"covariate, calendar, holiday and static features are {features}): name columns "
            "of X or static, calendar features or holiday codes, or remove them"
        )
