"""The package's layout is its architecture: imports only run down the map in rnnscratch/__init__.

Every module of `autograder/src/rnnscratch/` is parsed with `ast` (no import runs) and each import
of the course package, at module level or inside a function, is checked against `ALLOWED`. A
failure names the file, the line and the arrow that runs back up. A string constant that is a
dotted module path of the course (a module imported by name with importlib, such as the grader's
harness) counts as an import. The same checker is fed a small
fake package that breaks each kind of rule, to show it can fail.
"""

import ast
import re
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder" / "src" / "rnnscratch"

#: the helpers at the bottom of the house, importable from every room (they import only each other)
BASE = ("rnnscratch", "rnnscratch.checks", "rnnscratch.tolerances", "rnnscratch.seed",
        "rnnscratch.nbmeta")  # fmt: skip
#: the exercises' public interface and grading protocol: all that the grader may import of them
EXERCISE_PROTOCOL = (
    "rnnscratch.exercises",
    "rnnscratch.exercises.harness",
    "rnnscratch.exercises.protocol",
    "rnnscratch.exercises.release",
)
#: figure helpers that import nothing from the course, so experiments may draw with them
FIGURES = ("rnnscratch.booktools.plots", "rnnscratch.booktools.diagrams.*")

#: room -> what it may import: a name ending in ".*" is that package and everything below it,
#: any other name is that one module. A module belongs to the most specific room it is inside.
ALLOWED = {
    "base": BASE,
    "rnnscratch.models": ("rnnscratch.models.*",),
    "rnnscratch.oracle": ("rnnscratch.oracle.*", "rnnscratch.models.*", *BASE),
    "rnnscratch.experiments": (
        "rnnscratch.experiments.*",
        "rnnscratch.models.*",
        "rnnscratch.oracle.*",
        *FIGURES,
        *BASE,
    ),
    "rnnscratch.booktools": ("rnnscratch.booktools.*", *BASE),
    "rnnscratch.booktools.plots": BASE,
    "rnnscratch.booktools.diagrams": ("rnnscratch.booktools.diagrams.*", *BASE),
    "rnnscratch.exercises": (
        "rnnscratch.exercises.*",
        "rnnscratch.models.*",
        "rnnscratch.oracle.*",
        *BASE,
    ),
    "rnnscratch.grading": ("rnnscratch.grading.*", *EXERCISE_PROTOCOL, *BASE),
    "rnnscratch.bench": ("rnnscratch.*",),  # the top floor: measures everything
}
DOTTED = re.compile(r"rnnscratch(\.\w+)+")
#: what the reference maths may import from outside the course (torch only for the converters)
MODELS_THIRD_PARTY = {"numpy", "torch"}


def _inside(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _may(module: str, entry: str) -> bool:
    return _inside(module, entry[:-2]) if entry.endswith(".*") else module == entry


def room_of(module: str) -> str:
    """The most specific key of ALLOWED that `module` lives in ("base" for the bottom helpers)."""
    if module in BASE:
        return "base"
    rooms = [r for r in ALLOWED if r != "base" and _inside(module, r)]
    if not rooms:
        raise KeyError(f"{module} is in no room of ALLOWED: add it to the map")
    return max(rooms, key=len)


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, package: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    name = module_name(path, package)
    is_pkg = path.name == "__init__.py"
    here = name.split(".") if is_pkg else name.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:  # `from pkg import sub` imports the submodule pkg.sub
                sub = f"{mod}.{alias.name}"
                is_module = (package.parent / Path(*sub.split("."))).with_suffix(".py").is_file()
                is_package = (package.parent / Path(*sub.split(".")) / "__init__.py").is_file()
                out.append((node.lineno, sub if is_module or is_package else mod))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if DOTTED.fullmatch(node.value):  # a module imported by name (importlib)
                out.append((node.lineno, node.value))
    return out


def violations(package: Path) -> list[str]:
    """Every import that runs against the map, as 'file:line: a -> b (room may import ...)'."""
    found = []
    for path in sorted(package.rglob("*.py")):
        src = module_name(path, package)
        room = room_of(src)
        for line, target in imports(path, package):
            where = f"{path.relative_to(package.parent)}:{line}"
            top = target.split(".")[0]
            if top != "rnnscratch":
                if room == "rnnscratch.models" and top not in MODELS_THIRD_PARTY:
                    if top not in sys.stdlib_module_names:
                        found.append(f"{where}: {src} -> {target} (models use numpy only)")
                continue
            if target == src or any(_may(target, ok) for ok in ALLOWED[room]):
                continue
            found.append(f"{where}: {src} -> {target} ({room} may import {ALLOWED[room]})")
    return found


def test_no_import_runs_back_up():
    found = violations(PACKAGE)
    assert not found, "imports against the layering in rnnscratch/__init__.py:\n" + "\n".join(found)


def test_every_module_has_a_room():
    for path in PACKAGE.rglob("*.py"):
        room_of(module_name(path, PACKAGE))  # raises KeyError for a module outside the map


def test_no_module_is_named_after_a_standard_library_module():
    clashes = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if any(part in sys.stdlib_module_names for part in p.relative_to(PACKAGE).parts[:-1])
        or p.stem in sys.stdlib_module_names
    ]
    assert not clashes, f"modules that shadow the standard library: {clashes}"


def test_every_room_says_what_it_may_import():
    for init in PACKAGE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert doc, f"{init.relative_to(PACKAGE)} has no docstring"


def _fake_package(root: Path, files: dict[str, str]) -> Path:
    package = root / "rnnscratch"
    for rel, text in {"__init__.py": "", **files}.items():
        path = package / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(package).parents:
            (package / parent / "__init__.py").touch()
        path.write_text(text)
    return package


@pytest.mark.parametrize(
    ("rel", "text", "arrow"),
    [
        ("models/lstm.py", "from rnnscratch.grading import pipeline\n", "-> rnnscratch.grading"),
        ("models/lstm.py", "import matplotlib.pyplot as plt\n", "models use numpy only"),
        ("models/lstm.py", "from rnnscratch.checks import assert_close\n", "rnnscratch.checks"),
        ("oracle/rnn.py", "from rnnscratch.experiments.train import train\n", "experiments"),
        ("exercises/spec.py", "def f():\n    from rnnscratch.grading import judge\n", "grading"),
        ("grading/plan.py", "from rnnscratch.models import lstm\n", "rnnscratch.models.lstm"),
        ("grading/plan.py", "from rnnscratch.exercises.spec import Spec\n", "exercises.spec"),
        ("booktools/book.py", "from ..grading.pipeline import run\n", "rnnscratch.grading"),
        ("booktools/plots.py", "from rnnscratch.experiments import train\n", "experiments"),
        ("experiments/train.py", "from rnnscratch import exercises\n", "rnnscratch.exercises"),
        ("checks.py", "from rnnscratch.models import rnn\n", "rnnscratch.models"),
        ("grading/plan.py", 'HARNESS = "rnnscratch.exercises.spec"\n', "exercises.spec"),
        ("booktools/book.py", "from rnnscratch.experiments import train\n", "experiments"),
    ],
)
def test_a_backward_arrow_is_caught(tmp_path, rel, text, arrow):
    package = _fake_package(
        tmp_path,
        {
            "models/lstm.py": "",
            "models/rnn.py": "",
            "oracle/rnn.py": "",
            "experiments/train.py": "",
            "exercises/spec.py": "",
            "grading/plan.py": "",
            "grading/judge.py": "",
            "grading/pipeline.py": "",
            "booktools/book.py": "",
            "booktools/plots.py": "",
            "checks.py": "",
            rel: text,
        },
    )
    found = violations(package)
    assert len(found) == 1 and arrow in found[0], found


def test_downward_arrows_pass(tmp_path):
    package = _fake_package(
        tmp_path,
        {
            "tolerances.py": "",
            "checks.py": "from rnnscratch.tolerances import FLOAT64\n",
            "models/rnn.py": "import numpy as np\n",
            "models/lstm.py": "from .rnn import sigmoid\n",
            "oracle/rnn.py": "import torch\nfrom rnnscratch.models import rnn\n",
            "experiments/train.py": "from rnnscratch.booktools import plots\n",
            "booktools/plots.py": "import matplotlib\n",
            "exercises/spec.py": "from rnnscratch.oracle import rnn\n",
            "exercises/hints.py": "from rnnscratch.checks import CheckError\n",
            "exercises/harness.py": "from rnnscratch.exercises.spec import Spec\n",
            "grading/plan.py": "from rnnscratch.exercises import harness, MISTAKES\n",
            "grading/judge.py": "from rnnscratch import ROOT\n",
            "bench/lstm.py": "from rnnscratch.grading import plan\n",
        },
    )
    assert violations(package) == []
