"""Headless Chromium (playwright) drives the real page and prints it to PDF.

Each render thread keeps one browser and opens a fresh, cookie-less context per snapshot, so no
two snapshots share a session. The number of threads is the concurrency limit (PDF_MAX_RENDERS);
a request that finds them all busy waits briefly and then gets `RenderBusy`.

The browser loads the app's own origin and nothing else: a request interceptor aborts every other
origin, and the browser's network goes through a proxy that does not exist except for the app's
host and port (which also stops redirects, which interceptors do not see). Each snapshot's page
sends the per-render secret (`X-Render-Secret`) that its token needs; error texts never carry a
response body.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import queue
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.theme import FONT
from export.origin import origin_of
from export.tokens import SECRET_HEADER

logger = logging.getLogger(__name__)

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
PAPERS_MM = {"A4": (210, 297), "A3": (297, 420)}
MARGIN_MM = {"top": 17, "bottom": 12, "left": 10, "right": 10}
# The CSS width the page is laid out at before it is scaled onto the paper: about a laptop
# screen for A4 landscape, so the PDF shows the page as people see it.
LAYOUT_PX = {("A4", "landscape"): 1400, ("A4", "portrait"): 1000,
             ("A3", "landscape"): 1800, ("A3", "portrait"): 1400}
STABLE_CHECKS = 3  # consecutive "nothing pending" checks before printing
CHECK_EVERY_MS = 120
SLOT_WAIT_SECONDS = 3.0
# Every origin but the app's goes to this proxy, which cannot be connected to (port 0): blocked.
NO_PROXY = "socks5://0.0.0.0:0"

# What "finished" means on the page: content arrived, no Dash component loading, every graph
# drawn by plotly, every table with its rows (or its "no rows" overlay) rendered.
READY_JS = """() => {
  const notice = document.querySelector('#not-permitted, #display-only, #bad-view, #login-submit');
  if (notice) return 'notice:' + notice.id;
  if (!document.querySelector('#as-of')) return 'wait';
  if (document.querySelector('[data-dash-is-loading="true"]')) return 'wait';
  for (const g of document.querySelectorAll('.dash-graph')) {
    if (!g.querySelector('.main-svg')) return 'wait';
  }
  for (const grid of document.querySelectorAll('.ag-root-wrapper')) {
    if (!grid.querySelector('.ag-row, .ag-overlay-no-rows-center, .ag-overlay-no-rows-wrapper')) {
      return 'wait';
    }
  }
  return document.fonts.status === 'loaded' ? 'ready' : 'wait';
}"""


class RenderError(RuntimeError):
    """A snapshot that could not be made; `reason` is one of no_browser, timeout, crash, page,
    busy, refused (the message says more)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class RenderBusy(RenderError):
    """Every render slot stayed busy for the short wait."""

    def __init__(self) -> None:
        super().__init__("busy", "every PDF renderer is busy; try again in a moment")


@dataclass(frozen=True)
class Paper:
    size: str = "A4"
    orientation: str = "landscape"

    def __post_init__(self) -> None:
        if self.size not in PAPERS_MM or self.orientation not in ("landscape", "portrait"):
            raise ValueError("paper is A4 or A3, orientation landscape or portrait")

    @property
    def landscape(self) -> bool:
        """Tell whether the long side runs across."""
        return self.orientation == "landscape"

    def layout_px(self) -> int:
        """Return the CSS width the page is laid out at."""
        return LAYOUT_PX[(self.size, self.orientation)]

    def scale(self) -> float:
        """Return the print scale that fits the layout width onto the printable width."""
        short, long = PAPERS_MM[self.size]
        printable_mm = (long if self.landscape else short) - MARGIN_MM["left"] - MARGIN_MM["right"]
        return round(printable_mm / 25.4 * 96 / self.layout_px(), 4)


def header_template(what: str, who: str) -> str:
    """Return Chromium's header template: what the page shows, and who printed it when."""
    return (f'<div style="font-family:{html.escape(FONT)};font-size:10px;color:#495057;width:100%;'
            f'padding:0 10mm;-webkit-print-color-adjust:exact">'
            f'<div style="font-weight:bold;font-size:11px">{html.escape(what)}</div>'
            f'<div>{html.escape(who)}</div></div>')


def footer_template(left: str) -> str:
    """Return Chromium's footer template with the page number and the page count."""
    return (f'<div style="font-family:{html.escape(FONT)};font-size:9px;color:#868e96;width:100%;'
            f'padding:0 10mm;display:flex;justify-content:space-between">'
            f'<span>{html.escape(left)}</span>'
            f'<span><span class="pageNumber"></span> / <span class="totalPages"></span></span></div>')


class Renderer:
    """Print pages to PDF with at most `max_renders` browsers at once."""

    def __init__(self, chromium: str, max_renders: int = 2, timeout: float = 60.0,
                 slot_wait: float = SLOT_WAIT_SECONDS) -> None:
        self.chromium = chromium
        self.timeout = float(timeout)
        self.slot_wait = slot_wait
        self.max_renders = max(1, int(max_renders))
        self._slots = threading.BoundedSemaphore(self.max_renders)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def slot(self) -> _Slot:
        """Return a context manager holding one render slot (RenderBusy when none frees up)."""
        return _Slot(self._slots, self.slot_wait)

    def render(self, url: str, paper: Paper, header: str, footer: str, secret: str) -> bytes:
        """Open `url` (which signs the browser in and redirects to the view) sending the per-render
        `secret`, loading nothing outside `url`'s origin; wait until the page has finished, print
        it; return the PDF's bytes or raise RenderError."""
        return self._run(_Job(url, paper, header, footer, secret))

    def print_html(self, html_text: str, footer: str) -> bytes:
        """Print a self-contained HTML document (A4 as its CSS says, no script, nothing loaded
        from anywhere) with `footer` on every page; return the PDF's bytes or raise RenderError.
        Shares the render slots with `render`."""
        return self._run(_Job("", Paper("A4", "portrait"), "<span></span>", footer, "",
                              html=html_text))

    def _run(self, job: _Job) -> bytes:
        """Hand `job` to the render threads in a render slot and wait for its PDF."""
        with self.slot():
            self._start_threads()
            self._jobs.put(job)
            if not job.done.wait(self.timeout + 30):
                raise RenderError("timeout", f"no PDF after {self.timeout + 30:g} s")
            if job.error is not None:
                raise job.error
            assert job.result is not None
            return job.result

    def close(self) -> None:
        """Close every browser and stop the render threads."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)  # each thread takes one, closes its browser and ends
        for thread in threads:
            thread.join(timeout=30)

    def _start_threads(self) -> None:
        with self._lock:
            while len(self._threads) < self.max_renders:
                thread = threading.Thread(target=self._work, name="pdf-render", daemon=True)
                thread.start()
                self._threads.append(thread)

    # --- inside a render thread: it owns one playwright and one browser ---------------------

    def _work(self) -> None:
        own: dict[str, Any] = {"pw": None, "browser": None, "profile": None, "plain": None}
        while True:
            job = self._jobs.get()
            if job is None:
                _close_quietly(own)
                return
            try:
                job.result = (self._print(own, job) if job.html is not None
                              else self._render(own, job))
            except RenderError as exc:
                job.error = exc
            except Exception as exc:  # noqa: BLE001 - any failure becomes a clear message
                logger.exception("PDF render failed")
                job.error = RenderError("crash", f"the renderer failed: {type(exc).__name__}: {exc}")
            finally:
                job.done.set()

    def _browser(self, own: dict[str, Any], origin: str) -> Any:
        """Return this thread's browser for `origin`: one persistent profile, so the app's scripts
        are cached between snapshots (cookies and storage are cleared around every snapshot); it
        reaches `origin` only."""
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        if own["browser"] is not None and own.get("origin") == origin:
            return own["browser"]
        if own["browser"] is not None:  # another app address (a new `snapshot` run): start afresh
            _close_quietly(own)
        executable = None if self.chromium == "playwright" else self.chromium
        if executable and not os.access(executable, os.X_OK):
            raise RenderError("no_browser", f"no Chromium at {executable} (setting CHROMIUM_PATH)")
        if own["pw"] is None:
            own["pw"] = sync_playwright().start()
        own["profile"] = tempfile.TemporaryDirectory(prefix="pdf-render-")
        try:
            host_port = origin.split("://", 1)[1]
            browser = own["pw"].chromium.launch_persistent_context(
                own["profile"].name, executable_path=executable, args=CHROMIUM_ARGS, timeout=30_000,
                viewport={"width": 1400, "height": 900}, device_scale_factor=1,
                proxy={"server": NO_PROXY, "bypass": f"<-loopback>,{host_port}"},
                service_workers="block")
            browser.route("**/*", lambda route: _only_origin(route, origin))
        except PlaywrightError as exc:
            _close_quietly(own)
            raise RenderError("no_browser", f"Chromium did not start ({_first_line(exc)})") from exc
        own["browser"], own["origin"] = browser, origin
        return browser

    def _print(self, own: dict[str, Any], job: _Job) -> bytes:
        """Print `job.html` in a fresh context of this thread's plain browser: scripts off, every
        request refused (the document needs none)."""
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright

        executable = None if self.chromium == "playwright" else self.chromium
        if executable and not os.access(executable, os.X_OK):
            raise RenderError("no_browser", f"no Chromium at {executable} (setting CHROMIUM_PATH)")
        context = None
        try:
            if own["plain"] is None:
                if own["pw"] is None:
                    own["pw"] = sync_playwright().start()
                own["plain"] = own["pw"].chromium.launch(executable_path=executable,
                                                         args=CHROMIUM_ARGS, timeout=30_000)
            context = own["plain"].new_context(java_script_enabled=False, service_workers="block")
            context.route("**/*", lambda route: route.abort("blockedbyclient"))
            page = context.new_page()
            page.set_content(job.html or "", wait_until="load", timeout=self.timeout * 1000)
            return page.pdf(print_background=True, prefer_css_page_size=True,
                            display_header_footer=True, header_template=job.header,
                            footer_template=job.footer)
        except PlaywrightError as exc:
            _close_quietly(own)
            if "Timeout" in type(exc).__name__ or "Timeout" in str(exc)[:200]:
                raise RenderError("timeout", timed_out(self.timeout)) from exc
            if own.get("plain") is None and "launch" in str(exc)[:300].lower():
                raise RenderError("no_browser", f"Chromium did not start ({_first_line(exc)})") from exc
            raise RenderError("crash", f"the browser failed: {_first_line(exc)}") from exc
        finally:
            if context is not None:
                with contextlib.suppress(PlaywrightError):
                    context.close()

    def _render(self, own: dict[str, Any], job: _Job) -> bytes:
        from playwright.sync_api import Error as PlaywrightError

        deadline = time.monotonic() + self.timeout
        origin = origin_of(job.url)
        context = self._browser(own, origin)
        paper = job.paper
        page = None
        crashed: list[bool] = []
        try:
            context.clear_cookies()
            page = context.new_page()
            page.set_extra_http_headers({SECRET_HEADER: job.secret})
            page.set_viewport_size({"width": paper.layout_px(), "height": 900})
            tracker = _DashRequests(page)
            page.on("crash", lambda _page: crashed.append(True))
            response = page.goto(job.url, wait_until="domcontentloaded",
                                 timeout=_ms_left(deadline, self.timeout))
            if response is None or not 200 <= response.status < 300:
                # The status only: a response body is never echoed (it may not be ours to show).
                status = response.status if response is not None else "no answer"
                raise RenderError("refused", f"the render page was refused (HTTP {status})")
            if origin_of(page.url) != origin:
                raise RenderError("refused", "the render page left the app's address")
            _wait_until_finished(page, tracker, deadline, self.timeout, crashed)
            return page.pdf(format=paper.size, landscape=paper.landscape, print_background=True,
                            scale=paper.scale(), display_header_footer=True,
                            header_template=job.header, footer_template=job.footer,
                            margin={k: f"{v}mm" for k, v in MARGIN_MM.items()})
        except PlaywrightError as exc:
            _close_quietly(own)  # start afresh next time
            if crashed:
                raise RenderError("crash", "the browser crashed while rendering") from exc
            if "Timeout" in type(exc).__name__ or "Timeout" in str(exc)[:200]:
                raise RenderError("timeout", timed_out(self.timeout)) from exc
            raise RenderError("crash", f"the browser failed: {_first_line(exc)}") from exc
        except RenderError:
            if crashed:
                _close_quietly(own)
            raise
        finally:
            if own["browser"] is not None:
                try:  # the next snapshot starts signed out, with nothing stored
                    if page is not None:
                        with contextlib.suppress(PlaywrightError):  # a page mid-navigation
                            page.evaluate("() => { localStorage.clear(); sessionStorage.clear(); }")
                        page.close()
                    context.clear_cookies()
                except PlaywrightError:
                    _close_quietly(own)


@dataclass
class _Job:
    url: str
    paper: Paper
    header: str
    footer: str
    secret: str
    html: str | None = None  # a document to print instead of a URL to open
    result: bytes | None = None
    error: RenderError | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _only_origin(route: Any, origin: str) -> None:
    """Let a request through only to the app's own origin (data: and blob: never reach here)."""
    url = route.request.url
    if url.startswith(("http://", "https://")) and origin_of(url) == origin:
        route.continue_()
    else:
        logger.warning("PDF renderer blocked a request outside the app: %.200s", url)
        route.abort("blockedbyclient")


def _close_quietly(own: dict[str, Any]) -> None:
    for key, method in (("browser", "close"), ("plain", "close"), ("pw", "stop"),
                        ("profile", "cleanup")):
        if own.get(key) is not None:
            try:
                getattr(own[key], method)()
            except Exception:  # noqa: BLE001 - closing a dead browser may fail; nothing to do
                logger.debug("closing %s failed", key, exc_info=True)
            own[key] = None
    own["origin"] = None


class _Slot:
    def __init__(self, slots: threading.BoundedSemaphore, wait: float) -> None:
        self._slots, self._wait = slots, wait

    def __enter__(self) -> None:
        if not self._slots.acquire(timeout=self._wait):
            raise RenderBusy()

    def __exit__(self, *_exc: object) -> None:
        self._slots.release()


class _DashRequests:
    """Count the page's Dash callback requests in flight, and those that failed."""

    def __init__(self, page: Any) -> None:
        self.pending = 0
        self.failed: list[str] = []
        page.on("request", self._start)
        page.on("requestfinished", self._finish)
        page.on("requestfailed", self._fail)

    @staticmethod
    def _is_dash(request: Any) -> bool:
        return "/_dash-update-component" in request.url

    def _start(self, request: Any) -> None:
        if self._is_dash(request):
            self.pending += 1

    def _finish(self, request: Any) -> None:
        if self._is_dash(request):
            self.pending -= 1
            response = request.response()
            if response is not None and response.status >= 500:
                self.failed.append(f"{response.status}")

    def _fail(self, request: Any) -> None:
        if self._is_dash(request):
            self.pending -= 1
            self.failed.append(request.failure or "failed")


def _first_line(exc: BaseException) -> str:
    # Playwright names the URL ("... at http://host/auth/render?token=..."): leave it out.
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return re.sub(r"\s+at\s+\S+://\S*", "", line)


def timed_out(seconds: float) -> str:
    """Return the message of a render that ran out of time."""
    return (f"the page did not finish loading within {seconds:g} s (data or charts still pending; "
            "setting PDF_TIMEOUT_SECONDS)")


def _ms_left(deadline: float, seconds: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise RenderError("timeout", timed_out(seconds))
    return left * 1000


def _wait_until_finished(page: Any, tracker: _DashRequests, deadline: float, seconds: float,
                         crashed: list[bool]) -> None:
    from playwright.sync_api import Error as PlaywrightError

    stable = 0
    while stable < STABLE_CHECKS:
        if crashed:
            raise RenderError("crash", "the browser tab crashed while rendering")
        if time.monotonic() > deadline:
            raise RenderError("timeout", timed_out(seconds))
        try:
            state = page.evaluate(READY_JS)
        except PlaywrightError:
            state = "wait"  # navigating: the document is being replaced
        if state.startswith("notice:"):
            raise RenderError("refused", f"the page shows a notice instead of the view ({state[7:]})")
        if tracker.failed:
            raise RenderError("page", "a part of the page failed to load on the server")
        stable = stable + 1 if state == "ready" and tracker.pending == 0 else 0
        page.wait_for_timeout(CHECK_EVERY_MS)


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file renamed on success (never a partial file)."""
    if not data.startswith(b"%PDF") or len(data) < 1000:
        raise RenderError("crash", "the browser returned no usable PDF")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", suffix=".pdf.part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
