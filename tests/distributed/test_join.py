"""DDP.join() and torch.distributed.algorithms.Join for uneven inputs: launched ranks with different numbers of
batches end with the parameters that one process computes by hand (the ranks still training average their
gradients over the initial world size, or over themselves; the joined ones add zeros), and a custom Joinable
shadows the others' collectives. This file is also the launched script."""
import os
import sys

import numpy as np

try:
    from .launch import needs_mpi
    pytestmark = needs_mpi
except ImportError:  # NOTE: launched by mpiexec as a script, not as part of the tests package
    pass

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def _net(torch, extra=False, bn=False):
    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Linear(3, 5)
            self.b = torch.nn.Linear(5, 2)
            self.c = torch.nn.Linear(5, 2) if extra else None
            self.norm = torch.nn.BatchNorm1d(5) if bn else None

        def forward(self, x, use_c=False):
            h = self.a(x)
            h = torch.tanh(self.norm(h) if self.norm is not None else h)
            return (self.c if use_c else self.b)(h)
    torch.manual_seed(0)
    return Net()


def _batches(rank, count):
    rng = np.random.default_rng(100 + rank)
    return [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(count)]


def _counts(world):
    return [3 + 2 * r for r in range(world)]  # rank 0: 3 batches, rank 1: 5, rank 2: 7


def _by_hand(torch, world, divide_by_initial, use_c=lambda rank, step: False, extra=False, counts=None, bn=False):
    """One process: at each step, the ranks that still have a batch contribute their gradient; the sum is divided
    by the world size (or by how many contributed) and SGD steps with it."""
    counts = counts or _counts(world)
    data = [_batches(r, counts[r]) for r in range(world)]
    net = _net(torch, extra, bn)
    params = list(net.parameters())
    for step in range(max(counts)):
        active = [r for r in range(world) if step < counts[r]]
        total = [np.zeros(p.shape, np.float32) for p in params]
        used = [False] * len(params)
        for r in active:
            net.zero_grad(set_to_none=True)
            net(torch.tensor(data[r][step]), use_c(r, step)).square().sum().backward()
            for i, p in enumerate(params):
                if p.grad is not None:
                    total[i] += p.grad.numpy()
                    used[i] = True
        divisor = world if divide_by_initial else len(active)
        with torch.no_grad():
            for i, p in enumerate(params):
                if used[i]:
                    p -= 0.1 * torch.tensor(total[i] / divisor)
    return [p.detach().numpy().copy() for p in params]


def _train(torch, rank, world, ddp_kwargs=None, join_kwargs=None, use_c=lambda rank, step: False, extra=False,
           counts=None, bn=False):
    from ember.nn.parallel import DistributedDataParallel as DDP
    model = DDP(_net(torch, extra, bn), **(ddp_kwargs or {}))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with model.join(**(join_kwargs or {})):
        for step, x in enumerate(_batches(rank, (counts or _counts(world))[rank])):
            opt.zero_grad(set_to_none=True)
            model(torch.tensor(x), use_c(rank, step)).square().sum().backward()
            opt.step()
    return model


def _check(model, expected, what):
    for i, (p, e) in enumerate(zip(model.module.parameters(), expected)):
        np.testing.assert_allclose(p.detach().numpy(), e, rtol=1e-5, atol=1e-6, err_msg=f"{what}: parameter {i}")


def scenario_uneven_inputs(torch, dist, rank, world):
    _check(_train(torch, rank, world), _by_hand(torch, world, True), "divide_by_initial_world_size=True")


def scenario_divide_by_active_ranks(torch, dist, rank, world):
    model = _train(torch, rank, world, join_kwargs={"divide_by_initial_world_size": False})
    _check(model, _by_hand(torch, world, False), "divide_by_initial_world_size=False")


def scenario_rebuilt_small_buckets(torch, dist, rank, world):
    # several buckets once rebuilt: the joined ranks shadow each one in the reducer's order
    model = _train(torch, rank, world, ddp_kwargs={"bucket_cap_mb": 0.00005})
    assert len(model.reducer.buckets) > 1
    _check(model, _by_hand(torch, world, True), "small buckets")


def scenario_a_rank_without_batches(torch, dist, rank, world):
    # rank 0 joins at once: it must still take part in the others' bucket rebuild at their second forward
    counts = [0] + [3] * (world - 1)
    model = _train(torch, rank, world, ddp_kwargs={"bucket_cap_mb": 0.00005}, counts=counts)
    _check(model, _by_hand(torch, world, True, counts=counts), "a rank without batches")


def scenario_buffers(torch, dist, rank, world):
    # BatchNorm's running stats: broadcast before each forward from the highest rank still training, and at the
    # end from the last rank to finish; the gradients (train mode: batch statistics) are as by hand
    model = _train(torch, rank, world, bn=True)
    _check(model, _by_hand(torch, world, True, bn=True), "BatchNorm")
    stats = torch.cat([model.module.norm.running_mean, model.module.norm.running_var])
    everyone = [torch.zeros_like(stats) for _ in range(world)]
    dist.all_gather(everyone, stats)
    assert all(torch.equal(s, everyone[0]) for s in everyone), everyone
    assert not torch.equal(model.module.norm.running_mean, torch.zeros(5))
    assert int(model.module.norm.num_batches_tracked) == _counts(world)[-1]  # the last rank's count


def scenario_find_unused_parameters(torch, dist, rank, world):
    def use_c(r, step):
        return step % 2 == 1
    model = _train(torch, rank, world, ddp_kwargs={"find_unused_parameters": True}, use_c=use_c, extra=True)
    _check(model, _by_hand(torch, world, True, use_c, extra=True), "find_unused_parameters")


def scenario_comm_hook(torch, dist, rank, world):
    from ember.distributed.algorithms.ddp_comm_hooks import default_hooks
    from ember.nn.parallel import DistributedDataParallel as DDP
    model = DDP(_net(torch))
    model.register_comm_hook(None, default_hooks.allreduce_hook)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with model.join():
        for x in _batches(rank, _counts(world)[rank]):
            opt.zero_grad()
            model(torch.tensor(x)).square().sum().backward()
            opt.step()
    _check(model, _by_hand(torch, world, True), "allreduce_hook")


def scenario_throw_on_early_termination(torch, dist, rank, world):
    from ember.nn.parallel import DistributedDataParallel as DDP
    model = DDP(_net(torch))
    steps = 0
    try:
        with model.join(throw_on_early_termination=True):
            for x in _batches(rank, _counts(world)[rank]):
                model(torch.tensor(x)).sum().backward()
                steps += 1
    except RuntimeError as error:
        if rank == 0:
            assert str(error) == "Rank 0 exhausted all inputs.", error
        else:
            assert str(error) == "Detected at least one rank that exhausted inputs. Throwing across all ranks.", error
    else:
        raise AssertionError("no rank raised")
    assert steps == _counts(world)[0], steps


def scenario_disabled_join_hangs_nothing_when_even(torch, dist, rank, world):
    from ember.nn.parallel import DistributedDataParallel as DDP
    model = DDP(_net(torch))
    with model.join(enable=False):
        for x in _batches(rank, 2):
            model(torch.tensor(x)).sum().backward()


def scenario_custom_joinable(torch, dist, rank, world):
    """PyTorch's documented Counter example: each iteration all_reduces a 1; joined ranks shadow with 0."""
    from ember.distributed.algorithms import Join, Joinable, JoinHook

    class CounterHook(JoinHook):
        def __init__(self, counter):
            self.counter = counter

        def main_hook(self):
            dist.all_reduce(torch.zeros(1))

        def post_hook(self, is_last_joiner):
            self.counter.last = is_last_joiner

    class Counter(Joinable):
        def __init__(self):
            super().__init__()
            self.total = 0.0
            self.last = None

        def __call__(self):
            Join.notify_join_context(self)
            t = torch.ones(1)
            dist.all_reduce(t)
            self.total += t.item()

        def join_hook(self, **kwargs):
            return CounterHook(self)

        @property
        def join_device(self):
            return torch.device("cpu")

        @property
        def join_process_group(self):
            return dist.group.WORLD

    counter = Counter()
    counts = _counts(world)
    with Join([counter]):
        for _ in range(counts[rank]):
            counter()
    expected = sum(sum(1 for c in counts if c > step) for step in range(counts[rank]))
    assert counter.total == expected, (counter.total, expected)
    assert counter.last == (rank == world - 1), counter.last
    try:
        Join([])
    except ValueError as error:
        assert str(error) == "The join context manager requires at least one joinable"
    else:
        raise AssertionError("Join([]) was accepted")


GROUPS = {
    2: ["uneven_inputs", "divide_by_active_ranks", "rebuilt_small_buckets", "a_rank_without_batches", "buffers",
        "find_unused_parameters", "comm_hook",
        "throw_on_early_termination", "disabled_join_hangs_nothing_when_even", "custom_joinable"],
    3: ["uneven_inputs", "divide_by_active_ranks", "a_rank_without_batches", "custom_joinable"],
}


def _main(names):
    import ember as torch
    import ember.distributed as dist
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    for name in names:
        globals()["scenario_" + name](torch, dist, rank, world)
        dist.barrier()
        print(f"rank {rank}: {name} ok", flush=True)
    dist.destroy_process_group()


# --- the pytest side ----------------------------------------------------------------------------------------
def _check_group(n):
    from .launch import run_ranks
    names = GROUPS[n]
    done = run_ranks(os.path.abspath(__file__), n, *names, timeout=240, env={"OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout
    for rank in range(n):
        for name in names:
            assert f"rank {rank}: {name} ok" in done.stdout, done.stdout


def test_join_two_processes():
    _check_group(2)


def test_join_three_processes():
    _check_group(3)


def test_join_names_as_torchs():
    import torch

    import ember
    from ember.distributed.algorithms import Join, Joinable, JoinHook
    assert sorted(ember.distributed.algorithms.join.__all__) == sorted(torch.distributed.algorithms.join.__all__)
    assert issubclass(ember.nn.parallel.DistributedDataParallel, Joinable)
    assert {n for n in dir(JoinHook) if not n.startswith("_")} == {"main_hook", "post_hook"}
    assert {n for n in dir(Join) if not n.startswith("_")} == {"notify_join_context"}


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    _main(sys.argv[1:])
