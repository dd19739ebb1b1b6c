"""The grader end to end: a fixture class of honest, broken and hostile submissions.

Each fixture is generated from the released notebook (tests/fixtures/grading/classroom.py),
graded in the bubblewrap sandbox with two jobs at a time, and must end with the expected score
and a message in its feedback, without changing anyone else's grade, stopping the run, or
touching the submitted files. Needs bubblewrap (``make system-deps``); runs as root in CI.
"""

import hashlib
import html
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import classroom
import pytest
from classroom import needs_sandbox
from nbgrader.api import Gradebook

from rnnscratch.grading import __main__ as cli
from rnnscratch.grading import feedback, pipeline, report, sandbox, source
from rnnscratch.grading.course import Course
from rnnscratch.grading.gradebook import gradebook
from rnnscratch.grading.sandbox import Limits

HERE = Path(__file__).parent

# generous time (the machine is shared); 1 GiB of memory for the sandbox as a whole (numpy
# only: the fixture assignment does not import torch), so three 400 MB children exceed it
LIMITS = Limits(cell_seconds=15.0, grace_seconds=2.0, total_seconds=150.0, memory_bytes=2**30)
CHILD_BYTES = 400 * 2**20


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class Listener:
    """A TCP server on the host's loopback that counts connections (the network fixture)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, graded_classes):
    """Grade the whole fixture class once; the tests below (and test_grading_dask.py) inspect
    the result."""
    root = tmp_path_factory.mktemp("course")
    aid = classroom.make_course(root)
    course = Course(root, limits=LIMITS)
    listener = Listener()
    expect = classroom.build_class(
        root, aid, {"port": listener.port, "child_bytes": CHILD_BYTES, "bomb_mb": 64}
    )
    # the honest student alone first: their grade must not change when the class runs
    pipeline.autograde(course, aid, only=["correct"], jobs=1, log=lambda *a: None)
    before = _scores(course, aid)["correct"]
    hashes = _hashes(course.submitted)
    lines = []
    graded = pipeline.autograde(course, aid, jobs=2, log=lines.append)
    listener.close()
    feedback.write(course, aid)
    graded_classes["local"] = {
        "course": course,
        "aid": aid,
        "expect": expect,
        "graded": {g.student: g for g in graded},
        "before": before,
        "hashes": hashes,
        "connections": listener.connections,
        "assignment": source.load(course.source_notebook(aid), aid),
        "log": lines,
    }
    return graded_classes["local"]


def _scores(course: Course, aid: str) -> dict[str, dict[str, float | None]]:
    """student -> grade_id -> auto score, read back from nbgrader's gradebook."""
    out: dict[str, dict] = {}
    with gradebook(course) as gb:
        for sub in gb.assignment_submissions(aid):
            for nb in sub.notebooks:
                for g in nb.grades:
                    out.setdefault(sub.student.id, {})[g.name] = g.auto_score
    return out


def _expected_cell_scores(assignment, expect) -> dict[str, float]:
    losing = set(expect.get("lose", []))
    if "rnn_cell" in losing:
        losing.add("rnn_forward")  # the solution's rnn_forward calls the student's rnn_cell
    scores = {}
    for test in assignment.tests:
        fails = expect.get("zero") or any(name in losing for name, _ in test.pairs)
        fails = fails or test.grade_id in expect.get("lose_cells", [])
        scores[test.grade_id] = 0.0 if fails else test.points
    return scores


@needs_sandbox
def test_every_fixture_gets_its_expected_score(graded):
    scores = _scores(graded["course"], graded["aid"])
    table = []
    for name, expect in graded["expect"].items():
        want = _expected_cell_scores(graded["assignment"], expect)
        got = {gid: scores[name].get(gid) for gid in want}
        table.append(f"{name}: {sum(v or 0 for v in got.values()):g}")
        assert got == want, f"{name}: expected {want}, got {got}"
    print("\n".join(table))


@needs_sandbox
def test_every_fixture_has_a_message_in_its_feedback(graded):
    course, aid = graded["course"], graded["aid"]
    for name, expect in graded["expect"].items():
        page = (course.feedback / name / aid / f"{aid}.html").read_text()
        assert "Score:" in page
        if "note" in expect:
            assert expect["note"] in page, f"{name}: '{expect['note']}' not in its feedback"
        results = json.loads((course.autograded / name / aid / "results.json").read_text())
        failed = [p for c in results["cells"] for p in c["pairs"] if not p["passed"]]
        if expect.get("lose") or expect.get("lose_cells") or expect.get("zero"):
            assert failed and all(p["message"].strip() for p in failed), name
            assert any(html.escape(p["message"].splitlines()[-1]) in page for p in failed), name
        if "mistake" in expect:
            assert expect["mistake"] in {p["mistake"] for p in failed}, name


@needs_sandbox
def test_the_honest_students_grade_does_not_change(graded):
    scores = _scores(graded["course"], graded["aid"])
    assert scores["correct"] == graded["before"]
    assert sum(v for v in graded["before"].values() if v) == graded["assignment"].max_auto


@needs_sandbox
def test_submissions_are_untouched_and_the_run_finished(graded):
    assert _hashes(graded["course"].submitted) == graded["hashes"]
    assert set(graded["graded"]) == set(graded["expect"])


@needs_sandbox
def test_no_network_from_the_sandbox(graded):
    assert graded["connections"] == 0


@needs_sandbox
def test_feedback_and_autograded_notebooks_never_show_hidden_tests(graded):
    course = graded["course"]
    hidden = [
        f'check("{n}", {n}, "{c}")'
        for t in graded["assignment"].tests
        for n, c in t.pairs[len(t.pairs) - t.hidden_pairs :]
    ]
    assert hidden
    files = list(course.feedback.rglob("*.html")) + list(course.autograded.rglob("*.ipynb"))
    assert files
    for path in files:
        text = path.read_text()
        assert "BEGIN HIDDEN TESTS" not in text, path
        for call in hidden:
            assert call not in text and call.replace('"', '\\"') not in text, (path, call)


@needs_sandbox
def test_nbgrader_tools_read_our_gradebook(graded, tmp_path):
    """nbgrader's own feedback and export run on what the grader wrote (formgrader uses the
    same GetGrades machinery), and a manual grade set as formgrader would survive a regrade."""
    course, aid = graded["course"], graded["aid"]
    manual = [c for c in graded["assignment"].cells if c.role == "manual"]
    assert manual
    with Gradebook(course.db_url) as gb:
        grade = gb.find_grade(manual[0].grade_id, aid, aid, "correct")
        assert grade.needs_manual_grade
        grade.manual_score = manual[0].points
        gb.db.commit()
    pipeline.autograde(course, aid, only=["correct"], log=lambda *a: None)
    with Gradebook(course.db_url) as gb:
        assert gb.find_grade(manual[0].grade_id, aid, aid, "correct").manual_score == (
            manual[0].points
        )
    feedback.write(course, aid, ["correct"])
    assert (
        f"{manual[0].points:g} / {manual[0].points:g}"
        in (course.feedback / "correct" / aid / f"{aid}.html").read_text()
    )
    csv = tmp_path / "grades.csv"
    assert cli.main(["--course", str(course.root), "export", "--to", str(csv)]) == 0
    rows = csv.read_text().splitlines()
    assert len(rows) == 1 + len(graded["expect"])
    # formgrader's own page for manual grading renders the autograded notebook
    from nbconvert.exporters import HTMLExporter
    from nbgrader.server_extensions.formgrader import handlers
    from traitlets.config import Config

    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    resources = {
        "assignment_id": aid,
        "notebook_id": aid,
        "submission_id": "x",
        "index": 0,
        "total": 1,
        "base_url": "",
        "student": "correct",
        "last_name": None,
        "first_name": None,
        "notebook_path": "/x",
    }
    page, _ = HTMLExporter(config=config).from_filename(
        str(course.autograded / "correct" / aid / f"{aid}.ipynb"), resources=resources
    )
    assert manual[0].grade_id in page and "BEGIN HIDDEN TESTS" not in page
    out = tmp_path / "nbfeedback"
    cmd = course.nbgrader_command(
        "generate_feedback",
        aid,
        "--student",
        "correct",
        "--force",
        f"--CourseDirectory.feedback_directory={out}",
    )
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(cmd, cwd=course.root, check=True, capture_output=True, env=env)
    page = next(out.rglob("*.html")).read_text()
    assert "BEGIN HIDDEN TESTS" not in page


@needs_sandbox
def test_class_report_has_the_three_plots(graded):
    course, aid = graded["course"], graded["aid"]
    page = report.write(course, aid).read_text()
    assert page.count('<img src="data:image/png;base64,') == 3
    assert "Pass rate per test cell" in page and "Most frequent mistakes" in page
    assert 'alt=""' not in page


@needs_sandbox
def test_sandbox_identity_and_view(tmp_path):
    """Directly: uid 65534, the course and /tmp hidden, scratch writable, no network."""
    secret = tmp_path / "course"
    secret.mkdir()
    (secret / "gradebook.db").write_text("secret")
    probe = (
        "import os, socket, json, sys\n"
        "r = {'uid': os.getuid(), 'gid': os.getgid(), 'cwd': os.getcwd()}\n"
        f"r['course'] = os.path.exists({str(secret)!r})\n"
        "open('scratch.txt', 'w').write('ok'); r['scratch'] = open('scratch.txt').read()\n"
        "try:\n    open('/usr/evil', 'w'); r['rootfs'] = 'writable'\n"
        "except OSError:\n    r['rootfs'] = 'read-only'\n"
        "r['ifaces'] = sorted(n for _, n in socket.if_nameindex())\n"
        "print(json.dumps(r))\n"
    )
    result = sandbox.run(
        [sys.executable, "-I", "-c", probe],
        mounts=[],
        hide=[secret],
        limits=Limits(),
        env={"PATH": "/usr/bin:/bin", "HOME": "/home/student"},
        progress_fd_arg=False,
    )
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data == {
        "uid": 65534,
        "gid": 65534,
        "cwd": "/home/student",
        "course": False,
        "scratch": "ok",
        "rootfs": "read-only",
        "ifaces": ["lo"],
    }


def test_source_parsing_finds_points_pairs_and_strips_hidden_tests():
    nb = classroom.mini_source()
    text = nb.cells[3].source
    assert source.check_calls(text) == [
        ("sigmoid", "visible"),
        ("sigmoid", "random"),
        ("sigmoid", "extreme"),
    ]
    stripped = source.strip_hidden(text)
    assert source.check_calls(stripped) == [("sigmoid", "visible")]
    assert "random" not in stripped


def test_cli_help_lists_every_step(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for step in ("release", "collect", "autograde", "feedback", "export", "report", "demo"):
        assert step in out


@needs_sandbox
def test_collect_command_names_each_problem(graded, capsys):
    course, aid = graded["course"], graded["aid"]
    assert cli.main(["--course", str(course.root), "collect", aid]) == 0
    lines = {line.split(":")[0].split()[-1]: line for line in capsys.readouterr().out.splitlines()}
    assert lines["correct"].endswith(": ok")
    assert "empty" in lines["empty_file"]
    assert "not a valid notebook" in lines["malformed"]
    assert "no submission" in lines["wrong_assignment"]
    assert "was named my_copy.ipynb" in lines["misnamed_notebook"]


# ----------------------------------------------------------------------------------------------
# the second round of attacks (issue 12)
# ----------------------------------------------------------------------------------------------


@needs_sandbox
def test_attacks_leave_no_trace_in_autograded_or_feedback(graded):
    course, aid = graded["course"], graded["aid"]
    for name, expect in graded["expect"].items():
        texts = [
            (course.autograded / name / aid / f"{aid}.ipynb").read_text(),
            (course.feedback / name / aid / f"{aid}.html").read_text(),
        ]
        for text in texts:
            for phrase in expect.get("absent", []):
                assert phrase not in text, (name, phrase)


@needs_sandbox
def test_feedback_loads_nothing_and_grader_notes_are_the_graders(graded):
    course, aid = graded["course"], graded["aid"]
    for page in course.feedback.rglob("*.html"):
        text = page.read_text()
        assert "Content-Security-Policy" in text and "default-src 'none'" in text
        assert 'src="http' not in text and "src='http" not in text, page
    page = (course.feedback / "script_injection" / aid / f"{aid}.html").read_text()
    assert "FORGED full marks" in page  # the student's cell is shown, as the student's
    notes = [part.split("</div>")[0] for part in page.split('<div class="notes">')[1:]]
    assert all("FORGED" not in n for n in notes)
    nb = json.loads((course.autograded / "script_injection" / aid / f"{aid}.ipynb").read_text())
    forged = ["".join(c["source"]) for c in nb["cells"] if "FORGED" in "".join(c["source"])]
    assert forged and all(text.startswith("*(written by the student") for text in forged)


@needs_sandbox
def test_the_watchdog_keeps_its_own_clock(graded):
    """Forged 'cell started' events do not extend a cell's time: the submission ends within
    a few cell limits, not after its 40 s of forging (or the total limit)."""
    g = graded["graded"]["forged_progress"]
    assert g.seconds < 2 * (LIMITS.cell_seconds + LIMITS.grace_seconds) + 20, g.seconds


@needs_sandbox
def test_resources_are_bounded_per_sandbox_and_said_once(graded):
    course, aid = graded["course"], graded["aid"]
    said = [line for line in graded["log"] if "sandbox resources" in line]
    assert len(said) == 1, said
    data = json.loads((course.autograded / "memory_children" / aid / "results.json").read_text())
    if data["resources"].startswith("cgroup"):
        assert data["sandbox_peak_bytes"] <= LIMITS.memory_bytes
    else:
        assert "per-process limits only" in data["resources"]
    assert html.escape(data["resources"]) in report.write(course, aid).read_text()
    cmd = sandbox.build_command(
        ["true"], mounts=[], hide=[], workdir="/home/student", limits=LIMITS, env={}
    )
    if sandbox.disable_userns_supported():
        assert "--disable-userns" in cmd
    for i, arg in enumerate(cmd):
        if arg == "--tmpfs":
            assert "--size" in cmd[max(0, i - 4) : i], cmd[i + 1]


@needs_sandbox
def test_a_regrade_replaces_an_older_score_and_notebook(tmp_path):
    """A submission that can no longer be graded ends in a zero with its reason, replacing
    the older score and autograded notebook (never a stale result)."""
    aid = classroom.make_course(tmp_path)
    course = Course(tmp_path, limits=LIMITS)
    folder = tmp_path / "submitted" / "stale" / aid
    folder.mkdir(parents=True)
    notebook = folder / f"{aid}.ipynb"
    notebook.write_text(json.dumps(classroom.solved(course.source_notebook(aid)), indent=1))
    pipeline.autograde(course, aid, jobs=1, log=lambda *a: None)
    first = _scores(course, aid)["stale"]
    graded_nb = course.autograded / "stale" / aid / f"{aid}.ipynb"
    stubs = graded_nb.read_text().count("NotImplementedError")  # the student's answers
    assert sum(v or 0 for v in first.values()) > 0
    notebook.write_bytes(b'{"cells": [' + b"[" * 100_000)
    (g,) = pipeline.autograde(course, aid, jobs=1, log=lambda *a: None)
    assert g.score == 0 and "nested too deeply" in g.problem
    assert sum(v or 0 for v in _scores(course, aid)["stale"].values()) == 0
    autograded = graded_nb.read_text()
    assert "nested too deeply" in autograded
    assert autograded.count("NotImplementedError") > stubs  # the released stubs, not answers
    assert [p.name for p in feedback.write(course, aid)] == [f"{aid}.html"]


def test_the_protocol_imports_nothing_from_the_course():
    import ast

    from rnnscratch.exercises import protocol

    tree = ast.parse(Path(protocol.__file__).read_text())
    imported = {
        (n.module if isinstance(n, ast.ImportFrom) else a.name).split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in n.names
    }
    assert imported <= set(sys.stdlib_module_names) | {"numpy", "torch"}, imported


def test_hostile_npz_files_are_refused_before_allocating(tmp_path):
    import io
    import zipfile

    import numpy as np

    from rnnscratch.exercises import protocol

    def npy(shape, payload):
        head = np.lib.format.header_data_from_array_1_0(np.zeros(0))
        head["shape"] = shape
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, head)
        return buf.getvalue() + payload

    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("a0.npy", npy((2**20,), bytes(2**23)))
    liar = tmp_path / "liar.npz"
    with zipfile.ZipFile(liar, "w") as z:
        z.writestr("a0.npy", npy((10**12,), bytes(80)))
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    link = tmp_path / "link.npz"
    link.symlink_to(bomb)
    with pytest.raises(protocol.PlainError, match="compressed|more data than"):
        protocol.read_npz(bomb)
    with pytest.raises(protocol.PlainError, match="does not match"):
        protocol.read_npz(liar)
    for path in (fifo, link):
        with pytest.raises(OSError):
            protocol.read_npz(path)  # neither blocks nor follows
    good = tmp_path / "good.npz"
    protocol.write_npz(good, {"a": np.arange(6.0).reshape(2, 3)})
    np.testing.assert_array_equal(protocol.read_npz(good)["a"], np.arange(6.0).reshape(2, 3))


def test_the_outputs_pipe_accepts_only_expected_bounded_files():
    frames = sandbox._Frames({"f__visible.npz"}, file_cap=100, total_cap=1000)
    frames.feed(b"f__visible.npz 3\nabc")
    assert frames.files == {"f__visible.npz": b"abc"} and frames.refused is None
    frames.feed(b"g__visible.npz 3\nabc")
    assert "unexpected" in frames.refused and "g__visible.npz" not in frames.files
    big = sandbox._Frames({"f__visible.npz"}, file_cap=100, total_cap=1000)
    big.feed(b"f__visible.npz 101\n" + b"x" * 101)
    assert big.refused and not big.files


@needs_sandbox
def test_the_sandbox_starts_from_a_venv_inside_a_course_under_a_hidden_root(tmp_path):
    """Issue 10: the course root holding .venv under /tmp or /home (here: pytest's tmp under
    /tmp, with a space) -- every directory down to the venv is created traversable."""
    import sysconfig

    root = tmp_path / "my course"
    venv = root / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    purelib = sysconfig.get_paths()["purelib"]
    (site / "course.pth").write_text(f"import site; site.addsitedir({purelib!r})\n")
    probe = (
        "from pathlib import Path; from rnnscratch.grading import sandbox; "
        f"print(sandbox.selftest([Path({str(root)!r})]))"
    )
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, cwd=root
    )
    assert out.stdout.strip().splitlines()[-1:] == ["None"], out.stdout + out.stderr
