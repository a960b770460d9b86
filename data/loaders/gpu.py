"""GPU measurements: the ML.ENERGY leaderboard's text-to-image configurations."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from aigc_opt.data.loaders._common import fail_first, numeric, read_csv_text, require_columns
from aigc_opt.data.loaders.series import DataFileError

ML_ENERGY_COLUMNS = (
    "model_id",
    "nickname",
    "gpu_model",
    "num_gpus",
    "batch_size",
    "inference_steps",
    "energy_per_image_joules",
    "batch_latency_s",
    "avg_power_watts",
    "image_height",
    "image_width",
)


def load_ml_energy_t2i(path: str | Path) -> pd.DataFrame:
    """ML.ENERGY leaderboard v3 text-to-image configurations (flattened CSV).

    Units are in the column names: ``energy_per_image_joules`` (J per image),
    ``batch_latency_s`` (s per batch), ``avg_power_watts`` (W), image size in px.

    Returns
    -------
    DataFrame with the columns of `ML_ENERGY_COLUMNS` (numbers as numbers), one row per
    (model, GPU, GPU count, batch size, parallelism) configuration.
    """
    path = Path(path)
    df = read_csv_text(path)
    for c in df.columns:
        if str(c).startswith("energy_per_image") and c not in (
            "energy_per_image_joules",
            "energy_per_image_per_step_joules",
        ):
            raise DataFileError(
                path,
                "wrong units header: expected 'energy_per_image_joules'",
                line=1,
                column=str(c),
            )
    require_columns(path, df, ML_ENERGY_COLUMNS)
    out = df.copy()
    for c in ML_ENERGY_COLUMNS[3:]:  # every column after the three names is a number > 0
        out[c] = numeric(path, df, c, 2, allow_blank=False)
        fail_first(path, out[c] <= 0, "must be > 0", first_line=2, column=c, values=out[c])
    for c in ("num_gpus", "batch_size", "inference_steps", "image_height", "image_width"):
        out[c] = out[c].astype(int)
    return out
