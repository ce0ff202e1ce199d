"""Error cases on N ranks: mismatched calls raise on every rank (and the group stays usable), argument errors
as PyTorch's, a timeout on a subgroup."""
import datetime
import time

import ember as torch
import ember.distributed as dist

dist.init_process_group("gloo")
R, N = dist.get_rank(), dist.get_world_size()


def raises(kind, text, fn):
    try:
        fn()
    except kind as e:
        assert text in str(e), (text, str(e))
        return
    raise AssertionError(f"no {kind.__name__} ({text})")


raises(RuntimeError, "the ranks' calls do not match", lambda: dist.all_reduce(torch.ones(2 + R)))
raises(RuntimeError, f"rank {N - 1}: all_reduce torch.float64", lambda: dist.all_reduce(
    torch.ones(2, dtype=torch.float64 if R == N - 1 else torch.float32)))
raises(RuntimeError, "rank 0: broadcast", lambda: dist.broadcast(torch.ones(2), src=0) if R == 0
       else dist.all_reduce(torch.ones(2)))
raises(RuntimeError, "op=RedOpType.MAX", lambda: dist.all_reduce(torch.ones(2), op=dist.ReduceOp.MAX if R
       else dist.ReduceOp.SUM))
raises(RuntimeError, "split sizes do not match", lambda: dist.all_to_all_single(
    torch.zeros(N + (R == 0)), torch.ones(N + (R == 0))) if False else dist.all_to_all(
    [torch.zeros(1 + (R == 0)) for _ in range(N)], [torch.ones(1) for _ in range(N)]))
t = torch.ones(3)
dist.all_reduce(t)  # NOTE: still in step after the errors
assert t.tolist() == [float(N)] * 3

raises(ValueError, "does not support RedOpType.MAX on complex tensors",
       lambda: dist.all_reduce(torch.ones(2, dtype=torch.complex64), op=dist.ReduceOp.MAX))
raises(RuntimeError, "Cannot use ReduceOp.BAND with non-integral dtype",
       lambda: dist.all_reduce(torch.ones(2), op=dist.ReduceOp.BAND))
raises(TypeError, "Expected parameter `tensor` of type torch.Tensor", lambda: dist.all_reduce([1, 2]))
raises(TypeError, "op", lambda: dist.all_reduce(torch.ones(2), op="sum"))
raises(ValueError, "Must specify global_rank or group_rank", lambda: dist.broadcast(torch.ones(2)))
raises(RuntimeError, "invalid root rank: 7", lambda: dist.broadcast(torch.ones(2), src=7))
raises(RuntimeError, f"expected length {N}, got 1", lambda: dist.all_gather([torch.ones(2)], torch.ones(2)))
raises(ValueError, "different dtypes", lambda: dist.all_gather([torch.ones(2, dtype=torch.float64)] * N,
                                                               torch.ones(2)))
raises(ValueError, "should not be the same as the rank", lambda: dist.send(torch.ones(1), dst=R))
raises(ValueError, "must NOT be specified on non-destination ranks", lambda: dist.gather(
    torch.ones(1), [torch.ones(1)] * N, dst=(R + 1) % N))
# NOTE: PyTorch refuses an empty list on the root as it refuses None (ember once took [] on to a length error)
raises(ValueError, "must be specified on destination rank", lambda: dist.gather(torch.ones(1), [], dst=R))
raises(ValueError, "must be specified on source rank", lambda: dist.scatter(torch.ones(1), [], src=R))
raises(RuntimeError, "more than one element", lambda: dist.all_reduce(torch.ones(1).expand(3)))
raises(ValueError, "trying to initialize the default process group twice!", lambda: dist.init_process_group())

# A timeout: rank 0 waits at a barrier of a group with a 1 s timeout that the others reach 3 s later.
g = dist.new_group(timeout=datetime.timedelta(seconds=1))
if R == 0:
    start = time.monotonic()
    raises(dist.DistBackendError, "timed out", lambda: dist.barrier(group=g))
    assert time.monotonic() - start < 2.5
    raises(RuntimeError, "unusable", lambda: dist.all_reduce(torch.ones(1), group=g))
else:
    time.sleep(3)
    dist.barrier(group=g)
t = torch.ones(1)
dist.all_reduce(t)
assert float(t) == N
print(f"rank {R}: errors OK", flush=True)
