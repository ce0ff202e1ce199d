"""DistributedDataParallel across real ranks: 2 and 3 processes started with mpiexec, one launch per group of
scenarios. Each rank runs the scenarios below (this file is also the launched script) and prints one line per
scenario passed; a failed check ends its rank with a traceback and a non-zero exit."""
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


# --- the launched side --------------------------------------------------------------------------------------
def _mlp(torch, seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 8), torch.nn.Tanh(),
                               torch.nn.Linear(8, 3))


def _data(rows):
    rng = np.random.default_rng(42)
    return rng.standard_normal((rows, 6)).astype(np.float32), rng.integers(0, 3, rows)


def _params(module):
    return [p.detach().numpy().copy() for p in module.parameters()]


def _close(a, b, what):
    for i, (x, y) in enumerate(zip(a, b)):
        np.testing.assert_allclose(x, y, rtol=2e-5, atol=2e-6, err_msg=f"{what}: parameter {i}")


def scenario_matches_single_process(torch, dist, rank, world):
    """DDP on `world` shares of each batch ends where one process training on the whole batch ends."""
    from ember.nn.parallel import DistributedDataParallel as DDP
    x, y = _data(12 * world)
    per = len(x) // world
    reference = _mlp(torch, 0)
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.2, momentum=0.9)
    # the other ranks start from other initialisations: DDP must replace them by rank 0's (seed 0)
    model = DDP(_mlp(torch, 0 if rank == 0 else 100 + rank), bucket_cap_mb=0.0005)  # 0.5 KB: several buckets
    opt = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
    _close(_params(model.module), _params(reference), "after construction")
    loss_fn = torch.nn.CrossEntropyLoss()
    for step in range(5):
        rows = slice(rank * per, (rank + 1) * per)
        opt.zero_grad()
        loss_fn(model(torch.tensor(x[rows])), torch.tensor(y[rows])).backward()
        opt.step()
        ref_opt.zero_grad()
        loss_fn(reference(torch.tensor(x)), torch.tensor(y)).backward()
        ref_opt.step()
    assert len(model.reducer.buckets) > 1  # NOTE: one bucket in the first step (as PyTorch 2.13), then rebuilt
    _close(_params(model.module), _params(reference), "after 5 steps")


def scenario_no_sync(torch, dist, rank, world):
    """Two backward passes under no_sync and one outside: the average over ranks of each rank's summed grads."""
    from ember.nn.parallel import DistributedDataParallel as DDP
    x, _ = _data(6 * world)
    model = DDP(_mlp(torch, 0))
    reference = _mlp(torch, 0)
    chunks = np.split(x, 3 * world)
    mine = chunks[rank * 3:(rank + 1) * 3]
    with model.no_sync():
        for chunk in mine[:2]:
            model(torch.tensor(chunk)).sum().backward()
    local = [p.grad.numpy().copy() for p in model.module.parameters()]
    model(torch.tensor(mine[2])).sum().backward()
    for chunk in chunks:
        reference(torch.tensor(chunk)).sum().backward()
    expected = [p.grad.numpy() / world for p in reference.parameters()]
    _close([p.grad.numpy() for p in model.module.parameters()], expected, "no_sync")
    if world > 1:
        assert not all(np.allclose(a, b) for a, b in zip(local, expected)), "no_sync reduced nothing"


class _Branchy:
    @staticmethod
    def make(torch):
        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.trunk = torch.nn.Linear(4, 4)
                self.left = torch.nn.Linear(4, 2)
                self.right = torch.nn.Linear(4, 2)
                self.never = torch.nn.Linear(4, 2)

            def forward(self, x, side):
                return (self.left if side == "left" else self.right)(self.trunk(x))
        torch.manual_seed(0)
        return M()


def scenario_find_unused_parameters(torch, dist, rank, world):
    """Rank 0 takes the left branch, the others the right: each branch's grad is its users' sum over world;
    a parameter no rank used keeps .grad None."""
    from ember.nn.parallel import DistributedDataParallel as DDP
    model = DDP(_Branchy.make(torch), find_unused_parameters=True)
    x = np.full((3, 4), 0.5, np.float32)
    side = "left" if rank == 0 else "right"
    for _ in range(2):  # twice: the second iteration must not see a pending reduction
        model.zero_grad()
        model(torch.tensor(x) * (rank + 1), side).sum().backward()
    reference = _Branchy.make(torch)
    for r in range(world):
        reference(torch.tensor(x) * (r + 1), "left" if r == 0 else "right").sum().backward()
    for (name, p), q in zip(model.module.named_parameters(), reference.parameters()):
        if name.startswith("never"):
            assert p.grad is None, name
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy() / world, rtol=2e-5, atol=2e-6, err_msg=name)


def scenario_buffers(torch, dist, rank, world):
    """Buffers: rank 0's at construction and before each synced forward (broadcast_buffers); not with False."""
    import warnings
    from ember.nn.parallel import DistributedDataParallel as DDP
    net = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3))
    net[1].running_mean.fill_(float(rank))
    model = DDP(net)
    assert net[1].running_mean.tolist() == [0.0] * 3
    model(torch.ones(4, 3) * (rank + 1)).sum().backward()  # BatchNorm's running stats now differ per rank
    model(torch.ones(4, 3))  # the buffers are rank 0's again before this forward runs
    after_first = net[1].running_mean.clone()
    gathered = [torch.zeros(3) for _ in range(world)]
    dist.all_gather(gathered, after_first)
    assert all(torch.equal(g, gathered[0]) for g in gathered), "buffers differ across ranks"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        quiet = DDP(torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.BatchNorm1d(3)), broadcast_buffers=False)
    quiet(torch.ones(4, 3) * (rank + 1)).sum().backward()
    quiet(torch.ones(4, 3))
    dist.all_gather(gathered, quiet.module[1].running_mean)
    assert world == 1 or not torch.equal(gathered[0], gathered[1]), "broadcast_buffers=False broadcast them"


def scenario_state_dict(torch, dist, rank, world):
    from ember.nn.parallel import DistributedDataParallel as DDP
    model = DDP(_mlp(torch, rank))
    assert model.process_group is dist.group.WORLD
    assert list(model.state_dict()) == ["module." + k for k in model.module.state_dict()]
    fresh = _mlp(torch, 7)
    fresh.load_state_dict({k[len("module."):]: v for k, v in model.state_dict().items()})
    _close(_params(fresh), _params(model.module), "state_dict")


def scenario_different_models_raise(torch, dist, rank, world):
    from ember.nn.parallel import DistributedDataParallel as DDP
    try:
        DDP(torch.nn.Linear(3, 3 + rank))
    except RuntimeError as error:
        assert "DDP expects same model across all ranks" in str(error), error
    else:
        raise AssertionError("models of different shapes were accepted")


def scenario_sampler_from_group(torch, dist, rank, world):
    from ember.utils.data import DistributedSampler
    sampler = DistributedSampler(range(10), shuffle=False)
    assert (sampler.num_replicas, sampler.rank) == (world, rank)
    padded = list(range(10)) + list(range(-10 % world))  # padded with the first indices to a multiple of world
    assert list(sampler) == padded[rank::world]
    everyone = [None] * world
    dist.all_gather_object(everyone, list(sampler))
    assert sorted(set(i for share in everyone for i in share)) == list(range(10))


GROUPS = {
    2: ["matches_single_process", "no_sync", "find_unused_parameters", "buffers", "state_dict",
        "different_models_raise", "sampler_from_group"],
    3: ["matches_single_process", "no_sync", "find_unused_parameters", "sampler_from_group"],
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
    from .launch import run_ranks  # NOTE: h16core's harness: mpiexec under ember's launcher, killed on timeout
    names = GROUPS[n]
    done = run_ranks(os.path.abspath(__file__), n, *names, timeout=240, env={"OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout
    for rank in range(n):
        for name in names:
            assert f"rank {rank}: {name} ok" in done.stdout, done.stdout


def test_ddp_two_processes():
    _check_group(2)


def test_ddp_three_processes():
    _check_group(3)


if __name__ == "__main__":
    sys.path.insert(0, ROOT)
    _main(sys.argv[1:])
