"""Feedback: one self-contained HTML page per submission, from the autograded notebook and the
gradebook (so manual scores and comments from formgrader appear too).

It shows the student's code, each test cell's VISIBLE source and the verdict messages (hidden
checks appear only as their verdicts: the hidden test source is never in the autograded
notebook), and the score of every graded cell. It loads nothing from the internet (a
Content-Security-Policy forbids it; student markdown is sanitised by ``nh3``, images only as
``data:`` URIs), and only the cell the grader marked is shown as grader notes. Pages go to
``feedback/<student>/<aid>/<aid>.html``, where ``nbgrader release_feedback`` expects them.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry

from rnnscratch.grading.course import Course
from rnnscratch.grading.gradebook import GRADER_NOTES, gradebook
from rnnscratch.grading.sanitize import markdown_html
from rnnscratch.nbmeta import nbgrader_meta

CSS = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;white-space:pre-wrap;border-radius:4px}
.cell{border-left:4px solid #ddd;margin:1rem 0;padding-left:.8rem}
.pass{border-color:#2a7} .fail{border-color:#c33} .manual{border-color:#d90}
.score{font-weight:bold;float:right} .out{background:#fff5f5} .ok{background:#f3fff6}
.notes{background:#fff8e0;padding:.6rem 1rem;border-radius:4px}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _score_line(grade) -> str:
    if grade is None:
        return ""
    if grade.score is None or grade.needs_manual_grade:
        return f'<span class="score">? / {grade.max_score:g} (to be graded by hand)</span>'
    return f'<span class="score">{grade.score:g} / {grade.max_score:g}</span>'


def render(course: Course, aid: str, student: str) -> str:
    """The feedback page of one submission, as a string."""
    path = course.autograded / student / aid / f"{aid}.ipynb"
    nb = nbformat.read(path, as_version=4)
    grades, comments, total, maximum = {}, {}, None, None
    with gradebook(course) as gb:
        try:
            sub = gb.find_submission(aid, student)
            total, maximum = sub.score, sub.max_score
            for snb in sub.notebooks:
                for g in snb.grades:
                    grades[g.name] = g
                for c in snb.comments:
                    comments[c.name] = c.comment
        except MissingEntry:
            pass
        body = [f"<h1>{html.escape(aid)}: feedback for {html.escape(student)}</h1>"]
        if total is not None:
            pending = any(g.needs_manual_grade for g in grades.values())
            extra = " (some answers are still to be graded by hand)" if pending else ""
            body.append(f"<p><b>Score: {total:g} / {maximum:g}</b>{extra}</p>")
        for index, cell in enumerate(nb.cells):
            meta = nbgrader_meta(cell)
            gid = meta.get("grade_id")
            gid = gid if isinstance(gid, str) else None
            if index == 0 and cell.cell_type == "markdown" and cell.metadata.get(GRADER_NOTES):
                body.append(f'<div class="notes">{markdown_html(cell.source)}</div>')
                continue
            grade = grades.get(gid) if meta.get("grade") else None
            kind = "cell"
            if grade is not None:
                if grade.needs_manual_grade or grade.score is None:
                    kind += " manual"
                else:
                    kind += " pass" if grade.score >= grade.max_score else " fail"
            part = [f'<div class="{kind}">', _score_line(grade)]
            if cell.cell_type == "markdown":
                part.append(markdown_html(cell.source))
            else:
                part.append(f"<pre>{html.escape(cell.source)}</pre>")
                for out in cell.get("outputs", []):
                    text = out.get("text") or out.get("evalue") or ""
                    text = "".join(text) if isinstance(text, list) else str(text)
                    css = "ok" if out.get("name") == "stdout" else "out"
                    part.append(f'<pre class="{css}">{html.escape(text[:20000])}</pre>')
            if gid and comments.get(gid):
                part.append(f"<p><i>Comment:</i> {html.escape(comments[gid])}</p>")
            part.append("</div>")
            body.append("\n".join(part))
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Feedback {html.escape(aid)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>"
    )


def write(course: Course, aid: str, students: list[str] | None = None) -> list[Path]:
    """Write the feedback pages of ``aid`` for every autograded student (or ``students``)."""
    folder = course.autograded
    who = (
        students or sorted(d.name for d in folder.iterdir() if (d / aid / f"{aid}.ipynb").is_file())
        if folder.is_dir()
        else []
    )
    paths = []
    for student in who:
        dest = course.feedback / student / aid / f"{aid}.html"
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            page = render(course, aid, student)
        except Exception as exc:  # noqa: BLE001 - one broken notebook must not stop the class
            why = html.escape(f"{type(exc).__name__}: {exc}"[:300])
            page = (
                "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
                f"<title>Feedback</title></head><body><h1>{html.escape(aid)}</h1>"
                f"<p>The feedback page could not be made ({why}); ask the instructor.</p>"
                "</body></html>"
            )
            print(f"{aid} {student}: feedback failed: {why}")
        dest.write_text(page, encoding="utf-8")
        for name in ("timestamp.txt", "submission_secret.txt"):  # for nbgrader release_feedback
            src = course.autograded / student / aid / name
            if src.is_file():
                shutil.copyfile(src, dest.parent / name)
        paths.append(dest)
    return paths
