"""Fit the forecast-error model on the real forecast files and print docs/forecasts.md's tables.

    python benchmarks/forecast_errors.py --data ../shared/data

Prints, as Markdown: the fitted profiles (the numbers stored in greenopt/forecasts/error_model.py),
each file's error by lead with the pooled error, the fitted σ(h) and the error of the model run on
the files' own actuals, the error correlations, and the hourly-slot check. The library does the
work (:mod:`greenopt.forecasts.calibration`); this script only formats.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from greenopt.forecasts.calibration import (  # noqa: E402
    TOLERANCE,
    fit_profile,
    pooled,
    simulated_lead_errors,
    simulated_slot_mean_errors,
    slot_mean_errors,
)
from greenopt.forecasts.error_model import ErrorModel  # noqa: E402
from greenopt.io.forecast_archives import calibration_archives  # noqa: E402

FORMS = {"carbon": "level", "renewable_kw": "relative"}
SHOWN_MIN = [0, 5, 10, 15, 20, 30, 45, 60, 65, 90, 120, 150, 175]


def md(df: pd.DataFrame, digits: int = 3) -> str:
    cols = ["lead (min)", *map(str, df.columns)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in df.iterrows():
        cells = [f"{idx * 60:.0f}"] + [
            "" if pd.isna(v) else (f"{v:+.1%}" if c == "gap" else f"{v:.{digits}f}")
            for c, v in row.items()
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", "--data-dir", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    archives = calibration_archives(args.data)
    model = ErrorModel()
    for signal, arcs in archives.items():
        report = fit_profile(arcs, form=FORMS[signal])
        p = report.profile
        print(f"\n### {signal}: {', '.join(a.name for a in arcs)}\n")
        print(
            f"form `{p.form}`, σ0 = {p.sigma0}, σ∞ = {p.sigma_inf}, τ = {p.tau_h} h, "
            f"β = {p.beta}, corr_target_h = {p.corr_target_h}, corr_issue_h = {p.corr_issue_h}"
        )
        print(
            "\nday-before persistence nRMSE: "
            + ", ".join(f"{k}: {v:.3f}" for k, v in report.day_persistence.items())
        )
        sim = pooled(
            [
                simulated_lead_errors(model, a, seed=args.seed).loc[
                    report.per_archive[a.name].index
                ]
                for a in arcs
            ]
        )
        table = report.table().drop(columns="model_vs_pooled")
        table.columns = [f"file {i + 1}" for i in range(len(arcs))] + ["pooled", "σ(h)"]
        table["model run"] = sim
        table["gap"] = table["model run"] / table["pooled"] - 1
        shown = table[np.isin(np.rint(table.index * 60), SHOWN_MIN)]
        print()
        print(md(shown))
        print(
            f"\nlargest |gap| over all {len(table)} leads: {table['gap'].abs().max():.1%} "
            f"(tolerance {TOLERANCE:.0%})"
        )
        print("\ncorrelation of errors along target time, lags 5..60 min (per file): ")
        for k, v in report.target_corr.items():
            print(f"- {k}: {np.round(v[[0, 2, 5, 11]], 2).tolist()} (5, 15, 30, 60 min)")
        print("\ncorrelation of one target's errors across issues 5..60 min apart (per file):")
        for k, v in report.issue_corr.items():
            print(f"- {k}: {np.round(v[[0, 2, 5, 11]], 2).tolist()} (5, 15, 30, 60 min)")
        print("\nhourly slots (not fitted): real vs model nRMSE of hourly means, by lead (h)")
        for a in arcs:
            real = slot_mean_errors(a)
            if real.empty:
                continue
            mod = simulated_slot_mean_errors(model, a, seed=args.seed)
            pairs = ", ".join(
                f"{h:.0f} h: {r:.3f} vs {m:.3f}"
                for h, r, m in zip(real.index, real, mod, strict=True)
            )
            print(f"- {a.name}: {pairs}")
    print(f"\n({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
