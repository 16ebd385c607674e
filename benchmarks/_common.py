"""What the benchmark scripts share: the future frame of a long panel, peak memory, versions.

The scripts run as ``python benchmarks/<name>.py``, so this module is importable beside them.
"""

from __future__ import annotations

import resource
import sys

import numpy as np
import pandas as pd


def future_frame(train: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """unique_id and integer ds of the ``horizon`` steps after each series' end."""
    last = train.groupby("unique_id", sort=False)["ds"].max()
    return pd.DataFrame(
        {
            "unique_id": np.repeat(last.index.to_numpy(), horizon),
            "ds": (last.to_numpy()[:, None] + np.arange(1, horizon + 1)).ravel(),
        }
    )


def peak_mb() -> float:
    """This process' peak resident memory in MiB.

    Linux's VmHWM belongs to the process image, which exec replaces; ru_maxrss does not
    restart at exec, so a worker's would include its parent's size at the fork.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024  # bytes on macOS, else kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def library_version(library: str) -> str:
    """The installed version of ``library``, "?" when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(library)
    except PackageNotFoundError:
        return "?"
