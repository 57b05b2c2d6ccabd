"""Screenshots at phone and desktop widths, with the no-sideways-scrolling check every page must pass.

Pictures go to `test-output/<test name>/` (git-ignored; CI can keep them as artifacts), never the repo.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

WIDTHS = ((390, 844), (1280, 800))  # a phone, a desktop
ROOT = Path(__file__).resolve().parents[2]


def output_dir() -> Path:
    test = os.environ.get("PYTEST_CURRENT_TEST", "test").split(" ")[0].split("::")[-1]
    folder = ROOT / "test-output" / re.sub(r"[^\w.-]+", "_", test)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def overflow(page) -> dict:
    """How far the page scrolls sideways (0 when it fits), and the widest offenders for the message."""
    return page.evaluate("""() => {
        const width = window.innerWidth, root = document.documentElement;
        const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 1)
            .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className);
        return {scroll: root.scrollWidth, inner: width, wide};
    }""")


def check_widths(page, name: str, url: str | None = None, before=None) -> None:
    """At 390 and 1280 px: load (or reload) the page, run `before(page, width)`, screenshot, assert it fits."""
    folder = output_dir()
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        if url:
            page.goto(url)
        else:
            page.reload()
        if before:
            before(page, width)
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        sizes = overflow(page)
        assert sizes["scroll"] <= sizes["inner"], f"{name} scrolls sideways at {width} px: {sizes}"
