"""Whole PyTorch programs (the seed tutorials), run unchanged under real PyTorch and under ember.

Each script in this folder named seed*.py runs twice in a subprocess: once with the real `torch`,
once through ember_as_torch.py (ember standing in for torch). Both must exit 0. The random numbers
differ between the two libraries, so training runs are compared by their trend (the loss falls by
more than 100x under both); deterministic output (seed 002's numpy bridge and autograd example) must
print identically.
"""
import ast
import math
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "ember_as_torch.py"
SCRIPTS = sorted(p.name for p in HERE.glob("seed*.py"))
BACKENDS = ("torch", "ember")
ITERATIONS = 60  # the seeds train for 500 iterations; 60 already cut the loss by >1000x
TIMEOUT = 120


def _command(backend, script):
    path = str(HERE / script)
    return [sys.executable, path] if backend == "torch" else [sys.executable, str(RUNNER), path]


@pytest.fixture(scope="module")
def runs():
    """Run every (script, backend) pair, a few subprocesses at a time: {(script, backend): result}."""
    # NOTE: one BLAS/OpenMP thread per process: the subprocesses already share the cores, and
    # oversubscribing them (8 processes x their own thread pools) tripled the suite's time on 2 cores.
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    env = dict(os.environ, PROGRAM_ITERATIONS=str(ITERATIONS), PYTHONIOENCODING="utf-8", **threads)
    jobs = [(script, backend) for script in SCRIPTS for backend in BACKENDS]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        results = pool.map(lambda job: _run(_command(job[1], job[0]), env), jobs)
        return dict(zip(jobs, results))


def _run(command, env):
    try:
        return subprocess.run(command, cwd=HERE, env=env, text=True, encoding="utf-8", capture_output=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(command, -9, e.stdout or "", f"[killed after {TIMEOUT}s]")


def _ok(runs, script, backend):
    r = runs[script, backend]
    assert r.returncode == 0, f"{script} under {backend} exited {r.returncode}:\n{r.stderr[-3000:]}"
    return r.stdout


# --- reading what the programs print -----------------------------------------------------------------
def split_prints(stdout):
    """Group stdout lines into printed values: a multi-line `tensor(...)` repr is one item."""
    items, current, depth = [], [], 0
    for line in stdout.splitlines():
        current.append(line)
        depth += line.count("(") - line.count(")") + line.count("[") - line.count("]")
        if depth <= 0:
            items.append("\n".join(current))
            current, depth = [], 0
    if current:
        items.append("\n".join(current))
    return items


def tensor_values(text):
    """The nested list of numbers in a printed `tensor([...])` (dtype and other keywords dropped)."""
    assert text.startswith("tensor("), text
    body = text[len("tensor("):]
    depth = 0
    for i, ch in enumerate(body):
        depth += (ch == "[") - (ch == "]")
        if depth == 0 and ch in ",)":
            break
    return ast.literal_eval(body[:i].strip())


def shape_of(values):
    shape = []
    while isinstance(values, list):
        shape.append(len(values))
        values = values[0] if values else None
    return tuple(shape)


def flat(values):
    if isinstance(values, list):
        return [v for item in values for v in flat(item)]
    return [values]


def losses(stdout):
    """The `it loss` lines of a training script, in order."""
    pairs = [line.split() for line in stdout.splitlines() if line.strip()]
    assert all(len(p) == 2 for p in pairs), stdout[:500]
    assert [int(p[0]) for p in pairs] == list(range(len(pairs)))
    return [float(p[1]) for p in pairs]


# --- the tests ---------------------------------------------------------------------------------------
def test_scripts_found():
    assert {"seed000_neuron.py", "seed002_blitz.py", "seed003_tensors.py", "seed003_autograd.py"} <= set(SCRIPTS)


def test_runner_puts_ember_in_place_of_torch(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(
        "import sys\n"
        "import torch\n"
        "import torch.autograd\n"
        "from torch.autograd import Variable\n"
        "import ember\n"
        "assert torch is ember and torch.autograd is ember.autograd\n"
        "assert torch.__spec__.name == 'ember'  # ember's own module, untouched by the alias\n"
        "try:\n"
        "    import torch.no_such_module\n"
        "except ModuleNotFoundError as e:\n"
        "    print(e.name)\n"
        "print(sys.argv[1:])\n")
    r = subprocess.run([sys.executable, str(RUNNER), str(script), "--flag"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["torch.no_such_module", "['--flag']"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("script", SCRIPTS)
def test_runs(runs, script, backend):
    _ok(runs, script, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed000_neuron(runs, backend):
    items = split_prints(_ok(runs, "seed000_neuron.py", backend))
    assert len(items) == 2, items
    for text in items:
        assert re.fullmatch(r"tensor\(\[\[\d\.\d{4}\]\]\)", text), text
        (value,) = flat(tensor_values(text))
        assert 0 < value < 1  # a sigmoid output


@pytest.mark.parametrize("backend", BACKENDS)
def test_seed002_blitz(runs, backend):
    items = split_prints(_ok(runs, "seed002_blitz.py", backend))
    assert len(items) == 12, items
    x, size, x_plus_y, add, out, y_after, column = items[:7]
    assert size == "torch.Size([5, 3])"
    xv = tensor_values(x)
    assert shape_of(xv) == (5, 3) and all(0 <= v < 1 for v in flat(xv))  # torch.rand
    # x + y, torch.add(x, y), torch.add(x, y, out=result) and y.add_(x) are one and the same sum
    assert x_plus_y == add == out == y_after, (x_plus_y, add, out, y_after)
    assert shape_of(tensor_values(x_plus_y)) == (5, 3) and all(0 <= v < 2 for v in flat(tensor_values(x_plus_y)))
    assert flat(tensor_values(column)) == [row[1] for row in xv]  # x[:, 1]


def test_seed002_deterministic_output_matches_torch(runs):
    """From the numpy bridge on, seed 002 prints no random numbers: ember must print what PyTorch prints."""
    torch_items = split_prints(_ok(runs, "seed002_blitz.py", "torch"))
    ember_items = split_prints(_ok(runs, "seed002_blitz.py", "ember"))
    assert ember_items[7:] == torch_items[7:]
    assert torch_items[7:] == [
        "tensor([2., 2., 2., 2., 2.])",  # a.add_(1) shows through in b = a.numpy() ...
        "[2. 2. 2. 2. 2.]",
        "[2. 2. 2. 2. 2.]",  # ... and np.add(a, 1, out=a) in b = torch.from_numpy(a)
        "tensor([2., 2., 2., 2., 2.], dtype=torch.float64)",
        "tensor([[4.5000, 4.5000],\n        [4.5000, 4.5000]])",  # d(mean(3 (x+2)^2))/dx at x = 1
    ]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("script", ["seed003_tensors.py", "seed003_autograd.py"])
def test_seed003_loss_falls(runs, script, backend):
    values = losses(_ok(runs, script, backend))
    assert len(values) == ITERATIONS
    assert all(math.isfinite(v) and v >= 0 for v in values)
    first, middle, last = values[0], values[ITERATIONS // 2], values[-1]
    assert last < first / 100, (first, last)
    assert last < middle
    # once past the first few steps the loss falls at every step, under both libraries
    assert all(b < a for a, b in zip(values[5:], values[6:])), values
