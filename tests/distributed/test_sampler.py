"""ember.utils.data.DistributedSampler against torch.utils.data.DistributedSampler (num_replicas and rank
given, so no process group is needed)."""
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata
from ember.utils.data.distributed import DistributedSampler

SIZES = [0, 1, 2, 5, 7, 10, 11, 64, 97]
REPLICAS = [1, 2, 3, 4, 8]


def shares(cls, size, replicas, **kw):
    return [list(cls(range(size), num_replicas=replicas, rank=r, **kw)) for r in range(replicas)]


def test_exported_where_programs_import_it():
    import ember.utils.data.distributed as mod
    assert edata.DistributedSampler is mod.DistributedSampler is DistributedSampler
    assert issubclass(DistributedSampler, edata.Sampler)


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("replicas", REPLICAS)
@pytest.mark.parametrize("size", SIZES)
def test_unshuffled_split_is_torchs(size, replicas, drop_last):
    for rank in range(replicas):
        e = DistributedSampler(range(size), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop_last)
        t = tdata.DistributedSampler(range(size), num_replicas=replicas, rank=rank, shuffle=False,
                                     drop_last=drop_last)
        assert list(e) == list(t)
        assert len(e) == len(t) == e.num_samples == t.num_samples
        assert e.total_size == t.total_size


def test_padding_repeats_from_the_start_and_drop_last_trims():
    assert shares(DistributedSampler, 5, 4, shuffle=False) == [[0, 4], [1, 0], [2, 1], [3, 2]]
    # more padding than data: the indices are repeated as many times as needed
    assert shares(DistributedSampler, 2, 5, shuffle=False) == [[0], [1], [0], [1], [0]]
    assert shares(DistributedSampler, 7, 3, shuffle=False, drop_last=True) == [[0, 3], [1, 4], [2, 5]]


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
@pytest.mark.parametrize("size", [1, 4, 10, 33])
def test_shuffled_split_follows_torchs_rules_on_embers_permutation(monkeypatch, size, replicas, drop_last):
    # NOTE: ember's randperm does not draw PyTorch's permutation, so torch's sampler is fed ember's one
    # (same seed + epoch) and both must then cut it identically.
    def embers_randperm(n, generator=None):
        g = ember.Generator()
        g.manual_seed(generator.initial_seed())
        return torch.tensor(ember.randperm(n, generator=g).tolist())
    monkeypatch.setattr(torch, "randperm", embers_randperm)
    for epoch in (0, 3):
        for rank in range(replicas):
            e = DistributedSampler(range(size), num_replicas=replicas, rank=rank, seed=11, drop_last=drop_last)
            t = tdata.DistributedSampler(range(size), num_replicas=replicas, rank=rank, seed=11, drop_last=drop_last)
            e.set_epoch(epoch)
            t.set_epoch(epoch)
            assert list(e) == list(t)


def test_shuffled_split_is_torchs():
    """ember's generator and randperm are PyTorch's, so a seeded shuffle gives PyTorch's shares."""
    e = shares(DistributedSampler, 20, 2, seed=0)
    t = shares(tdata.DistributedSampler, 20, 2, seed=0)
    assert e == t


def test_shuffled_shares_cover_the_data_once_and_follow_the_epoch():
    first = shares(DistributedSampler, 40, 4, seed=5)
    assert sorted(i for s in first for i in s) == list(range(40))
    assert first == shares(DistributedSampler, 40, 4, seed=5)  # same seed, same epoch: same order
    assert first != shares(DistributedSampler, 40, 4, seed=6)
    later = [DistributedSampler(range(40), num_replicas=4, rank=r, seed=5) for r in range(4)]
    for s in later:
        s.set_epoch(1)
    assert [list(s) for s in later] != first
    assert sorted(i for s in later for i in s) == list(range(40))
    assert list(later[0]) == list(later[0])  # iterating twice in one epoch gives the same order


def test_attributes_as_torchs():
    e = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False, seed=4, drop_last=True)
    t = tdata.DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False, seed=4, drop_last=True)
    assert {k: v for k, v in vars(e).items()} == {k: v for k, v in vars(t).items()}


@pytest.mark.parametrize("rank", [2, 5, -1])
def test_invalid_rank_raises_as_torch(rank):
    with pytest.raises(ValueError) as t_info:
        tdata.DistributedSampler(range(4), num_replicas=2, rank=rank)
    with pytest.raises(ValueError) as e_info:
        DistributedSampler(range(4), num_replicas=2, rank=rank)
    assert str(e_info.value) == str(t_info.value)


def test_drives_a_dataloader():
    data = edata.TensorDataset(ember.arange(10.0))
    sampler = DistributedSampler(data, num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].tolist() for b in edata.DataLoader(data, batch_size=2, sampler=sampler)]
    assert batches == [[1.0, 3.0], [5.0, 7.0], [9.0]]


@pytest.mark.parametrize("make", [lambda lib: lib.utils.data.DistributedSampler(range(4)),
                                  lambda lib: lib.utils.data.DistributedSampler(range(4), num_replicas=2),
                                  lambda lib: lib.nn.parallel.DistributedDataParallel(lib.nn.Linear(2, 2))],
                         ids=["sampler", "sampler_rank", "ddp"])
def test_without_a_process_group_raises_as_torch(make):
    # NOTE: here, not in test_ddp_local.py, whose fixture starts a torch process group
    assert not torch.distributed.is_initialized()
    with pytest.raises(ValueError) as t_info:
        make(torch)
    with pytest.raises(ValueError) as e_info:
        make(ember)
    assert str(e_info.value) == str(t_info.value)
