"""Build and time `limit_proxy.c`: the machine's limit for the engine's weekly step (a proxy).

    .venv/bin/python benchmarks/limit_proxy.py [-n 65536] [--weeks 104]

Compiles the C loop with the system's gcc (-O3 -march=native -ffast-math, glibc's vector math
library for expf/logf) into a temporary shared library, runs it on n futures x weeks in this
process and prints future-weeks per CPU-second. `benchmarks/full_command.py --proxy` reports
offramp's whole command as a ratio to it, in the same run. Not a test; needs gcc.
"""

from __future__ import annotations

import argparse
import ctypes
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

SOURCE = Path(__file__).with_name("limit_proxy.c")
STATE = 40


ENGINE_PARAMETERS = 244
"""Floats of per-future inputs and per-run constants the engine reads each week on kursk-2024
(976 bytes a future, measured on its EngineInputs and Plans at 4,096 futures; its state is
another 248 bytes, the proxy's 40 floats 160)."""


def build(folder: Path, parameters: int = 0) -> ctypes.CDLL:
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise SystemExit("the limit proxy needs gcc (Debian: apt-get install gcc)")
    library = folder / "limit_proxy.so"
    # -ffast-math: glibc declares its vector expf/logf only under it (without, the loop calls
    # scalar libm and runs at ~2.4 M: no fair limit for kernels whose exp/log vectorize)
    subprocess.run([compiler, "-O3", "-march=native", "-ffast-math", "-fopenmp-simd",
                    f"-DPARAMETERS={parameters}", "-shared", "-fPIC", str(SOURCE), "-o",
                    str(library), "-lm"], check=True)
    loaded = ctypes.CDLL(str(library))
    loaded.weekly_steps.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_long,
                                    ctypes.c_int, ctypes.c_uint64]
    return loaded


def future_weeks_per_cpu_second(futures: int = 65_536, weeks: int = 104, repeats: int = 3,
                                parameters: int = 0) -> float:
    """The proxy's best rate of `repeats` timings (CPU seconds of this process); `parameters`:
    floats more read per future each week (`ENGINE_PARAMETERS`: the engine's)."""
    with tempfile.TemporaryDirectory() as folder:
        library = build(Path(folder), parameters)
        rng = np.random.default_rng(0)
        state = rng.random((STATE, futures), dtype=np.float32)
        read = rng.random((max(parameters, 1), futures), dtype=np.float32)
        best = np.inf
        for repeat in range(repeats):
            started = time.process_time()
            library.weekly_steps(state.ctypes.data, read.ctypes.data, futures, weeks, repeat)
            best = min(best, time.process_time() - started)
        if not np.isfinite(state).all():
            raise SystemExit("the proxy's state overflowed: its arithmetic was not all done")
    return futures * weeks / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--futures", type=int, default=65_536)
    parser.add_argument("--weeks", type=int, default=104)
    args = parser.parse_args()
    for label, parameters in (
            ("the engine's op count", 0),
            (f"the same, and the engine's {ENGINE_PARAMETERS} parameters read a week",
             ENGINE_PARAMETERS)):
        rate = future_weeks_per_cpu_second(args.futures, args.weeks, parameters=parameters)
        print(f"limit proxy ({label}): {rate / 1e6:.1f} M future-weeks per CPU-second on "
              f"{args.futures:,} futures x {args.weeks} weeks")


if __name__ == "__main__":
    main()
