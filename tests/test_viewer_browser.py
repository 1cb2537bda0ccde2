"""The viewer page driven in headless Chromium (Debian's chromium + chromium-driver, Selenium).

Skipped with the reason when Selenium, Chromium, chromedriver or the cement data are missing;
`.ci/run` installs Chromium so that CI runs it. Set ``LAPLACE_INV_SCREENSHOTS=docs/figures``
to write the screenshots used in the viewer guide.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("plotly", reason="the viewer needs plotly (pip install 'laplace-inv[viewer]')")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.actions.action_builder import ActionBuilder  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from laplace_inv.viewer.server import ViewerServer  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
DATA = os.environ.get("LAPLACE_INV_DATA")
CEMENT = Path(DATA) / "cement_t1t2_ircpmg" if DATA else None
SHOTS = os.environ.get("LAPLACE_INV_SCREENSHOTS")

pytestmark = [
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="headless browser test needs Debian's chromium and chromium-driver "
        "(apt-get install chromium chromium-driver)",
    ),
    pytest.mark.skipif(
        CEMENT is None or not CEMENT.is_dir(),
        reason="needs the cement data: set LAPLACE_INV_DATA to a folder with cement_t1t2_ircpmg",
    ),
]


@pytest.fixture(scope="module")
def server():
    srv = ViewerServer(0)
    srv.start_background()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1500,1050",
        "--force-device-scale-factor=1",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.execute_cdp_cmd(
        "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    drv.set_script_timeout(60)
    yield drv
    drv.quit()


def _wait(drv, condition, timeout=60.0, message=""):
    # The page re-renders its tables while we poll: a vanished element means "not yet".
    ignored = (StaleElementReferenceException, NoSuchElementException)
    wait = WebDriverWait(drv, timeout, poll_frequency=0.2, ignored_exceptions=ignored)
    return wait.until(condition, message)


def _shot(drv, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        drv.save_screenshot(str(Path(SHOTS) / f"viewer_{name}.png"))


def _error_text(drv):
    box = drv.find_element(By.ID, "error")
    return "" if "hidden" in box.get_attribute("class") else box.text


def _wait_download(folder: Path, name: str, timeout=30.0) -> Path:
    path = folder / name
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.is_file() and path.stat().st_size > 0:
            return path
        time.sleep(0.2)
    raise AssertionError(f"{name} was not downloaded; have {sorted(os.listdir(folder))}")


def _click(drv, element_id):
    drv.find_element(By.ID, element_id).click()


def _open_page(drv, server):
    drv.get(server.url)
    _wait(drv, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "1")


def _map_point(drv, label, t1, t2):
    """Viewport pixel of (T1, T2) on the map of ``label``."""
    return drv.execute_script(
        """
        const gd = document.querySelector(`.map-card[data-label="${arguments[0]}"] .map-plot`);
        const fl = gd._fullLayout, rect = gd.getBoundingClientRect();
        return [rect.left + fl.xaxis._offset + fl.xaxis.l2p(Math.log10(arguments[2])),
                rect.top + fl.yaxis._offset + fl.yaxis.l2p(Math.log10(arguments[1]))];
        """,
        label,
        t1,
        t2,
    )


def _drag(drv, start, end):
    steps = [
        (start[0] + (end[0] - start[0]) * k / 5, start[1] + (end[1] - start[1]) * k / 5)
        for k in range(1, 6)
    ]
    _trace(drv, [start, *steps])


def _trace(drv, points):
    """Press at the first point, move through the others, release."""
    actions = ActionBuilder(drv)
    pointer = actions.pointer_action
    pointer.move_to_location(int(points[0][0]), int(points[0][1]))
    pointer.pointer_down()
    for x, y in points[1:]:
        pointer.move_to_location(int(x), int(y))
    pointer.pointer_up()
    actions.perform()


def _fraction_text(drv, region, method):
    """The fraction cell of the region table, read in one step ("" while absent)."""
    return drv.execute_script(
        "const row = [...document.querySelectorAll('#region-table tr')]"
        ".find(r => r.dataset.region === arguments[0] && r.dataset.method === arguments[1]);"
        "return row ? row.querySelector('.fraction').textContent : '';",
        region,
        method,
    )


def _fraction(drv, region, method):
    return float(_fraction_text(drv, region, method).split()[0])


def test_server_listens_on_loopback_only(server):
    assert server.server_address[0] == "127.0.0.1"
    # 127.0.0.2 is another address of this machine: a server bound to all interfaces answers.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", server.port), timeout=2):
        pass
    with socket.create_connection(("127.0.0.1", server.port), timeout=2):
        pass


def test_cement_session_in_the_browser(server, driver, downloads, tmp_path):
    drv = driver
    _open_page(drv, server)
    # Every script and stylesheet comes from this server: the page works offline.
    sources = drv.execute_script(
        "return [...document.querySelectorAll('script[src], link[href], img[src]')]"
        ".map(e => e.src || e.href)"
        ".concat(performance.getEntriesByType('resource').map(r => r.name));"
    )
    assert sources, "the page loaded no asset"
    assert all(s.startswith((server.url, "data:")) for s in sources), sources

    drv.find_element(By.ID, "path").send_keys(str(CEMENT))
    _click(drv, "open-path")
    _wait(drv, lambda d: "48 × 1000" in d.find_element(By.ID, "acq-summary").text)
    _shot(drv, "acquisition")

    drv.find_element(By.CSS_SELECTOR, "input.method[value=dlemlr]").click()
    _click(drv, "run")
    _wait(
        drv,
        lambda d: (
            len(d.find_elements(By.CSS_SELECTOR, ".map-card")) == 2
            and len(d.find_elements(By.CSS_SELECTOR, ".job[data-status=done]")) == 2
        ),
        timeout=120,
        message="UPEN and DLEMLR did not both finish",
    )
    assert _error_text(drv) == ""
    # Compare: both maps side by side on one colour scale.
    scales = drv.execute_script(
        "return [...document.querySelectorAll('.map-plot')]"
        ".map(g => [g.data[0].zmin, g.data[0].zmax]);"
    )
    assert len(scales) == 2 and scales[0] == scales[1]

    _click(drv, "mode-box")
    _drag(drv, _map_point(drv, "upen", 0.8, 0.005), _map_point(drv, "upen", 0.02, 0.1))
    _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, '#region-table tr[data-region="box 1"]'))
    fraction = _fraction(drv, "box 1", "upen")
    assert 83.0 <= fraction <= 85.0, fraction
    assert 70.0 <= _fraction(drv, "box 1", "dlemlr") <= 90.0
    _click(drv, "mode-polygon")
    corners = [(0.5, 0.004), (0.5, 0.1), (0.03, 0.1), (0.03, 0.004), (0.45, 0.004)]
    _trace(drv, [_map_point(drv, "dlemlr", t1, t2) for t1, t2 in corners])
    _wait(
        drv, lambda d: d.find_elements(By.CSS_SELECTOR, '#region-table tr[data-region="polygon 2"]')
    )
    assert _fraction(drv, "polygon 2", "upen") == pytest.approx(fraction, abs=0.3)
    _click(drv, "mode-zoom")
    # Log intensity brings out the minor peak; the colour scale stays shared.
    Select(drv.find_element(By.ID, "intensity")).select_by_value("log")
    log_zmax = "return document.querySelector('.map-plot').data[0].zmax"
    _wait(drv, lambda d: d.execute_script(log_zmax) < 10)

    _click(drv, "export-png")
    png = _wait_download(downloads, "laplace_inv_maps.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _click(drv, "save-toml")
    saved = _wait_download(downloads, "regions.toml")
    assert 'name = "box 1"' in saved.read_text()

    _click(drv, "clear-regions")
    _wait(drv, lambda d: not d.find_elements(By.CSS_SELECTOR, "#region-table tr[data-region]"))
    drv.find_element(By.ID, "load-regions").send_keys(str(saved))
    _wait(drv, lambda d: d.find_elements(By.CSS_SELECTOR, '#region-table tr[data-region="box 1"]'))
    assert _fraction(drv, "box 1", "upen") == pytest.approx(fraction, abs=0.05)

    # Bootstrap uncertainty of the UPEN regions, in the background (a few draws keep it short).
    Select(drv.find_element(By.ID, "unc-label")).select_by_value("upen")
    drv.find_element(By.ID, "n-draws").send_keys("5")
    _click(drv, "run-uncertainty")
    _wait(drv, lambda d: "±" in _fraction_text(d, "box 1", "upen"), timeout=120)
    assert _fraction(drv, "box 1", "upen") == pytest.approx(fraction, abs=0.05)
    _shot(drv, "maps")

    bad = tmp_path / "broken.toml"
    bad.write_text('[[region]]\nname = "x"\ntype = "box"\nx1 = [1.0]\n')
    drv.find_element(By.ID, "load-regions").send_keys(str(bad))
    _wait(drv, lambda d: "broken.toml" in _error_text(d), message="no error shown for a bad file")
    _shot(drv, "error")
    # The server keeps serving, and the regions from before are still there.
    with urllib.request.urlopen(server.url, timeout=5) as reply:
        assert reply.status == 200
    assert _fraction(drv, "box 1", "upen") == pytest.approx(fraction, abs=0.05)

    drv.find_element(By.CSS_SELECTOR, "button.tab[data-tab=res]").click()
    _wait(drv, lambda d: "residual/noise" in d.find_element(By.ID, "res-summary").text)
    _wait(drv, lambda d: d.execute_script("return !!document.getElementById('res-map').data"))
    _shot(drv, "residuals")


def test_tabs_do_not_share_state(server, driver):
    drv = driver
    first = drv.current_window_handle
    drv.switch_to.new_window("tab")
    try:
        _open_page(drv, server)
        assert drv.find_elements(By.CSS_SELECTOR, ".map-card") == []
        assert drv.find_element(By.ID, "acq-summary").text == ""
        reply = drv.execute_async_script(
            "const done = arguments[0];"
            "LV.post('/api/results', {}).then(r => done(JSON.stringify(r)), e => done(e.message));"
        )
        assert json.loads(reply)["results"] == []
    finally:
        drv.close()
        drv.switch_to.window(first)
