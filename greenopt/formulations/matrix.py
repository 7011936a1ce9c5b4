"""Columns and row blocks of the MILP as sparse numpy arrays, each labelled by its keys.

Every constraint family computes its rows here, vectorised, once, and says what each row is
*for*: ``keys={"site": s, "slot": t}`` names the index of every row (the "foreach" of the
family's math), just as every variable family names its columns' keys (``x`` over
``job, site, slot``). :mod:`.pyomo_model` turns the same arrays into a labelled Pyomo model
(``capacity[site, slot]`` over ``x[job, site, slot]``) and :mod:`greenopt.milp.pipeline` can
pass them to HiGHS directly, so both paths solve exactly the same matrix.

A key is an integer array per *dimension*; :data:`DIMENSIONS` says which named set each
dimension counts in (``job`` → the scenario's job names, ``src``/``dst`` → site names, ``slot``
→ slot numbers, ``link`` → the WAN links). A new family writes its rows with
``mx.add_rows(name, keys, rows, cols, values, lb, ub, doc=math)`` — nothing else to register.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

#: Key dimension → the named set it counts in (the labelled model's ``jobs``, ``sites``,
#: ``slots``, ``links``). A family keyed by a new kind of thing adds its dimension here and its
#: labels in :func:`greenopt.formulations.pyomo_model.labels`.
DIMENSIONS: dict[str, str] = {
    "job": "jobs",
    "site": "sites",
    "src": "sites",
    "dst": "sites",
    "slot": "slots",
    "link": "links",
}

Keys = Mapping[str, np.ndarray]


def _key_array(owner: str, keys: Keys) -> tuple[np.ndarray, tuple[str, ...]]:
    """``keys`` ({dimension: int array}) as an (n, k) array and its dimension names."""
    if not isinstance(keys, Mapping) or not keys:
        raise TypeError(
            f"{owner}: keys must be a mapping of dimension names to integer arrays, e.g. "
            f"{{'job': j, 'slot': t}}; got {type(keys).__name__}"
        )
    unknown = [d for d in keys if d not in DIMENSIONS]
    if unknown:
        raise ValueError(
            f"{owner}: unknown key dimension(s) {unknown}; known: {', '.join(DIMENSIONS)} "
            "(add a new one to greenopt.formulations.matrix.DIMENSIONS)"
        )
    cols = [np.asarray(a, dtype=np.int64).ravel() for a in keys.values()]
    if len({len(c) for c in cols}) != 1:
        raise ValueError(f"{owner}: key arrays differ in length")
    arr = np.stack(cols, axis=1)
    if len(arr) > 1:
        # one row (column) per key: a labelled model indexes the family by them
        radix = arr.max(axis=0) + 1
        flat = np.zeros(len(arr), dtype=np.int64)
        for k in range(arr.shape[1]):
            flat = flat * radix[k] + arr[:, k]
        if len(np.unique(flat)) < len(arr):
            raise ValueError(f"{owner}: two entries have the same key {tuple(keys)}")
    return arr, tuple(keys)


@dataclass
class ColBlock:
    """A family of variables: ``keys[i]`` is the index tuple of column ``offset + i``, its
    entries counting in the dimensions ``key_names``."""

    name: str
    keys: np.ndarray  # (n, k) int
    lb: np.ndarray
    ub: np.ndarray
    integer: bool
    cost: np.ndarray
    offset: int = 0
    doc: str = ""
    key_names: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return len(self.lb)

    def cols(self, local: np.ndarray) -> np.ndarray:
        return self.offset + np.asarray(local, dtype=np.int64)


@dataclass
class RowBlock:
    """A family of rows ``lb ≤ A x ≤ ub`` (CSR over global column numbers); row ``i`` is the
    family's row for the key ``keys[i]`` (dimensions ``key_names``), unique within the family."""

    name: str
    A: sp.csr_array
    lb: np.ndarray
    ub: np.ndarray
    doc: str = ""
    keys: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    key_names: tuple[str, ...] = ()

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
        keys: Keys,
        lb: np.ndarray | float,
        ub: np.ndarray | float,
        integer: bool = False,
        cost: np.ndarray | float = 0.0,
        doc: str = "",
    ) -> ColBlock:
        """Add a family of columns, one per key: ``keys={"job": j, "site": s, "slot": t}``."""
        arr, key_names = _key_array(f"variable family {name!r}", keys)
        n = len(arr)
        block = ColBlock(
            name=name,
            keys=arr,
            lb=np.broadcast_to(np.asarray(lb, dtype=float), (n,)).copy(),
            ub=np.broadcast_to(np.asarray(ub, dtype=float), (n,)).copy(),
            integer=integer,
            cost=np.broadcast_to(np.asarray(cost, dtype=float), (n,)).copy(),
            offset=self.n_cols,
            doc=doc,
            key_names=key_names,
        )
        self.cols[name] = block
        self.n_cols += n
        return block

    def add_rows(
        self,
        name: str,
        keys: Keys,
        r: np.ndarray,
        c: np.ndarray,
        v: np.ndarray,
        lb: np.ndarray | float,
        ub: np.ndarray | float,
        doc: str = "",
    ) -> RowBlock | None:
        """Add a family of rows from triplets (row ``r``, column ``c``, value ``v``; duplicates
        summed), row ``i`` being the one for key ``i`` of ``keys`` ({dimension: int array},
        e.g. ``{"site": s, "slot": t}``; unique). ``doc`` is the family's math. Empty families
        are skipped."""
        arr, key_names = _key_array(f"constraint family {name!r}", keys)
        n = len(arr)
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
            keys=arr,
            key_names=key_names,
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


def row_positions(mx: Matrix, name: str) -> np.ndarray:
    """Positions of row block ``name`` among all rows of ``mx`` (in ``row_arrays`` order)."""
    offset = 0
    for block_name, block in mx.rows.items():
        if block_name == name:
            return offset + np.arange(block.n)
        offset += block.n
    raise KeyError(name)
