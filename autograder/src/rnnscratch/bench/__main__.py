"""Run the benchmark sections: `python -m rnnscratch.bench [section ...]`."""

import importlib
import sys

from rnnscratch.bench import SECTIONS


def main(argv: list[str]) -> None:
    names = argv or SECTIONS
    for name in names:
        try:
            module = importlib.import_module(f"rnnscratch.bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"rnnscratch.bench.{name}":
                print(f"== {name}: no benchmark yet ==", flush=True)
                continue
            raise
        print(f"== {name} ==", flush=True)
        module.main([])


if __name__ == "__main__":
    main(sys.argv[1:])
