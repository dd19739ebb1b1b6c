"""The grader on Dask distributed: a LocalCluster of two worker processes grades the fixture
class of test_grading.py with exactly the local path's results, and a worker killed mid-run
loses no submission.

The class graded on the local path is shared with test_grading.py (its ``graded`` fixture puts
it in ``graded_classes``); run alone, this module grades it locally itself. The cluster run uses
a copy of the same submissions and the same course secret, so the hidden inputs are the same
and every verdict, not only every score, must match. Needs bubblewrap, like test_grading.py.
"""

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import classroom
import pytest

from rnnscratch.grading import __main__ as cli
from rnnscratch.grading import distributed, pipeline, sandbox, source
from rnnscratch.grading.course import Course
from rnnscratch.grading.gradebook import gradebook
from rnnscratch.grading.sandbox import Limits

HERE = Path(__file__).parent

pytestmark = pytest.mark.skipif(
    not sandbox.available() and os.environ.get("CI") != "true",
    reason="bubblewrap/prlimit missing (make system-deps)",
)
QUICK = ["correct", "wrong_gate", "float32", "monkeypatch", "stderr_warning", "edited_tests"]


def _copy_file(src, dst):
    """Copy a submission file as it is: the fixture class has FIFOs (and links) on purpose."""
    if stat.S_ISFIFO(os.lstat(src).st_mode):
        os.mkfifo(dst)
        return dst
    return shutil.copy2(src, dst)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local(graded_classes, tmp_path_factory):
    """The fixture class graded on the local path (``--jobs 2``), shared with test_grading.py."""
    if "local" not in graded_classes:
        root = tmp_path_factory.mktemp("course")
        aid = classroom.make_course(root)
        course = Course(root, limits=Limits(cell_seconds=15.0, grace_seconds=2.0))
        expect = classroom.build_class(root, aid, {"port": _closed_port()})
        graded = pipeline.autograde(course, aid, jobs=2, log=lambda *a: None)
        graded_classes["local"] = {
            "course": course,
            "aid": aid,
            "expect": expect,
            "graded": {g.student: g for g in graded},
        }
    return graded_classes["local"]


@pytest.fixture(scope="module")
def client(local):
    with distributed.connect(cluster="local:2", course=local["course"]) as c:
        yield c


def _copy(local, root: Path, students=None) -> Course:
    """A new course directory with the local class's source, submissions and secret."""
    src: Course = local["course"]
    shutil.copytree(src.source_dir, root / src.source)
    for d in src.submitted.iterdir():
        if students is None or d.name in students:
            shutil.copytree(d, root / "submitted" / d.name, symlinks=True, copy_function=_copy_file)
    shutil.copy(src.root / ".grading-secret", root / ".grading-secret")
    return Course(root, limits=src.limits)


def _verdicts(course: Course, aid: str) -> dict[str, dict]:
    """student -> {grade_id: (auto score, [(function, case, passed, message), ...])}."""
    out: dict[str, dict] = {}
    with gradebook(course) as gb:
        for sub in gb.assignment_submissions(aid):
            for nb in sub.notebooks:
                for g in nb.grades:
                    out.setdefault(sub.student.id, {})[g.name] = [g.auto_score]
    for student, cells in out.items():
        data = json.loads((course.autograded / student / aid / "results.json").read_text())
        for c in data["cells"]:
            pairs = [(p["name"], p["case"], p["passed"], p["message"]) for p in c["pairs"]]
            cells[c["grade_id"]].append(pairs)
    return out


@pytest.fixture(scope="module")
def on_dask(local, client, tmp_path_factory):
    course = _copy(local, tmp_path_factory.mktemp("dask-course"))
    graded = pipeline.autograde(course, local["aid"], client=client, log=lambda *a: None)
    return course, {g.student: g for g in graded}


def test_local_cluster_grades_the_fixture_class_exactly_like_the_local_path(local, on_dask):
    course, graded = on_dask
    aid = local["aid"]
    assert set(graded) == set(local["expect"])
    want, got = _verdicts(local["course"], aid), _verdicts(course, aid)
    assert set(got) == set(want)
    for student in want:
        assert got[student] == want[student], student
        mine, theirs = graded[student], local["graded"][student]
        assert (mine.score, mine.problem, mine.notes) == (
            theirs.score,
            theirs.problem,
            theirs.notes,
        )
    assert sum(g.score for g in graded.values()) > 0


def test_what_a_worker_receives_has_no_solution_hidden_test_or_secret(local):
    import pickle

    course, aid = local["course"], local["aid"]
    assignment = source.load(course.source_notebook(aid), aid)
    job = distributed.Job(
        distributed.release_of(course, assignment), "correct", b"{}", course.seed(aid, "correct")
    )
    wire = pickle.dumps(job)
    assert b"BEGIN SOLUTION" not in wire and b"BEGIN HIDDEN TESTS" not in wire
    assert course.secret().encode() not in wire
    for test in assignment.tests:
        for name, case in test.pairs[len(test.pairs) - test.hidden_pairs :]:
            assert f'check("{name}", {name}, "{case}")'.encode() not in wire

    def kept(a):
        return [(t.grade_id, t.points, t.pairs, t.hidden_pairs) for t in a.tests]

    assert kept(job.release.assignment) == kept(assignment)  # what the judging needs is there


def test_a_worker_without_a_sandbox_is_refused(client):
    def poison():
        distributed.saved = distributed.sandbox_problem
        distributed.sandbox_problem = lambda: "bubblewrap (bwrap) or prlimit is missing"

    def heal():
        distributed.sandbox_problem = distributed.saved

    client.run(poison)
    try:
        with pytest.raises(RuntimeError, match="cannot run the sandbox.*bwrap"):
            distributed.check_workers(client)
    finally:
        client.run(heal)
    assert len(distributed.check_workers(client)) == 2


def test_cluster_option_is_checked_and_plain_runs_do_not_import_dask(tmp_path, capsys):
    root = tmp_path / "course"
    root.mkdir()
    (root / "solutions").mkdir()
    status = cli.main(["--course", str(root), "autograde", "--cluster", "local", "x"])
    assert status == 2 and "local:N" in capsys.readouterr().err
    code = (
        "import sys, rnnscratch.grading.__main__, rnnscratch.grading.pipeline\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_line_grades_on_a_running_scheduler(local, client, tmp_path, capsys):
    course = _copy(local, tmp_path / "course", ["correct", "wrong_gate"])
    aid, address = local["aid"], client.scheduler.address
    argv = ["--course", str(course.root), "autograde", aid, "--scheduler", address]
    assert cli.main(argv) == 0
    assert "2 submissions graded" in capsys.readouterr().out
    assert _verdicts(course, aid) == {
        s: v for s, v in _verdicts(local["course"], aid).items() if s in ("correct", "wrong_gate")
    }


def _busy_worker(client, timeout: float = 120.0) -> str:
    """Address of a worker that has been grading one submission for a moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            time.sleep(0.5)  # well inside the submission (sandbox started)
            busy = [w for w, keys in client.processing().items() if keys]
            if busy:
                return busy[0]
        time.sleep(0.05)
    raise AssertionError("no worker ever started grading")


def test_a_worker_killed_mid_run_loses_no_submission(local, client, tmp_path):
    course = _copy(local, tmp_path / "course", QUICK)
    aid = local["aid"]
    pids = client.run(os.getpid)
    done: dict = {}
    thread = threading.Thread(
        target=lambda: done.update(
            g=pipeline.autograde(course, aid, client=client, log=lambda *a: None)
        )
    )
    thread.start()
    victim = _busy_worker(client)
    grading = list(client.processing()[victim])
    os.kill(pids[victim], signal.SIGKILL)
    thread.join(timeout=300)
    assert not thread.is_alive()
    assert grading, "the killed worker was grading"
    graded = {g.student: g for g in done["g"]}
    assert set(graded) == set(QUICK)
    want = _verdicts(local["course"], aid)
    got = _verdicts(course, aid)
    for student in QUICK:
        assert graded[student].problem is None, (student, graded[student].problem)
        assert got[student] == want[student], student
    client.wait_for_workers(2, timeout=120)  # the nanny brought the killed worker back


def die_for_correct(job):
    """A grading task that takes its worker down whenever it grades ``correct``."""
    if job.student == "correct":
        os.kill(os.getpid(), signal.SIGKILL)
    return distributed.grade_remote(job)


def test_a_submission_whose_worker_dies_twice_is_a_zero_with_the_reason(local, client, tmp_path):
    course = _copy(local, tmp_path / "course", ["correct", "wrong_gate"])
    aid = local["aid"]
    assignment = source.load(course.source_notebook(aid), aid)
    course.secret()
    results = {
        student: result()
        for student, result in distributed.grade_all(
            client, course, assignment, ["correct", "wrong_gate"], task=die_for_correct
        )
    }
    problem = results["correct"]["sub"].problem
    assert "died twice" in problem and "--student correct" in problem
    assert sum(c.score for c in results["correct"]["results"]) == 0
    assert results["wrong_gate"]["sub"].problem is None
    assert sum(c.score for c in results["wrong_gate"]["results"]) == (
        local["graded"]["wrong_gate"].score
    )
