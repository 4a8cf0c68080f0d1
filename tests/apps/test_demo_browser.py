"""The Gradio demo end to end in headless Chromium: start it, upload an image, watch the report
grow, read the final report, run AR side by side; screenshots mid-generation and at the end.

``ECHO_DEMO_SCREENSHOTS=DIR`` also copies the two screenshots there (docs/img for the docs).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.apps.browser import chromium, free_port, wait_for

pytest.importorskip("gradio", reason="gradio is not installed (apps extra)")

ROOT = Path(__file__).resolve().parents[2]
IMAGE = ROOT / "examples" / "phantom_frontal.png"
SETTINGS = dict(block_length=8, steps=2, max_new_tokens=24)
SLOW_MOTION_MS = 120  # slow enough to catch a frame mid-generation, fast enough for the suite
PAGE_TIMEOUT_S = 60


def _state(driver, panel: str) -> str | None:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.ID, panel)
    return found[0].get_attribute("data-state") if found else None


def _running_block(driver) -> bool:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.CSS_SELECTOR, "#echo-diffusion[data-state=running]")
    return bool(found) and int(found[0].get_attribute("data-block") or -1) >= 1 and bool(
        found[0].find_elements(By.CSS_SELECTOR, ".echo-masked"))


def _expected(bundle, decoder: str) -> dict:
    from echo_cxr.apps.options import ReportOptions
    from echo_cxr.decoding import Study
    from echo_cxr.pipeline import generate_reports

    options = ReportOptions(decoder=decoder, **(SETTINGS if decoder != "ar" else {
        "block_length": 1, "steps": 1, "max_new_tokens": SETTINGS["max_new_tokens"]}))
    config = options.decode_config(bundle)
    return generate_reports(bundle, [Study([str(IMAGE)])], config, decoder=decoder)[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from echo_cxr.apps.demo import DemoConfig, launch_demo
    from echo_cxr.model import load

    bundle = load("random:tiny")
    config = DemoConfig(model="random:tiny", port=free_port(), slow_motion_ms=SLOW_MOTION_MS, examples=2,
                        workdir=str(tmp_path_factory.mktemp("demo")), block_length=SETTINGS["block_length"],
                        steps=SETTINGS["steps"], max_new_tokens=SETTINGS["max_new_tokens"])
    page, url = launch_demo(config, block=False, preloaded={"random:tiny": bundle}, notice=lambda _: None)
    yield url, bundle
    page.close()


def test_demo_in_a_real_browser(demo, tmp_path):
    from selenium.webdriver.common.by import By

    url, bundle = demo
    shots = {"mid": tmp_path / "demo_mid_generation.png", "final": tmp_path / "demo_final_report.png"}
    with chromium(tmp_path / "profile") as driver:
        driver.get(url)
        upload = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#echo-files input[type=file]"),
                          PAGE_TIMEOUT_S, "the page's file input")
        upload[0].send_keys(str(IMAGE))
        wait_for(lambda: "1 view(s) ready" in driver.find_element(By.ID, "echo-status").text, PAGE_TIMEOUT_S,
                 "the uploaded image to be read")
        driver.find_element(By.ID, "echo-generate").click()
        wait_for(lambda: _running_block(driver), PAGE_TIMEOUT_S, "a block being denoised")
        driver.save_screenshot(str(shots["mid"]))
        wait_for(lambda: _state(driver, "echo-diffusion") == "done", PAGE_TIMEOUT_S, "the final report")
        shown = driver.find_element(By.CSS_SELECTOR, "#echo-diffusion .echo-final").text
        expected = _expected(bundle, "blockwise")
        assert shown == expected["report"] and shown.strip()
        stats = driver.find_element(By.CSS_SELECTOR, ".echo-stats[data-state=done]").text
        assert f"forward passes {expected['stats']['forward_passes']}" in stats

        driver.find_element(By.ID, "echo-run-ar").click()
        wait_for(lambda: _state(driver, "echo-ar") == "done", PAGE_TIMEOUT_S, "the AR report")
        assert driver.find_element(By.CSS_SELECTOR, "#echo-ar .echo-final").text == _expected(bundle, "ar")["report"]
        driver.save_screenshot(str(shots["final"]))
    for shot in shots.values():
        assert shot.stat().st_size > 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = os.environ.get("ECHO_DEMO_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in shots.values():
            shutil.copy(shot, Path(target) / shot.name)
