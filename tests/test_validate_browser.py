"""The Validate button in a real browser shows a check's message in full (issue 13, item 7).

JupyterLab is started headless on a free local port with the course's nbgrader extension, from
the course root (so `nbgrader_config.py`, with `Validator.width`, is the configuration the
validate handler loads), serving a temporary folder that holds a released notebook with a wrong
answer. Headless Chromium opens it and presses **Validate**; the dialog must contain every line
of the check's (wrapped) message, values included. A screenshot of the dialog is kept in
`_build/screenshots/validate-dialog.png`.

Uses the Debian `chromium` and `chromedriver` (`make system-deps`); skips when they are missing.
"""

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from rnnscratch.booktools import website
from rnnscratch.exercises.harness import evaluate, wrap_message

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = website.CHROMIUM, website.CHROMEDRIVER
AID = "a01_rnn_forward"
WRONG = (
    "def rnn_cell(x, h_prev, W_ih, W_hh, b_ih, b_hh):\n"
    "    return 1.0 / (1.0 + np.exp(-(x @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)))\n"
)

# scrolls the dialog to the text node where the hint starts (ANSI-coloured output is split
# into many spans, so no single element's own text contains it)
SHOW_HINT = r"""
const walker = document.createTreeWalker(arguments[0], NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  if (walker.currentNode.textContent.includes('Likely mistake')) {
    walker.currentNode.parentElement.scrollIntoView({block: 'center'});
    break;
  }
}
"""

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()),
    reason="chromium and chromedriver are not installed (make system-deps)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server serving a release of a01 whose rnn_cell is wrong."""
    served = tmp_path_factory.mktemp("lab")
    nb = json.loads((ROOT / "exercises" / AID / f"{AID}.ipynb").read_text())
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "rnn_cell":
            cell["source"] = WRONG
    (served / f"{AID}.ipynb").write_text(json.dumps(nb))
    shutil.copy(ROOT / "exercises" / AID / "reference_tensors.npz", served)
    port, token = _free_port(), "rnnscratch-validate-test"
    log = (served / "lab.log").open("w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--allow-root",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={served}",
            f"--IdentityProvider.token={token}",
            "--ServerApp.open_browser=False",
        ],
        cwd=ROOT,  # the validate handler reads nbgrader_config.py from the server's cwd
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("JupyterLab did not start:\n" + (served / "lab.log").read_text())
                time.sleep(0.3)
        yield {"url": url, "token": token, "folder": served}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = website.chromium(tmp_path_factory.mktemp("chromium-profile"), (1280, 1000))
    yield driver
    driver.quit()


def _expected_message() -> str:
    namespace = {"np": np}
    exec(WRONG, namespace)
    return wrap_message(evaluate("rnn_cell", namespace["rnn_cell"], "visible").message)


def test_validate_button_shows_the_full_hint(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{lab['url']}/lab/tree/{AID}.ipynb?token={lab['token']}")
    button = WebDriverWait(browser, 40).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, ".validate-button"))
    )
    button.click()
    dialog = WebDriverWait(browser, 120).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, ".jp-Dialog-content"))
    )
    WebDriverWait(browser, 120).until(lambda d: "rnn_cell" in dialog.text)
    text = dialog.text
    browser.execute_script(SHOW_HINT, dialog)  # the screenshot shows rnn_cell's message
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    dialog.screenshot(str(shots / "validate-dialog.png"))
    message = _expected_message()
    assert "got " in message and "expected " in message and "Likely mistake" in message
    for line in message.splitlines():
        assert line.strip() in text, f"not in the Validate dialog: {line.strip()!r}"
