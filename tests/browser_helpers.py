"""Headless Chromium for tests, driven over the DevTools protocol through a pipe.

``--remote-debugging-pipe`` makes Chromium read protocol commands from fd 3 and write replies and
events to fd 4, as NUL-terminated JSON — no port, no websocket, no network. That gives the page's
console messages, uncaught exceptions and the browser's own error log (a blocked resource, a
Content-Security-Policy violation, an image that does not decode) as events, rather than lines
scraped from ``--enable-logging`` output. Only the standard library is used.

:func:`open_page` loads a file and returns a :class:`PageLoad`: the errors seen, the result of a
JavaScript expression evaluated after the load, and a full-page PNG screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Chromium's flags for a quiet, isolated, headless run (as root in CI: no sandbox).
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--hide-scrollbars",
)
EXECUTABLES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """``$GREENOPT_CHROMIUM`` or the first Chromium on ``PATH``; None when there is none."""
    given = os.environ.get("GREENOPT_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    return next((p for p in map(shutil.which, EXECUTABLES) if p), None)


class ProtocolError(RuntimeError):
    """Chromium answered a command with an error, or went silent."""


class _Chromium:
    """One Chromium process and its protocol pipe."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_child, self._write = os.pipe()  # we write commands; Chromium reads them on fd 3
        self._read, from_child = os.pipe()  # Chromium writes on fd 4; we read

        def wire() -> None:
            # in the child, before exec: the two pipe ends at fds 3 and 4 (dup2 makes them
            # inheritable); copied out of the way first, in case either end is 3 or 4 already.
            # Every other descriptor Python opened is close-on-exec (PEP 446), the copies too.
            high_in = fcntl.fcntl(to_child, fcntl.F_DUPFD_CLOEXEC, 10)
            high_out = fcntl.fcntl(from_child, fcntl.F_DUPFD_CLOEXEC, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        # close_fds=False: closing "all but pass_fds" would run after wire() and close 3 and 4
        profile.mkdir(parents=True, exist_ok=True)
        self.log = profile.parent / f"{profile.name}.chromium.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
             "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            preexec_fn=wire, close_fds=False,
        )  # fmt: skip
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def _tail(self) -> str:
        self._log.flush()
        return self.log.read_text(errors="replace")[-2000:]

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ProtocolError("Chromium sent nothing in time")
            ready, _, _ = select.select([self._read], [], [], left)
            if ready:
                chunk = os.read(self._read, 1 << 20)
                if not chunk:
                    raise ProtocolError(
                        f"Chromium closed its protocol pipe; its log ends:\n{self._tail()}"
                    )
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(
        self, method: str, session: str | None = None, timeout: float = 60.0, **params: Any
    ) -> dict[str, Any]:
        """Send a command and wait for its reply; events that arrive meanwhile are kept."""
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        try:
            os.write(self._write, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise ProtocolError(f"Chromium is not running; its log ends:\n{self._tail()}") from None
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise ProtocolError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 60.0) -> dict[str, Any]:
        """Wait for the event ``method`` (or take it from those already received)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        with contextlib.suppress(ProtocolError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass
class PageLoad:
    """What loading a page showed: ``errors`` (console errors and assertions, uncaught
    exceptions, the browser's error log), ``value`` (the probe expression's result),
    ``screenshot`` (PNG bytes of the whole page) and every console message."""

    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    value: Any = None
    screenshot: bytes = b""


def _errors(events: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    errors, console = [], []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled":
            args = p.get("args", [])
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in args)
            console.append(f"{p.get('type')}: {text}")
            if p.get("type") in ("error", "assert"):
                errors.append(f"console.{p.get('type')}: {text}")
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append(f"exception: {d.get('exception', {}).get('description', d.get('text'))}")
        elif method == "Log.entryAdded":
            entry = p.get("entry", {})
            if entry.get("level") == "error":
                where = entry.get("url", "")
                errors.append(f"log ({entry.get('source')}): {entry.get('text')} {where}")
    return errors, console


def open_page(
    executable: str,
    page: Path,
    profile: Path,
    probe: str = "null",
    width: int = 1280,
    max_height: int = 16_000,
) -> PageLoad:
    """Load ``page`` in headless Chromium (profile folder ``profile``), evaluate the JavaScript
    expression ``probe`` once it has loaded and its images have decoded, and take a full-page
    screenshot ``width`` CSS pixels wide (at most ``max_height`` tall)."""
    browser = _Chromium(executable, profile)
    try:
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        session = browser.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.call(f"{domain}.enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride", session=session, width=width,
                     height=900, deviceScaleFactor=1, mobile=False)  # fmt: skip
        browser.events.clear()
        browser.call("Page.navigate", session=session, url=page.resolve().as_uri())
        browser.wait_for("Page.loadEventFired")
        # every image decoded (a broken one rejects), then the probe
        settle = (
            "Promise.all(Array.from(document.images, i => i.decode().then(() => null, "
            "() => console.error('image did not decode: ' + (i.id || i.alt)))))"
        )
        browser.call("Runtime.evaluate", session=session, expression=settle, awaitPromise=True)
        value = browser.call("Runtime.evaluate", session=session, expression=probe,
                             returnByValue=True)  # fmt: skip
        if "exceptionDetails" in value:
            raise ProtocolError(f"the probe failed: {value['exceptionDetails']}")
        metrics = browser.call("Page.getLayoutMetrics", session=session)
        height = int(min(max_height, metrics["cssContentSize"]["height"]))
        browser.call("Emulation.setDeviceMetricsOverride", session=session, width=width,
                     height=height, deviceScaleFactor=1, mobile=False)  # fmt: skip
        shot = browser.call("Page.captureScreenshot", session=session, format="png")
        # late messages (an error logged while the page settled) arrive before this reply
        browser.call("Runtime.evaluate", session=session, expression="0")
        errors, console = _errors(browser.events)
        return PageLoad(
            errors=errors,
            console=console,
            value=value.get("result", {}).get("value"),
            screenshot=base64.b64decode(shot["data"]),
        )
    finally:
        browser.close()
