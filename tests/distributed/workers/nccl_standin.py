"""The NCCL engine end to end on one rank, on the CuPy stand-in (run with tests/_standin first on sys.path)."""
import numpy as np
from cupy.cuda import nccl as fake

import ember as torch
import ember.distributed as dist

dist.init_process_group("nccl")
pg = dist.group.WORLD
assert pg.engine("cuda").name == "nccl" and dist.get_backend() == "nccl"
try:
    dist.all_reduce(torch.ones(2))
    raise AssertionError("a CPU tensor on an nccl-only group")
except RuntimeError as e:
    assert "No backend type associated with device type cpu" in str(e)

for dtype in (torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.complex64, torch.bool):
    base = torch.arange(12).reshape(3, 4).to(dtype).to("cuda")
    view = base.t()
    want = base.cpu().t().numpy().copy()
    dist.all_reduce(view)
    assert np.array_equal(base.cpu().t().numpy(), want), dtype
    out = [torch.zeros(4, 3, dtype=dtype, device="cuda")]
    dist.all_gather(out, view)
    assert np.array_equal(out[0].cpu().numpy(), want)
    big = torch.zeros(4, 3, dtype=dtype, device="cuda")
    dist.all_gather_into_tensor(big, view)
    assert np.array_equal(big.cpu().numpy(), want)
    t = torch.ones(3, dtype=dtype, device="cuda")
    dist.broadcast(t, src=0)
    dist.reduce(t, dst=0)
    assert t.cpu().tolist() == torch.ones(3, dtype=dtype).tolist()
    if dtype is not torch.bool:
        o = torch.zeros(2, dtype=dtype, device="cuda")
        dist.reduce_scatter_tensor(o, torch.full((2,), 5, dtype=dtype, device="cuda"), op=dist.ReduceOp.AVG)
        assert o.cpu().tolist() == [5, 5] or o.cpu().tolist() == [5 + 0j, 5 + 0j]
    g = [torch.zeros(2, dtype=dtype, device="cuda")]
    dist.gather(torch.ones(2, dtype=dtype, device="cuda"), g, dst=0)
    s = torch.zeros(2, dtype=dtype, device="cuda")
    dist.scatter(s, [torch.ones(2, dtype=dtype, device="cuda")], src=0)
    a = torch.zeros(2, dtype=dtype, device="cuda")
    dist.all_to_all_single(a, torch.ones(2, dtype=dtype, device="cuda"))
    assert g[0].cpu().tolist() == s.cpu().tolist() == a.cpu().tolist() == torch.ones(2, dtype=dtype).tolist()
w = dist.all_reduce(torch.ones(2, device="cuda"), async_op=True)
assert w.wait() and w.is_completed()
names = {c[0] for c in fake.calls}
assert {"allReduce", "allGather", "bcast", "reduce", "reduceScatter"} <= names, names
# float16/bfloat16 reach NCCL widened to float32 (datatype 7); bool as uint8 (1)
assert ("allReduce", 12, 7) in fake.calls and ("allReduce", 12, 1) in fake.calls
try:
    dist.all_reduce(torch.ones(2, dtype=torch.int64, device="cuda"), op=dist.ReduceOp.BAND)
    raise AssertionError("BAND on NCCL")
except RuntimeError as e:
    assert "Cannot use ReduceOp.BAND with NCCL" in str(e)
dist.destroy_process_group()
assert ("destroy",) in fake.calls

# 'gloo' with CUDA tensors: the MPI engine stages them through the host (as PyTorch's gloo does)
dist.init_process_group("gloo")
assert dist.group.WORLD.engine("cuda").name == "mpi"
for dtype in (torch.float32, torch.bfloat16, torch.int32, torch.bool):
    base = torch.arange(12).reshape(3, 4).to(dtype).to("cuda")
    want = base.cpu().t().numpy().copy()
    view = base.t()
    dist.all_reduce(view, op=dist.ReduceOp.MAX)
    assert np.array_equal(base.cpu().t().numpy(), want) and base.device.type == "cuda"
    out = [torch.zeros(4, 3, dtype=dtype, device="cuda")]
    dist.all_gather(out, view)
    assert np.array_equal(out[0].cpu().numpy(), want) and out[0].device.type == "cuda"
    o = torch.zeros(12, dtype=dtype, device="cuda")
    dist.all_to_all_single(o, view.reshape(12))
    assert np.array_equal(o.cpu().numpy(), want.reshape(12))
dist.destroy_process_group()
print("nccl stand-in OK", flush=True)
