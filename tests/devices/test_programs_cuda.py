"""The example programs and `make demo` on cuda (the CuPy stand-in), unchanged.

Each example runs as `python -m ember.run --device cuda ex.py` (torch.set_default_device('cuda') in force,
so factories and modules' parameters land on the GPU); seed 002 moves its tensors with `.cuda()` itself
once cuda is available, and seed 004 calls `.numpy()` on a tensor it creates, which PyTorch refuses on
cuda too: both run as written (seed 004 then on the CPU). The stand-in reports its transfers at exit, which shows the program ran on
the device; the training scripts must still learn.
"""
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import ember
from _device import REAL_GPU

pytestmark = pytest.mark.skipif(not ember.cuda.is_available(), reason="needs cuda (the stand-in: EMBER_TEST_DEVICE=cuda)")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
STANDIN = ROOT / "tests" / "_standin"
AS_WRITTEN = {"seed002_blitz.py", "seed004_classifier.py"}  # see the docstring
ON_THE_CPU = {"seed004_classifier.py"}  # NOTE: as written it never asks for cuda
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py"))
TIMEOUT = 240


def _env():
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    path = os.pathsep.join(p for p in (None if REAL_GPU else str(STANDIN), os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PYTHONPATH=path, EMBER_STANDIN_REPORT="1", PROGRAM_ITERATIONS="60",
                PROGRAM_EPOCHS="300", PROGRAM_STEPS="80", PYTHONIOENCODING="utf-8", **threads)


def _command(script, tmp):
    device = [] if script in AS_WRITTEN else ["--device", "cuda"]
    args = ["--checkpoint", str(tmp / "checkpoint.pt")] if script == "checkpoint_resume.py" else []
    return [sys.executable, "-m", "ember.run", *device, script, *args]


def _run(command, cwd):
    try:
        return subprocess.run(command, cwd=cwd, env=_env(), text=True, encoding="utf-8", capture_output=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(command, -9, e.stdout or "", f"[killed after {TIMEOUT}s]")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    demo_dir = tmp_path_factory.mktemp("demo")
    tmp = tmp_path_factory.mktemp("programs")
    jobs = {s: (_command(s, tmp), EXAMPLES) for s in SCRIPTS}
    jobs["demo"] = ([sys.executable, "-m", "ember.demo", "--device", "cuda", "--epochs", "1000", "--out",
                     str(demo_dir)], demo_dir)
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        results = pool.map(lambda item: _run(*item[1]), jobs.items())
        return dict(zip(jobs, results))


def _on_device(result):
    found = re.search(r"standin-counts: \{'to_device': (\d+)", result.stderr)
    return found is not None and int(found.group(1)) > 0


@pytest.mark.parametrize("script", SCRIPTS + ["demo"])
def test_runs_on_cuda(runs, script):
    r = runs[script]
    if "No module named" in r.stderr and any(m in r.stderr for m in ("sklearn", "tqdm", "matplotlib")):
        pytest.skip("a library the example needs is not installed here (GPU machines lack the test extras)")
    assert r.returncode == 0, f"{script} exited {r.returncode}:\n{r.stderr[-3000:]}"
    if script not in ON_THE_CPU and not REAL_GPU:  # NOTE: the stand-in reports its transfers at exit
        assert _on_device(r), f"{script} never used the device:\n{r.stderr[-500:]}"


@pytest.mark.parametrize("script,floor", [("digits_mlp.py", 0.95), ("digits_cnn.py", 0.97)])
def test_digits_learn_on_cuda(runs, script, floor):
    if runs[script].returncode != 0:
        pytest.skip("the run itself is reported by test_runs_on_cuda")
    final = float(runs[script].stdout.strip().splitlines()[-1].split()[-1])
    assert final >= floor, runs[script].stdout[-2000:]


def test_demo_learns_on_cuda(runs):
    if runs["demo"].returncode != 0:
        pytest.skip("the run itself is reported by test_runs_on_cuda")
    accuracies = [line for line in runs["demo"].stdout.splitlines() if line.startswith("train accuracy")]
    train_acc = float(accuracies[0].replace(",", "").split()[2])
    assert train_acc > 0.9, runs["demo"].stdout[-2000:]
