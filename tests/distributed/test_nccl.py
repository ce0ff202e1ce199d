"""The NCCL engine: end to end on one rank on the CuPy stand-in (tests/_standin/cupy/cuda/nccl.py models a
single-rank communicator); multi-rank NCCL needs several GPUs and is not run here."""
import os
import subprocess
import sys

from .launch import HERE, ROOT, needs_mpi


@needs_mpi
def test_nccl_engine_on_the_standin():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(ROOT, "tests", "_standin"), ROOT]))
    for key in ("EMBER_TEST_DEVICE", "RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(key, None)
    out = subprocess.run([sys.executable, os.path.join(HERE, "workers", "nccl_standin.py")], capture_output=True,
                         text=True, timeout=120, env=env, cwd=ROOT)
    assert out.returncode == 0 and "nccl stand-in OK" in out.stdout, out.stdout + out.stderr
