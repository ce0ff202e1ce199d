"""torch.distributed's errors: before init, mismatched calls across ranks, timeouts, failing ranks."""
import time

import pytest

import ember as torch
import ember.distributed as dist

from .launch import needs_mpi, run_ranks


def test_collectives_before_init_raise_pytorchs_error():
    text = "Default process group has not been initialized, please make sure to call init_process_group."
    for call in (lambda: dist.all_reduce(torch.ones(2)), dist.get_rank, dist.get_world_size, dist.barrier,
                 lambda: dist.broadcast(torch.ones(2), 0), lambda: dist.all_gather_object([None], 1),
                 lambda: dist.new_group([0])):
        with pytest.raises(ValueError, match="^" + text.replace(".", r"\.") + "$"):
            call()
    assert not dist.is_initialized() and dist.group.WORLD is None


def test_public_types_as_pytorchs():
    assert repr(dist.ReduceOp.SUM) == "<RedOpType.SUM: 0>" and str(dist.ReduceOp.MAX) == "RedOpType.MAX"
    assert [int(getattr(dist.ReduceOp, n)) for n in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR",
                                                     "BXOR", "PREMUL_SUM")] == list(range(9))
    assert dist.ReduceOp(dist.ReduceOp.SUM) == dist.ReduceOp.SUM
    assert dist.Backend("GLOO") == "gloo" and dist.Backend.NCCL == "nccl" and isinstance(dist.Backend("mpi"), str)
    assert issubclass(dist.DistBackendError, dist.DistError) and issubclass(dist.DistError, RuntimeError)
    assert dist.GroupMember.NON_GROUP_MEMBER == -100
    assert dist.default_pg_timeout.total_seconds() == 1800


@needs_mpi
def test_single_process_without_mpiexec():
    """A plain `python script.py` is a world of one (MPI's singleton); a WORLD_SIZE MPI did not start is refused."""
    import subprocess
    import sys
    from .launch import ROOT
    code = ("import ember as torch, ember.distributed as dist; dist.init_process_group('gloo'); t = torch.ones(2); "
            "dist.all_reduce(t); print(dist.get_rank(), dist.get_world_size(), t.tolist())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.strip() == "0 1 [1.0, 1.0]", out.stderr
    bad = subprocess.run([sys.executable, "-c", "import ember.distributed as d; d.init_process_group('gloo')"],
                         capture_output=True, text=True, timeout=60, cwd=ROOT,
                         env=dict(__import__("os").environ, WORLD_SIZE="2", RANK="0"))
    assert bad.returncode != 0 and "world_size is 2 but MPI started 1 process" in bad.stderr


@needs_mpi
def test_mismatches_argument_errors_and_timeout_on_3_ranks():
    proc = run_ranks("errors.py", 3)
    assert proc.returncode == 0, proc.stdout[-5000:]
    assert proc.stdout.count("errors OK") == 3, proc.stdout[-3000:]


@needs_mpi
@pytest.mark.parametrize("mode, status", [("raise", 1), ("exit-early", None)])
def test_a_failing_rank_ends_the_job_with_a_nonzero_status(mode, status):
    start = time.monotonic()
    proc = run_ranks("ends.py", 2, mode, timeout=60)
    assert proc.returncode != 0 if status is None else proc.returncode == status, proc.stdout[-3000:]
    assert time.monotonic() - start < 30
    if mode == "exit-early":
        assert "exited while this rank waited" in proc.stdout
