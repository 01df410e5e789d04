"""The explorer page in headless Chromium: stepping by buttons and keys, the panel's numbers, highlight, collapsing.

Skipped where Chromium, its driver or selenium is missing. Any error in the browser console fails.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import autograd as ag
import nn


def _program(name: str) -> str | None:
    """Debian's path for `name` if it is there, else wherever PATH finds it."""
    debian = Path("/usr/bin") / name
    return str(debian) if debian.exists() else shutil.which(name)


CHROMIUM, DRIVER = _program("chromium"), _program("chromedriver")
W, X, B = [0.5, -1.5], [2.0, 1.0], 0.25  # the Linear layer's weight and bias, and the sample


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium"
    if CHROMIUM is None:
        return "chromium"
    if DRIVER is None:
        return "chromedriver"
    return None


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    missing = _missing()
    if missing:
        pytest.skip(f"{missing} is missing: `apt-get install chromium chromium-driver` and `pip install selenium`")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,800"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield chrome
    chrome.quit()


@pytest.fixture(autouse=True)
def no_console_errors(driver: Any) -> Iterator[None]:
    driver.get_log("browser")  # start clean
    yield
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, f"errors in the browser console: {severe}"


def _loss() -> ag.Tensor:
    """(1 - sigmoid(w . x + b))^2 through an nn.Linear, so the page has a module box."""
    layer = nn.Linear(2, 1)
    with ag.no_grad():
        layer.weight.copy_(ag.tensor([W]))
        layer.bias.copy_(ag.tensor([B]))
    y = layer(ag.tensor(X, name="x")).sigmoid()
    loss = ((1.0 - y) ** 2).sum()
    loss.name = "loss"
    return loss


def _expected() -> dict[str, Any]:
    """The same numbers derived by hand."""
    z = W[0] * X[0] + W[1] * X[1] + B
    y = 1 / (1 + math.exp(-z))
    dl_dy = -2 * (1 - y)
    dl_dz = dl_dy * y * (1 - y)
    return {"z": z, "y": y, "dl_dy": dl_dy, "dl_dz": dl_dz, "dw": [dl_dz * X[0], dl_dz * X[1]], "db": dl_dz}


@pytest.fixture(scope="module")
def page(tmp_path_factory: Any) -> Path:
    return ag.explore(_loss(), tmp_path_factory.mktemp("explorer") / "page.html")


@pytest.fixture
def opened(driver: Any, page: Path) -> Any:
    driver.get(page.as_uri())
    return driver


def _numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)]


def _panel(driver: Any, role: str) -> list[Any]:
    return driver.find_elements("css selector", f'#panel .val[data-role="{role}"]')


def _short(element: Any) -> list[float]:
    return _numbers(element.find_element("css selector", ".short").text)


def _where(driver: Any) -> tuple[str, int, int]:
    phase, _, rest = driver.find_element("id", "where").text.partition(" · step ")
    k, _, n = rest.partition(" of ")
    return phase, int(k), int(n)


def _current(driver: Any) -> list[str]:
    """The titles of the highlighted current node(s) in the visible layout."""
    return [
        driver.execute_script("return arguments[0].querySelector('title').textContent", g)
        for g in driver.find_elements("css selector", ".view:not([hidden]) .hl-current")
    ]


def _click(driver: Any, button: str) -> None:
    driver.find_element("id", button).click()


def test_buttons_step_through_forward_then_backward_with_the_engines_numbers(opened: Any) -> None:
    driver, want = opened, _expected()
    data = json.loads(driver.find_element("id", "explorer-data").get_attribute("textContent"))
    ops = [data["ops"][s["op"]]["name"] if s.get("op") else s["kind"] for s in data["steps"]]
    assert ops == ["leaves", "LinearFunction", "Sigmoid", "Sub", "Pow", "Sum",
                   "Sum", "Pow", "Sub", "Sigmoid", "LinearFunction", "done"]  # fmt: skip
    assert _where(driver) == ("forward", 1, 12)
    titles = [e.text for e in driver.find_elements("css selector", "#panel .who")]
    assert titles == ["x", "weight", "bias"]

    _click(driver, "next")  # the Linear layer's op: z = w . x + b
    assert _where(driver) == ("forward", 2, 12)
    assert "LinearFunction" in driver.find_element("css selector", "#panel h2").text
    (z,) = _panel(driver, "output-value")
    assert _short(z) == pytest.approx([want["z"]], abs=1e-4)
    _click(driver, "next")  # sigmoid
    (y,) = _panel(driver, "output-value")
    assert _short(y) == pytest.approx([want["y"]], abs=1e-4)
    # The full values (behind a click) round-trip exactly.
    y.find_element("css selector", "summary").click()
    assert _numbers(y.find_element("css selector", "pre").text) == pytest.approx([want["y"]], rel=1e-15)

    for _ in range(6):  # Sub, Pow, Sum forward; Sum, Pow, Sub backward
        _click(driver, "next")
    _click(driver, "next")  # Sigmoid backward: dl/dy arrives, dl/dz leaves
    assert _where(driver) == ("backward", 10, 12)
    assert "Backward: Sigmoid" in driver.find_element("css selector", "#panel h2").text
    (arriving,) = _panel(driver, "arriving-grad")
    assert _short(arriving) == pytest.approx([want["dl_dy"]], abs=1e-4)
    (sent,) = _panel(driver, "sent-grad")
    assert _short(sent) == pytest.approx([want["dl_dz"]], abs=1e-4)
    rule = data["ops"]["op1"]["rule"]
    if rule is not None:  # the op's rule in symbols, where its class declares one
        assert driver.find_element("css selector", "#panel code.rule").text == rule

    _click(driver, "next")  # the Linear op sends dl/dz on to the weight and the bias (x is a constant)
    sent = {e.get_attribute("data-input"): _short(e) for e in _panel(driver, "sent-grad")}
    assert sent["1"] == pytest.approx(want["dw"], abs=1e-4) and sent["2"] == pytest.approx([want["db"]], abs=1e-4)
    assert "0" not in sent
    _click(driver, "prev")
    assert _where(driver)[1] == 10


def test_arrow_keys_and_the_slider_move_the_highlight(opened: Any) -> None:
    from selenium.webdriver.common.keys import Keys

    driver = opened
    body = driver.find_element("tag name", "body")
    assert len(_current(driver)) == 3  # the leaves: x, weight, bias
    body.send_keys(Keys.ARROW_RIGHT)
    assert _current(driver) == ["op0"] and _where(driver)[1] == 2
    body.send_keys(Keys.ARROW_RIGHT)
    assert _current(driver) == ["op1"]
    pending = driver.find_elements("css selector", ".view:not([hidden]) g.node.pending")
    assert pending  # the ops not yet run are dimmed
    body.send_keys(Keys.END)
    assert _where(driver) == ("backward", 12, 12)
    body.send_keys(Keys.ARROW_LEFT)
    assert _current(driver) == ["op0"] and _where(driver)[1] == 11  # the Linear op is the last backward step
    body.send_keys(Keys.HOME)
    assert _where(driver)[1] == 1
    driver.execute_script(
        "var s = document.getElementById('slider'); s.value = 4; s.dispatchEvent(new Event('input'));"
    )
    assert _where(driver)[1] == 5 and _current(driver) == ["op3"]
    _click(driver, "last")
    _click(driver, "first")
    assert _where(driver)[1] == 1


def test_gradient_edges_appear_only_once_backward_has_sent_them(opened: Any) -> None:
    driver = opened
    visible = (
        "return Array.from(document.querySelectorAll('.view:not([hidden]) g.edge')).filter(g => "
        "g.querySelector('path').getAttribute('stroke') === '#c0392b' && !g.classList.contains('off')).length"
    )
    assert driver.execute_script(visible) == 0
    driver.find_element("tag name", "body").send_keys("\ue010")  # End
    assert driver.execute_script(visible) == 6  # Sum, Pow, Sub, Sigmoid one each; Linear two (weight, bias)


def test_a_module_box_collapses_and_expands(opened: Any) -> None:
    driver = opened
    label = driver.find_element("css selector", ".view:not([hidden]) g.cluster text.box-label")
    assert label.text == "Linear"
    cluster = label.find_element("xpath", "..")
    members = driver.find_elements("css selector", ".view:not([hidden]) g.node")
    assert all(g.is_displayed() for g in members)
    label.click()
    assert "collapsed" in cluster.get_attribute("class")
    hidden = [driver.execute_script("return arguments[0].querySelector('title').textContent", g)
              for g in members if not g.is_displayed()]  # fmt: skip
    assert sorted(hidden) == ["op0", "t4"]  # the Linear op and its output; the top module's parameters sit outside
    assert "nodes, collapsed" in cluster.text
    _click(driver, "next")  # the Linear op, now inside the collapsed box: the box is highlighted instead
    assert "hl-current" in cluster.get_attribute("class")
    label.click()
    assert "collapsed" not in cluster.get_attribute("class")
    assert all(g.is_displayed() for g in members)
    assert _current(driver) == ["op0"]


def test_the_compact_layout_and_its_notice(driver: Any, tmp_path: Path) -> None:
    page = ag.explore(_loss(), tmp_path / "big.html", max_nodes=3)
    driver.get(page.as_uri())
    notice = driver.find_element("id", "notice")
    assert notice.is_displayed() and "more than max_nodes=3" in notice.text
    compact = driver.find_element("css selector", '.view[data-view="compact"]')
    assert compact.is_displayed()
    driver.find_element("id", "next").click()
    (box,) = driver.find_elements("css selector", '.view[data-view="compact"] .hl-current')
    assert "nodes, collapsed" in box.text  # the Linear op is drawn as its module's node
    driver.find_element("id", "notice-full").click()
    assert not notice.is_displayed()
    assert driver.find_element("css selector", '.view[data-view="full"]').is_displayed()
    assert _current(driver) == ["op0"]
