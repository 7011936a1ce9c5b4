"""``plan --out DIR``: exactly one run's files in ``DIR``, or nothing changed.

The rule (docs/cli.md):

* ``DIR`` missing or empty: the run writes into it.
* ``DIR`` holding an earlier plan (every entry is a file ``greenopt plan`` writes —
  :func:`is_plan_file`): refused before planning unless ``--overwrite``; with it, the earlier
  files are replaced as a whole — none of them survives beside the new ones (an old
  ``report.md`` next to a new ``report.html``, a Parquet table of another plan).
* ``DIR`` holding anything else (a file or folder greenopt does not write): refused, with or
  without ``--overwrite``. greenopt never deletes what it did not write (``--out .`` in a
  project folder would otherwise empty it).

The files are built in a hidden folder next to ``DIR`` (``.DIR.partial-PID-*``); only when all
of them are written does that folder become ``DIR`` (one rename; an earlier ``DIR`` is first
renamed to ``.DIR.old-PID-*`` and removed after). A failure or Ctrl-C removes the hidden
folder and leaves ``DIR`` as it was. A run killed outright (``kill -9``, a power cut) can leave
a hidden folder behind: the next run removes those whose process is gone, so nothing a later
run trips on stays. ``DIR`` gets the permissions a new folder gets (the umask), not the private
ones of a temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from greenopt.errors import ScenarioError
from greenopt.result import TABLES

#: The files ``greenopt plan`` writes (tables as CSV and Parquet, facts, plots, report).
PLAN_FILES = frozenset(
    [f"{t}.{ext}" for t in (*TABLES, "scorecard") for ext in ("csv", "parquet")]
    + ["kpis.json", "gantt.png", "energy.png", "wan.png", "report.html", "report.md"]
)
_DEBRIS = re.compile(r"^\.(?P<name>.+)\.(?:partial|old)-(?P<pid>\d+)-[^/]+$")


def is_plan_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and path.name in PLAN_FILES


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse ``out`` before any planning when the run could not leave exactly its own files
    there (see the module docstring); raise :class:`ScenarioError` naming why."""
    clear_debris(out)
    if not out.exists() and not out.is_symlink():
        return
    if out.is_symlink() or not out.is_dir():
        raise ScenarioError(f"--out {str(out)!r} exists and is not a folder", "out")
    entries = sorted(out.iterdir())
    if not entries:
        return
    foreign = [p.name for p in entries if not is_plan_file(p)]
    if foreign:
        shown = ", ".join(repr(n) for n in foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise ScenarioError(
            f"--out {str(out)!r} holds files greenopt plan does not write ({shown}); choose a "
            "new or empty folder (greenopt never deletes files it did not write)",
            "out",
        )
    if not overwrite:
        names = ", ".join(p.name for p in entries[:4]) + (" ..." if len(entries) > 4 else "")
        raise ScenarioError(
            f"--out {str(out)!r} holds the outputs of an earlier plan ({names}); pass "
            "--overwrite to replace them with this run's, or choose another folder",
            "out",
        )


def write_staged(out: Path, write: Callable[[Path], list[Path]]) -> list[Path]:
    """Run ``write(folder)`` in a hidden folder next to ``out``, then make that folder ``out``
    (replacing an earlier plan there, which :func:`check_out` allowed); on any failure (or
    Ctrl-C) the hidden folder is removed and ``out`` is untouched."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pid = os.getpid()
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{pid}-", dir=out.parent))
    old: Path | None = None
    try:
        written = write(staging)
        _public_mode(staging)
        if out.exists() and any(out.iterdir()):
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-{pid}-", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(staging, out)  # an empty folder is replaced in the same rename
        return [out / p.relative_to(staging) for p in written]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def clear_debris(out: Path) -> list[Path]:
    """Remove hidden ``.OUT.partial-PID-*`` / ``.OUT.old-PID-*`` folders next to ``out`` left by
    runs that were killed (their process is gone); return what was removed."""
    parent = out.parent if str(out.parent) else Path(".")
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for p in parent.iterdir():
        m = _DEBRIS.match(p.name)
        if not m or m["name"] != out.name or not p.is_dir() or p.is_symlink():
            continue
        if _alive(int(m["pid"])):
            continue  # another run is writing there right now
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # this run has not started one yet: a leftover of a reused pid
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _public_mode(folder: Path) -> None:
    """Give ``folder`` the mode a new folder gets (mkdtemp makes it private, 0700)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(folder, 0o777 & ~umask)
