"""torch.utils.data.datapipes bases: the functional registry, the single-iterator rule, reset, repr/str,
pickling and its hooks, DataChunk, DFIterDataPipe, the decorators and the graph walk."""
import pickle

import pytest
import torch
import torch.utils.data.datapipes.iter as TI

import ember.utils.data.datapipes.iter as EI
from ember.utils.data import IterDataPipe, MapDataPipe

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


def test_functional_registry():
    for name in ("map", "filter", "batch", "unbatch", "collate", "concat", "zip", "mux", "demux", "fork",
                 "groupby", "shuffle", "sharding_filter", "list_files", "open_files", "read_from_stream"):
        assert name in IterDataPipe.functions
    assert sorted(MapDataPipe.functions) == sorted(torch.utils.data.MapDataPipe.functions)
    with pytest.raises(AttributeError, match="'IterableWrapperIterDataPipe' object has no attribute 'nope"):
        EI.IterableWrapper([1]).nope
    with pytest.raises(Exception, match="Unable to add DataPipe function name map as it is already taken"):
        IterDataPipe.register_datapipe_as_function("map", EI.Mapper)


def test_functional_datapipe_decorator():
    from ember.utils.data import functional_datapipe

    @functional_datapipe("_ember_test_repeat")
    class Repeat(IterDataPipe):
        def __init__(self, dp, times):
            self.dp, self.times = dp, times

        def __iter__(self):
            for x in self.dp:
                for _ in range(self.times):
                    yield x
    try:
        assert list(EI.IterableWrapper([1, 2])._ember_test_repeat(2)) == [1, 1, 2, 2]
    finally:
        del IterDataPipe.functions["_ember_test_repeat"]


def test_single_iterator_rule():
    for m in (EI, TI):
        dp = m.IterableWrapper(range(5))
        it1 = iter(dp)
        assert next(it1) == 0
        it2 = iter(dp)
        assert next(it2) == 0
        with pytest.raises(RuntimeError, match="This iterator has been invalidated because another iterator has "
                                               "been created from the same IterDataPipe"):
            next(it1)
        assert list(it2) == [1, 2, 3, 4]
        assert list(dp) == list(dp) == list(range(5))


def test_single_iterator_self_next():
    class Counter(IterDataPipe):
        def __init__(self):
            self.i = 0

        def __iter__(self):
            return self

        def __next__(self):
            if self.i >= 3:
                raise StopIteration
            self.i += 1
            return self.i

        def reset(self):
            self.i = 0
    c = Counter()
    assert list(iter(c)) == [1, 2, 3]
    assert list(c) == [1, 2, 3]  # each iter() resets it
    it1 = iter(c)
    assert next(it1) == 1
    it2 = iter(c)
    assert next(it2) == 1
    with pytest.raises(RuntimeError, match="This iterator has been invalidated"):
        next(it1)


def test_reset_called_per_iteration():
    calls = []

    class R(IterDataPipe):
        def __iter__(self):
            yield 1

        def reset(self):
            calls.append(1)
    r = R()
    list(r)
    list(r)
    assert len(calls) == 2


def test_repr_str_pickle():
    dp = EI.IterableWrapper(range(6)).map(_double).batch(2)
    t = TI.IterableWrapper(range(6)).map(_double).batch(2)
    assert repr(dp) == repr(t) and str(dp) == str(t)
    back = pickle.loads(pickle.dumps(dp))
    assert _plain(list(back)) == _plain(list(dp))
    sh = EI.IterableWrapper(range(10)).shuffle().set_seed(4)
    assert list(pickle.loads(pickle.dumps(sh))) == list(EI.IterableWrapper(range(10)).shuffle().set_seed(4))
    import ember.utils.data.datapipes.map as EM
    import torch.utils.data.datapipes.map as TM
    msh = EM.SequenceWrapper(range(10)).shuffle().set_seed(4)
    assert list(pickle.loads(pickle.dumps(msh))) == list(TM.SequenceWrapper(range(10)).shuffle().set_seed(4))


def test_datachunk():
    from ember.utils.data import DataChunk
    from torch.utils.data import DataChunk as TDataChunk
    e, t = DataChunk([1, 2]), TDataChunk([1, 2])
    assert (repr(e), str(e), e.as_str("  "), list(e.raw_iterator())) == (
        repr(t), str(t), t.as_str("  "), list(t.raw_iterator()))
    assert isinstance(e, list)


def test_dfiterdatapipe():
    from ember.utils.data import DFIterDataPipe
    assert issubclass(DFIterDataPipe, IterDataPipe)
    with pytest.raises(NotImplementedError, match="dataframe"):
        DFIterDataPipe()._dataframes_as_tuples()


def test_decorators():
    from ember.utils.data import (argument_validation, guaranteed_datapipes_determinism, non_deterministic,
                                  runtime_validation, runtime_validation_disabled)
    from torch.utils.data import non_deterministic as tnd

    @non_deterministic
    class ND(IterDataPipe):
        def __iter__(self):
            yield 1
    assert list(ND()) == [1]
    with guaranteed_datapipes_determinism():
        with pytest.raises(TypeError, match="ND is non-deterministic, but you set 'guaranteed_datapipes_determinism'"):
            ND()
    assert list(ND()) == [1]
    with pytest.raises(TypeError, match="Only `IterDataPipe` can be decorated with `non_deterministic`"):
        non_deterministic(int)
    with pytest.raises(TypeError, match="Only `IterDataPipe` can be decorated with `non_deterministic`"):
        tnd(int)

    @non_deterministic(lambda flag: flag)
    class Maybe(IterDataPipe):
        def __init__(self, flag):
            self.flag = flag

        def __iter__(self):
            yield self.flag
    with guaranteed_datapipes_determinism():
        assert list(Maybe(False)) == [False]
        with pytest.raises(TypeError, match="is non-deterministic with the inputs"):
            Maybe(True)

    @argument_validation
    def takes(dp: IterDataPipe):
        return dp
    takes(EI.IterableWrapper([]))

    @argument_validation
    def takes_ints(dp: IterDataPipe[int], n: int):
        return n
    assert takes_ints(EI.IterableWrapper([1]), 3) == 3
    with pytest.raises(TypeError, match="Expected argument 'dp' as a IterDataPipe"):
        takes_ints((1,), 3)
    with pytest.raises(TypeError, match="Expected argument 'dp' as a IterDataPipe, but found <class 'list'>"):
        takes([])

    class Ints(IterDataPipe[int]):
        def __init__(self, data):
            self.data = data

        @runtime_validation
        def __iter__(self):
            yield from self.data
    assert list(Ints([1, 2])) == [1, 2]
    with pytest.raises(RuntimeError, match="Expected an instance as subtype of"):
        list(Ints([1, "a"]))
    with runtime_validation_disabled():
        assert list(Ints([1, "a"])) == [1, "a"]
    def f(self):
        yield 1
    with pytest.raises(TypeError, match="Can not decorate function f with 'runtime_validation'"):
        runtime_validation(f)


def test_invalidated_message_names_the_pipe():
    messages = []
    for m in (EI, TI):
        for dp in (m.IterableWrapper(range(3)), m.IterableWrapper(range(3)).map(_double),
                   m.IterableWrapper(range(3)).shuffle()):
            a = iter(dp)
            next(a)
            next(iter(dp))
            with pytest.raises(RuntimeError) as info:
                next(a)
            messages.append(str(info.value))
    assert messages[:3] == messages[3:]


def _kind(kind):
    """(base, wrapper class, Mapper class, a pipe of the other base) of iter- or map-style pipes."""
    import ember.utils.data.datapipes.map as EM
    if kind == "iter":
        return IterDataPipe, EI.IterableWrapper, EI.Mapper, EM.SequenceWrapper([1])
    return MapDataPipe, EM.SequenceWrapper, EM.Mapper, EI.IterableWrapper([1])


@pytest.mark.parametrize("kind", ["iter", "map"])
def test_getstate_and_reduce_ex_hooks(kind):
    """Each base's hooks serve its own pipes (a subclass reaches them too), not the other base's."""
    base, wrapper, mapper, other = _kind(kind)
    seen = []

    def hook(state):
        seen.append(1)
        return state
    base.set_getstate_hook(hook)
    try:
        with pytest.raises(RuntimeError, match="Attempt to override existing getstate_hook"):
            wrapper.set_getstate_hook(hook)
        pickle.dumps(other)
        assert seen == []
        pickle.dumps(wrapper([1]).map(_double))
        assert len(seen) == 2  # both pipes of the graph
    finally:
        base.set_getstate_hook(None)
    assert base.getstate_hook is None and wrapper.getstate_hook is None

    def reduce_hook(obj):
        if isinstance(obj, mapper):
            return (wrapper, ([42],))
        raise NotImplementedError
    base.set_reduce_ex_hook(reduce_hook)
    try:
        with pytest.raises(RuntimeError, match="Attempt to override existing reduce_ex_hook"):
            base.set_reduce_ex_hook(reduce_hook)
        assert list(pickle.loads(pickle.dumps(wrapper([1]).map(_double)))) == [42]
        assert list(pickle.loads(pickle.dumps(other))) == [1]
    finally:
        base.set_reduce_ex_hook(None)


def test_functional_non_deterministic_class():
    from ember.utils.data import functional_datapipe, guaranteed_datapipes_determinism, non_deterministic

    @functional_datapipe("_ember_test_nd")
    @non_deterministic
    class ND(IterDataPipe):
        def __init__(self, dp):
            self.dp = dp

        def __iter__(self):
            yield from self.dp
    try:
        assert list(EI.IterableWrapper([1, 2])._ember_test_nd()) == [1, 2]
        with guaranteed_datapipes_determinism():
            with pytest.raises(TypeError, match="non-deterministic"):
                EI.IterableWrapper([1, 2])._ember_test_nd()
    finally:
        del IterDataPipe.functions["_ember_test_nd"]


def test_graph_walk_finds_pipes_not_data():
    from ember.utils.data.datapipes._graph import get_all_graph_pipes
    src = EI.IterableWrapper(list(range(100000)))
    a, b = src.shuffle().fork(2)
    dp = a.zip(b.map(_double)).sharding_filter()
    pipes = get_all_graph_pipes(dp)
    assert src in pipes and sum(isinstance(p, EI.Shuffler) for p in pipes) == 1
    inner = EI.IterableWrapper([0])
    assert inner in get_all_graph_pipes(EI.IterableWrapper(inner))


def test_number_of_samples_yielded():
    for m in (EI, TI):
        dp = m.IterableWrapper(range(5)).map(_double)
        it = iter(dp)
        next(it), next(it)
        assert dp._number_of_samples_yielded == 2
        list(dp)
        assert dp._number_of_samples_yielded == 5


_PATHS = [("iter.callable", "MapperIterDataPipe"), ("iter.selecting", "FilterIterDataPipe"),
          ("iter.combining", "ForkerIterDataPipe"), ("iter.grouping", "GrouperIterDataPipe"),
          ("iter.combinatorics", "ShufflerIterDataPipe"), ("iter.sharding", "SHARDING_PRIORITIES"),
          ("iter.filelister", "FileListerIterDataPipe"), ("iter.utils", "IterableWrapperIterDataPipe"),
          ("iter.fileopener", "FileOpenerIterDataPipe"), ("iter.streamreader", "StreamReaderIterDataPipe"),
          ("map.callable", "MapperMapDataPipe"), ("map.combinatorics", "ShufflerIterDataPipe"),
          ("map.combining", "ZipperMapDataPipe"), ("map.grouping", "BatcherMapDataPipe"),
          ("map.utils", "SequenceWrapperMapDataPipe"), ("utils.common", "StreamWrapper"), ("datapipe", "DataChunk"),
          ("_decorator", "functional_datapipe")]


@pytest.mark.parametrize("module,name", _PATHS)
def test_torch_module_paths(module, name):
    import importlib
    assert hasattr(importlib.import_module(f"torch.utils.data.datapipes.{module}"), name)
    assert hasattr(importlib.import_module(f"ember.utils.data.datapipes.{module}"), name)
