"""Per-example gradients of a 64-32-10 MLP's loss for a batch of 256: ember's vmap over a gradient, against
ember's loop over the examples and against PyTorch's torch.func.vmap(torch.func.grad) in the same run.

    python bench/func.py

Reported, never asserted. Target (issue 14): vmap at least 10x faster than the loop, within 2x of PyTorch.
ember.func.grad inside ember's vmap differentiates the physical batch (ember/func/_vmap.py): one gradient per
example.
"""
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy  # noqa: E402
import torch  # noqa: E402

import ember  # noqa: E402

BATCH = 256


def loss_of(lib):
    F = lib.nn.functional

    def loss(params, x, y):
        w1, b1, w2, b2 = params
        return F.cross_entropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), y)
    return loss


def best(fn, repeats=5):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def _data(lib):
    rng = numpy.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(numpy.float32) * 0.1 for s in ((32, 64), (32,), (10, 32), (10,))]
    xs = rng.standard_normal((BATCH, 64)).astype(numpy.float32)
    ys = rng.integers(0, 10, BATCH)
    return [lib.tensor(a) for a in arrays], lib.tensor(xs), lib.tensor(ys)


def per_example(lib):
    """vmap(grad(loss)) over the batch with lib's torch.func: the workload bench/run.py times."""
    params, x, y = _data(lib)
    loss = loss_of(lib)
    return lambda: lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))(params, x, y)


def per_example_loop(lib):
    """The same gradients one example at a time, through autograd.grad."""
    params, x, y = _data(lib)
    loss = loss_of(lib)

    def run():
        out = []
        for i in range(BATCH):
            ps = [p.detach().requires_grad_() for p in params]
            out.append(lib.autograd.grad(loss(ps, x[i], y[i]), ps))
        return [lib.stack([o[k] for o in out]) for k in range(4)]
    return run


def main():
    ember_vmap, torch_vmap, ember_loop = per_example(ember), per_example(torch), per_example_loop(ember)
    got, want, looped = ember_vmap(), torch_vmap(), ember_loop()
    err = max(float(numpy.abs(g.numpy() - w.numpy()).max()) for g, w in zip(got, want))
    err_loop = max(float(numpy.abs(g.numpy() - w.numpy()).max()) for g, w in zip(got, looped))
    v, lp, tv = best(ember_vmap), best(ember_loop, 3), best(torch_vmap)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # NOTE: ember computes on one thread; on a loaded machine PyTorch's threads contend
    tv1 = best(torch_vmap)
    torch.set_num_threads(threads)
    print(f"per-example gradients, MLP 64-32-10, batch {BATCH} (ms, best of repeats; max |diff| vs torch "
          f"{err:.1e}, vs ember loop {err_loop:.1e})")
    print(f"  ember vmap(grad)          {v:8.2f}")
    print(f"  ember loop over examples  {lp:8.2f}   vmap is {lp / v:.1f}x faster")
    print(f"  torch.func vmap(grad)     {tv:8.2f}   ember vmap is {v / tv:.2f}x PyTorch's time ({threads} threads)")
    print(f"  torch.func, 1 thread      {tv1:8.2f}   ember vmap is {v / tv1:.2f}x PyTorch's time")


if __name__ == "__main__":
    main()
