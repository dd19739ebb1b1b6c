"""Book build timings: clean build, rebuild with nothing changed, and each page's execution."""

import shutil
import time

from rnnscratch.booktools import book


def main(argv=None) -> None:
    shutil.rmtree(book.BUILD, ignore_errors=True)
    start = time.perf_counter()
    book.build()
    clean = time.perf_counter() - start
    start = time.perf_counter()
    book.build()
    rebuild = time.perf_counter() - start
    print()
    print(f"clean build (empty _build, every page executed): {clean:7.1f} s")
    print(f"rebuild with nothing changed (cached execution): {rebuild:7.1f} s")


if __name__ == "__main__":
    main()
