"""The numeric path: estimators and their outputs on top of four layers.

``panel/`` (inputs), ``covariates/``, ``statistics/`` and ``windows/`` prepare the data;
``preparation`` runs them in one place for fit and for new histories; the estimators
(``forecaster``, ``regressor``, ``ensemble``), their fit steps, outputs, evaluation and
``metrics/`` sit on top. Modules moved into the sub-packages stay importable under their
former flat names (``tsattn.forecast.theta`` is ``tsattn.forecast.statistics.theta``).
"""

import importlib
import importlib.abc
import importlib.util
import sys
import types

# Former flat module -> its module(s) now; a name split in two is served by both.
_MOVED = {
    "paneltypes": ("panel.types",),
    "values": ("panel.checks",),
    "readers": ("panel.readers",),
    "timegrid": ("panel.timegrid",),
    "xrows": ("covariates.rows",),
    "xscaling": ("covariates.scaling",),
    "calendar": ("covariates.calendar",),
    "static": ("covariates.static",),
    "blocks": ("statistics.series_blocks",),
    "seasonal": ("statistics.seasonal",),
    "theta": ("statistics.theta",),
    "holt": ("statistics.holt",),
    "combination": ("statistics.baseline",),
    "baselines": ("statistics.forecasters",),
    "windowed": ("windows.arrays",),
    "network": ("model_setup", "rollout"),
}


class _FormerPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports a former flat path as the module it moved to, so old imports keep working."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102
        package, _, name = fullname.rpartition(".")
        if package == __name__ and name in _MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):  # noqa: D102
        targets = [
            importlib.import_module(f"{__name__}.{t}")
            for t in _MOVED[spec.name.rpartition(".")[2]]
        ]
        if len(targets) == 1:
            return targets[0]
        merged = types.ModuleType(spec.name, targets[0].__doc__)
        for module in targets:
            merged.__dict__.update(
                {k: v for k, v in vars(module).items() if not k.startswith("__")}
            )
        return merged

    def exec_module(self, module):  # noqa: D102
        pass


if not any(isinstance(finder, _FormerPaths) for finder in sys.meta_path):
    sys.meta_path.append(_FormerPaths())
