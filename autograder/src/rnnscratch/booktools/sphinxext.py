"""A Sphinx extension with the book's HTML fixes (listed under `sphinx.extra_extensions`).

Buttons that lead somewhere. The course's public addresses are set in ONE place, `_config.yml`
under `sphinx: config:` -- `course_repository_url` (e.g. `https://github.com/<org>/<course>`),
`course_repository_branch` and `course_jupyterhub_url` (e.g. `https://hub.<university>.edu`).
Until a value is set, the book has no button for it: no repository or issue button and no
Binder/Colab launch button without a repository (Binder and Colab open the notebooks from
GitHub), no JupyterHub button without a hub. Nothing ships a dead link.

Duplicate scripts. Each page of a Jupyter Book 1 build (Sphinx 7.4) otherwise contains the
inline scripts of sphinx-togglebutton and sphinx-thebe twice: Sphinx re-adds scripts from its
registry with the file name `''` beside the originals (`None`), so its own duplicate check
misses them, and the second `const THEBE_JS_URL = ...` is a SyntaxError in every page's
JavaScript console.
"""

import shutil
from pathlib import Path


def _key(script) -> tuple:
    attributes = getattr(script, "attributes", {})
    filename = getattr(script, "filename", script) or ""
    return str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items()))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep the first of each identical <script> (same source, same attributes and body)."""
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


BINDER = "https://mybinder.org"
COLAB = "https://colab.research.google.com"


def button_options(repository_url: str, branch: str, jupyterhub_url: str) -> dict:
    """The sphinx-book-theme options for the addresses that are set (empty ones: no button)."""
    repository_url = (repository_url or "").strip().rstrip("/")
    jupyterhub_url = (jupyterhub_url or "").strip().rstrip("/")
    options: dict = {
        "use_repository_button": bool(repository_url),
        "use_issues_button": repository_url.startswith("https://github.com/"),
        "use_edit_page_button": False,
    }
    launch = {"notebook_interface": "jupyterlab"}
    if repository_url:
        options |= {"repository_url": repository_url, "repository_branch": branch or "main"}
        options["path_to_docs"] = ""
        launch["binderhub_url"] = BINDER
        if repository_url.startswith("https://github.com/"):
            launch["colab_url"] = COLAB
    if jupyterhub_url and repository_url:  # nbgitpuller fetches the notebook from the repo
        launch["jupyterhub_url"] = jupyterhub_url
    options["launch_buttons"] = launch if len(launch) > 1 else {}
    return options


def set_buttons(app, config) -> None:
    """At config time: buttons from the `course_*` settings, replacing anything else."""
    theme = dict(config.html_theme_options or {})
    for key in ("repository_url", "repository_branch", "path_to_docs", "launch_buttons"):
        theme.pop(key, None)
    theme |= button_options(
        config.course_repository_url, config.course_repository_branch, config.course_jupyterhub_url
    )
    config.html_theme_options = theme


def offer_notebook_download(app, pagename, templatename, context, doctree) -> None:
    """Keep the "Download notebook file" button of executed pages without launch buttons.

    sphinx-book-theme copies a MyST page's executed notebook into `_sources/` only while it
    adds launch buttons; with no public repository there are none, so do the copy here.
    """
    source = str(context.get("sourcename", ""))
    if context.get("ipynb_source") or not source.endswith((".md", ".md.txt")):
        return
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.add_config_value("course_repository_url", "", "html", types=[str])
    app.add_config_value("course_repository_branch", "main", "html", types=[str])
    app.add_config_value("course_jupyterhub_url", "", "html", types=[str])
    app.connect("config-inited", set_buttons, priority=900)
    app.connect("html-page-context", offer_notebook_download, priority=500)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
