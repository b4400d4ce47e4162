"""One headless Chromium, driven over the DevTools protocol on a pipe (no Python dependency).

    with Browser("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1") as browser:
        texts = browser.texts_of(["http://127.0.0.1:8000/index.html", "file:///tmp/site/a.html"], "site-check")

Chromium starts once, with ``--remote-debugging-pipe``: it reads commands on its
file descriptor 3 and writes replies on 4, each a JSON message ended by a NUL
byte. Every page opens in a tab of its own (a target, attached with a "flat"
session, so one pipe serves them all); the pages given to :meth:`Browser.texts_of`
load at the same time, then each is read once the element with the given id
appears (a page's own script writes it when the page is ready). Any URL
Chromium loads works: ``http://`` or ``file://``. Extra switches go to the constructor.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time

__all__ = ["Browser", "BrowserError"]

SWITCHES = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--disable-extensions",
    # tabs load side by side: none counts as a background tab whose timers are slowed down
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]

# resolves to the text of the element, polling until it exists (null after `ms` milliseconds)
_WAIT_FOR = """new Promise(resolve => {{
  const end = Date.now() + {ms};
  (function poll() {{
    const e = location.href === 'about:blank' ? null : document.getElementById({id});
    if (e) resolve(e.textContent); else if (Date.now() > end) resolve(null); else setTimeout(poll, 20);
  }})();
}})"""


class BrowserError(RuntimeError):
    """Chromium answered a command with an error, failed to load a page, or did not answer in time."""


class Browser:
    """A headless Chromium for the life of a ``with`` block (or until :meth:`close`)."""

    def __init__(self, *switches: str, executable: str | None = None, timeout: float = 60.0):
        executable = executable or shutil.which("chromium") or shutil.which("chromium-browser")
        if executable is None:
            raise BrowserError("chromium not found")
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-", ignore_cleanup_errors=True)
        self._log = tempfile.TemporaryFile()
        commands, self._out = os.pipe()            # Chromium reads its commands on fd 3 ...
        self._in, replies = os.pipe()              # ... and writes its replies on fd 4
        args = [*SWITCHES, *switches, f"--user-data-dir={self._profile.name}", "--remote-debugging-pipe",
                "about:blank"]
        # the pipes come in as the shell's stdin and stdout; it moves them to 3 and 4, then becomes Chromium
        self._proc = subprocess.Popen(["/bin/sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 </dev/null >&2', executable, *args],
                                      stdin=commands, stdout=replies, stderr=self._log)
        os.close(commands)
        os.close(replies)
        self._buffer, self._next_id, self._targets = b"", 0, {}

    # -- the protocol ---------------------------------------------------------------------------------
    def send(self, method: str, params: dict | None = None, session: str | None = None,
             wait: float | None = None) -> dict:
        """Send one command (to a tab when ``session`` is given) and return its result, waiting at most ``wait``
        seconds (default: the browser's timeout)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (wait or self.timeout)
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next_id:            # events (no id) and other replies are dropped
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply["result"]

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
    def open(self, url: str) -> str:
        """Load ``url`` in a new tab; return the tab's session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self._targets[session] = target
        error = self.send("Page.navigate", {"url": url}, session).get("errorText")
        if error:
            self.close_tab(session)
            raise BrowserError(f"{url}: {error}")
        return session

    def evaluate(self, session: str, expression: str, wait: float | None = None):
        """The value of a JavaScript expression in the tab (a promise is awaited, at most ``wait`` seconds)."""
        r = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                      session, wait)
        if "exceptionDetails" in r:
            raise BrowserError(f"{expression[:60]!r}: {r['exceptionDetails'].get('text')}")
        return r["result"].get("value")

    def text_of(self, session: str, element_id: str) -> str | None:
        """The text of the element with this id once the tab's page has it, or ``None`` after the timeout."""
        deadline = time.monotonic() + self.timeout
        expression = _WAIT_FOR.format(ms=int(self.timeout * 1000), id=json.dumps(element_id))
        while True:
            try:
                return self.evaluate(session, expression, wait=self.timeout + 10)
            except BrowserError:                 # asked while the tab was still between documents: ask again
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def texts_of(self, urls: list[str], element_id: str) -> list[str | None]:
        """Load every URL at the same time, each in its own tab; then the text of the element with this id in
        each (``None`` where it never appeared). The tabs are closed."""
        sessions = []
        try:
            for url in urls:
                sessions.append(self.open(url))
            return [self.text_of(s, element_id) for s in sessions]
        finally:
            for s in sessions:
                self.close_tab(s)

    def close_tab(self, session: str) -> None:
        """Close the tab of this session."""
        self.send("Target.closeTarget", {"targetId": self._targets.pop(session)})

    # -- the end --------------------------------------------------------------------------------------
    def close(self) -> None:
        """End Chromium and remove its profile. It is killed: it has nothing to keep (the profile is thrown
        away), and a polite ``Browser.close`` takes half a second."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._out, self._in):
            os.close(fd)
        self._log.close()
        self._profile.cleanup()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
