"""The built book as a reader's browser sees it: page list, a local web server, link checks.

    from rnnscratch.booktools import website as site
    pages = site.toc_pages()                  # ["book/intro.html", ...] in _toc.yml order
    chapters = site.toc_part_pages("Part")    # the pages of Parts I-III
    with site.serve(site.html_dir()) as url:  # "http://127.0.0.1:PORT/"
        ...
    site.broken_links(site.html_dir(), "book/intro.html")  # [] when every link resolves

Used by `tests/test_browser.py`. The HTML directory is `_build/html` (what `make book` builds)
unless the environment variable `RNNSCRATCH_HTML` points elsewhere.
"""

import functools
import os
import posixpath
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from rnnscratch import ROOT

HTML_ENV = "RNNSCRATCH_HTML"


def html_dir() -> Path:
    """The built HTML book: `$RNNSCRATCH_HTML` if set, else `<repo>/_build/html`."""
    return Path(os.environ.get(HTML_ENV) or ROOT / "_build" / "html").resolve()


def screenshot_dir(html: Path | None = None) -> Path:
    """Where screenshots go: `screenshots/` next to the HTML directory (`_build/screenshots`)."""
    return (html or html_dir()).parent / "screenshots"


def toc_docnames(toc: Path | None = None) -> list[str]:
    """Every document named in `_toc.yml` (root first, then parts/chapters/sections in order)."""
    data = yaml.safe_load((toc or ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [data["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    for key in ("parts", "chapters", "sections"):
        walk(data.get(key))
    return [posixpath.splitext(name)[0] for name in names]


def toc_part_pages(caption_prefix: str, toc: Path | None = None) -> list[str]:
    """HTML files of the pages in the `_toc.yml` parts whose caption starts with the prefix."""
    data = yaml.safe_load((toc or ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = []
    for part in data.get("parts", []):
        if str(part.get("caption", "")).startswith(caption_prefix):
            for chapter in part.get("chapters", []):
                pages.append(posixpath.splitext(chapter["file"])[0] + ".html")
    return pages


def toc_pages(toc: Path | None = None) -> list[str]:
    """The HTML file of every page in `_toc.yml`, relative to the HTML directory."""
    return [f"{name}.html" for name in toc_docnames(toc)]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (a free port) in a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="book-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class _Collector(HTMLParser):
    """Collect the `href` of every <a> and every `id` / <a name> of one HTML file."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a":
            if attrs.get("name"):
                self.ids.add(attrs["name"])
            if attrs.get("href") is not None:
                self.links.append(attrs["href"])


@functools.lru_cache(maxsize=512)
def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8", errors="replace"))
    return collector


def links(html: Path, page: str) -> list[str]:
    """Every <a href> on `page` (path relative to `html`), in document order."""
    return _parse(html / page).links


def anchors(html: Path, page: str) -> set[str]:
    """Every `id` (and <a name>) on `page`: the #fragments a link may point at."""
    return _parse(html / page).ids


def is_internal(href: str) -> bool:
    """True for a link inside the book (no scheme such as https: or mailto:, no host)."""
    parts = urlsplit(href)
    return not parts.scheme and not parts.netloc


def resolve(page: str, href: str) -> tuple[str, str]:
    """(target file relative to the HTML directory, decoded #fragment) of an internal link."""
    parts = urlsplit(href)
    path = unquote(parts.path)
    if not path:
        target = page
    elif path.startswith("/"):
        target = path.lstrip("/")
    else:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if path.endswith("/") or target in ("", "."):
        target = posixpath.join(target if target != "." else "", "index.html")
    return target, unquote(parts.fragment)


def broken_links(html: Path, page: str) -> list[str]:
    """Internal links on `page` that do not resolve: missing file, or #anchor not on the target.

    Returns one readable line per broken link, e.g. `'gru.html#eq-gru-z': no id 'eq-gru-z' in
    book/gates/gru.html`.
    """
    problems = []
    root = html.resolve()
    for href in links(html, page):
        if not is_internal(href) or href in ("", "#") or href.startswith("javascript:"):
            continue
        target, fragment = resolve(page, href)
        path = (root / target).resolve()
        if target.startswith("..") or root not in (path, *path.parents):
            problems.append(f"{href!r}: points outside the book ({target})")
        elif path.is_dir() and (path / "index.html").is_file():
            continue
        elif not path.is_file():
            problems.append(f"{href!r}: no file {target}")
        elif fragment and path.suffix == ".html" and fragment not in anchors(root, target):
            problems.append(f"{href!r}: no id {fragment!r} in {target}")
    return problems


CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: headless, offline Debian Chromium: no sandbox (root in CI), and no background connections
#: (the machine's closed network refuses them, many at a time)
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def chromium(profile: Path, window: tuple[int, int], extra: tuple[str, ...] = (), timeout=30):
    """A selenium driver for the Debian Chromium (no selenium-manager, nothing downloaded).

    profile: an empty directory for the browser profile; window: (width, height) in pixels.
    """
    import os

    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, *extra, f"--window-size={window[0]},{window[1]}"):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(timeout)
    driver.set_script_timeout(timeout)
    return driver
