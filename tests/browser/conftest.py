"""Browser tests: Debian's Chromium (`/usr/bin/chromium`) driven by Playwright against a live `teahub serve` on a
SQLite database filled with a small demo year. Each test gets its own browser context (cookies, storage); every
page it opens must log no console error. Screenshots go to build/screenshots (kept by CI as artifacts).

Users: boss (admin), mgr (manager of BJ01), clerk (clerk of BJ01), hzclerk (clerk of HZ01); password
`teahub-pass-1` for all.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "teahub-pass-1"
USERS = {"boss": ("admin", []), "mgr": ("manager", ["BJ01"]), "clerk": ("clerk", ["BJ01"]),
         "hzclerk": ("clerk", ["HZ01"])}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
TEAHUB = [sys.executable, "-c", "from teahub.cli import app; app()"]


def _prepared_database(folder: Path) -> str:
    from teahub import bootstrap, worker
    from teahub.auth import service as auth
    from teahub.db.engine import make_engine, make_session_factory
    from teahub.db.uow import UnitOfWork
    from teahub.demo import load_demo

    url = f"sqlite:///{folder / 'browser.db'}"
    engine = make_engine(url)
    bootstrap.migrate_and_initialize(engine)
    load_demo(engine, customers=100, orders=400)
    # The demo year's events are handled now (points, care, stock shown to shops), not by the served worker while
    # the tests run: a test's own sale is then not queued behind a year of history.
    worker.run_once(engine)
    uow = UnitOfWork(make_session_factory(engine), actor="test")
    for name, (role, stores) in USERS.items():
        auth.add_user(uow, name, role, stores, PASSWORD)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """`teahub serve` (API, pages and the embedded worker) on a free port; answers its base URL."""
    folder = Path(tempfile.mkdtemp(prefix="teahub-browser-"))
    url = _prepared_database(folder)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "TEAHUB_DATABASE_URL": url}
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen([*TEAHUB, "serve", "--port", str(port)], env=env, cwd=folder, stdout=log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("teahub serve did not start:\n" + (folder / "server.log").read_text()[-3000:])
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@dataclass
class Console:
    """What the page logged as errors; a test that expects one (a 403 page) allows it by pattern."""

    errors: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(p.search(e) for p in self.allowed)]


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def context(browser: object, live_server: str, console: Console) -> Iterator[object]:
    ctx = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 860},  # type: ignore[attr-defined]
                              locale="zh-CN")
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: object, console: Console) -> Iterator[object]:
    tab = context.new_page()  # type: ignore[attr-defined]
    tab.on("console", lambda msg: console.errors.append(f"{tab.url}: {msg.text}") if msg.type == "error" else None)
    tab.on("pageerror", lambda exc: console.errors.append(f"{tab.url}: {exc}"))
    tab.set_default_timeout(15_000)
    yield tab
    unexpected = console.unexpected()
    assert unexpected == [], f"the page logged errors: {unexpected}"


def login(page: object, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(lambda url: "/login" not in url)  # type: ignore[attr-defined]


def shot(page: object, name: str) -> Path:
    """A screenshot of the whole page under build/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def api(live_server: str, username: str = "boss") -> httpx.Client:
    """An API client logged in as USERNAME (to prepare data or check what the browser did)."""
    client = httpx.Client(base_url=live_server, timeout=30)
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    answer.raise_for_status()  # the session cookie it sets authenticates the client's calls
    return client
