"""examples/ddp_digits.py runs briefly on 2 processes both ways: through ember's launcher and through mpiexec."""
import os

import pytest

from .launch import needs_mpi, run_ranks

pytestmark = needs_mpi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "examples", "ddp_digits.py")


@pytest.mark.parametrize("launcher", [True, False], ids=["launcher", "mpiexec"])
def test_ddp_digits_runs_on_two_processes(launcher):
    done = run_ranks(SCRIPT, 2, "--epochs", "2", "--max-steps", "4", launcher=launcher, timeout=240,
                     env={"OMP_NUM_THREADS": "1"})
    out = done.stdout
    assert done.returncode == 0, out
    assert "2 processes, 674 of 1347 training digits each per epoch" in out, out
    assert "final test accuracy" in out and "after 4 steps on 2 processes" in out, out
    assert out.count("final test accuracy") == 1, out  # rank 0 alone reports
