"""PyTorch's DDP tutorial program, ranks started by torch.multiprocessing.spawn (no launcher, no mpiexec): it runs
unchanged on ember (`python -m ember.run`, the torch -> ember alias) and prints PyTorch's final parameters."""
import os
import socket
import subprocess
import sys

from .launch import ROOT, needs_mpi

PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs", "ddp_spawn_tutorial.py")


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _final(command, must_exit_cleanly=True):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1")
    env.pop("EMBER_TEST_DEVICE", None)
    out = subprocess.run(command + [PROGRAM, _port()], capture_output=True, text=True, env=env, timeout=120)
    if must_exit_cleanly:
        assert out.returncode == 0, out.stdout + out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("FINAL ")]
    assert len(lines) == 1, out.stdout + out.stderr
    return [float(v) for v in lines[0].split()[1:]]


@needs_mpi
def test_ddp_tutorial_with_mp_spawn_runs_unchanged_and_matches_pytorch():
    ours = _final([sys.executable, "-m", "ember.run"])
    # NOTE: PyTorch's gloo rank sometimes aborts at exit after printing ("terminate called without an active
    # exception", seen in CI): its printed parameters are the reference all the same
    theirs = _final([sys.executable], must_exit_cleanly=False)
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours, theirs):
        assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), (ours, theirs)
