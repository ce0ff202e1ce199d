"""Bigger workloads, each written once as a function of the library: an MLP training step and a
raw matmul (whose GFLOP/s is the hardware ceiling both libraries share through BLAS)."""
import numpy as np

from _harness import from_numpy


def mlp_step(lib, batch=128):
    """One training step of a 784-512-256-10 MLP (ReLU, cross-entropy, SGD with momentum)."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = from_numpy(lib, rng.standard_normal((batch, 784)).astype(np.float32))
    y = from_numpy(lib, rng.integers(0, 10, batch))

    def step():
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        loss.item()
    return step


def matmul(lib, n=1024):
    """An (n, n) @ (n, n) float32 product."""
    rng = np.random.default_rng(0)
    a = from_numpy(lib, rng.standard_normal((n, n)).astype(np.float32))
    b = from_numpy(lib, rng.standard_normal((n, n)).astype(np.float32))
    return lambda: a @ b


MATMUL_N = 1024
MATMUL_FLOP = 2 * MATMUL_N ** 3


LARGE = (4096, 4096)


def large_add(lib):
    """`a + b` on two 4096x4096 float32 tensors: memory-bound, a new result each call."""
    a, b = lib.rand(*LARGE), lib.rand(*LARGE)
    return lambda: a + b


def large_add_out(lib):
    """`torch.add(a, b, out=c)` on 4096x4096 float32: written straight into c."""
    a, b, c = lib.rand(*LARGE), lib.rand(*LARGE), lib.empty(*LARGE)
    return lambda: lib.add(a, b, out=c)


LARGE_BYTES = 3 * 4 * LARGE[0] * LARGE[1]  # read a and b, write the result
