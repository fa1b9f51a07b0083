"""Rows per second of `staticml predict` on one process, on a local Spark (local[2]) and on a local Ray
(2 CPUs), on the same files (not a test; the tests check the outputs are the same):

    .venv/bin/python scripts/bench_engines.py MODEL_DIR DATA_FILE [MODEL_DIR DATA_FILE ...] [--cores 2]

Each engine is started once (its start-up time is printed apart) and each file is scored twice on it;
the figure is the second run (the model already shipped and loaded on the workers)."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from staticml.predict import predict_file


def rows_per_second(model: Path, data: Path, out: Path, **engine) -> float:
    started = time.perf_counter()
    rows = predict_file(model, data, out, report=lambda _line: None, force=True, **engine)
    return rows / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pairs", nargs="+", help="MODEL_DIR DATA_FILE, repeated")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    pairs = [(Path(m), Path(d)) for m, d in zip(args.pairs[::2], args.pairs[1::2])]
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        out = Path(tmp) / "scores.csv"
        for model, data in pairs:
            print(f"{model.name} on {data.name}: predict (1 process) {rows_per_second(model, data, out):.0f} rows/s", flush=True)
        started = time.perf_counter()
        from staticml import spark

        spark.session(f"local[{args.cores}]")
        print(f"spark local[{args.cores}]: started in {time.perf_counter() - started:.1f} s", flush=True)
        for model, data in pairs:
            first = rows_per_second(model, data, out, engine="spark")
            print(f"{model.name} on {data.name}: spark local[{args.cores}] {rows_per_second(model, data, out, engine='spark'):.0f} rows/s "
                  f"(first run {first:.0f}); load average {os.getloadavg()[0]:.1f}", flush=True)
        spark.session().stop()
        started = time.perf_counter()
        from staticml import ray

        ray.connect(cpus=args.cores)
        print(f"ray local ({args.cores} CPUs): started in {time.perf_counter() - started:.1f} s", flush=True)
        for model, data in pairs:
            first = rows_per_second(model, data, out, engine="ray")
            print(f"{model.name} on {data.name}: ray local {rows_per_second(model, data, out, engine='ray'):.0f} rows/s "
                  f"(first run {first:.0f}); load average {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
