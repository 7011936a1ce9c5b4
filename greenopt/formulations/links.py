"""WAN link capacity (MODEL.md here, §7; MODEL.md §5.3).

For every link ``e`` and slot ``t``:

    Σ_{(j,a,b,t) ∈ M : e ∈ route(a,b)} state_gb[j]·mv[j,a,b,t]
        ≤ gbps_e·wan_share·Δh·3600/8 − reserved_gb[e,t]

(``reserved_gb``: the scenario's ``reserved_link_gb``, 0 where nothing is reserved.)

Only rows that can bind are written (the GB of every move that could use the link in that slot
exceeds its capacity). Moves whose state alone exceeds a link of their route are not in ``M``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from greenopt.formulations.matrix import Matrix
from greenopt.formulations.sets import IndexSets


def link_list(network: Any) -> list[tuple[str, str]]:
    """The WAN's links in the order the ``link`` key counts them (sorted endpoints)."""
    return sorted(network.link_capacity_gb)


def add_links(mx: Matrix, ix: IndexSets) -> None:
    if len(ix.mj) == 0:
        return
    net = ix.scenario.network
    names = ix.scenario.index.site_names
    links = link_list(net)
    link_ids = {lk: i for i, lk in enumerate(links)}
    cap = np.array([net.link_capacity_gb[lk] for lk in links])
    pair = ix.ma * ix.S + ix.mb
    mv_idx, lk_idx = [], []
    for p in np.unique(pair):
        a, b = divmod(int(p), ix.S)
        ms = np.flatnonzero(pair == p)
        for lk in net.links[(names[a], names[b])]:
            mv_idx.append(ms)
            lk_idx.append(np.full(len(ms), link_ids[lk]))
    if not mv_idx:
        return
    m = np.concatenate(mv_idx)
    e = np.concatenate(lk_idx)
    et = e * ix.T + ix.mt[m]
    load = np.bincount(et, weights=ix.mgb[m], minlength=len(cap) * ix.T)
    capt = np.repeat(cap, ix.T)
    for link, gb in ix.scenario.index.reserved_link_gb.items():
        capt[link_ids[link] * ix.T : (link_ids[link] + 1) * ix.T] -= gb
    binding = np.flatnonzero(load > capt * (1 + 1e-9) + 1e-9)
    row_of = np.full(len(capt), -1, dtype=np.int64)
    row_of[binding] = np.arange(len(binding))
    keep = row_of[et] >= 0
    mx.add_rows(
        "link_capacity",
        {"link": binding // ix.T, "slot": binding % ix.T},
        row_of[et[keep]],
        mx.cols["mv"].cols(m[keep]),
        ix.mgb[m[keep]],
        -np.inf,
        capt[binding],
        doc="Σ_{(j,a,b) routed over e} state_gb[j]·mv[j,a,b,t] ≤ gbps_e·wan_share·Δh·3600/8   (§7)",
    )
