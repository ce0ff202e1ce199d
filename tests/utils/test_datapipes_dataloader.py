"""DataLoader over torch.utils.data.datapipes: sharding across workers, shuffle toggling and seeding,
compared with torch's DataLoader where the outputs are deterministic."""
import os

import pytest
import torch
import torch.utils.data.datapipes.iter as TI
import torch.utils.data.datapipes.map as TM

import ember
import ember.utils.data.datapipes.iter as EI
import ember.utils.data.datapipes.map as EM
from ember.utils.data import DataLoader

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _double(x):
    return 2 * x


def _plain(obj):
    """Nested DataChunks/lists/tuples as plain lists/tuples (so ember's and torch's compare)."""
    if isinstance(obj, list):
        return [_plain(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_plain(o) for o in obj)
    return obj


def _loader_items(loader):
    return [x.tolist() if hasattr(x, "tolist") else x for x in loader]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_over_datapipe(num_workers):
    dp = EI.IterableWrapper(range(10)).sharding_filter().map(_double)
    out = []
    for batch in DataLoader(dp, batch_size=2, num_workers=num_workers):
        out.extend(batch.tolist())
    # NOTE: with workers each takes every other element (its shard), so nothing is repeated
    assert sorted(out) == [2 * i for i in range(10)]
    tdp = TI.IterableWrapper(range(10)).sharding_filter().map(_double)
    tout = []
    for batch in torch.utils.data.DataLoader(tdp, batch_size=2, num_workers=num_workers):
        tout.extend(batch.tolist())
    assert out == tout


@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_shuffle_toggle(num_workers):
    dp = EI.IterableWrapper(range(16)).shuffle().sharding_filter()
    # NOTE: shuffle=False turns the Shuffler off; two workers alternate their shards, so the order is kept
    assert _loader_items(DataLoader(dp, batch_size=None, shuffle=False, num_workers=num_workers)) == list(range(16))
    loader = DataLoader(dp, batch_size=None, shuffle=True, num_workers=num_workers)
    first = _loader_items(loader)
    assert sorted(first) == list(range(16))  # shuffled before sharding with one seed: nothing lost or doubled
    ember.manual_seed(11)
    a = _loader_items(loader)
    ember.manual_seed(11)
    assert _loader_items(loader) == a  # the shared seed comes from ember's RNG


def test_dataloader_shuffle_true_without_shuffler_warns():
    with pytest.warns(UserWarning, match="does not contain a `Shuffler`"):
        loader = DataLoader(EI.IterableWrapper(range(8)), batch_size=None, shuffle=True)
    assert sorted(_loader_items(loader)) == list(range(8))


def test_dataloader_seeds_from_generator():
    gen = ember.Generator().manual_seed(5)
    e = _loader_items(DataLoader(EI.IterableWrapper(range(12)).shuffle(), batch_size=None, generator=gen))
    gen.manual_seed(5)
    assert _loader_items(DataLoader(EI.IterableWrapper(range(12)).shuffle(), batch_size=None, generator=gen)) == e
    assert sorted(e) == list(range(12))


def test_dataloader_persistent_workers_reshuffle():
    dp = EI.IterableWrapper(range(12)).shuffle().sharding_filter()
    loader = DataLoader(dp, batch_size=None, num_workers=2, persistent_workers=True)
    epochs = [_loader_items(loader) for _ in range(3)]
    for ep in epochs:
        assert sorted(ep) == list(range(12))
    assert len({tuple(ep) for ep in epochs}) > 1


@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_over_map_datapipe(num_workers):
    dp = EM.SequenceWrapper(list(range(10))).map(_double)
    out = [b.tolist() for b in DataLoader(dp, batch_size=4, num_workers=num_workers)]
    tout = [b.tolist() for b in torch.utils.data.DataLoader(TM.SequenceWrapper(list(range(10))).map(_double),
                                                            batch_size=4, num_workers=num_workers)]
    assert out == tout


def test_dataloader_over_batched_datapipe():
    dp = EI.IterableWrapper(range(7)).batch(3)
    e = list(DataLoader(dp, batch_size=None))
    t = list(torch.utils.data.DataLoader(TI.IterableWrapper(range(7)).batch(3), batch_size=None))
    assert _plain(e) == _plain(t)
    assert [type(b).__name__ for b in e] == [type(b).__name__ for b in t]


def _tag_worker(worker_id):
    os.environ["EMBER_TEST_DATAPIPE_WORKER"] = str(worker_id)


def _with_worker_tag(x):
    return (x, os.environ.get("EMBER_TEST_DATAPIPE_WORKER"))


def test_dataloader_datapipe_keeps_user_worker_init_fn():
    dp = EI.IterableWrapper(range(6)).sharding_filter().map(_with_worker_tag)
    out = list(DataLoader(dp, batch_size=None, num_workers=2, worker_init_fn=_tag_worker))
    assert sorted(x for x, _ in out) == list(range(6))
    assert {(x % 2, tag) for x, tag in out} == {(0, "0"), (1, "1")}  # worker w got shard w and ran the init
