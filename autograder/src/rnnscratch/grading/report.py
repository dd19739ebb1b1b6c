"""Report: one HTML page per assignment for the instructor -- the score histogram, the pass
rate of every test cell, and the most frequent diagnosed mistakes (keys of the exercises'
``MISTAKES`` catalogue), as matplotlib plots embedded as PNG data (no files to lose, nothing
loaded from the internet).
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from pathlib import Path

from rnnscratch.grading.course import Course
from rnnscratch.grading.gradebook import gradebook
from rnnscratch.grading.source import load


def mistakes_catalogue(course: Course) -> dict[str, str]:
    """The hint catalogue (key -> plain-English explanation), {} if unavailable."""
    from rnnscratch.grading.isolate import harness

    try:
        found = getattr(harness(course), "MISTAKES", None)
        if found is None:
            from rnnscratch.exercises import MISTAKES as found
        return dict(found)
    except Exception:  # noqa: BLE001 - the report still works without explanations
        return {}


def collect_stats(course: Course, aid: str) -> dict:
    """Scores, per-test pass counts and mistake counts of one assignment."""
    assignment = load(course.source_notebook(aid), aid)
    totals: dict[str, float] = {}
    with gradebook(course) as gb:
        for sub in gb.assignment_submissions(aid):
            totals[sub.student.id] = float(sub.score)
        max_score = float(gb.find_assignment(aid).max_score)
    passed = Counter()
    seen = Counter()
    mistakes = Counter()
    problems = Counter()
    resources = Counter()
    for path in sorted(course.autograded.glob(f"*/{aid}/results.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError):
            problems["results.json unreadable"] += 1
            continue
        if data.get("resources"):
            resources[str(data["resources"])] += 1
        if data.get("problem"):
            problems[data["problem"].split(":")[0][:60]] += 1
        for cell in data["cells"]:
            seen[cell["grade_id"]] += 1
            passed[cell["grade_id"]] += cell["score"] >= cell["points"] > 0
            for pair in cell["pairs"]:
                if not pair["passed"] and pair.get("mistake"):
                    mistakes[pair["mistake"]] += 1
    tests = [t.grade_id for t in assignment.tests]
    rates = {t: (passed[t] / seen[t] if seen[t] else 0.0) for t in tests}
    return {
        "assignment": aid,
        "totals": totals,
        "max_score": max_score,
        "rates": rates,
        "mistakes": mistakes,
        "problems": problems,
        "resources": resources,
    }


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def _figures(stats: dict) -> list[tuple[str, str, str]]:
    """(title, alt text, base64 PNG) of the three plots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    out = []
    totals = list(stats["totals"].values())
    fig, ax = plt.subplots(figsize=(7, 3.5))
    top = max(stats["max_score"], 1.0)
    ax.hist(totals, bins=min(20, max(5, int(top) + 1)), range=(0, top), color="#4477aa")
    ax.set(xlabel="total score (auto + manual)", ylabel="students", title="Score distribution")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    out.append(
        (
            "Score distribution",
            f"Histogram of {len(totals)} students' total scores out of {top:g}.",
            _png(fig),
        )
    )
    plt.close(fig)
    rates = stats["rates"]
    fig, ax = plt.subplots(figsize=(7, 0.45 * max(len(rates), 2) + 1))
    names = list(rates)[::-1]
    ax.barh(names, [100 * rates[n] for n in names], color="#228833")
    ax.set(xlim=(0, 100), xlabel="students passing (%)", title="Pass rate per test cell")
    out.append(
        (
            "Pass rate per test cell",
            "Horizontal bars: percentage of students passing each test cell: "
            + ", ".join(f"{n} {100 * rates[n]:.0f}%" for n in rates),
            _png(fig),
        )
    )
    plt.close(fig)
    common = stats["mistakes"].most_common(10)
    if common:
        fig, ax = plt.subplots(figsize=(7, 0.45 * len(common) + 1))
        ax.barh([k for k, _ in common][::-1], [v for _, v in common][::-1], color="#cc6677")
        ax.set(xlabel="failed checks with this diagnosis", title="Most frequent mistakes")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        out.append(
            (
                "Most frequent mistakes",
                "Horizontal bars: how many failed checks were diagnosed as each mistake: "
                + ", ".join(f"{k} {v}" for k, v in common),
                _png(fig),
            )
        )
        plt.close(fig)
    return out


def render(course: Course, aid: str) -> str:
    stats = collect_stats(course, aid)
    catalogue = mistakes_catalogue(course)
    totals = list(stats["totals"].values())
    mean = sum(totals) / len(totals) if totals else 0.0
    parts = [
        f"<h1>Class report: {html.escape(aid)}</h1>",
        f"<p>{len(totals)} submissions; mean score {mean:.2f} / {stats['max_score']:g}.</p>",
    ]
    for how, count in stats.get("resources", {}).items():
        parts.append(f"<p><b>Sandbox resources</b> ({count} submissions): {html.escape(how)}</p>")
    for title, alt, data in _figures(stats):
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">')
    if stats["mistakes"]:
        parts.append(
            "<h2>What the mistakes mean</h2><table><tr><th>mistake</th><th>count</th>"
            "<th>explanation</th></tr>"
        )
        for key, count in stats["mistakes"].most_common(10):
            text = html.escape(catalogue.get(key, ""))
            parts.append(
                f"<tr><td><code>{html.escape(key)}</code></td><td>{count}</td><td>{text}</td></tr>"
            )
        parts.append("</table>")
    if stats["problems"]:
        parts.append("<h2>Submissions that could not be run</h2><ul>")
        for why, count in stats["problems"].most_common():
            parts.append(f"<li>{count} × {html.escape(why)}</li>")
        parts.append("</ul>")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Class report {html.escape(aid)}</title><style>body{{font-family:system-ui,"
        "sans-serif;max-width:60rem;margin:2rem auto}} td,th{padding:.2rem .6rem;"
        "text-align:left;vertical-align:top}</style></head><body>"
        + "\n".join(parts)
        + "</body></html>"
    )


def write(course: Course, aid: str) -> Path:
    course.reports.mkdir(parents=True, exist_ok=True)
    path = course.reports / f"{aid}.html"
    path.write_text(render(course, aid), encoding="utf-8")
    return path
