"""One headless Chromium, driven over the DevTools protocol on a pipe (no Python dependency).

    with Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1") as browser:
        tab = browser.open("about:blank", watch=True)
        text = browser.visit(tab, "http://127.0.0.1:8000/index.html", "site-check")
        errors = browser.errors(tab)

Chromium starts once, with ``--remote-debugging-pipe``: it reads commands on its
file descriptor 3 and writes replies on 4, each a JSON message ended by a NUL
byte. Every page opens in a tab of its own (a target, attached with a "flat"
session, so one pipe serves them all). :meth:`Browser.visit` takes a tab to a page
and reads it once the element with the given id appears (a page's own script
writes it when the page is ready); one tab going from page to page costs Chromium
half what a tab per page does; :meth:`Browser.print_pages` loads pages side by side. Any URL
Chromium loads works: ``http://`` or ``file://``. Extra switches go to the constructor.
A tab opened with ``watch=True`` records what the page did: every request it sent
(:meth:`Browser.requests`) and every uncaught exception, console error and logged
error (:meth:`Browser.errors`); :meth:`Browser.print_pdf` prints a tab to PDF.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time

__all__ = ["PROFILE_PREFIX", "CANDIDATES", "find_chromium", "Browser", "BrowserError"]

SWITCHES = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-extensions",
    # tabs load side by side: none counts as a background tab whose timers are slowed down
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]

# resolves to the text of the element, polling until it exists in the page at `url` (any page but about:blank when
# url is null; null after `ms` milliseconds)
_WAIT_FOR = """new Promise(resolve => {{
  const end = Date.now() + {ms};
  (function poll() {{
    const here = location.href.split('#')[0];
    const e = here === 'about:blank' || ({url} !== null && here !== {url}) ? null : document.getElementById({id});
    if (e) resolve(e.textContent); else if (Date.now() > end) resolve(null); else setTimeout(poll, 20);
  }})();
}})"""


#: The start of the name of a browser's profile folder (then the process id of its owner, then a random part).
PROFILE_PREFIX = "chromium-profile-"


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, failed to load a page, or did not answer in time."""


#: Where a Chromium is looked for, in turn: the programs on PATH (Debian's, Ubuntu's, Google's builds), then the
#: applications of macOS, where nothing of it is on PATH.
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome",
              "/Applications/Chromium.app/Contents/MacOS/Chromium",
              "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome")


def find_chromium() -> str | None:
    """The Chromium to drive: ``$CHROMIUM`` if set, else the first of :data:`CANDIDATES` found; ``None`` if none.

    >>> import os; from unittest import mock
    >>> with mock.patch.dict(os.environ, {"CHROMIUM": "/bin/sh"}):
    ...     find_chromium()
    '/bin/sh'
    """
    chosen = os.environ.get("CHROMIUM")
    if chosen:
        return shutil.which(chosen)
    return next((found for name in CANDIDATES if (found := shutil.which(name))), None)


class Browser:
    """A headless Chromium for the life of a ``with`` block (or until :meth:`close`)."""

    def __init__(self, *switches: str, executable: str | None = None, timeout: float = 60.0):
        executable = executable or find_chromium()
        if executable is None:
            raise BrowserError("no Chromium found: set CHROMIUM to its program, or install one (" +
                               ", ".join(c for c in CANDIDATES if "/" not in c) + " on PATH, or Google Chrome or "
                               "Chromium in /Applications on macOS)")
        self.timeout = timeout
        # named after this process, so that a test can tell its own from other runs' (a shared /tmp)
        self._profile = tempfile.TemporaryDirectory(prefix=f"{PROFILE_PREFIX}{os.getpid()}-", ignore_cleanup_errors=True)
        self._log = tempfile.TemporaryFile()
        commands, self._out = os.pipe()            # Chromium reads its commands on fd 3 ...
        self._in, replies = os.pipe()              # ... and writes its replies on fd 4
        args = [*SWITCHES, *switches, f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe",
                "about:blank"]
        # the pipes come in as the shell's stdin and stdout; it moves them to 3 and 4, then becomes Chromium
        self._proc = subprocess.Popen(["/bin/sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >&2', executable, *args],
                                      stdin=commands, stdout=replies, stderr=self._log,
                                      start_new_session=True,      # its own process group: see close()
                                      # its temporary files (a folder with its singleton socket, left by a
                                      # killed browser) in the profile, which close() removes
                                      env={**os.environ, "TMPDIR": self._profile.name})
        os.close(commands)
        os.close(replies)
        self._buffer, self._next_id, self._targets = b"", 0, {}
        self._events: dict[str, list[dict]] = {}             # by session: the events of watched tabs
        self._page: dict[str, list[int]] = {}                # by session: [first event of the page, first not read]

    # -- the protocol ---------------------------------------------------------------------------------
    def send(self, method: str, params: dict | None = None, session: str | None = None,
             wait: float | None = None) -> dict:
        """Send one command (to a tab when ``session`` is given) and return its result, waiting at most ``wait``
        seconds (default: the browser's timeout)."""
        self._post(method, params, session)
        deadline = time.monotonic() + (wait or self.timeout)
        while True:
            reply = self._receive(deadline)
            if "id" not in reply and reply.get("sessionId") in self._events:
                self._events[reply["sessionId"]].append(reply)
            if reply.get("id") == self._next_id:            # other events and other replies are dropped
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply["result"]

    def _post(self, method: str, params: dict | None, session: str | None) -> None:
        """Write one command (its id is ``self._next_id``); its reply is read by :meth:`send`, or dropped."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise BrowserError(f"no answer from Chromium in time{self._tail()}")
            chunk = os.read(self._in, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium exited{self._tail()}")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def _tail(self) -> str:
        self._log.seek(0)
        text = self._log.read().decode(errors="replace").strip()
        return f"; its last output:\n{text[-2000:]}" if text else ""

    # -- pages ----------------------------------------------------------------------------------------
    def open(self, url: str, watch: bool = False) -> str:
        """Load ``url`` in a new tab; return the tab's session id. With ``watch``, the tab's requests and errors
        are recorded from before the page starts loading."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._targets[session] = target
        if watch:
            self._events[session], self._page[session] = [], [0, 0]
            for domain in ("Runtime", "Log", "Network"):
                self.send(f"{domain}.enable", {}, session)
        try:
            self._navigate(session, url)
        except BrowserError:
            self.close_tab(session)
            raise
        return session

    def _navigate(self, session: str, url: str) -> None:
        error = self.send("Page.navigate", {"url": url}, session).get("errorText")
        if error:
            raise BrowserError(f"{url}: {error}")

    def evaluate(self, session: str, expression: str, wait: float | None = None):
        """The value of a JavaScript expression in the tab (a promise is awaited, at most ``wait`` seconds)."""
        r = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                      session, wait)
        if "exceptionDetails" in r:
            raise BrowserError(f"{expression[:60]!r}: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    def text_of(self, session: str, element_id: str, url: str | None = None) -> str | None:
        """The text of the element with this id once the tab's page (the page at ``url``, when given) has it,
        or ``None`` after the timeout."""
        deadline = time.monotonic() + self.timeout
        expression = _WAIT_FOR.format(ms=int(self.timeout * 1000), id=json.dumps(element_id),
                                      url=json.dumps(url.split("#")[0] if url else None))
        while True:
            try:
                return self.evaluate(session, expression, wait=self.timeout + 10)
            except BrowserError:                 # asked while the tab was still between documents: ask again
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def visit(self, session: str, url: str, element_id: str) -> str | None:
        """Navigate the tab to ``url`` and return the text of the element with this id once the new page has it
        (``None`` after the timeout). A watched tab's record starts afresh: :meth:`requests` and :meth:`errors`
        then tell what this page did (an event of the page before that arrived after its record was read counts
        for this page: none is lost). One tab visiting page after page costs Chromium much less than a tab
        per page (the renderer, its compiled scripts and the cache are kept)."""
        if session in self._page:                     # the new page's record starts after what was read
            self._page[session][0] = self._page[session][1]
        self._navigate(session, url)
        return self.text_of(session, element_id, url)

    def close_tab(self, session: str) -> None:
        """Close the tab of this session."""
        self.send("Target.closeTarget", {"targetId": self._targets.pop(session)})
        self._events.pop(session, None)
        self._page.pop(session, None)

    def _of_page(self, session: str) -> list[dict]:
        """The events of a watched tab's page so far (since it was opened, or since :meth:`visit` left the page
        before, counting what was not read there); they are now read."""
        page = self._page[session]
        page[1] = len(self._events[session])
        return self._events[session][page[0]:page[1]]

    def requests(self, session: str) -> list[str]:
        """Every URL a watched tab requested (``data:`` URLs excepted), in order."""
        urls = [e["params"]["request"]["url"] for e in self._of_page(session)
                if e["method"] == "Network.requestWillBeSent"]
        return [u for u in urls if not u.startswith("data:")]

    def errors(self, session: str) -> list[str]:
        """What went wrong in a watched tab: uncaught exceptions, ``console.error`` calls, logged errors (a failed
        load among them)."""
        out = []
        for e in self._of_page(session):
            p = e["params"]
            if e["method"] == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(f"exception: {d.get('exception', {}).get('description') or d.get('text')}")
            elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                out.append("console.error: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append(f"log: {p['entry']['text']} {p['entry'].get('url', '')}".rstrip())
        return out

    def print_pdf(self, session: str, fit: str = "window.fitForPrint && window.fitForPrint()", **options) -> bytes:
        """The tab printed to PDF (A4, print media, backgrounds, the page's CSS ``@page`` size and margins);
        ``fit`` is evaluated first, in print media (a page's own fitting of wide content); ``options`` go to
        ``Page.printToPDF``."""
        self.send("Emulation.setEmulatedMedia", {"media": "print"}, session)
        self.evaluate(session, fit)
        params = {"printBackground": True, "preferCSSPageSize": True, "paperWidth": 8.27, "paperHeight": 11.69}
        data = self.send("Page.printToPDF", {**params, **options}, session)["data"]
        self.send("Emulation.setEmulatedMedia", {"media": ""}, session)      # the tab shows the screen again
        return base64.b64decode(data)

    def screenshot(self, session: str, width: int, height: int) -> bytes:
        """A PNG of the tab's viewport at this size (CSS pixels), as shown now."""
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        return base64.b64decode(self.send("Page.captureScreenshot", {"format": "png"}, session)["data"])

    def print_pages(self, urls: list[str], element_id: str, **options) -> list[bytes]:
        """Load every URL at the same time, wait in each for the element with this id, then print each to PDF
        (``options`` go to :meth:`print_pdf`)."""
        sessions = []
        try:
            for url in urls:
                sessions.append(self.open(url))
            for s, url in zip(sessions, urls):
                if self.text_of(s, element_id) is None:
                    raise BrowserError(f"{url}: #{element_id} never appeared")
            return [self.print_pdf(s, **options) for s in sessions]
        finally:
            for s in sessions:
                self.close_tab(s)

    # -- the end --------------------------------------------------------------------------------------
    def close(self) -> None:
        """End Chromium, every process of it, and remove its profile. They are killed: they have nothing to
        keep (the profile is thrown away), and a polite ``Browser.close`` takes half a second. The whole process
        group is killed: killing the browser process alone left its renderers behind, writing into the profile
        while it was removed (a profile folder was left in the temporary folder each time)."""
        if self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()
        for fd in (self._out, self._in):
            os.close(fd)
        self._log.close()
        self._profile.cleanup()
        for _ in range(200):             # a process killed with the browser may still be ending a write there
            if not os.path.exists(self._profile.name):
                break
            time.sleep(0.01)
            shutil.rmtree(self._profile.name, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
