"""python -m ember.distributed.run (torchrun's flags and environment) and plain mpiexec."""
import os
import subprocess
import sys

from .launch import HERE, ROOT, needs_mpi, run_ranks

pytestmark = needs_mpi


def test_launcher_sets_torchruns_environment_and_passes_args_and_status():
    cmd = [sys.executable, "-m", "ember.distributed.run", "--nproc_per_node", "2", "--standalone", "--nnodes", "1",
           "--master-port", "29777", os.path.join(HERE, "workers", "env.py"), "5", "--lr", "0.1"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("EMBER_TEST_DEVICE", None)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 5, out.stdout + out.stderr
    lines = sorted(line.split()[1:] for line in out.stdout.splitlines() if line.startswith("ENV"))
    assert lines == [[str(r), "2", str(r), str(r), "2", "2", "127.0.0.1", "29777", "1.0", "True", "True", "--lr",
                      "0.1"] for r in range(2)], out.stdout


def test_plain_mpiexec_takes_mpis_rank():
    proc = run_ranks("env.py", 2, "0", launcher=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    lines = sorted(line.split()[1:4] for line in proc.stdout.splitlines() if line.startswith("ENV"))
    assert lines == [["0", "2", "-"], ["1", "2", "-"]], proc.stdout


def test_several_nodes_are_sent_to_mpiexec():
    out = subprocess.run([sys.executable, "-m", "ember.distributed.run", "--nnodes", "2", "x.py"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode != 0 and "use your MPI cluster's mpiexec" in out.stderr
