"""A 100,000-node chain: backward is iterative (no RecursionError), and freeing the graph does not crash."""
import os
import subprocess
import sys
import textwrap

from autograd_compare import same

N = 100_000


def _chain(torch, n):
    x = torch.tensor([0.5, -0.25], requires_grad=True)
    c = torch.tensor([1e-6, -1e-6])
    y = x
    for _ in range(n):
        y = y + c
    return x, y


def test_backward_through_100k_node_chain_is_iterative():
    def fn(torch):
        x, y = _chain(torch, N)
        (y * y).sum().backward()
        return y, x.grad
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # a recursive walk would need ~N frames
    try:
        same(fn, rtol=1e-4, atol=1e-5)
    finally:
        sys.setrecursionlimit(limit)


def test_autograd_grad_through_long_chain_with_branches():
    def fn(torch):
        x = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64, requires_grad=True)
        y = x
        for i in range(3000):
            y = y * 0.999 + x * 0.001 if i % 3 else (y + 1e-4).tanh()
        return torch.autograd.grad(y.sum(), x)
    same(fn, rtol=1e-7, atol=1e-9)


def test_freeing_100k_node_graph_does_not_crash():
    # in a child process, so that a crash (stack overflow in deallocation) fails this test only
    script = textwrap.dedent(f"""
        import gc, sys
        sys.setrecursionlimit(1000)
        import ember as torch
        x = torch.tensor([1.0], requires_grad=True)
        c = torch.tensor([1.0])
        for backward in (False, True):
            y = x
            for _ in range({N}):
                y = y + c
            if backward:
                y.sum().backward()
            del y
            gc.collect()
        assert x.grad.tolist() == [1.0]
        print("ok")
    """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"
