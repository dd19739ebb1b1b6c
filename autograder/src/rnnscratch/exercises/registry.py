"""Which functions each assignment has (notebook order) and the Spec of every function."""

from importlib import import_module

from rnnscratch.exercises.spec import Spec

MODULES = (
    "a01_rnn_forward",
    "a02_bptt",
    "a03_lstm_gates",
    "a04_lstm_backward",
    "a05_gru",
    "a06_gru_backward",
    "a07_train",
)

ASSIGNMENTS: dict[str, list[str]] = {}
SPECS: dict[str, Spec] = {}

for _module_name in MODULES:
    try:
        _module = import_module(f"rnnscratch.exercises.{_module_name}")
    except ModuleNotFoundError as _exc:  # an assignment still being written
        if _exc.name != f"rnnscratch.exercises.{_module_name}":
            raise
        continue
    ASSIGNMENTS[_module.ASSIGNMENT] = [spec.name for spec in _module.SPECS]
    for _spec in _module.SPECS:
        if _spec.name in SPECS:  # specs, reference files and hints are keyed by function name
            raise ValueError(f"{_spec.name} is defined by two assignments ({_module.ASSIGNMENT})")
        SPECS[_spec.name] = _spec
