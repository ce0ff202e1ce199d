"""torch.distributed's collectives on 2 and 3 processes (MPI through the pip wheels), against NumPy."""
import re

import pytest

from .launch import needs_mpi, run_ranks

pytestmark = needs_mpi


@pytest.mark.parametrize("n", [2, 3])
def test_every_collective_matches_numpy(n):
    proc = run_ranks("collectives.py", n)
    assert proc.returncode == 0, proc.stdout[-6000:]
    oks = re.findall(r"rank (\d+): OK (\d+) checks", proc.stdout)
    assert sorted(int(r) for r, _ in oks) == list(range(n)), proc.stdout[-3000:]
    assert all(int(c) > 500 for _, c in oks)
