"""Headless Chromium for the demo's end-to-end test: Debian's chromium driven by Selenium through
Debian's chromedriver (scripts/setup-apps.sh installs both). Skips with the reason when absent."""

from __future__ import annotations

import shutil
import socket
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver",)
# The network is closed here: without these flags Chromium keeps retrying refused connections.
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")
POLL_S = 0.05


def _first(paths, name: str) -> str | None:
    found = next((p for p in paths if Path(p).is_file()), None)
    return found or shutil.which(name)


@contextmanager
def chromium(profile: Path):
    """A Selenium driver for headless Chromium with a fresh profile; skips where none is installed."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (apps extra)")
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = _first(CHROMIUM, "chromium"), _first(CHROMEDRIVER, "chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("no browser: Debian chromium + chromium-driver are not installed (scripts/setup-apps.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout_s: float, what: str):
    """Poll ``condition()`` until it returns a truthy value; fail with ``what`` after the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(POLL_S)
    raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
