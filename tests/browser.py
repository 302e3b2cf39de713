"""Headless Chromium for page tests (浏览器测试), offline and watched.

Debian's ``chromium`` is driven by Playwright's sync API (``playwright install`` is never needed).
Every request whose host is not 127.0.0.1/localhost (and whose scheme is not file:, data:,
blob: or about:) is aborted and recorded, so a test can assert that a page never tried to reach
the internet. Console errors, page errors, failed requests (network errors and HTTP >= 400) and
JavaScript dialogs are recorded too. A missing chromium is an error, never a skip.

Usage::

    with launch_chromium() as browser, open_page(url, browser=browser) as probe:
        probe.page.click("path.vm-case")
        probe.assert_clean()

    with serve({"/static/vendor/leaflet": leaflet_dist, "/map.html": html_file}) as base_url:
        ...
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import unquote, urlsplit

from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Geolocation,
    Page,
    Request,
    Response,
    Route,
    sync_playwright,
)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WaitUntil = Literal["commit", "domcontentloaded", "load", "networkidle"]
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})


def chromium_path() -> str:
    """The system chromium; raises (does not skip) when it is not installed."""
    path = shutil.which("chromium")
    if path is None:
        raise RuntimeError(
            "未找到 chromium：apt-get install -y --no-install-recommends chromium fonts-wqy-microhei\n"
            "chromium not found: apt-get install -y --no-install-recommends chromium fonts-wqy-microhei"
        )
    return path


def is_local(url: str) -> bool:
    """True for URLs a test page may load: loopback hosts and file:/data:/blob:/about: URLs."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class PageProbe:
    """An open page and what happened on it (页面记录)."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def problems(self) -> dict[str, list[str]]:
        """Every non-empty record list by name."""
        records = {
            "console_errors": self.console_errors,
            "page_errors": self.page_errors,
            "failed_requests": self.failed_requests,
            "blocked_requests": self.blocked_requests,
            "dialogs": self.dialogs,
        }
        return {name: items for name, items in records.items() if items}

    def assert_clean(self) -> None:
        """Fail with everything recorded unless nothing went wrong."""
        problems = self.problems()
        assert not problems, f"page problems: {problems}"

    def _on_route(self, route: Route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            self.blocked_requests.append(url)
            route.abort("blockedbyclient")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} @ {message.location.get('url', '')}")

    def _on_request_failed(self, request: Request) -> None:
        if request.url not in self.blocked_requests:
            self.failed_requests.append(f"{request.url} ({request.failure})")

    def _on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.failed_requests.append(f"{response.url} (HTTP {response.status})")

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _watch(self) -> None:
        page = self.page
        page.context.route("**/*", self._on_route)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)
        page.on("dialog", self._on_dialog)


@contextmanager
def launch_chromium(**launch_options: Any) -> Iterator[Browser]:
    """Playwright's Chromium on the system ``chromium`` with offline-friendly flags."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS, **launch_options)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def open_page(
    url: str,
    *,
    browser: Browser | None = None,
    viewport: tuple[int, int] = (1000, 700),
    wait_until: WaitUntil = "load",
) -> Iterator[PageProbe]:
    """Open ``url`` in a fresh context and yield the page with its records.

    Without ``browser`` a Chromium is launched for this page alone.
    """
    if browser is None:
        with (
            launch_chromium() as own,
            open_page(url, browser=own, viewport=viewport, wait_until=wait_until) as probe,
        ):
            yield probe
        return
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", service_workers="block")
    try:
        probe = PageProbe(page=context.new_page())
        probe._watch()
        probe.page.goto(url, wait_until=wait_until)
        yield probe
    finally:
        context.close()


class _MountHandler(SimpleHTTPRequestHandler):
    """Serves files from URL-prefix mounts; anything else is 404."""

    mounts: ClassVar[dict[str, Path]] = {}

    def translate_path(self, path: str) -> str:
        url_path = unquote(urlsplit(path).path)
        for prefix in sorted(self.mounts, key=len, reverse=True):
            target = self.mounts[prefix].resolve()
            if url_path == prefix and target.is_file():
                return str(target)
            if target.is_dir() and url_path.startswith(prefix.rstrip("/") + "/"):
                candidate = (target / url_path[len(prefix) :].lstrip("/")).resolve()
                if candidate.is_relative_to(target):
                    return str(candidate)
        return "/nonexistent/404"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""


@contextmanager
def serve(mounts: dict[str, Path]) -> Iterator[str]:
    """A static HTTP server on 127.0.0.1 (random port) in a thread; yields its base URL.

    ``mounts`` maps a URL path to a file (served at exactly that path) or a directory (served
    below it), e.g. ``{"/static/vendor/leaflet": dist_dir, "/map.html": html_file}``.
    """
    handler = type("MountHandler", (_MountHandler,), {"mounts": dict(mounts)})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


PHONE_VIEWPORT = (360, 640)


@contextmanager
def open_phone(
    url: str,
    *,
    browser: Browser,
    geolocation: Geolocation | None = None,
    service_workers: Literal["allow", "block"] = "allow",
    viewport: tuple[int, int] = PHONE_VIEWPORT,
) -> Iterator[PageProbe]:
    """Open ``url`` on an emulated phone (360 × 640, touch, zh-CN), watched like :func:`open_page`.

    Geolocation is granted and set to ``geolocation`` (``latitude``, ``longitude``, ``accuracy``);
    service workers are allowed unless told otherwise, so offline pages can be tested with
    ``probe.page.context.set_offline(True)``. Requests made by a service worker pass the same
    blocking route as the page's own.
    """
    width, height = viewport
    context = browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation=geolocation,
        permissions=["geolocation"],
        service_workers=service_workers,
    )
    try:
        probe = PageProbe(page=context.new_page())
        probe._watch()
        probe.page.goto(url, wait_until="load")
        yield probe
    finally:
        context.close()
