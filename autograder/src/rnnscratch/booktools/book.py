"""Build the book strictly, with an execution cache that also notices the course package.

    python -m rnnscratch.booktools.book build    # what `make book` runs

The jupyter-cache that Jupyter Book uses re-executes a page only when its code cells change.
Pages import `rnnscratch`, so we key the cache on a hash of the package source too: when the
package changes, the cache is wiped and every page runs again. Sphinx's own environment is
always rebuilt (`--all`) so warnings from an earlier failed build are never hidden.
"""

import argparse
import hashlib
import shutil
import subprocess
import sys
import time
from pathlib import Path

import rnnscratch
from rnnscratch import ROOT

BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"
HASH_FILE = BUILD / ".package-hash"
PACKAGE = Path(rnnscratch.__file__).resolve().parent  # the whole course package


def package_hash() -> str:
    """SHA-256 of every source file of the course package (names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def jupyter_book() -> str:
    return str(Path(sys.executable).with_name("jupyter-book"))


def build(clean_cache: bool = False) -> float:
    """Build `_build/html` strictly; return the wall time in seconds. Exits non-zero on failure."""
    current = package_hash()
    previous = HASH_FILE.read_text().strip() if HASH_FILE.exists() else ""
    if clean_cache or current != previous:
        if CACHE.exists():
            print("course package changed: clearing the execution cache", flush=True)
        shutil.rmtree(CACHE, ignore_errors=True)
    shutil.rmtree(BUILD / "html", ignore_errors=True)
    shutil.rmtree(BUILD / "jupyter_execute", ignore_errors=True)
    cmd = [jupyter_book(), "build", str(ROOT), "--all", "-W", "-n", "--keep-going"]
    start = time.perf_counter()
    result = subprocess.run(cmd, cwd=ROOT)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        HASH_FILE.unlink(missing_ok=True)
        sys.exit(f"book build failed after {seconds:.1f} s (exit {result.returncode})")
    BUILD.mkdir(exist_ok=True)
    HASH_FILE.write_text(current + "\n")
    print(f"book built in {seconds:.1f} s")
    print_execution_times()
    return seconds


def execution_times() -> dict[str, float]:
    """Seconds each page took to execute, read from the execution cache: {page: seconds}."""
    from jupyter_cache import get_cache

    if not CACHE.exists():
        return {}
    times = {}
    cache = get_cache(CACHE)
    for record in cache.list_cache_records():
        seconds = (record.data or {}).get("execution_seconds")
        uri = record.uri or ""
        if seconds is not None:
            times[str(Path(uri).relative_to(ROOT)) if uri.startswith(str(ROOT)) else uri] = seconds
    return times


def print_execution_times() -> None:
    times = execution_times()
    if not times:
        return
    print(f"{'page':50s} {'execution (s)':>14s}")
    for page, seconds in sorted(times.items()):
        print(f"{page:50s} {seconds:14.1f}")
    print(f"{'total':50s} {sum(times.values()):14.1f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build _build/html strictly (what `make book` runs)")
    b.add_argument("--clean-cache", action="store_true", help="re-execute every page")
    sub.add_parser("times", help="print each page's execution time from the cache")
    args = parser.parse_args(argv)
    if args.command == "build":
        build(clean_cache=args.clean_cache)
    else:
        print_execution_times()


if __name__ == "__main__":
    main()
