"""ember.utils.data against torch.utils.data: same datasets, same batches, same errors."""
import collections
import math

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata


def same(e, t):
    """Structures equal: same container types, tensors equal in values, dtype and shape."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), type(e)
        assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
    elif isinstance(t, dict):
        assert type(e) is type(t) and list(e) == list(t)
        for key in t:
            same(e[key], t[key])
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t) and len(e) == len(t), (type(e), type(t))
        for a, b in zip(e, t):
            same(a, b)
    else:
        assert type(e) is type(t) and e == t


def same_error(t_fn, e_fn):
    with pytest.raises(Exception) as t_info:
        t_fn()
    with pytest.raises(Exception) as e_info:
        e_fn()
    assert type(e_info.value) is type(t_info.value)
    assert str(e_info.value) == str(t_info.value)


def both(fn):
    """fn(lib, data) built once with torch and once with ember."""
    return fn(torch, tdata), fn(ember, edata)


def tensor_dataset(lib, data, n=10):
    x = lib.arange(n * 3, dtype=lib.float32).reshape(n, 3)
    y = lib.arange(n) % 3
    return data.TensorDataset(x, y)


class SquaresBody:
    """A plain Python map-style dataset (no tensors): usable by both libraries."""
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return {"x": float(i), "y": i * i, "name": f"s{i}", "pair": (i, [True, i % 2 == 0])}


class Squares(SquaresBody, tdata.Dataset):
    pass


class ESquares(SquaresBody, edata.Dataset):
    pass


class Stream(tdata.IterableDataset):
    """Iterable dataset that shards itself across workers via get_worker_info."""
    lib = tdata

    def __init__(self, n, shard=False):
        self.n, self.shard = n, shard

    def __iter__(self):
        info = self.lib.get_worker_info()
        start, step = 0, 1
        if self.shard and info is not None:
            start, step = info.id, info.num_workers
        return iter(np.arange(start, self.n, step, dtype=np.int32))


class EStream(edata.IterableDataset):
    lib = edata
    __init__ = Stream.__init__
    __iter__ = Stream.__iter__


def loaders(**kwargs):
    t_ds, e_ds = both(tensor_dataset)
    return tdata.DataLoader(t_ds, **kwargs), edata.DataLoader(e_ds, **kwargs)


# ---------------------------------------------------------------- sequential loading

@pytest.mark.parametrize("kwargs", [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=4, shuffle=False), dict(batch_size=20),
                                    dict(batch_size=None), dict(batch_size=3, num_workers=2)])
def test_tensor_dataset_batches_match_torch(kwargs):
    t_loader, e_loader = loaders(**kwargs)
    assert len(e_loader) == len(t_loader)
    t_batches, e_batches = list(t_loader), list(e_loader)
    assert len(e_batches) == len(t_batches)
    for e, t in zip(e_batches, t_batches):
        same(e, t)


def test_len_is_ceil_or_floor():
    for n, bs in [(10, 3), (9, 3), (1, 5), (0, 2)]:
        for drop_last in (False, True):
            loader = edata.DataLoader(list(range(n)), batch_size=bs, drop_last=drop_last)
            expected = n // bs if drop_last else math.ceil(n / bs)
            assert len(loader) == expected == len(tdata.DataLoader(list(range(n)), batch_size=bs,
                                                                    drop_last=drop_last))
            assert len(list(loader)) == expected


def test_python_dataset_collation_matches_torch():
    t_batches = list(tdata.DataLoader(Squares(5), batch_size=2))
    e_batches = list(edata.DataLoader(ESquares(5), batch_size=2))
    for e, t in zip(e_batches, t_batches, strict=True):
        same(e, t)
    assert e_batches[0]["x"].dtype == ember.float64 and e_batches[0]["y"].dtype == ember.int64


def test_sampler_and_batch_sampler_arguments():
    t_ds, e_ds = both(tensor_dataset)
    order = [9, 2, 4, 0, 7]
    same(list(edata.DataLoader(e_ds, batch_size=2, sampler=order)),
         list(tdata.DataLoader(t_ds, batch_size=2, sampler=order)))
    batches = [[1, 2], [8], [0, 5, 6]]
    same(list(edata.DataLoader(e_ds, batch_sampler=batches)), list(tdata.DataLoader(t_ds, batch_sampler=batches)))
    e_loader = edata.DataLoader(e_ds, batch_sampler=batches)
    assert e_loader.batch_size is None and e_loader.drop_last is False and len(e_loader) == 3


def test_custom_collate_fn_and_no_batching():
    fn = lambda batch: len(batch)  # noqa: E731
    assert list(edata.DataLoader(range(7), batch_size=3, collate_fn=fn)) == [3, 3, 1]
    t_items = list(tdata.DataLoader([np.float64(1.5), np.arange(3), "a", (np.int8(1), 2)], batch_size=None))
    e_items = list(edata.DataLoader([np.float64(1.5), np.arange(3), "a", (np.int8(1), 2)], batch_size=None))
    same(e_items, t_items)


@pytest.mark.parametrize("kwargs", [dict(batch_size=2), dict(batch_size=2, drop_last=True),
                                    dict(batch_size=None), dict(batch_size=2, num_workers=2)])
def test_iterable_dataset_matches_torch(kwargs):
    same(list(edata.DataLoader(EStream(5), **kwargs)), list(tdata.DataLoader(Stream(5), **kwargs)))
    with pytest.raises(TypeError):
        len(edata.DataLoader(EStream(5), **kwargs))  # no __len__ on the dataset, as in torch


class SizedStream(EStream):
    def __len__(self):
        return self.n


def test_iterable_len_uses_dataset_len_and_warns_when_exceeded():
    assert len(edata.DataLoader(SizedStream(5), batch_size=2)) == 3
    assert len(edata.DataLoader(SizedStream(5), batch_size=2, drop_last=True)) == 2
    assert len(edata.DataLoader(SizedStream(5), batch_size=None)) == 5


class UnderReported(SizedStream):
    def __len__(self):
        return 4


def test_iterable_warns_when_more_than_its_len_is_fetched():
    loader = edata.DataLoader(UnderReported(5), batch_size=None)
    assert len(loader) == 4
    with pytest.warns(UserWarning, match="was reported to be 4"):
        assert len(list(loader)) == 5


def test_iterable_dataset_sharded_across_workers_matches_torch():
    kwargs = dict(batch_size=2, num_workers=3)
    t = list(tdata.DataLoader(Stream(11, shard=True), **kwargs))
    e = list(edata.DataLoader(EStream(11, shard=True), **kwargs))
    same(e, t)


class TaggedBody:
    """Items carry the fetching worker's id and a tag its worker_init_fn set on its dataset copy."""
    tag = -1

    def __len__(self):
        return 6

    def __getitem__(self, i):
        info = self.lib.get_worker_info()
        return [i, info.id, info.num_workers, self.tag]


class Tagged(TaggedBody, tdata.Dataset):
    lib = tdata


class ETagged(TaggedBody, edata.Dataset):
    lib = edata


def test_worker_init_fn_and_worker_info():
    # NOTE: workers are processes (as torch's): worker_init_fn's effects stay in the worker, so it
    # tags the worker's copy of the dataset, and the batches show it.
    def init_with(lib):
        def init(worker_id):
            info = lib.get_worker_info()
            assert info.id == worker_id
            info.dataset.tag = 100 + worker_id
        return init

    loader = edata.DataLoader(ETagged(), batch_size=2, num_workers=2, worker_init_fn=init_with(edata))
    same(list(loader), list(tdata.DataLoader(Tagged(), batch_size=2, num_workers=2,
                                             worker_init_fn=init_with(tdata))))
    assert edata.get_worker_info() is None


# ---------------------------------------------------------------- collate

Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize("batch", [
    [np.zeros(3), np.ones(3)],                             # float64 stays float64 (pitfall 29)
    [np.zeros((2, 2), np.float32), np.ones((2, 2), np.float32)],
    [1.5, 2.0], [1, 2, 3], [True, False], [np.int16(3), np.int16(4)], [np.float64(2.5)],
    ["a", "b"], [b"a", b"b"],
    [{"a": 1, "b": [1.0, 2.0]}, {"a": 2, "b": [3.0, 4.0]}],
    [(1, "x"), (2, "y")], [[1, 2, 3], [4, 5, 6]],
    [Point(1, 2.0), Point(3, 4.0)],
])
def test_default_collate_matches_torch(batch):
    same(edata.default_collate(batch), tdata.default_collate(batch))


def test_default_collate_tensors_and_convert():
    same(edata.default_collate([ember.ones(2, dtype=ember.int32), ember.zeros(2, dtype=ember.int32)]),
         tdata.default_collate([torch.ones(2, dtype=torch.int32), torch.zeros(2, dtype=torch.int32)]))
    sample = {"a": np.arange(3.0), "b": (np.int64(1), "s"), "c": [np.zeros(2, np.float32)], "d": Point(np.int8(1), 2)}
    same(edata.default_convert(sample), tdata.default_convert(sample))
    assert edata.dataloader.default_collate is edata.default_collate


def test_default_collate_errors_match_torch():
    same_error(lambda: tdata.default_collate([torch.zeros(2), torch.zeros(3)]),
               lambda: edata.default_collate([ember.zeros(2), ember.zeros(3)]))
    same_error(lambda: tdata.default_collate([[1, 2], [3]]), lambda: edata.default_collate([[1, 2], [3]]))
    same_error(lambda: tdata.default_collate([object()]), lambda: edata.default_collate([object()]))
    same_error(lambda: tdata.default_collate([None]), lambda: edata.default_collate([None]))
    strs = [np.array(["a"]), np.array(["b"])]
    same_error(lambda: tdata.default_collate(strs), lambda: edata.default_collate(strs))


# ---------------------------------------------------------------- datasets

def test_tensor_dataset_and_errors():
    t_ds, e_ds = both(tensor_dataset)
    assert len(e_ds) == len(t_ds) == 10
    same(e_ds[3], t_ds[3])
    same_error(lambda: tdata.TensorDataset(torch.zeros(3), torch.zeros(4)),
               lambda: edata.TensorDataset(ember.zeros(3), ember.zeros(4)))


def test_concat_dataset():
    t = tdata.ConcatDataset([list(range(3)), list(range(10, 14))])
    e = edata.ConcatDataset([list(range(3)), list(range(10, 14))])
    assert e.cumulative_sizes == t.cumulative_sizes == [3, 7]
    assert [e[i] for i in range(-7, 7)] == [t[i] for i in range(-7, 7)]
    same_error(lambda: t[-8], lambda: e[-8])
    same_error(lambda: t[7], lambda: e[7])
    same_error(lambda: tdata.ConcatDataset([]), lambda: edata.ConcatDataset([]))
    same_error(lambda: tdata.ConcatDataset([Stream(2)]), lambda: edata.ConcatDataset([EStream(2)]))
    added = ESquares(2) + ESquares(3)
    assert isinstance(added, edata.ConcatDataset) and len(added) == 5 and added[4]["y"] == 4
    chained = EStream(2) + EStream(3)
    assert isinstance(chained, edata.ChainDataset) and [int(v) for v in chained] == [0, 1, 0, 1, 2]


def test_dataset_base_and_subset_and_stack():
    same_error(lambda: tdata.Dataset()[0], lambda: edata.Dataset()[0])
    with pytest.raises(TypeError):
        len(edata.Dataset())
    sub = edata.Subset(list(range(10, 20)), [5, 1, 7])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [15, 11, 17] and sub.__getitems__([0, 2]) == [15, 17]
    t_stack = tdata.StackDataset(a=list(range(3)), b=list("xyz"))
    e_stack = edata.StackDataset(a=list(range(3)), b=list("xyz"))
    assert e_stack[1] == t_stack[1] and len(e_stack) == 3
    assert edata.StackDataset([1, 2], [3, 4])[1] == (2, 4)
    for args, kwargs in [(([1], [1, 2]), {}), ((), {}), (([1],), {"b": [1]})]:
        same_error(lambda: tdata.StackDataset(*args, **kwargs), lambda: edata.StackDataset(*args, **kwargs))


def test_random_split():
    parts = edata.random_split(range(10), [3, 7], generator=ember.Generator().manual_seed(1))
    assert [len(p) for p in parts] == [3, 7]
    assert sorted(list(parts[0]) + list(parts[1])) == list(range(10))
    again = edata.random_split(range(10), [3, 7], generator=ember.Generator().manual_seed(1))
    assert [list(p) for p in again] == [list(p) for p in parts]
    for fracs in ([0.3, 0.3, 0.4], [0.5, 0.5], [0.1] * 10, [0.33, 0.33, 0.34]):
        for n in (7, 10, 11):
            t_lens = [len(p) for p in tdata.random_split(range(n), fracs)]
            assert [len(p) for p in edata.random_split(range(n), fracs)] == t_lens
    same_error(lambda: tdata.random_split(range(10), [3, 3]), lambda: edata.random_split(range(10), [3, 3]))
    same_error(lambda: tdata.random_split(range(10), [1.5, -0.5]),
               lambda: edata.random_split(range(10), [1.5, -0.5]))


# ---------------------------------------------------------------- samplers

def test_deterministic_samplers_match_torch():
    assert list(edata.SequentialSampler(range(5))) == list(tdata.SequentialSampler(range(5)))
    for drop_last in (False, True):
        t = tdata.BatchSampler(range(10), 4, drop_last)
        e = edata.BatchSampler(range(10), 4, drop_last)
        assert list(e) == list(t) and len(e) == len(t)


def test_random_samplers_are_seeded_permutations():
    ember.manual_seed(0)
    first = list(edata.RandomSampler(range(20)))
    ember.manual_seed(0)
    assert list(edata.RandomSampler(range(20))) == first and sorted(first) == list(range(20))
    gen = ember.Generator().manual_seed(3)
    long = list(edata.RandomSampler(range(5), num_samples=12, generator=gen))
    assert len(long) == 12 and sorted(long[:5]) == sorted(long[5:10]) == list(range(5))
    drawn = list(edata.RandomSampler(range(4), replacement=True, num_samples=70))
    assert len(drawn) == 70 and set(drawn) <= set(range(4))
    sub = list(edata.SubsetRandomSampler([10, 20, 30, 40]))
    assert sorted(sub) == [10, 20, 30, 40]
    weighted = list(edata.WeightedRandomSampler([0.0, 1.0, 0.0, 2.0], 50))
    assert len(weighted) == 50 and set(weighted) <= {1, 3}
    no_repeat = list(edata.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False))
    assert sorted(no_repeat) == [0, 1, 2]


def test_sampler_errors_match_torch():
    cases = [
        lambda lib: lib.RandomSampler(range(3), replacement=1),
        lambda lib: lib.RandomSampler(range(3), num_samples=0),
        lambda lib: lib.RandomSampler([], num_samples=None),
        lambda lib: lib.WeightedRandomSampler([1.0], 0),
        lambda lib: lib.WeightedRandomSampler([1.0], True),
        lambda lib: lib.WeightedRandomSampler([1.0], 2, replacement=None),
        lambda lib: lib.WeightedRandomSampler([[1.0]], 2),
        lambda lib: lib.BatchSampler(range(3), 0, False),
        lambda lib: lib.BatchSampler(range(3), 2.0, False),
        lambda lib: lib.BatchSampler(range(3), 2, None),
    ]
    for case in cases:
        same_error(lambda: case(tdata), lambda: case(edata))


def test_shuffle_is_deterministic_and_a_permutation():
    e_ds = tensor_dataset(ember, edata, n=37)
    def epoch(seed):
        ember.manual_seed(seed)
        return [b[0][:, 0].tolist() for b in edata.DataLoader(e_ds, batch_size=8, shuffle=True)]
    first = epoch(5)
    assert first == epoch(5) and first != epoch(6)
    assert [len(b) for b in first] == [8, 8, 8, 8, 5]
    assert sorted(v for b in first for v in b) == [3.0 * i for i in range(37)]
    gen_order = lambda: [b[1].tolist() for b in edata.DataLoader(  # noqa: E731
        e_ds, batch_size=8, shuffle=True, generator=ember.Generator().manual_seed(2))]
    assert gen_order() == gen_order()


# ---------------------------------------------------------------- DataLoader argument errors

@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(num_workers=1, prefetch_factor=-1),
    dict(persistent_workers=True), dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
    dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True), dict(multiprocessing_context="spawn"),
    dict(num_workers=1, multiprocessing_context="nope"), dict(batch_size=0),
])
def test_dataloader_argument_errors_match_torch(kwargs):
    t_ds, e_ds = both(tensor_dataset)
    same_error(lambda: tdata.DataLoader(t_ds, **kwargs), lambda: edata.DataLoader(e_ds, **kwargs))


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])])
def test_iterable_dataset_argument_errors_match_torch(kwargs):
    t_err = pytest.raises(ValueError, tdata.DataLoader, Stream(3), **kwargs)
    e_err = pytest.raises(ValueError, edata.DataLoader, EStream(3), **kwargs)
    # NOTE: the message shows the argument's repr; compare up to "got".
    assert str(e_err.value).split("got")[0] == str(t_err.value).split("got")[0]


def test_dataloader_attributes_and_frozen_fields():
    t_loader, e_loader = loaders(batch_size=4)
    for name in ("batch_size", "drop_last", "num_workers", "timeout", "pin_memory", "prefetch_factor"):
        assert getattr(e_loader, name) == getattr(t_loader, name)
    assert type(e_loader.sampler).__name__ == type(t_loader.sampler).__name__ == "SequentialSampler"
    assert type(loaders(shuffle=True)[1].sampler).__name__ == "RandomSampler"
    same_error(lambda: setattr(t_loader, "batch_size", 3), lambda: setattr(e_loader, "batch_size", 3))
    e_loader.worker_init_fn = None  # other attributes stay settable
    same_error(lambda: iter(tdata.DataLoader(range(3), timeout=1)), lambda: iter(edata.DataLoader(range(3), timeout=1)))


def test_persistent_workers_reuse_one_iterator():
    loader = edata.DataLoader(range(5), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    assert loader._iterator is not None


def test_training_loop_with_shuffled_loader_lowers_loss():
    ember.manual_seed(0)
    x = ember.randn(256, 4)
    y = x @ ember.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1
    loader = edata.DataLoader(edata.TensorDataset(x, y), batch_size=32, shuffle=True)
    model = ember.nn.Linear(4, 1)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(5):
        total = 0.0
        for xb, yb in loader:
            assert xb.shape == (32, 4) and yb.shape == (32, 1)
            opt.zero_grad()
            loss = ember.nn.functional.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item()
        losses.append(total / len(loader))
    assert losses[-1] < 0.1 * losses[0]


def test_random_sampler_with_replacement_is_lazy():
    """An endless stream (num_samples=10**10, as training scripts use) yields its first batch at once in
    constant memory: the sampler once built a 4.9 GB list before its first index."""
    import itertools
    import tracemalloc
    sampler = edata.RandomSampler(range(10), replacement=True, num_samples=10 ** 10)
    loader = edata.DataLoader(range(10), batch_size=8, sampler=sampler)
    assert len(sampler) == 10 ** 10 and len(loader) == 10 ** 10 // 8
    tracemalloc.start()
    try:
        first = list(itertools.islice(sampler, 100))
        batch = next(iter(loader))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(first) == 100 and all(0 <= i < 10 for i in first) and batch.shape == (8,)
    assert peak < 2 ** 20, peak
