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
DEVICES = {"torch": "cpu", "ember": "cpu"}  # where each library's workload tensors live (--device)


def set_device(device):
    """Put the workloads on `device`: ember there; PyTorch there too where it can (a CPU-only PyTorch
    stays on the CPU, which the report says). Factories and modules follow via set_default_device."""
    DEVICES["ember"] = device
    DEVICES["torch"] = device if device == "cpu" or torch.cuda.is_available() else "cpu"
    for lib in LIBS:
        where = DEVICES[lib.__name__]
        lib.set_default_device(None if where == "cpu" else where)


def from_numpy(lib, array):
    """lib.from_numpy(array) on the library's bench device."""
    t = lib.from_numpy(array)
    where = DEVICES[lib.__name__]
    return t if where == "cpu" else t.to(where)


def _sync(lib):
    """Wait for the device's queued work, so a timing covers it (GPUs run asynchronously)."""
    if DEVICES[lib.__name__] != "cpu":
        lib.cuda.synchronize()


def time_pair(fns, calls, repeats, warmup):
    """Median over `repeats` of the mean seconds per call of `calls` back-to-back calls, for each fn.

    NOTE: the libraries take turns repeat by repeat, so a change in machine load during the run
    hits both alike and the ratio stays meaningful on a shared machine.
    """
    for fn, lib in zip(fns, LIBS):
        for _ in range(warmup):
            fn()
        _sync(lib)
    samples = [[] for _ in fns]
    for _ in range(repeats):
        for fn, lib, out in zip(fns, LIBS, samples):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            _sync(lib)
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
