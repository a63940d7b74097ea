"""Start ``blotter dashboard`` and Debian's headless Chromium (shared by tests and the screenshot).

Run ``python tests/python/dashboard/dashboard_harness.py WAREHOUSE.duckdb OUT.png`` to take the
README screenshot of the dashboard over any warehouse.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = REPO / "test-output" / "dashboard"


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_dashboard(db: Path, timeout: float = 45.0) -> Iterator[str]:
    """Run ``blotter dashboard --port N`` against ``db``; yield its URL; stop it afterwards."""
    port = free_port()
    log = (OUTPUT / f"server-{port}.log").open("w") if OUTPUT.is_dir() else subprocess.DEVNULL
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOTTER_")}
    env["BLOTTER_DUCKDB_PATH"] = str(db)
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "blotter"), "dashboard", "--port", str(port)],
        cwd=db.parent,  # no stray .env from the working tree
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"blotter dashboard exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"dashboard not healthy on {url} after {timeout} s")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log is not subprocess.DEVNULL:
            log.close()


@contextmanager
def launch_chromium() -> Iterator:
    """Playwright driving /usr/bin/chromium (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_dashboard(browser, url: str, height: int = 1900):  # noqa: ANN001, ANN201
    """A page on ``url`` that refuses every non-loopback request; returns (page, blocked URLs)."""
    context = browser.new_context(viewport={"width": 1400, "height": height})
    blocked: list[str] = []

    def guard(route) -> None:  # noqa: ANN001
        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.goto(url)
    wait_rendered(page)
    return page, blocked


def wait_rendered(page, timeout: float = 30_000) -> None:  # noqa: ANN001
    """Wait until Streamlit finished the script run and the charts are drawn."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    # Done = no script run in progress, no stale element left, and the page's last element
    # (or, for an early stop, the title) is there.
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')"
        " && (document.querySelector('.st-key-page_end')"
        " || document.querySelector('[data-testid=\"stMain\"] h1'))",
        timeout=timeout,
    )
    page.wait_for_timeout(800)  # vega-embed draws asynchronously after the element mounts


def small_png(raw: bytes, out: Path, width: int = 1100) -> None:
    """Write a README-sized screenshot: scaled down and palette-quantised (~100 kB)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(raw)).convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


if __name__ == "__main__":
    warehouse, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    with running_dashboard(warehouse) as url, launch_chromium() as chromium:
        shot_page, _ = open_dashboard(chromium, url, height=1450)
        small_png(shot_page.screenshot(), out)
    print(out, out.stat().st_size, "bytes")
