"""LSTM forward speed: per-gate Python loop vs one fused matmul (numpy) vs torch.nn.LSTM (CPU).

`python -m rnnscratch.bench lstm [--repeat N] [--quick]` prints one row per (T, B, H) and then
the ratio fused-numpy / torch.nn.LSTM at B=64, T=100, H=128 (target: at most 3).
"""

import argparse

from rnnscratch.experiments.timing import lstm_speed_table

#: (T, B, H) configurations of the table; the last one is the headline configuration.
CONFIGS = [(25, 1, 32), (25, 16, 64), (100, 1, 128), (100, 16, 64), (50, 64, 256), (100, 64, 128)]
HEADLINE = (100, 64, 128)
TARGET_RATIO = 3.0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rnnscratch.bench lstm")
    parser.add_argument("--repeat", type=int, default=5, help="timed repeats (best counts)")
    parser.add_argument("--quick", action="store_true", help="only the headline configuration")
    args = parser.parse_args(argv or [])
    configs = [HEADLINE] if args.quick else CONFIGS
    print(f"LSTM forward, best of {args.repeat} runs, numpy's BLAS and torch on one thread each;")
    print("numpy fused and torch in float32, the per-gate loop in float64 (the reference code).")
    print("Times in milliseconds.")
    rows = lstm_speed_table(configs, repeat=args.repeat)
    print(f"{'T':>5} {'B':>4} {'H':>5} {'loop':>9} {'fused':>9} {'torch':>9} {'fused/torch':>12}")
    for r in rows:
        print(
            f"{r['T']:5d} {r['B']:4d} {r['H']:5d} {r['loop'] * 1e3:9.2f} {r['fused'] * 1e3:9.2f} "
            f"{r['torch'] * 1e3:9.2f} {r['fused/torch']:12.2f}"
        )
    head = next(r for r in rows if (r["T"], r["B"], r["H"]) == HEADLINE)
    verdict = "within" if head["fused/torch"] <= TARGET_RATIO else "NOT within"
    print(
        f"fused numpy / torch.nn.LSTM at B=64, T=100, H=128: {head['fused/torch']:.2f}x "
        f"({verdict} the {TARGET_RATIO:g}x target)"
    )


if __name__ == "__main__":
    main()
