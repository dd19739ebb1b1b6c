"""The built book (`make book`; `make test` builds it first) is complete and offline."""

import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("RNNSCRATCH_HTML", ROOT / "_build" / "html"))


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


@pytest.fixture(scope="module")
def html_dir() -> Path:
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book at {HTML}: run `make book` first (make test does)")
    return HTML


def test_every_page_in_the_toc_is_built(html_dir):
    missing = [p for p in toc_pages() if not (html_dir / f"{p}.html").exists()]
    assert not missing, f"pages in _toc.yml without HTML: {missing}"


def test_every_toc_page_has_a_source_file():
    missing = [p for p in toc_pages() if not (ROOT / f"{p}.md").exists()]
    assert not missing, f"pages in _toc.yml without a .md source: {missing}"


REMOTE = re.compile(r"""<(script|link|img|iframe)\b[^>]*\b(src|href)=["'](https?:)?//""", re.I)


def test_no_page_loads_anything_from_the_internet(html_dir):
    offenders = {}
    for page in html_dir.rglob("*.html"):
        hits = [m.group(0) for m in REMOTE.finditer(page.read_text(errors="replace"))]
        # <link rel="..."> to the repository, launch buttons etc. are <a>, not matched here;
        # a <link> with href to a remote stylesheet or preload would be.
        if hits:
            offenders[str(page.relative_to(html_dir))] = hits[:3]
    assert not offenders, f"pages that load remote resources: {offenders}"


def test_mathjax_is_served_locally(html_dir):
    page = (html_dir / "book" / "notation.html").read_text()
    match = re.search(r'<script[^>]*src="([^"]*tex-[^"]*\.js)"', page)
    assert match, "no MathJax script tag on the notation page"
    assert not match.group(1).startswith(("http:", "https:", "//")), match.group(1)
    assert (html_dir / "book" / match.group(1)).resolve().exists(), match.group(1)


def test_no_committed_outputs_in_book_pages():
    ipynbs = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "book").rglob("*.ipynb"))
    assert not ipynbs, f"book pages must be MyST markdown, not notebooks: {ipynbs}"


def test_no_button_leads_to_an_address_that_is_not_set(html_dir):
    """Repository, issue and launch buttons come only from `_config.yml`'s `course_*` values."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    repository = (config.get("course_repository_url") or "").strip()
    hub = (config.get("course_jupyterhub_url") or "").strip()
    page = (html_dir / "book" / "recurrence" / "bptt.html").read_text()
    for placeholder in ("example.edu", "example.com", "recurrent-networks-from-scratch/course"):
        assert placeholder not in page
    assert ("btn-source-repository-button" in page) == bool(repository)
    assert ("mybinder.org" in page) == bool(repository)
    assert ("git-pull?" in page) == bool(repository and hub)


def test_button_options_follow_the_addresses():
    from rnnscratch.booktools.sphinxext import button_options

    none = button_options("", "main", "")
    assert not none["use_repository_button"] and not none["use_issues_button"]
    assert none["launch_buttons"] == {} and "repository_url" not in none
    hub_only = button_options("", "main", "https://hub.uni.edu")
    assert hub_only["launch_buttons"] == {}  # a hub launch pulls the notebook from the repo
    gh = button_options("https://github.com/org/course/", "main", "https://hub.uni.edu/")
    assert gh["repository_url"] == "https://github.com/org/course"
    assert gh["use_repository_button"] and gh["use_issues_button"]
    assert set(gh["launch_buttons"]) == {
        "notebook_interface",
        "binderhub_url",
        "colab_url",
        "jupyterhub_url",
    }
    lab = button_options("https://gitlab.com/org/course", "dev", "")
    assert lab["use_repository_button"] and not lab["use_issues_button"]
    assert "colab_url" not in lab["launch_buttons"] and lab["repository_branch"] == "dev"
