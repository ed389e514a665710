"""Headless Chromium logs in as the demo user and shows the integration and each device.

The screenshots land in build/screenshots/, which git ignores, so a test run leaves the tree as
it found it. scripts/screenshots points SCREENSHOTS_DIR at docs/screenshots/ (README.md shows
those) to refresh them. A page that does not render what it should (an error, a missing device,
entities without values) fails the test.

Debian's chromium, driven by Playwright's Python package with the system browser; nothing
is downloaded. The browser only reaches Home Assistant on loopback: requests for anything else
are answered here (the integration's brand icon, which the frontend asks the brands CDN for)
or refused.
"""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import re
import shutil
import tempfile

from playwright.sync_api import Error, Page, Route, ViewportSize, expect, sync_playwright
import pytest

from e2e.entities import Device
from e2e.flows import DOMAIN
from e2e.hass_process import INTEGRATION, REPO

from .conftest import Setup

CHROMIUM = Path("/usr/bin/chromium")
# Where the screenshots go: build/screenshots/ (ignored by git) unless SCREENSHOTS_DIR says
# otherwise (scripts/screenshots sets it to docs/screenshots); relative to the repository.
SCREENSHOTS = REPO / os.environ.get("SCREENSHOTS_DIR", "build/screenshots")
# As the machine facts ask: no GPU, no QUIC, no background traffic, a fresh profile.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = ViewportSize(width=1280, height=1000)
PAGE_S = 30.0
# Where the frontend fetches integration icons (https://brands.home-assistant.io/_/DOMAIN/...).
BRAND_ICON = re.compile(rf"/_/{DOMAIN}/(?:dark_)?(icon|logo)(@2x)?\.png$")
OFF_MACHINE = re.compile(r"^https?://(?!127\.0\.0\.1[:/])")
# Screenshot names of the devices, in the order of Setup.devices.
DEVICE_SCREENSHOTS = ["venus-e3", "venus-a", "multiplus"]
# What each device page must show, with values.
DEVICE_ENTITIES = {
    "soc": "State of charge",
    "battery_power": "Battery power",
    "ac_output_power": "AC output power",
}


def _need_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (scripts/setup installs Debian's chromium as root)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def page(setup: Setup) -> Iterator[Page]:
    """A logged-in page (the sync API lives and dies inside one test: it marks its loop)."""
    _need_chromium()
    profile = Path(tempfile.mkdtemp(prefix="e2e-chromium-"))
    try:
        with sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                str(profile),
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport=VIEWPORT,
            )
            context.route(OFF_MACHINE, _answer_off_machine)
            errors: list[str] = []
            browser_page = context.new_page()
            browser_page.on("pageerror", lambda error: _record_page_error(errors, error))
            _log_in(browser_page, setup)
            yield browser_page
            context.close()
            assert not errors, f"the frontend raised: {errors}"
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _answer_off_machine(route: Route) -> None:
    """The integration's own icon for the brands CDN; nothing leaves the machine."""
    if match := BRAND_ICON.search(route.request.url):
        icon = INTEGRATION / "brand" / f"{match[1]}{match[2] or ''}.png"
        if icon.exists():
            route.fulfill(path=icon, content_type="image/png")
            return
    route.abort()


def _record_page_error(errors: list[str], error: Error) -> None:
    # The frontend aborts a view transition whenever a newer navigation starts: harmless.
    if error.name != "AbortError":
        errors.append(f"{error.name}: {error.message}")


def _log_in(page: Page, setup: Setup) -> None:
    """The login form, as a person fills it in."""
    user = setup.lab.user
    page.goto(f"{setup.lab.hass.url}/")
    page.get_by_role("textbox", name="Username").fill(user.username)
    page.get_by_role("textbox", name="Password").fill(user.password)
    page.get_by_role("button", name="Log in").click()
    # The frontend keeps its tokens once the login went through.
    page.wait_for_function("() => localStorage.getItem('hassTokens') !== null")


def _visible(page: Page, text: str) -> None:
    expect(page.get_by_text(text, exact=True).first).to_be_visible(timeout=PAGE_S * 1000)


def _no_error_shown(page: Page) -> None:
    for error in ("Failed to set up", "Retrying setup", "Not loaded"):
        expect(page.get_by_text(error)).to_have_count(0)
    expect(page.locator('ha-alert[alert-type="error"]')).to_have_count(0)


def _entities_have_values(page: Page) -> None:
    """No entity card shows "Unavailable" (the logbook card may, about earlier moments)."""
    cards = page.locator("ha-device-entities-card")
    expect(cards.first).to_be_visible(timeout=PAGE_S * 1000)
    expect(cards.get_by_text("Unavailable", exact=True)).to_have_count(0)


def _screenshot(page: Page, name: str) -> None:
    # Let the cards finish their entrance animation.
    page.wait_for_timeout(1000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png")


def test_integration_page(setup: Setup, page: Page) -> None:
    page.goto(f"{setup.lab.hass.url}/config/integrations/integration/{DOMAIN}")
    _visible(page, "VE.Bus & Marstek Venus (local)")
    for device in setup.devices:
        _visible(page, device.name)
    _visible(page, "3 devices")
    _no_error_shown(page)
    _screenshot(page, "integration")


@pytest.mark.parametrize("index", [0, 1, 2], ids=DEVICE_SCREENSHOTS)
def test_device_page(setup: Setup, page: Page, index: int) -> None:
    device: Device = setup.devices[index]
    page.goto(f"{setup.lab.hass.url}/config/devices/device/{device.device_id}")
    _visible(page, device.name)
    shown = [name for key, name in DEVICE_ENTITIES.items() if key in device.entities]
    assert shown, f"no entity of {device.name} to look for"
    for name in shown:
        _visible(page, name)
    _no_error_shown(page)
    _entities_have_values(page)
    _screenshot(page, f"device-{DEVICE_SCREENSHOTS[index]}")
