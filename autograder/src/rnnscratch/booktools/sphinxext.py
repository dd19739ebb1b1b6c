"""A Sphinx extension with the book's HTML fixes (listed under `sphinx.extra_extensions`).

Each page of a Jupyter Book 1 build (Sphinx 7.4) otherwise contains the inline scripts of
sphinx-togglebutton and sphinx-thebe twice: Sphinx re-adds scripts from its registry with the
file name `''` beside the originals (`None`), so its own duplicate check misses them, and the
second `const THEBE_JS_URL = ...` is a SyntaxError in every page's JavaScript console.
"""


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


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
