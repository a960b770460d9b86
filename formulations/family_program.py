"""A linear program held as arrays: ``max cᵀx s.t. row_lo ≤ A x ≤ row_hi, col_lo ≤ x ≤ col_hi``,
some columns integer. The scenario families build their MILP and LP relaxation in this form
(one builder each) and `aigc_opt.solvers.family_highs` passes it to HiGHS in one call."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass
class ArrayProgram:
    """Maximization program in arrays. ``blocks`` maps a variable block's name to its
    column slice (e.g. ``"n"`` → the GPU counts); ``integer`` is a boolean mask."""

    c: np.ndarray
    A: sp.csc_matrix
    row_lo: np.ndarray
    row_hi: np.ndarray
    col_lo: np.ndarray
    col_hi: np.ndarray
    integer: np.ndarray
    blocks: dict[str, slice] = field(default_factory=dict)
    offset: float = 0.0

    def __post_init__(self) -> None:
        n, m = int(self.c.shape[0]), int(self.A.shape[0])
        for name, arr, size in (("col_lo", self.col_lo, n), ("col_hi", self.col_hi, n),
                                ("integer", self.integer, n), ("row_lo", self.row_lo, m),
                                ("row_hi", self.row_hi, m)):  # fmt: skip
            if arr.shape != (size,):
                raise ValueError(f"ArrayProgram.{name} has shape {arr.shape}, expected ({size},)")
        if self.A.shape[1] != n:
            raise ValueError(f"ArrayProgram.A has {self.A.shape[1]} columns, c has {n}")

    @property
    def n_cols(self) -> int:
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    def relaxed(self) -> ArrayProgram:
        """The same program with every integrality dropped (the LP relaxation)."""
        return ArrayProgram(
            self.c,
            self.A,
            self.row_lo,
            self.row_hi,
            self.col_lo,
            self.col_hi,
            np.zeros_like(self.integer),
            dict(self.blocks),
            self.offset,
        )

    def block(self, x: np.ndarray, name: str) -> np.ndarray:
        return x[self.blocks[name]]


class RowBuilder:
    """Collects rows as (row, col, value) triplets with their bounds; `matrix` assembles."""

    def __init__(self, n_cols: int):
        self.n_cols = n_cols
        self._r: list[np.ndarray] = []
        self._c: list[np.ndarray] = []
        self._v: list[np.ndarray] = []
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self.n_rows = 0

    def add(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        vals: np.ndarray | float,
        n_new: int,
        lo: np.ndarray | float,
        hi: np.ndarray | float,
    ) -> None:
        """Add ``n_new`` rows; ``rows`` are 0-based within the new rows."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        self._r.append(rows + self.n_rows)
        self._c.append(cols)
        self._v.append(np.broadcast_to(np.asarray(vals, dtype=float), rows.shape).copy())
        self._lo.append(np.broadcast_to(np.asarray(lo, dtype=float), (n_new,)).copy())
        self._hi.append(np.broadcast_to(np.asarray(hi, dtype=float), (n_new,)).copy())
        self.n_rows += n_new

    def matrix(self) -> tuple[sp.csc_matrix, np.ndarray, np.ndarray]:
        if not self._r:
            return sp.csc_matrix((0, self.n_cols)), np.zeros(0), np.zeros(0)
        A = sp.coo_matrix(
            (np.concatenate(self._v), (np.concatenate(self._r), np.concatenate(self._c))),
            shape=(self.n_rows, self.n_cols),
        ).tocsc()
        A.sum_duplicates()
        return A, np.concatenate(self._lo), np.concatenate(self._hi)
