"""Limits hold (issue 11): every measured item of its acceptance, one section each.

Run ``python benchmarks/bench_limits.py [--only SECTION ...]`` (sections below, all by default;
one process at a time — timings are wall-clock on whatever else the machine runs).

1. ``oversize`` — writes a scenario of ``--jobs`` × ``--slots`` hourly slots (87,600 × 8,760) as
   scenario files and runs the real ``greenopt plan`` on it: seconds until it exits, exit code,
   peak memory, the error (which must name the sizes). Target: ≤ 5 s.
2. ``plots`` — 2,000 jobs over 8,760 hourly slots planned by the greedy, ``plot_all`` timed
   (drawn aggregated, with notes) against a tenth of the horizon.
3. ``timelimit`` — 5,000 jobs × 8 sites × 96 slots, ``greenopt plan --time-limit 30`` (MILP):
   seconds until the command exits, status and notes. Target: ≤ 35 s (10 % or 5 s).
4. ``dask`` — ``greenopt batch --scheduler`` at ``garbage``, ``http://example.com:80``, a local
   port where nothing answers and one answering HTTP: seconds until exit (code 6, the address
   named). Target: ≤ 30 s each. Then a cluster losing its last worker after the first result:
   seconds from the loss to the batch's ClusterError with the default ``worker_wait`` (60 s).
5. ``deterministic`` — the realistic MILP three times with ``deterministic=True`` (its default
   work budget): the SHA-256 of the five tables of each run (acceptance: identical), seconds,
   objective and gap.
6. ``batch`` — the realistic example as scenario files, two tasks (objectives carbon and grid)
   on 2 Dask worker processes with ``--deterministic``, against ``greenopt plan
   --deterministic`` on the same files: objectives side by side (acceptance: within 0.5 %).
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def write_oversize(folder: Path, jobs: int, slots: int, sites: int) -> Path:
    """Scenario files for ``jobs`` one-hour jobs over ``slots`` hourly slots (written straight
    with pandas: building the Scenario itself is what greenopt must refuse)."""
    start = pd.Timestamp("2024-01-01T00:00:00Z")
    names = [f"site{i}" for i in range(sites)]
    pd.DataFrame({"name": names, "gpus": 64}).to_csv(folder / "sites.csv", index=False)
    times = pd.date_range(start, periods=slots, freq="h").strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame(
        {
            "time": np.tile(times, sites),
            "site": np.repeat(names, slots),
            "renewable_kw": 10.0,
            "carbon": 300.0,
        }
    ).to_csv(folder / "timeseries.csv", index=False)
    rel = np.arange(jobs) % (slots - 1)
    release = (start + pd.to_timedelta(rel, unit="h")).strftime("%Y-%m-%dT%H:%M:%SZ")
    deadline = (start + pd.to_timedelta(slots, unit="h")).strftime("%Y-%m-%dT%H:%M:%SZ")
    pd.DataFrame(
        {
            "name": [f"job{k}" for k in range(jobs)],
            "origin": [names[k % sites] for k in range(jobs)],
            "release": release,
            "deadline": deadline,
            "work_h": 1.0,
            "gpus": 1,
            "power_kw": 0.5,
        }
    ).to_csv(folder / "jobs.csv", index=False)
    wan = "\n".join(f"  - {{a: {a}, b: {b}, gbps: 10}}" for a, b in itertools.pairwise(names))
    yaml = (
        f"name: oversize\nhorizon: {{start: '{start.isoformat()}', slot_minutes: 60, "
        f"slots: {slots}}}\nsites: sites.csv\ntimeseries: timeseries.csv\njobs: jobs.csv\n"
        + (f"wan:\n{wan}\n" if sites > 1 else "")
    )
    (folder / "scenario.yaml").write_text(yaml)
    return folder / "scenario.yaml"


def oversize(jobs: int, slots: int, sites: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_oversize(folder, jobs, slots, sites)
        cli = Path(sys.executable).with_name("greenopt")
        cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "greenopt.cli"]
        t0 = time.perf_counter()
        r = subprocess.run(
            [*cmd, "plan", str(path), "--out", str(folder / "out")],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        took = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"oversize {jobs:,} jobs x {slots:,} slots x {sites} sites: greenopt plan exited")
        print(f"  after {took:.1f} s with code {r.returncode}, peak memory {peak:.0f} MB")
        print(f"  {r.stderr.strip()[:600]}")


def year_plots() -> None:
    import greenopt
    from greenopt.examples.synthetic import synthetic_scenario
    from greenopt.report import plots

    for slots in (876, 8760):
        sc = synthetic_scenario(jobs=2000, sites=4, slots=slots, slot_minutes=60, seed=0)
        plan = greenopt.plan(sc, "greedy")
        with tempfile.TemporaryDirectory() as tmp:
            notes: list[str] = []
            t0 = time.perf_counter()
            drawn = plots.plot_all(sc, plan, tmp, notes=notes)
            took = time.perf_counter() - t0
        print(f"plots of 2,000 jobs x {slots:,} hourly slots: {took:.1f} s, drew {sorted(drawn)}")
        for n in notes:
            print(f"  note: {n}")


def _cli() -> list[str]:
    cli = Path(sys.executable).with_name("greenopt")
    return [str(cli)] if cli.exists() else [sys.executable, "-m", "greenopt.cli"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}


def time_limit(jobs: int = 5_000, limit: float = 30.0) -> None:
    import json

    import greenopt
    from greenopt.examples.synthetic import synthetic_scenario

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = greenopt.save_scenario(
            synthetic_scenario(jobs=jobs, sites=8, slots=96, seed=0), folder / "sc"
        )
        t0 = time.perf_counter()
        r = subprocess.run(
            [*_cli(), "plan", str(path), "--time-limit", f"{limit:g}", "--out", str(folder / "o"),
             "--quiet"],
            capture_output=True, text=True, env=_env(),
        )  # fmt: skip
        took = time.perf_counter() - t0
        print(
            f"timelimit: {jobs:,} jobs x 8 sites x 96 slots, greenopt plan --time-limit {limit:g}"
        )
        print(f"  exited after {took:.1f} s (target <= {max(1.1 * limit, limit + 5):.0f} s), "
              f"code {r.returncode}")  # fmt: skip
        if r.returncode == 0:
            facts = json.loads((folder / "o" / "kpis.json").read_text())
            print(f"  plan: status {facts['status']}, wall_s {facts['wall_s']:.1f} s, "
                  f"objective {facts['objective']:.6g}")  # fmt: skip
            for note in facts["notes"]:
                print(f"  note: {note}")
        else:
            print(f"  {r.stderr.strip()[:600]}")


def dask_addresses() -> None:
    import socket
    import threading

    def serve(reply: bytes | None) -> int:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        held: list[socket.socket] = []

        def loop() -> None:
            while True:
                c, _ = sock.accept()
                if reply is not None:
                    c.sendall(reply)
                held.append(c)

        threading.Thread(target=loop, daemon=True).start()
        return sock.getsockname()[1]

    silent = serve(None)
    http = serve(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 50)
    print("dask: greenopt batch --example small -m greedy --scheduler ADDRESS")
    with tempfile.TemporaryDirectory() as tmp:
        for address in ("garbage", "http://example.com:80", f"tcp://127.0.0.1:{silent}",
                        f"tcp://127.0.0.1:{http}"):  # fmt: skip
            t0 = time.perf_counter()
            r = subprocess.run(
                [*_cli(), "batch", "--example", "small", "-m", "greedy", "--scheduler", address,
                 "--out", str(Path(tmp) / "b"), "--quiet"],
                capture_output=True, text=True, env=_env(),
            )  # fmt: skip
            took = time.perf_counter() - t0
            line = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
            print(f"  {address:<28s} {took:5.1f} s  exit {r.returncode}  {line[:150]}")
    worker_loss()


def worker_loss() -> None:
    from distributed import LocalCluster

    import greenopt
    from greenopt import batch as B
    from greenopt.errors import ClusterError
    from greenopt.examples.synthetic import synthetic_scenario

    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(4):
            greenopt.save_scenario(
                synthetic_scenario(jobs=300, sites=6, slots=96, seed=seed, name=f"s{seed}"),
                Path(tmp) / "src" / f"s{seed}",
            )
        tasks = B.make_tasks(B.expand_sources([str(Path(tmp) / "src")]), methods=["greedy"])
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                               dashboard_address=None)  # fmt: skip
        lost_at: list[float] = []

        def on_result(row: dict) -> None:
            if not lost_at:
                cluster.scale(0)
                lost_at.append(time.perf_counter())

        try:
            B.run_batch(tasks, Path(tmp) / "out", scheduler=cluster.scheduler_address,
                        on_result=on_result)  # fmt: skip
            print("  worker loss: the batch finished (no loss seen)")
        except ClusterError as exc:
            took = time.perf_counter() - lost_at[0]
            print(f"  worker loss: ClusterError {took:.1f} s after the last worker left "
                  f"(worker_wait {B.WORKER_WAIT_S:g} s): {str(exc)[:160]}")  # fmt: skip
        finally:
            cluster.close()


def _digest(folder: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    for name in ("assignments", "migrations", "energy", "jobs", "scorecard"):
        h.update((folder / f"{name}.csv").read_bytes())
    return h.hexdigest()[:16]


def deterministic(runs: int = 3) -> None:
    import greenopt

    sc = greenopt.examples.load("realistic")
    print(f"deterministic: the realistic MILP, deterministic=True, {runs} runs")
    digests = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(runs):
            t0 = time.perf_counter()
            p = greenopt.plan(sc, "milp", deterministic=True)
            took = time.perf_counter() - t0
            p.to_dir(Path(tmp) / f"r{k}")
            digests.append(_digest(Path(tmp) / f"r{k}"))
            print(f"  run {k + 1}: {took:6.1f} s  objective {p.objective:.6f}  gap {p.gap:.2%}  "
                  f"tables {digests[-1]}")  # fmt: skip
    print(f"  byte-identical tables: {len(set(digests)) == 1}")


def batch_vs_plan() -> None:
    import json

    import pandas as pd

    import greenopt

    print("batch: the realistic MILP, --deterministic, 2 Dask worker processes vs greenopt plan")
    with tempfile.TemporaryDirectory() as tmp:
        path = greenopt.save_scenario(greenopt.examples.load("realistic"), Path(tmp) / "realistic")
        t0 = time.perf_counter()
        r = subprocess.run(
            [*_cli(), "batch", str(path), "-m", "milp", "-o", "carbon", "-o", "grid",
             "--deterministic", "--workers", "2", "--out", str(Path(tmp) / "b"), "--quiet"],
            capture_output=True, text=True, env=_env(),
        )  # fmt: skip
        print(f"  batch: {time.perf_counter() - t0:.1f} s, exit {r.returncode}")
        summary = pd.read_csv(Path(tmp) / "b" / "summary.csv")
        for objective in ("carbon", "grid"):
            t0 = time.perf_counter()
            out = Path(tmp) / f"p-{objective}"
            subprocess.run(
                [*_cli(), "plan", str(path), "-m", "milp", "-o", objective, "--deterministic",
                 "--out", str(out), "--quiet", "--no-plots", "--no-report"],
                check=True, env=_env(),
            )  # fmt: skip
            took = time.perf_counter() - t0
            plan_obj = json.loads((out / "kpis.json").read_text())["objective"]
            row = summary[summary["objective"] == objective].iloc[0]
            task = Path(tmp) / "b" / row["task"]
            diff = (row["objective_value"] - plan_obj) / abs(plan_obj)
            same = _digest(task) == _digest(out)
            print(f"  {objective:<7s} plan {plan_obj:.6f} ({took:.1f} s)  batch "
                  f"{row['objective_value']:.6f} ({row['wall_s']:.1f} s)  difference {diff:+.4%}"
                  f"  identical tables: {same}")  # fmt: skip


SECTIONS = ("oversize", "plots", "timelimit", "dask", "deterministic", "batch")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=87_600)
    ap.add_argument("--slots", type=int, default=8_760)
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    args = ap.parse_args()
    if "oversize" in args.only:
        oversize(args.jobs, args.slots, args.sites)
    if "plots" in args.only:
        year_plots()
    if "timelimit" in args.only:
        time_limit()
    if "dask" in args.only:
        dask_addresses()
    if "deterministic" in args.only:
        deterministic()
    if "batch" in args.only:
        batch_vs_plan()


if __name__ == "__main__":
    main()
