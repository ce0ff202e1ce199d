"""Run a worker script on N ranks through ember's launcher (mpiexec underneath), for the distributed tests.

Workers print their own failures and exit non-zero (an uncaught AssertionError aborts the whole MPI job);
the tests read the exit status and the output."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

try:
    import mpi4py  # noqa: F401
    HAVE_MPI = True
except ImportError:
    HAVE_MPI = False

needs_mpi = pytest.mark.skipif(not HAVE_MPI, reason="mpi4py is not installed (pip install -e '.[test]' brings it)")


def run_ranks(script, n, *args, timeout=120, env=None, launcher=True):
    """Start `script` (a path, or a worker's file name in tests/distributed/workers) on n ranks; returns the
    CompletedProcess (stdout and stderr together). Killed (with every rank) after `timeout` seconds."""
    if not os.path.isabs(script):
        script = os.path.join(HERE, "workers", script)
    if launcher:
        cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", str(n), script, *args]
    else:
        from ember.distributed.run import find_mpiexec
        cmd = [find_mpiexec(), "-n", str(n), sys.executable, script, *args]
    full_env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
                    **(env or {}))
    full_env.pop("EMBER_TEST_DEVICE", None)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, _ = proc.communicate()
        raise AssertionError(f"{os.path.basename(script)} on {n} ranks timed out after {timeout}s:\n{out[-4000:]}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, None)
