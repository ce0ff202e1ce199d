"""Module-level functions the multiprocessing tests run in child processes: a spawned interpreter finds them
by name. Functions that need the library take its name ('ember' or 'torch') as an argument."""
import importlib
import os
import sys


def _lib(name):
    return importlib.import_module(name)


def write_rank(i, path):
    with open(f"{path}.{i}", "w") as f:
        f.write(str(i))


def write_args(i, path, a, b):
    with open(f"{path}.{i}", "w") as f:
        f.write(f"{i} {a} {b}")


def raise_in_one(i, bad):
    if i == bad:
        raise ValueError(f"child {i} failed on purpose")
    import time
    time.sleep(30)  # NOTE: the others wait to be terminated by the parent


def exit_three(i):
    sys.stdout.flush()
    os._exit(3)


def add_one(i, t):
    t.add_(1)


def add_one_from_queue(q, done):
    t = q.get()
    t.add_(1)
    done.put((tuple(t.shape), t.is_shared()))


def add_one_in_place(t):
    t.add_(1)


def close_and_wait(t, event):
    """Hold `t` (received through the arguments) until the parent says it may end."""
    event.wait(30)


def hogwild(rank, lib, model, steps, seed):
    """SGD on the shared parameters of a tiny linear model, from one of two processes."""
    torch = _lib(lib)
    torch.manual_seed(seed + rank)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    x = torch.randn(16, 3, dtype=torch.float64)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64) + 0.25
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()


def share_and_send(q, event):
    """Make a shared tensor here and send it; stay alive until the receiver has it (its descriptor is served
    from this process, as with PyTorch's file_descriptor strategy)."""
    import ember
    t = ember.arange(4.0).share_memory_()
    q.put(t)
    event.wait(30)
    t.mul_(10)  # NOTE: after the receiver's write: the parent checks that this process saw it
    q.put(t.tolist())
