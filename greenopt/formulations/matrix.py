"""Columns and row blocks of the MILP as sparse numpy arrays.

Every constraint family computes its rows here, vectorised, once; :mod:`.build` turns the same
arrays into a Pyomo model (named, indexed components) and :mod:`greenopt.milp.pipeline` can
also pass them to HiGHS directly, so both paths solve exactly the same matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass
class ColBlock:
    """A family of variables: ``keys[i]`` is the index tuple of column ``offset + i``."""

    name: str
    keys: np.ndarray  # (n, k) int
    lb: np.ndarray
    ub: np.ndarray
    integer: bool
    cost: np.ndarray
    offset: int = 0
    doc: str = ""

    @property
    def n(self) -> int:
        return len(self.lb)

    def cols(self, local: np.ndarray) -> np.ndarray:
        return self.offset + np.asarray(local, dtype=np.int64)


@dataclass
class RowBlock:
    """A family of rows ``lb ≤ A x ≤ ub`` (CSR over global column numbers)."""

    name: str
    A: sp.csr_array
    lb: np.ndarray
    ub: np.ndarray
    doc: str = ""

    @property
    def n(self) -> int:
        return self.A.shape[0]


@dataclass
class Matrix:
    """All columns, all row blocks, objective ``c·x + offset`` (minimised)."""

    cols: dict[str, ColBlock] = field(default_factory=dict)
    rows: dict[str, RowBlock] = field(default_factory=dict)
    offset: float = 0.0
    n_cols: int = 0

    def add_cols(
        self,
        name: str,
        keys: np.ndarray,
        lb: np.ndarray | float,
        ub: np.ndarray | float,
        integer: bool = False,
        cost: np.ndarray | float = 0.0,
        doc: str = "",
    ) -> ColBlock:
        keys = np.asarray(keys, dtype=np.int64)
        if keys.ndim == 1:
            keys = keys[:, None]
        n = len(keys)
        block = ColBlock(
            name=name,
            keys=keys,
            lb=np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy(),
            ub=np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy(),
            integer=integer,
            cost=np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy(),
            offset=self.n_cols,
            doc=doc,
        )
        self.cols[name] = block
        self.n_cols += n
        return block

    def add_rows(
        self,
        name: str,
        n: int,
        r: np.ndarray,
        c: np.ndarray,
        v: np.ndarray,
        lb: np.ndarray | float,
        ub: np.ndarray | float,
        doc: str = "",
    ) -> RowBlock | None:
        """Add ``n`` rows from triplets (duplicates summed). Empty blocks are skipped."""
        if n == 0:
            return None
        A = sp.csr_array(
            (np.asarray(v, dtype=float), (np.asarray(r, np.int64), np.asarray(c, np.int64))),
            shape=(n, self.n_cols),
        )
        A.sum_duplicates()
        block = RowBlock(
            name=name,
            A=A,
            lb=np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy(),
            ub=np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy(),
            doc=doc,
        )
        self.rows[name] = block
        return block

    # -- assembled arrays --------------------------------------------------------------------
    def col_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(cost, lb, ub, is_integer)`` over all columns in order."""
        blocks = list(self.cols.values())
        cat = lambda f: np.concatenate([f(b) for b in blocks]) if blocks else np.zeros(0)  # noqa: E731
        return (
            cat(lambda b: b.cost),
            cat(lambda b: b.lb),
            cat(lambda b: b.ub),
            cat(lambda b: np.full(b.n, b.integer, dtype=bool)).astype(bool),
        )

    def row_arrays(self) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
        """``(A, lb, ub)`` with all row blocks stacked, A over all ``n_cols`` columns."""
        blocks = list(self.rows.values())
        if not blocks:
            return sp.csr_array((0, self.n_cols)), np.zeros(0), np.zeros(0)
        mats = []
        for b in blocks:
            A = b.A
            if A.shape[1] < self.n_cols:  # rows built before later columns were added
                A = sp.csr_array((A.data, A.indices, A.indptr), shape=(A.shape[0], self.n_cols))
            mats.append(A)
        return (
            sp.vstack(mats, format="csr"),
            np.concatenate([b.lb for b in blocks]),
            np.concatenate([b.ub for b in blocks]),
        )

    @property
    def n_rows(self) -> int:
        return sum(b.n for b in self.rows.values())

    @property
    def n_integer(self) -> int:
        return sum(b.n for b in self.cols.values() if b.integer)
