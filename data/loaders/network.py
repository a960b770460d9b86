"""Network: inter-region data-transfer prices of a cloud provider."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from aigc_opt.data.loaders._common import numeric, read_csv_text
from aigc_opt.data.loaders.series import DataFileError


def load_transfer_prices(path: str | Path) -> pd.DataFrame:
    """Square matrix of data-transfer prices between cloud regions (USD per GB).

    Row = source region, column = destination; first column holds the row labels.
    """
    path = Path(path)
    df = read_csv_text(path)
    first = df.columns[0]
    rows = [str(r) for r in df[first]]
    cols = [str(c) for c in df.columns[1:]]
    if rows != cols:
        raise DataFileError(
            path, "row labels must equal column labels (square matrix)", line=1, column=str(first)
        )
    vals = np.column_stack([numeric(path, df, c, 2, allow_blank=False) for c in cols])
    return pd.DataFrame(
        vals, index=pd.Index(rows, name="source"), columns=pd.Index(cols, name="destination")
    )
