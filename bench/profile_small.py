"""Where the time of the smallest calls goes: `a + b` on (16,16) float32 and `(a * b).sum().backward()`.

    python bench/profile_small.py

Times each layer of the call on its own (the array-library call, making a Tensor, the op boundary, the
public method) and the backward walk's parts, each as the best of 5 repeats of many calls. The numbers
docs/performance.md quotes come from here. Reported, never asserted.
"""
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

import ember  # noqa: E402
from ember import autograd  # noqa: E402
from ember._ops.pointwise.arith import Add  # noqa: E402
from ember._tensor import _wrap  # noqa: E402
from ember.autograd import engine  # noqa: E402
from ember.autograd.function import _apply_primitive  # noqa: E402


def best(fn, calls=20000):
    return min(timeit.repeat(fn, number=calls, repeat=5)) / calls * 1e6


def prebuilt(make, calls):
    """Time fn(obj) over objects made beforehand (a backward consumes its graph)."""
    def run(fn):
        objs = [make() for _ in range(calls)]
        it = iter(objs)
        return best(lambda: fn(next(it)), calls // 5)
    return run


def main():
    torch.set_num_threads(1)
    rows = []
    a, b = ember.rand(16, 16), ember.rand(16, 16)
    ta, tb = torch.rand(16, 16), torch.rand(16, 16)
    x, y = a._data, b._data
    rows += [("NumPy `x + y` on the arrays", best(lambda: x + y)),
             ("making a Tensor around the result (`_wrap`)", best(lambda: _wrap(x, a._device, a._dtype))),
             ("`Add.apply(a, b)` (the op boundary, lean ufunc form)", best(lambda: _apply_primitive(Add, (a, b)))),
             ("`a + b` (operator guard + method + boundary)", best(lambda: a + b)),
             ("PyTorch `a + b`", best(lambda: ta + tb))]
    ar, br = ember.rand(16, 16, requires_grad=True), ember.rand(16, 16, requires_grad=True)
    tar, tbr = torch.rand(16, 16, requires_grad=True), torch.rand(16, 16, requires_grad=True)
    rows += [("`a + b` recording the graph", best(lambda: ar + br)),
             ("PyTorch `a + b` recording the graph", best(lambda: tar + tbr))]
    calls = 5000
    graph = prebuilt(lambda: (ar * br).sum(), calls)
    tgraph = prebuilt(lambda: (tar * tbr).sum(), calls)
    g = ember.ones(())

    def no_grad(fn):  # NOTE: the engine runs each backward with grad mode off (create_graph=False)
        def run(s):
            with ember.no_grad():
                return fn(s)
        return run
    rows += [("forward `(a * b).sum()`", best(lambda: (ar * br).sum(), calls)),
             ("`.backward()` of it, whole", graph(lambda s: s.backward())),
             ("  `engine.run` (the walk: 2 op nodes, 2 leaves)", graph(lambda s: engine.run([(s.grad_fn, 0)], [g],
                                                                                             False, False))),
             ("  SumBackward0's backward (expand of the seed)", graph(no_grad(lambda s: s.grad_fn._backward([g])))),
             ("  MulBackward0's backward (two products)",
              graph(no_grad(lambda s: s.grad_fn.next_functions[0][0]._backward([ember.ones(16, 16)])))),
             ("  seeding: `_make_grads` (the ones)", graph(lambda s: autograd._make_grads((s,), (None,)))),
             ("PyTorch `.backward()` of it", tgraph(lambda s: s.backward()))]
    width = max(len(r[0]) for r in rows)
    print(f"{'part':{width}s}  µs")
    for name, us in rows:
        print(f"{name:{width}s}  {us:6.2f}")


if __name__ == "__main__":
    main()
