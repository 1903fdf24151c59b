"""Browser tests: Debian's Chromium driven through Playwright against a live server.

Helpers shared by the browser tests live here; the fixtures (``live_server``, ``page``,
``phone_page``, ``account``) are in ``conftest.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.factories import PASSWORD

# Screenshots go outside the repository.
SHOTS = Path("/tmp/shots")


def sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a person would, and wait for the next page."""
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def open_menu(page: Any) -> None:
    """Open the collapsed navigation on a narrow screen (no-op when it is already shown)."""
    toggler = page.locator(".navbar-toggler")
    if toggler.is_visible() and toggler.get_attribute("aria-expanded") != "true":
        toggler.click()
        page.locator("#mainnav.show").wait_for()


def overflow_px(page: Any) -> int:
    """How many pixels the page is wider than the window (0 when nothing sticks out)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def wider_than_window(page: Any) -> list[str]:
    """Elements that stick out of the window on the right (outside scrollable tables)."""
    return list(
        page.evaluate(
            """() => {
              const width = document.documentElement.clientWidth;
              const out = [];
              for (const el of document.querySelectorAll('body *')) {
                if (el.closest('.table-responsive')) continue;
                const box = el.getBoundingClientRect();
                if (box.width > 0 && box.right > width + 1) {
                  out.push(el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
                }
              }
              return out;
            }"""
        )
    )


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as /tmp/shots/<name>.png and return its path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
