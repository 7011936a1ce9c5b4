"""Regenerate the example profiles shipped in ``greenopt/examples/data/profiles.npz``.

The embedded examples take their PV and wind profiles from that file, so that a base install
needs neither pvlib nor windpowerlib. This script recomputes every profile the examples use at
their default settings with those libraries (``pip install 'greenopt[examples]'``):
``python -m greenopt.examples.generate`` rewrites the file, and with ``--check`` it exits 1 if
the file differs from a recompute (the test suite checks this whenever pvlib and windpowerlib
are installed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from greenopt.examples import EXAMPLES, load
from greenopt.examples.profiles import DATA_FILE, recording, shipped_profiles


def generate() -> dict[str, np.ndarray]:
    """Every profile the embedded examples use at their default settings, freshly computed."""
    with recording() as computed:
        for name in EXAMPLES:
            load(name)
    return dict(sorted(computed.items()))


def write(profiles: dict[str, np.ndarray], path: Path = DATA_FILE) -> Path:
    """Write ``profiles`` (key → array) as ``keys`` plus ``p0, p1, …`` into ``path`` (NPZ)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = sorted(profiles)
    arrays = {f"p{i}": np.asarray(profiles[k], dtype=np.float64) for i, k in enumerate(keys)}
    with path.open("wb") as f:
        np.savez_compressed(f, keys=np.array(keys), **arrays)
    return path


def differences(fresh: dict[str, np.ndarray], shipped: dict[str, np.ndarray]) -> list[str]:
    """What differs between two profile sets, bit for bit (empty when identical)."""
    out = [f"missing from the shipped file: {k}" for k in sorted(set(fresh) - set(shipped))]
    out += [f"shipped but no longer used: {k}" for k in sorted(set(shipped) - set(fresh))]
    for k in sorted(set(fresh) & set(shipped)):
        a, b = fresh[k], shipped[k]
        if a.dtype != b.dtype or a.shape != b.shape or a.tobytes() != b.tobytes():
            diff = np.max(np.abs(a - b)) if a.shape == b.shape else float("nan")
            out.append(f"differs (max |Δ| {diff:.3g} kW): {k}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    fresh = generate()
    if args.check:
        problems = differences(fresh, shipped_profiles())
        for p in problems:
            print(p)
        print(f"{len(fresh)} profiles, {'identical' if not problems else 'DIFFERENT'}")
        return 1 if problems else 0
    print(f"wrote {len(fresh)} profiles to {write(fresh)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
