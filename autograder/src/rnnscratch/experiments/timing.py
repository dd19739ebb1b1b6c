"""Wall-clock timing for the efficiency page and `make bench`: one function, used by both.

`best_time` reports the fastest of several repeats (the least disturbed by other processes on a
shared machine). `lstm_speeds` times three LSTM forward passes on the same data and weights:
the per-gate Python loop (`lstm.lstm_forward`, float64 like all reference code), one fused
matmul per step (`lstm.lstm_forward_fused`) and `torch.nn.LSTM`, the last two in `dtype`.
By default numpy's BLAS and torch both run on one thread (`threads=1`): a fair comparison, and
stable on a busy machine, where two spinning threads per tiny matmul can cost 10x.
"""

import contextlib
import ctypes
import time

import numpy as np

from rnnscratch.models.lstm import lstm_forward, lstm_forward_fused
from rnnscratch.models.params import init_lstm_params, lstm_params_to_torch

IMPLEMENTATIONS = ("loop", "fused", "torch")


def best_time(fn, repeat=5, warmup=1):
    """Seconds for one call of `fn()`: the minimum over `repeat` timed calls after `warmup`.

    fn: callable with no arguments
    repeat: int  timed calls; warmup: int  untimed calls first (caches, lazy initialisation)
    returns float seconds
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _openblas():
    """numpy's bundled OpenBLAS as a ctypes library, or None if it cannot be found."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line})
        lib = ctypes.CDLL(paths[0])
        return lib.scipy_openblas_get_num_threads64_, lib.scipy_openblas_set_num_threads64_
    except (OSError, IndexError, AttributeError):
        return None


@contextlib.contextmanager
def limit_threads(n):
    """Run the block with numpy's BLAS (when it is OpenBLAS) and torch on `n` threads each."""
    import torch

    blas = _openblas()
    old_torch = torch.get_num_threads()
    old_blas = blas[0]() if blas else None
    torch.set_num_threads(n)
    if blas:
        blas[1](n)
    try:
        yield
    finally:
        torch.set_num_threads(old_torch)
        if blas:
            blas[1](old_blas)


def lstm_speeds(
    T, B, H, D=None, repeat=3, dtype="float32", implementations=IMPLEMENTATIONS, threads=1
):
    """Time one LSTM forward pass three ways on the same inputs and weights.

    T: int steps, B: int batch, H: int hidden size, D: int input size (default H)
    repeat: int  timed repeats per implementation (the best counts)
    dtype: "float32" or "float64" for the fused numpy and torch passes. The loop is the
        float64 reference (its sigmoid computes in float64) whatever `dtype` says, so compare
        the loop with the others only at dtype="float64".
    implementations: which of "loop", "fused", "torch" to time
    threads: int or None  threads for numpy's BLAS and torch (None: leave the defaults)
    returns dict name -> seconds per forward pass
    """
    import torch

    D = H if D is None else D
    rng = np.random.default_rng(0)
    p = init_lstm_params(D, H, rng)
    xs = rng.normal(size=(T, B, D))
    h0 = np.zeros((B, H))
    packed = {k: v.numpy().astype(dtype) for k, v in lstm_params_to_torch(p).items()}
    xs_d, h0_d = xs.astype(dtype), h0.astype(dtype)
    module = torch.nn.LSTM(D, H, dtype=getattr(torch, dtype))
    module.load_state_dict({k: torch.from_numpy(v) for k, v in packed.items()})
    xt, ht = torch.from_numpy(xs_d), torch.from_numpy(h0_d)[None]

    def run_torch():
        with torch.no_grad():
            module(xt, (ht, ht))

    runs = {
        "loop": lambda: lstm_forward(xs, h0, h0, p),
        "fused": lambda: lstm_forward_fused(
            xs_d,
            h0_d,
            h0_d,
            packed["weight_ih_l0"],
            packed["weight_hh_l0"],
            packed["bias_ih_l0"],
            packed["bias_hh_l0"],
        ),
        "torch": run_torch,
    }
    with limit_threads(threads) if threads else contextlib.nullcontext():
        return {name: best_time(runs[name], repeat=repeat) for name in implementations}


def lstm_speed_table(
    configs, repeat=3, dtype="float32", print_fn=None, implementations=IMPLEMENTATIONS
):
    """`lstm_speeds` for each (T, B, H) in `configs`.

    configs: list of (T, B, H) tuples
    dtype: as in `lstm_speeds`; implementations: which of "loop", "fused", "torch" to time
    print_fn: callable or None  called with a progress line after each configuration
    returns list of dicts with keys T, B, H, one key per implementation (seconds), and
        "fused/torch" (ratio) when both were timed
    """
    rows = []
    for T, B, H in configs:
        times = lstm_speeds(T, B, H, repeat=repeat, dtype=dtype, implementations=implementations)
        row = {"T": T, "B": B, "H": H, **times}
        if "fused" in row and "torch" in row:
            row["fused/torch"] = row["fused"] / row["torch"]
        rows.append(row)
        if print_fn is not None:
            timed = "  ".join(f"{name} {t * 1e3:8.2f} ms" for name, t in times.items())
            print_fn(f"T={T:4d} B={B:3d} H={H:4d} {dtype}  {timed}")
    return rows


def gru_lstm_step_times(T, B, H, D=None, repeat=3, dtype="float32", threads=1):
    """Seconds per time step of `torch.nn.GRU` and `torch.nn.LSTM` of the same sizes.

    Times the forward pass alone and forward plus backward (the sum of the outputs as the loss),
    on the same random inputs, each the best of `repeat`, divided by T.

    T: int steps, B: int batch, H: int hidden size, D: int input size (default H)
    dtype: "float32" or "float64"; threads: int or None as in `lstm_speeds`
    returns dict with keys "GRU forward", "LSTM forward", "GRU forward+backward",
        "LSTM forward+backward" -> seconds per step
    """
    import torch

    D = H if D is None else D
    torch_dtype = getattr(torch, dtype)
    generator = torch.Generator().manual_seed(0)
    xs = torch.randn(T, B, D, generator=generator, dtype=torch_dtype)
    times = {}
    with limit_threads(threads) if threads else contextlib.nullcontext():
        for name, cls in (("GRU", torch.nn.GRU), ("LSTM", torch.nn.LSTM)):
            torch.manual_seed(0)
            module = cls(D, H, dtype=torch_dtype)

            def forward(module=module):
                with torch.no_grad():
                    module(xs)

            def forward_backward(module=module):
                module.zero_grad()
                module(xs)[0].sum().backward()

            times[f"{name} forward"] = best_time(forward, repeat=repeat) / T
            times[f"{name} forward+backward"] = best_time(forward_backward, repeat=repeat) / T
    return times
