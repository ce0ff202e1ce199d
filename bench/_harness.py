"""What every bench script shares: timing both libraries in turns, describing the machine, tables.

Workloads are written once, as functions of the library (`make(lib)` with lib = torch or ember),
so the very same code runs under PyTorch and under ember in one process.
"""
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # `python bench/x.py` from the repo root finds ./ember

import numpy  # noqa: E402

import ember  # noqa: E402
import torch  # noqa: E402

LIBS = (torch, ember)


def time_pair(fns, calls, repeats, warmup):
    """Median over `repeats` of the mean seconds per call of `calls` back-to-back calls, for each fn.

    NOTE: the libraries take turns repeat by repeat, so a change in machine load during the run
    hits both alike and the ratio stays meaningful on a shared machine.
    """
    for fn in fns:
        for _ in range(warmup):
            fn()
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            out.append((time.perf_counter() - start) / calls)
    return [statistics.median(s) for s in samples]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _load():
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine():
    return (f"{cpu_model()}, {os.cpu_count()} logical cores; {platform.system()} {platform.machine()}; "
            f"Python {platform.python_version()}, NumPy {numpy.__version__}, PyTorch {torch.__version__} "
            f"({torch.get_num_threads()} threads), ember {ember.__version__}; load average {_load()}")


def table(header, rows):
    """A markdown table: header is a list of column titles, rows lists of cells."""
    align = ["---"] + ["---:"] * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
