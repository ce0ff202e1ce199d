"""Every collective against NumPy, dtypes and ops swept: each rank rebuilds every rank's input from
(seed, rank), so the expected result is NumPy's reduction over all ranks' inputs."""
import numpy as np
import ml_dtypes

import ember as torch
import ember.distributed as dist

dist.init_process_group("gloo")
R, N = dist.get_rank(), dist.get_world_size()
RO = dist.ReduceOp
checks = 0

DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8, torch.int16,
          torch.int32, torch.int64, torch.bool, torch.complex64, torch.complex128]
NP = {torch.float32: np.float32, torch.float64: np.float64, torch.float16: np.float16,
      torch.bfloat16: ml_dtypes.bfloat16, torch.int8: np.int8, torch.uint8: np.uint8, torch.int16: np.int16,
      torch.int32: np.int32, torch.int64: np.int64, torch.bool: np.bool_, torch.complex64: np.complex64,
      torch.complex128: np.complex128}


def data(rank, dtype, shape, salt=0):
    """Rank `rank`'s input as a NumPy array (small values: products and sums do not overflow)."""
    rng = np.random.default_rng(1000 * rank + salt)
    if dtype is torch.bool:
        return rng.random(shape) < 0.5
    if dtype.is_complex:
        return (rng.integers(-4, 5, shape) + 1j * rng.integers(-4, 5, shape)).astype(NP[dtype])
    if dtype.is_floating_point:
        return (rng.standard_normal(shape) * 4).astype(NP[dtype])
    lo = 0 if dtype is torch.uint8 else -3
    return rng.integers(lo, 4, shape).astype(NP[dtype])


def tensor(a):
    return torch.from_numpy(np.array(a))


def reduce_np(arrays, op, dtype):
    if dtype is torch.bool:
        s = np.stack(arrays)
        return {RO.SUM: s.any(0), RO.MAX: s.any(0), RO.BOR: s.any(0), RO.PRODUCT: s.all(0), RO.MIN: s.all(0),
                RO.BAND: s.all(0), RO.BXOR: (s.sum(0) % 2).astype(bool)}[op]
    wide = np.float32 if dtype in (torch.float16, torch.bfloat16) else NP[dtype]
    s = np.stack([a.astype(wide) for a in arrays])
    if op in (RO.SUM, RO.AVG):
        out = s.sum(0, dtype=wide)
        if op == RO.AVG:
            out = out / len(arrays) if s.dtype.kind in "fc" else np.trunc(out / len(arrays)).astype(wide)
    elif op == RO.PRODUCT:
        out = s.prod(0, dtype=wide)
    elif op == RO.MIN:
        out = s.min(0)
    elif op == RO.MAX:
        out = s.max(0)
    else:
        f = {RO.BAND: np.bitwise_and, RO.BOR: np.bitwise_or, RO.BXOR: np.bitwise_xor}[op]
        out = f.reduce(s, axis=0)
    return out.astype(NP[dtype])


def same(got, want, dtype, what):
    global checks
    checks += 1
    g = got.numpy() if isinstance(got, torch.Tensor) else got
    assert g.dtype == np.dtype(NP[dtype]), (what, g.dtype, dtype)
    assert g.shape == want.shape, (what, g.shape, want.shape)
    if dtype in (torch.float32, torch.float64, torch.complex64, torch.complex128):
        tol = 1e-5 if dtype in (torch.float32, torch.complex64) else 1e-12
        np.testing.assert_allclose(g, want, rtol=tol, atol=tol, err_msg=what)
    else:  # NOTE: integers, bool and 16-bit floats (summed in float32, rounded once) are exact
        np.testing.assert_array_equal(g.astype(np.float64) if dtype in (torch.float16, torch.bfloat16) else g,
                                      want.astype(np.float64) if dtype in (torch.float16, torch.bfloat16) else want,
                                      err_msg=what)


def ops_for(dtype):
    ops = [RO.SUM, RO.PRODUCT]
    if not dtype.is_complex:
        ops += [RO.MIN, RO.MAX]
    if dtype is not torch.bool:
        ops.append(RO.AVG)
    if not dtype.is_floating_point and not dtype.is_complex:
        ops += [RO.BAND, RO.BOR, RO.BXOR]
    return ops


# --- all_reduce and reduce: every dtype x op, shapes including 0-d and a non-contiguous view --------------
for dtype in DTYPES:
    for op in ops_for(dtype):
        for shape in [(5,), (), (3, 4)]:
            everyone = [data(r, dtype, shape, int(op)) for r in range(N)]
            want = reduce_np(everyone, op, dtype)
            t = tensor(everyone[R])
            dist.all_reduce(t, op=op)
            same(t, want, dtype, f"all_reduce {dtype} {op} {shape}")
            t = tensor(everyone[R])
            v0 = t._version
            dist.reduce(t, dst=N - 1, op=op)
            same(t, want if R == N - 1 else everyone[R], dtype, f"reduce {dtype} {op}")
            assert t._version == v0 + (R == N - 1)
        base = tensor(np.stack([data(r, dtype, (4, 3), 7) for r in range(N)])[:, :, :].copy())
        view = base[R].t()  # NOTE: non-contiguous, and a view: the base must see the result
        everyone = [data(r, dtype, (4, 3), 7).T for r in range(N)]
        dist.all_reduce(view, op=op)
        same(base[R].t(), reduce_np(everyone, op, dtype), dtype, f"all_reduce view {dtype} {op}")

# 16-bit floats: 1 + h + h (h half an ulp of 1) is 1 + ulp summed in float32 and rounded once, but 1.0 with a
# 16-bit accumulator (1 + h ties to even, twice): from 3 ranks on this tells the two apart
for dtype, h in ((torch.float16, 2.0 ** -11), (torch.bfloat16, 2.0 ** -8)):
    vals = [np.array([1.0, h], np.float32)] + [np.array([h, h], np.float32)] * (N - 1)
    t = tensor(vals[R].astype(NP[dtype]))
    dist.all_reduce(t)
    want = np.sum(np.stack(vals), 0, dtype=np.float32).astype(NP[dtype])
    same(t, want, dtype, f"{dtype} rounded once")
    assert N < 3 or float(t[0]) == 1.0 + 2 * h, (dtype, float(t[0]))

# --- broadcast, all_gather, gather, scatter, all_to_all: every dtype ---------------------------------------
for dtype in DTYPES:
    everyone = [data(r, dtype, (2, 3), 11) for r in range(N)]
    for src in range(N):
        t = tensor(everyone[R])
        dist.broadcast(t, src=src)
        same(t, everyone[src], dtype, f"broadcast {dtype} from {src}")
    out = [torch.zeros(2, 3, dtype=dtype) for _ in range(N)]
    dist.all_gather(out, tensor(everyone[R]))
    for r in range(N):
        same(out[r], everyone[r], dtype, f"all_gather {dtype}")
    big = torch.zeros(N * 2, 3, dtype=dtype)
    dist.all_gather_into_tensor(big, tensor(everyone[R]))
    same(big, np.concatenate(everyone), dtype, f"all_gather_into_tensor {dtype}")
    stacked = torch.zeros(N, 2, 3, dtype=dtype)
    dist.all_gather_into_tensor(stacked, tensor(everyone[R]).t().contiguous().t())
    same(stacked, np.stack(everyone), dtype, f"all_gather_into_tensor stacked {dtype}")
    dst = N - 1
    got = [torch.zeros(2, 3, dtype=dtype) for _ in range(N)] if R == dst else None
    dist.gather(tensor(everyone[R]), got, dst=dst)
    if R == dst:
        for r in range(N):
            same(got[r], everyone[r], dtype, f"gather {dtype}")
    pieces = [data(0, dtype, (3,), 20 + r) for r in range(N)]
    t = torch.zeros(3, dtype=dtype)
    dist.scatter(t, [tensor(p) for p in pieces] if R == 0 else None, src=0)
    same(t, pieces[R], dtype, f"scatter {dtype}")
    # all_to_all with sizes differing per pair: rank i sends i + j + 1 elements to rank j
    sends = [tensor(data(R, dtype, (R + j + 1,), 30 + j)) for j in range(N)]
    recvs = [torch.zeros(j + R + 1, dtype=dtype) for j in range(N)]
    dist.all_to_all(recvs, sends)
    for j in range(N):
        same(recvs[j], data(j, dtype, (j + R + 1,), 30 + R), dtype, f"all_to_all {dtype}")
    inp = tensor(data(R, dtype, (2 * N, 2), 40))
    out = torch.zeros(2 * N, 2, dtype=dtype)
    dist.all_to_all_single(out, inp)
    want = np.concatenate([data(j, dtype, (2 * N, 2), 40)[2 * R:2 * R + 2] for j in range(N)])
    same(out, want, dtype, f"all_to_all_single {dtype}")

# all_to_all_single with split sizes: rank i sends j + 1 rows to rank j
rows_in = [j + 1 for j in range(N)]
inp = tensor(data(R, torch.float32, (sum(rows_in), 2), 50))
out = torch.zeros(N * (R + 1), 2)
dist.all_to_all_single(out, inp, output_split_sizes=[R + 1] * N, input_split_sizes=rows_in)
offset = sum(rows_in[:R])
want = np.concatenate([data(j, torch.float32, (sum(rows_in), 2), 50)[offset:offset + R + 1] for j in range(N)])
same(out, want, torch.float32, "all_to_all_single splits")

# --- reduce_scatter(_tensor) --------------------------------------------------------------------------------
for dtype in DTYPES:
    for op in ops_for(dtype):
        everyone = [data(r, dtype, (N * 2,), 60 + int(op)) for r in range(N)]
        want = reduce_np(everyone, op, dtype)[2 * R:2 * R + 2]
        out = torch.zeros(2, dtype=dtype)
        dist.reduce_scatter_tensor(out, tensor(everyone[R]), op=op)
        same(out, want, dtype, f"reduce_scatter_tensor {dtype} {op}")
        out = torch.zeros(2, dtype=dtype)
        dist.reduce_scatter(out, [tensor(everyone[R][2 * j:2 * j + 2]) for j in range(N)], op=op)
        same(out, want, dtype, f"reduce_scatter {dtype} {op}")

# --- async work, point to point, objects, subgroups ---------------------------------------------------------
t = tensor(data(R, torch.float64, (1000,), 70))
work = dist.all_reduce(t, async_op=True)
assert isinstance(work, dist.Work)
assert work.wait() is True and work.is_completed() and work.is_success()
same(t, reduce_np([data(r, torch.float64, (1000,), 70) for r in range(N)], RO.SUM, torch.float64), torch.float64,
     "async all_reduce")
assert work.result()[0] is t

nxt, prv = (R + 1) % N, (R - 1) % N
got = torch.zeros(4, dtype=torch.int64)
works = dist.batch_isend_irecv([dist.P2POp(dist.isend, tensor(data(R, torch.int64, (4,), 80)), nxt),
                                dist.P2POp(dist.irecv, got, prv)])
for w in works:
    w.wait()
same(got, data(prv, torch.int64, (4,), 80), torch.int64, "ring isend/irecv")
if R == 0:
    dist.send(tensor(data(0, torch.bfloat16, (3,), 90)), dst=N - 1, tag=3)
if R == N - 1:
    got = torch.zeros(3, dtype=torch.bfloat16)
    assert dist.recv(got, tag=3) == 0
    same(got, data(0, torch.bfloat16, (3,), 90), torch.bfloat16, "recv any source")
objs = [None] * N
dist.all_gather_object(objs, {"rank": R, "t": torch.ones(2) * R})
assert [o["rank"] for o in objs] == list(range(N)) and float(objs[N - 1]["t"][0]) == N - 1
items = [R, "x"] if R == 1 else [None, None]
dist.broadcast_object_list(items, src=1)
assert items == [1, "x"]
out = [None]
dist.scatter_object_list(out, [f"to {r}" for r in range(N)] if R == 0 else None, src=0)
assert out == [f"to {R}"]
gathered = [None] * N if R == 0 else None
dist.gather_object(R * 10, gathered, dst=0)
assert R != 0 or gathered == [r * 10 for r in range(N)]

odd = dist.new_group([r for r in range(N) if r % 2 == 1] + [0])
if R % 2 == 1 or R == 0:
    members = sorted([r for r in range(N) if r % 2 == 1] + [0])
    assert dist.get_process_group_ranks(odd) == members and dist.get_world_size(odd) == len(members)
    assert dist.get_rank(odd) == members.index(R)
    t = torch.tensor([float(R)])
    dist.all_reduce(t, group=odd)
    assert float(t) == sum(members)
    t = torch.tensor([float(R)])
    dist.broadcast(t, src=members[-1], group=odd)
    assert float(t) == members[-1]
else:
    assert odd == dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(odd) == -1
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert dist.all_reduce(torch.ones(1), group=odd) is None
    assert "does not belong to the given group" in str(caught[0].message)
    assert caught[0].filename == __file__  # NOTE: the warning names the caller's line, as PyTorch's does
dist.barrier()
dist.destroy_process_group()
print(f"rank {R}: OK {checks} checks", flush=True)
