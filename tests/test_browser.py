"""The built book in a real browser: every page of `_toc.yml` opened in headless Chromium.

For every page: no JavaScript console errors; math typeset by the offline MathJax (no raw TeX
left, no TeX errors); Markdown tables rendered; every image loads and has alt text; every
internal link and #anchor resolves; nothing makes the page scroll sideways on a 390 px phone.
Pages with code have a notebook download, and repository/launch buttons only when the course's
addresses are set in `_config.yml` (no dead links).
Every chapter of Parts I-III opens with learning goals and prerequisites and ends with a
summary and questions with answers in dropdowns. The search page finds "forget gate".
Screenshots of three pages at desktop (light and dark theme) and phone widths are saved in
`_build/screenshots/` (next to the HTML directory in use). One browser session for everything.

Reads `_build/html` (built by `make book`, which `make test` runs first) or `$RNNSCRATCH_HTML`.
Uses the Debian `chromium` and `chromedriver` (`make system-deps`); nothing is downloaded.
"""

import base64
import time
from pathlib import Path

import pytest
import yaml

from rnnscratch.booktools import website

ROOT = Path(__file__).resolve().parents[1]
PAGES = website.toc_pages()
CHAPTERS = website.toc_part_pages("Part")  # Parts I-III: the teaching chapters
SCREENSHOT_PAGES = ["book/intro.html", "book/recurrence/bptt.html", "book/exercises/index.html"]
WIDTHS = {"desktop": 1280, "phone": 390}
PAGE_TIMEOUT = 30  # seconds for one page to load and typeset its math

# Waits for MathJax (if the page loads it) to finish its first typesetting pass, then reports
# what a reader would see. Runs inside the page; the last argument is selenium's callback.
INSPECT_PAGE = r"""
const done = arguments[arguments.length - 1];
const started = Date.now();
const wantsMath = document.querySelector('script[src*="mathjax"]') !== null
    || document.querySelector('.math') !== null;

function imagesLoaded() {
  const waits = Array.from(document.images).map((img) => {
    if (img.complete) return Promise.resolve();
    if (img.loading === 'lazy') img.loading = 'eager';
    return new Promise((ok) => {
      img.addEventListener('load', ok);
      img.addEventListener('error', ok);
    });
  });
  return Promise.race([Promise.all(waits), new Promise((ok) => setTimeout(ok, 10000))]);
}

function visibleText() {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('script, style, noscript, template, textarea, pre, code, '
      + 'mjx-container, .highlight, .cell_input, .output, .cell_output').forEach((e) => e.remove());
  return clone.textContent;
}

function report(mathStatus) {
  imagesLoaded().then(() => {
    const maths = Array.from(document.querySelectorAll('.math'));
    const text = visibleText();
    const raw = ['$$', '\\(', '\\)', '\\[', '\\]', '\\begin{'].filter((s) => text.includes(s));
    const rawContext = raw.map((s) => {
      const i = text.indexOf(s);
      return s + ' in "' + text.slice(Math.max(0, i - 40), i + 40).replace(/\s+/g, ' ') + '"';
    });
    done({
      mathStatus: mathStatus,
      mathElements: maths.length,
      untypeset: maths.filter((m) => !m.querySelector('mjx-container'))
          .map((m) => m.textContent.trim().slice(0, 80)),
      // TeX errors: MathJax's <merror>, and undefined macros (drawn as red text: \\foo).
      mathErrors: Array.from(document.querySelectorAll('mjx-merror'))
          .map((e) => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 120))
          .concat(Array.from(document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]'))
              .map((e) => e.textContent).filter((t) => t.startsWith('\\'))
              .map((t) => 'undefined macro ' + t)),
      rawTex: rawContext,
      // A Markdown table left as text (a |---| row, which smartquotes turn into |—|).
      rawTables: (text.match(/\|\s*:?[-\u2013\u2014]+:?\s*\|.{0,60}/g) || []).slice(0, 3),
      // The page's shape: goals admonition first, ..., Summary, Questions with answers.
      firstAdmonition: (() => {
        const a = document.querySelector('.bd-article .admonition');
        const h2 = document.querySelector('.bd-article section section');
        const after = Node.DOCUMENT_POSITION_FOLLOWING;
        const first = a && (!h2 || (a.compareDocumentPosition(h2) & after));
        return first ? a.textContent.replace(/\s+/g, ' ').trim().slice(0, 300) : '';
      })(),
      headings: Array.from(document.querySelectorAll('.bd-article section > h2'))
          .map((h) => h.textContent.replace(/[#\u00b6]/g, '').trim()),
      answers: Array.from(document.querySelectorAll('.bd-article details summary'))
          .filter((s) => /answer/i.test(s.textContent)).length,
      hasCodeCells: document.querySelector('.bd-article .cell') !== null,
      // Bootstrap moves a button's title to data-bs-original-title once its tooltip is set up.
      launchButtons: Array.from(document.querySelectorAll('.dropdown-launch-buttons a'))
          .map((a) => a.getAttribute('data-bs-original-title') || a.title),
      downloadButtons: Array.from(document.querySelectorAll('.dropdown-download-buttons a'))
          .map((a) => a.getAttribute('data-bs-original-title') || a.title),
      repositoryLink: document.querySelector('a.btn-source-repository-button') !== null,
      images: Array.from(document.images).map((img) => ({
        src: img.getAttribute('src'), alt: (img.getAttribute('alt') || '').trim(),
        complete: img.complete, width: img.naturalWidth})),
    });
  });
}

(function waitForMathJax() {
  if (!wantsMath) { report('no math on page'); return; }
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => report('typeset'), (e) => report('MathJax failed: ' + e));
  } else if (Date.now() - started > 20000) {
    report('MathJax did not load within 20 s');
  } else {
    setTimeout(waitForMathJax, 50);
  }
})();
"""


# At phone width: how wide the page is, and the outermost elements that stick out of the screen
# without a scrolling box of their own around them (for the failure message).
MEASURE_WIDTH = r"""
const screen = document.documentElement.clientWidth;
const offenders = [];
const root = document.querySelector('.bd-article') || document.body;
for (const e of root.querySelectorAll('*')) {
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.right <= screen + 1) continue;
  if (offenders.some((o) => o.contains(e))) continue;
  let p = e.parentElement, scrolls = false;
  while (p && p !== document.body) {
    const box = p.getBoundingClientRect();
    if (getComputedStyle(p).overflowX !== 'visible' && box.right <= screen + 1) {
      scrolls = true;
      break;
    }
    p = p.parentElement;
  }
  if (!scrolls) offenders.push(e);
}
return {
  scrollWidth: document.documentElement.scrollWidth,
  offenders: offenders.slice(0, 5).map((e) => '<' + e.tagName.toLowerCase()
      + (e.className && e.className.baseVal === undefined ? ' class="' + e.className + '"' : '')
      + '> ' + Math.round(e.getBoundingClientRect().width) + ' px wide: '
      + (e.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 80)),
};
"""


@pytest.fixture(scope="module")
def html():
    """The built HTML directory; fails (never skips) when the book has not been built."""
    path = website.html_dir()
    if not (path / "index.html").is_file():
        pytest.fail(
            f"no built book at {path} (no index.html). Build it first: `make book` builds "
            f"_build/html, or point ${website.HTML_ENV} at another build's html directory.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="module")
def base_url(html):
    with website.serve(html) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """One headless Debian Chromium for the whole module (no selenium-manager, no network)."""
    for binary in (website.CHROMIUM, website.CHROMEDRIVER):
        if not Path(binary).is_file():
            pytest.fail(f"{binary} is missing: run `make system-deps`", pytrace=False)
    driver = website.chromium(
        tmp_path_factory.mktemp("chromium-profile"),
        (WIDTHS["desktop"], 900),
        extra=("--hide-scrollbars",),
        timeout=PAGE_TIMEOUT,
    )
    yield driver
    driver.quit()


def severe_console_messages(driver) -> list[str]:
    """SEVERE browser-console entries since the last call (reading the log empties it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.fixture(scope="module")
def reports(browser, base_url, html):
    """Open every page at desktop width, then at phone width; {page: what the browser saw}."""
    from selenium.common.exceptions import WebDriverException

    results = {}
    severe_console_messages(browser)
    built = [page for page in PAGES if (html / page).is_file()]
    for page in built:
        try:
            browser.get(base_url + page)
            results[page] = browser.execute_async_script(INSPECT_PAGE)
            browser.get("about:blank")  # late messages (a second 404) still count for this page
            results[page]["console"] = severe_console_messages(browser)
        except WebDriverException as error:  # e.g. a page that never finishes loading
            results[page] = {"error": f"{type(error).__name__}: {error.msg}"}
    set_width(browser, WIDTHS["phone"])
    try:
        for page in built:
            if "error" in results[page]:
                continue
            try:
                browser.get(base_url + page)
                browser.execute_async_script(INSPECT_PAGE)
                results[page]["phone"] = browser.execute_script(MEASURE_WIDTH)
            except WebDriverException as error:
                results[page] = {"error": f"at phone width: {type(error).__name__}: {error.msg}"}
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return {page: results.get(page) for page in PAGES}


def set_width(driver, width, height=900):
    """Emulate a screen `width` CSS px wide (a phone below 600 px: touch, mobile viewport)."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def page_report(reports, page):
    result = reports[page]
    assert result is not None, f"{page} is in _toc.yml but was not built"
    assert "error" not in result, f"{page} could not be inspected: {result['error']}"
    return result


def test_built_html_exists(html):
    missing = [page for page in PAGES if not (html / page).is_file()]
    assert not missing, f"pages in _toc.yml with no HTML in {html}: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_no_console_errors(reports, page):
    errors = page_report(reports, page)["console"]
    assert not errors, f"{page}: JavaScript console errors:\n" + "\n".join(errors)


@pytest.mark.parametrize("page", PAGES)
def test_math_is_typeset(reports, page):
    result = page_report(reports, page)
    problems = []
    if result["mathElements"] and result["mathStatus"] != "typeset":
        problems.append(result["mathStatus"])
    if result["untypeset"]:
        problems.append(f"math left untypeset: {result['untypeset']}")
    if result["mathErrors"]:
        problems.append(f"MathJax errors (bad TeX): {result['mathErrors']}")
    if result["rawTex"]:
        problems.append(f"raw TeX in the visible text: {result['rawTex']}")
    assert not problems, f"{page}:\n" + "\n".join(problems)


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_has_goals_summary_and_questions(reports, page):
    """Learning goals and prerequisites first; ends with a summary, then questions + answers."""
    result = page_report(reports, page)
    first, headings = result["firstAdmonition"].lower(), result["headings"]
    problems = []
    if "learning goals" not in first or "prerequisite" not in first:
        problems.append(f"does not open with a learning goals + prerequisites box: {first!r}")
    if "Summary" not in headings:
        problems.append(f"no 'Summary' section: {headings}")
    questions = [i for i, h in enumerate(headings) if h.startswith("Questions")]
    if not questions or questions[-1] != len(headings) - 1:
        problems.append(f"does not end with a 'Questions' section: {headings}")
    elif "Summary" in headings and headings.index("Summary") > questions[-1]:
        problems.append(f"'Summary' comes after 'Questions': {headings}")
    if result["answers"] < 1:
        problems.append("no answer dropdown (:::{dropdown} Answer)")
    assert not problems, f"{page}:\n" + "\n".join(problems)


def _addresses() -> dict:
    """The course's public addresses as set in `_config.yml` (empty: not published)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    return {
        k: (config.get(k) or "").strip() for k in ("course_repository_url", "course_jupyterhub_url")
    }


@pytest.mark.parametrize("page", PAGES)
def test_download_and_only_configured_repository_and_launch_buttons(reports, page):
    """Pages with code can be downloaded as notebooks; repository, Binder, Colab and
    JupyterHub buttons appear exactly when their address is set in `_config.yml`."""
    result = page_report(reports, page)
    urls = _addresses()
    repository = bool(urls["course_repository_url"])
    assert result["repositoryLink"] == repository, f"{page}: repository button vs {urls}"
    assert result["downloadButtons"], f"{page}: no download button"
    if result["hasCodeCells"]:
        assert "Download notebook file" in result["downloadButtons"], (
            f"{page}: no notebook download: {result['downloadButtons']}"
        )
        wanted = set()
        if repository:
            wanted.add("Launch on Binder")
            if urls["course_repository_url"].startswith("https://github.com/"):
                wanted.add("Launch on Colab")
            if urls["course_jupyterhub_url"]:
                wanted.add("Launch on JupyterHub")
        assert set(result["launchButtons"]) == wanted, f"{page}: launch buttons vs {urls}"


@pytest.mark.parametrize("page", PAGES)
def test_markdown_tables_are_rendered(reports, page):
    raw = page_report(reports, page)["rawTables"]
    assert not raw, f"{page}: Markdown tables shown as text, not rendered: {raw}"


@pytest.mark.parametrize("page", PAGES)
def test_images_load_and_have_alt_text(reports, page):
    images = page_report(reports, page)["images"]
    broken = [img["src"] for img in images if not (img["complete"] and img["width"] > 0)]
    no_alt = [img["src"] for img in images if not img["alt"]]
    assert not broken and not no_alt, (
        f"{page}: images that did not load: {broken}; images without alt text: {no_alt}"
    )


@pytest.mark.parametrize("page", PAGES)
def test_fits_a_phone_screen(reports, page):
    """At 390 px nothing makes the page scroll sideways (wide maths and tables scroll alone)."""
    phone = page_report(reports, page)["phone"]
    assert phone["scrollWidth"] <= WIDTHS["phone"] + 1, (
        f"{page} is {phone['scrollWidth']} px wide on a {WIDTHS['phone']} px phone; sticking "
        "out:\n" + "\n".join(phone["offenders"])
    )


@pytest.mark.parametrize("page", PAGES)
def test_internal_links_resolve(html, page):
    assert (html / page).is_file(), f"{page} is in _toc.yml but was not built"
    broken = website.broken_links(html, page)
    assert not broken, f"{page}: broken internal links:\n" + "\n".join(broken)


def test_search_finds_forget_gate(browser, base_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(base_url + "search.html?q=forget+gate")
    summary = WebDriverWait(browser, PAGE_TIMEOUT).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#search-results .search-summary").text or None
    )
    hits = browser.find_elements(By.CSS_SELECTOR, "#search-results ul.search li a")
    titles = [hit.text for hit in hits if hit.text]
    assert titles, f"search for 'forget gate' found nothing: {summary!r}"
    assert "Glossary" in titles, f"the glossary defines 'forget gate' but is not found: {titles}"
    errors = severe_console_messages(browser)
    assert not errors, "JavaScript console errors on the search page:\n" + "\n".join(errors)


def test_screenshots(browser, base_url, html):
    """Full-page screenshots at desktop (light and dark theme) and phone widths."""
    out = website.screenshot_dir(html)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for page in SCREENSHOT_PAGES:
            for label, width in WIDTHS.items():
                for theme in ("light", "dark") if label == "desktop" else ("light",):
                    name = page.removesuffix(".html").replace("/", "-") + f"-{label}-{theme}.png"
                    png = screenshot(browser, base_url + page, width, theme)
                    (out / name).write_bytes(png)
                    written.append((name, width, png))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    for name, width, png in written:
        assert png.startswith(b"\x89PNG"), name
        png_width = int.from_bytes(png[16:20], "big")  # IHDR width
        assert png_width == width, f"{name} is {png_width} px wide, expected {width}"


def screenshot(driver, url, width, theme) -> bytes:
    """PNG of the whole page at `url`, `width` CSS px wide, in the light or dark theme."""
    set_width(driver, width)
    driver.get(url)
    driver.execute_script(
        "for (const key of ['mode', 'theme']) {"
        "  localStorage.setItem(key, arguments[0]);"
        "  document.documentElement.dataset[key] = arguments[0];"
        "}",
        theme,
    )
    driver.execute_async_script(INSPECT_PAGE)
    time.sleep(0.2)  # let the theme's colour transitions settle
    height = driver.execute_script("return document.documentElement.scrollHeight")
    set_width(driver, width, height=max(600, min(int(height), 12000)))
    png = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})["data"]
    return base64.b64decode(png)
