"""torch.utils.data.datapipes.iter and .map: each DataPipe against torch's on the same data (values, lengths,
errors). The bases are tested in test_datapipes_base.py, DataLoader over DataPipes in test_datapipes_dataloader.py."""
import functools
import os
import pickle

import pytest
import torch
import torch.utils.data.datapipes.iter as TI
import torch.utils.data.datapipes.map as TM

import ember
import ember.utils.data.datapipes.iter as EI
import ember.utils.data.datapipes.map as EM
from ember.utils.data import IterDataPipe

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _double(x):
    return 2 * x


def _is_even(x):
    return x % 2 == 0


def _add(a, b):
    return a + b


def _mod3(x):
    return x % 3


def _mod3_drop2(x):
    return None if x % 3 == 2 else x % 3


def _plain(obj):
    """Nested DataChunks/lists/tuples as plain lists/tuples (so ember's and torch's compare)."""
    if isinstance(obj, list):
        return [_plain(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_plain(o) for o in obj)
    return obj


def _both(build):
    """Run build(iter_module) for ember and torch; return both outputs as plain lists."""
    return _plain(list(build(EI))), _plain(list(build(TI)))


@pytest.mark.parametrize("n", [0, 1, 7, 20])
def test_map_filter_batch_chain(n):
    e, t = _both(lambda m: m.IterableWrapper(range(n)).map(_double).filter(_is_even).batch(3))
    assert e == t


@pytest.mark.parametrize("kw", [dict(input_col=0), dict(input_col=1, output_col=-1), dict(input_col=0, output_col=1),
                                dict(input_col=[0, 1]), dict(input_col=(0, 1), output_col=-1)])
@pytest.mark.parametrize("container", [list, tuple])
def test_mapper_columns(kw, container):
    data = [container((i, i + 10, i + 20)) for i in range(4)]
    fn = _add if isinstance(kw["input_col"], (list, tuple)) else _double
    e, t = _both(lambda m: m.Mapper(m.IterableWrapper(data), fn, **kw))
    assert e == t
    assert type(e[0]) is type(t[0])


def test_mapper_dict_columns():
    data = [{"a": i, "b": i * 3} for i in range(4)]
    e, t = _both(lambda m: m.Mapper(m.IterableWrapper(data), _double, input_col="a", output_col="c"))
    assert e == t


def test_mapper_errors():
    for m in (EI, TI):
        with pytest.raises(ValueError, match="`output_col` must be None when `input_col` is None."):
            m.Mapper(m.IterableWrapper([1]), _double, output_col=1)
        with pytest.raises(ValueError, match="single-element"):
            m.Mapper(m.IterableWrapper([1]), _double, input_col=0, output_col=[1, 2])
        with pytest.raises(TypeError, match="A callable function is expected"):
            m.Mapper(m.IterableWrapper([1]), 3)


def test_lambda_warns_like_torch():
    with pytest.warns(UserWarning, match="Lambda function is not supported by pickle"):
        EI.IterableWrapper([1]).map(lambda x: x)


def test_filter_non_bool_raises():
    for m in (EI, TI):
        with pytest.raises(ValueError):
            list(m.IterableWrapper([1, 2]).filter(_double))


@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (0, 2, False)])
def test_batch_len_and_values(n, bs, drop):
    e = EI.IterableWrapper(range(n)).batch(bs, drop_last=drop)
    t = TI.IterableWrapper(range(n)).batch(bs, drop_last=drop)
    assert len(e) == len(t)
    out = list(e)
    assert _plain(out) == _plain(list(t))
    assert all(type(b).__name__ == "DataChunk" for b in out)
    with pytest.raises(AssertionError, match="Batch size is required to be larger than 0!"):
        EI.IterableWrapper(range(n)).batch(0)


@pytest.mark.parametrize("level", [0, 1, 2, -1])
def test_unbatch(level):
    data = [[[0, 1], [2]], [[3, 4, 5]], [[6]]]
    e, t = _both(lambda m: m.IterableWrapper(data).unbatch(unbatch_level=level))
    assert e == t


def test_unbatch_errors():
    for m, err in ((EI, IndexError), (TI, IndexError)):
        with pytest.raises(err, match="exceeds the depth"):
            list(m.IterableWrapper([[1], [2]]).unbatch(unbatch_level=3))
    for m in (EI, TI):
        with pytest.raises(ValueError, match="unbatch_level must be -1 or >= 0"):
            list(m.IterableWrapper([[1]]).unbatch(unbatch_level=-2))


def test_collate():
    e = list(EI.IterableWrapper([[ember.tensor([1, 2]), ember.tensor([3, 4])]]).collate())
    t = list(TI.IterableWrapper([[torch.tensor([1, 2]), torch.tensor([3, 4])]]).collate())
    assert e[0].tolist() == t[0].tolist()
    e2, t2 = _both(lambda m: m.IterableWrapper([[1, 2], [3]]).collate(collate_fn=sum))
    assert e2 == t2


def test_concat_zip_mux():
    e, t = _both(lambda m: m.IterableWrapper(range(3)).concat(m.IterableWrapper(range(10, 12))))
    assert e == t
    e, t = _both(lambda m: m.IterableWrapper(range(5)).zip(m.IterableWrapper("abc")))
    assert e == t
    e, t = _both(lambda m: m.IterableWrapper(range(3)).mux(m.IterableWrapper(range(10, 12)),
                                                           m.IterableWrapper(range(20, 25))))
    assert e == t
    assert len(EI.IterableWrapper(range(3)).concat(EI.IterableWrapper(range(4)))) == 7
    assert len(EI.IterableWrapper(range(3)).zip(EI.IterableWrapper(range(4)))) == 3
    assert len(EI.IterableWrapper(range(3)).mux(EI.IterableWrapper(range(4)))) == len(
        TI.IterableWrapper(range(3)).mux(TI.IterableWrapper(range(4))))
    for m in (EI, TI):
        with pytest.raises(ValueError, match="Expected at least one DataPipe, but got nothing"):
            m.Concater()
        with pytest.raises(TypeError, match="Expected all inputs to be `IterDataPipe`"):
            m.Concater(m.IterableWrapper([1]), [2])
        with pytest.raises(TypeError, match="All inputs are required to be `IterDataPipe` for `ZipIterDataPipe`."):
            m.Zipper(m.IterableWrapper([1]), [2])


def test_fork():
    for m in (EI, TI):
        a, b = m.IterableWrapper(range(5)).fork(num_instances=2)
        assert list(zip(a, b)) == [(i, i) for i in range(5)]
        assert list(a) == list(range(5)) and list(b) == list(range(5))
        assert len(a) == 5
        one = m.IterableWrapper(range(3))
        assert one.fork(1) is one


def test_fork_buffer_overflow():
    for m in (EI, TI):
        a, b = m.IterableWrapper(range(10)).fork(2, buffer_size=3)
        with pytest.raises(BufferError, match="ForkerIterDataPipe buffer overflow,buffer size 3 is insufficient."):
            list(a)
        with pytest.raises(ValueError, match="Expected `num_instances` larger than 0"):
            m.IterableWrapper(range(3)).fork(0)


def test_demux():
    for m in (EI, TI):
        parts = m.IterableWrapper(range(10)).demux(3, _mod3)
        assert [list(p) for p in parts] == [list(range(r, 10, 3)) for r in range(3)]

    def none_for_odd(x):
        return None if x % 2 else 0
    e = list(EI.IterableWrapper(range(6)).demux(1, none_for_odd, drop_none=True)[0])
    t = list(TI.IterableWrapper(range(6)).demux(1, none_for_odd, drop_none=True)[0])
    assert e == t
    for m in (EI, TI):
        (p,) = m.IterableWrapper(range(6)).demux(1, _mod3)
        with pytest.raises(ValueError, match="Output of the classification fn should be between 0 and 0"):
            list(p)
        a, b = m.IterableWrapper(range(10)).demux(2, functools.partial(min, 0), buffer_size=2)
        with pytest.raises(BufferError, match="buffer overflow, buffer size 2 is insufficient"):
            list(b)


@pytest.mark.parametrize("kw", [dict(group_size=2), dict(keep_key=True), dict(buffer_size=3),
                                dict(buffer_size=4, group_size=2, keep_key=True),
                                dict(buffer_size=4, group_size=3, guaranteed_group_size=1, drop_remaining=True)])
def test_groupby(kw):
    data = [0, 3, 1, 4, 6, 7, 9, 2, 5, 8, 10]
    e, t = _both(lambda m: m.IterableWrapper(data).groupby(_mod3, **kw))
    assert e == t


def test_groupby_errors():
    for m in (EI, TI):
        with pytest.raises(AssertionError, match="group_size must be > 0 and <= buffer_size"):
            m.IterableWrapper([1]).groupby(_mod3, buffer_size=2, group_size=3)
        with pytest.raises(RuntimeError, match="Failed to group items"):
            list(m.IterableWrapper(range(9)).groupby(_mod3, buffer_size=3, group_size=3, guaranteed_group_size=2))


@pytest.mark.parametrize("buffer_size", [1, 3, 100])
@pytest.mark.parametrize("seed", [0, 7])
def test_shuffle_seeded_matches_torch(buffer_size, seed):
    e = EI.IterableWrapper(range(20)).shuffle(buffer_size=buffer_size).set_seed(seed)
    t = TI.IterableWrapper(range(20)).shuffle(buffer_size=buffer_size).set_seed(seed)
    # NOTE: the same algorithm over Python's random.Random: a seed gives torch's order exactly
    assert list(e) == list(t)
    assert len(e) == 20


def test_shuffle_global_seed_and_toggle():
    ember.manual_seed(3)
    e = list(EI.IterableWrapper(range(30)).shuffle())
    ember.manual_seed(3)
    assert list(EI.IterableWrapper(range(30)).shuffle()) == e  # the seed comes from ember's global RNG
    assert sorted(e) == list(range(30))
    assert list(EI.IterableWrapper(range(5)).shuffle().set_shuffle(False)) == list(range(5))
    with pytest.raises(AssertionError, match="buffer_size should be larger than 0"):
        EI.IterableWrapper(range(5)).shuffle(buffer_size=0)
    dp = EI.IterableWrapper(range(30)).shuffle()
    assert list(dp) != list(dp)  # a new seed each iteration


def test_shuffle_unbatch_level():
    e, t = _both(lambda m: m.IterableWrapper([[0, 1], [2, 3]]).shuffle(unbatch_level=1).set_seed(1))
    assert e == t


@pytest.mark.parametrize("n,k", [(10, 3), (9, 3), (2, 4)])
def test_sharding_filter(n, k):
    for i in range(k):
        e = EI.IterableWrapper(range(n)).sharding_filter()
        t = TI.IterableWrapper(range(n)).sharding_filter()
        e.apply_sharding(k, i)
        t.apply_sharding(k, i)
        assert list(e) == list(t)
        assert len(e) == len(t)
    with pytest.raises(ValueError):
        EI.IterableWrapper(range(3)).sharding_filter().apply_sharding(2, 2)


def test_sharding_groups():
    from ember.utils.data.datapipes.iter.sharding import SHARDING_PRIORITIES as E
    from torch.utils.data.datapipes.iter.sharding import SHARDING_PRIORITIES as T
    for m, P in ((EI, E), (TI, T)):
        dp = m.IterableWrapper(range(20)).sharding_filter()
        dp.apply_sharding(2, 1, sharding_group=P.DISTRIBUTED)
        dp.apply_sharding(3, 2, sharding_group=P.MULTIPROCESSING)
        if m is EI:
            e = list(dp)
        else:
            assert e == list(dp)
        with pytest.raises(RuntimeError, match="cannot mix DEFAULT and non DEFAULT groups"):
            dp.apply_sharding(2, 0)


def test_sampler():
    e = list(EI.Sampler(EI.IterableWrapper(range(5))))
    t = list(TI.Sampler(TI.IterableWrapper(range(5))))
    assert e == t
    assert len(EI.Sampler(EI.IterableWrapper(range(5)))) == 5


def test_iterable_wrapper_deepcopy():
    data = [[1], [2]]
    for m in (EI, TI):
        for deep, expect in ((True, [[1], [2]]), (False, [[1, 9], [2, 9]])):
            src = [list(x) for x in data]
            for item in m.IterableWrapper(src, deepcopy=deep):
                item.append(9)
            assert src == expect


def test_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name, text in (("b.txt", "bee"), ("a.txt", "ay"), ("c.csv", "x,y"), ("sub/d.txt", "dee")):
        (tmp_path / name).write_text(text)
    root = str(tmp_path)
    for kw in (dict(), dict(masks="*.txt"), dict(masks=["*.csv", "*.txt"], recursive=True)):
        assert list(EI.FileLister(root, **kw)) == list(TI.FileLister(root, **kw))
    assert list(EI.FileLister([root], abspath=True)) == list(TI.FileLister([root], abspath=True))
    for mode in ("r", "b", "rb", "t"):
        e, t = _both(lambda m: m.FileLister(root, "*.txt", recursive=True).open_files(mode=mode)
                     .read_from_stream())
        assert e == t
    e, t = _both(lambda m: m.FileLister(root, "a.txt").open_files().read_from_stream(chunk=1))
    assert e == t == [(os.path.join(root, "a.txt"), "a"), (os.path.join(root, "a.txt"), "y")]
    for m in (EI, TI):
        with pytest.raises(ValueError, match="Invalid mode w"):
            m.FileOpener(m.IterableWrapper([]), mode="w")
        with pytest.raises(TypeError, match="doesn't have valid length"):
            len(m.FileLister(root))
    assert len(EI.FileLister(root, length=3)) == 3


def test_map_datapipes():
    e = EM.SequenceWrapper(list(range(7)))
    t = TM.SequenceWrapper(list(range(7)))
    assert [e[i] for i in range(7)] == [t[i] for i in range(7)]
    for build in (lambda m, s: s.map(_double), lambda m, s: s.batch(3), lambda m, s: s.batch(3, drop_last=True),
                  lambda m, s: s.concat(m.SequenceWrapper([10, 11])), lambda m, s: s.zip(m.SequenceWrapper("abc"))):
        ee, tt = build(EM, e), build(TM, t)
        assert len(ee) == len(tt)
        assert [_plain(ee[i]) for i in range(len(ee))] == [_plain(tt[i]) for i in range(len(tt))]
    with pytest.raises(IndexError, match="Index 3 is out of bound."):
        e.batch(2, drop_last=True)[3]
    with pytest.raises(IndexError, match="Index 9 is out of range."):
        e.concat(EM.SequenceWrapper([1]))[9]
    with pytest.raises(TypeError, match="Expected all inputs to be `MapDataPipe`"):
        EM.Zipper(e, [1])
    assert list(e.shuffle().set_seed(5)) == list(t.shuffle().set_seed(5))
    assert list(e.shuffle(indices=[0, 2, 4]).set_shuffle(False)) == [0, 2, 4]
    assert isinstance(e.shuffle(), IterDataPipe)


def test_fork_demux_children_pickle():
    a, b = EI.IterableWrapper(range(6)).fork(2)
    next(iter(a))
    a2 = pickle.loads(pickle.dumps(a))
    assert list(a2) == list(range(6))
    parts = pickle.loads(pickle.dumps(EI.IterableWrapper(range(6)).demux(2, _mod3_drop2, drop_none=True)))
    assert [list(p) for p in parts] == [[0, 3], [1, 4]]


def test_fork_restart_invalidates_sibling():
    for m in (EI, TI):
        a, b = m.IterableWrapper(range(5)).fork(2)
        it_a, it_b = iter(a), iter(b)
        next(it_a), next(it_b)
        list(a)  # a restarts: a new epoch for both children
        with pytest.raises(RuntimeError, match="This iterator has been invalidated"):
            next(it_b)


def _true(x):
    return True


@pytest.mark.parametrize("case", ["filter", "unbatch", "groupby", "mux", "demux", "map", "zip", "concat", "shard",
                                  "shuffle", "batch", "wrapper", "fork"])
def test_len_errors_like_torch(case):
    def build(m):
        W = m.IterableWrapper
        return {"filter": lambda: W([1]).filter(_true), "unbatch": lambda: W([[1]]).unbatch(),
                "groupby": lambda: W([1]).groupby(_mod3), "mux": lambda: W([1]).mux(W(iter([2]))),
                "demux": lambda: W([1]).demux(1, _mod3)[0], "map": lambda: W(iter([1])).map(_true),
                "zip": lambda: W(iter([1])).zip(W([1])), "concat": lambda: W(iter([1])).concat(W([1])),
                "shard": lambda: W(iter([1])).sharding_filter(), "shuffle": lambda: W(iter([1])).shuffle(),
                "batch": lambda: W(iter([1])).batch(1), "wrapper": lambda: W(iter([1])),
                "fork": lambda: W([1, 2]).fork(2)[0]}[case]()

    def outcome(dp):
        try:
            return len(dp)
        except TypeError as e:
            return str(e).replace("ember", "torch")
    assert outcome(build(EI)) == outcome(build(TI))


def test_fork_copy():
    for m in (EI, TI):
        a, b = m.IterableWrapper([[1], [2]]).fork(2, copy="deep")
        for x, y in zip(a, b):
            x.append(0)
            assert y in ([1], [2])
        with pytest.raises(ValueError, match="Unknown copy method"):
            m.IterableWrapper([1]).fork(2, copy="nope")


def _kwonly(a, *, k):
    return a


def _three(a, b, c):
    return a


def _star(a, *rest):
    return a


def _defaults(a, b=1):
    return a


@pytest.mark.parametrize("fn,col", [(_double, [0, 1]), (_add, 0), (_kwonly, 0), (_three, [0, 1]), (_star, [0, 1, 2]),
                                    (_defaults, 0), (_defaults, [0, 1]), (_defaults, [0, 1, 2]), (len, [0, 1]),
                                    (functools.partial(_three, 1), [0, 1])])
def test_input_col_checked_against_fn(fn, col):
    outcomes = []
    for m in (EI, TI):
        for pipe in (m.Mapper, m.Filter):
            try:
                pipe(m.IterableWrapper([(1, 2, 3)]), fn, input_col=col)
                outcomes.append("ok")
            except ValueError as e:
                outcomes.append(str(e))
    assert outcomes[:2] == outcomes[2:]


def test_unlimited_buffer_warns():
    for m in (EI, TI):
        with pytest.warns(UserWarning, match="Unlimited buffer size is set for `fork`"):
            a, b = m.IterableWrapper(range(3000)).fork(2, buffer_size=-1)
        assert len(list(a)) == 3000 and len(list(b)) == 3000  # no overflow however far a runs ahead
        with pytest.warns(UserWarning, match="Unlimited buffer size is set for `demux`"):
            m.IterableWrapper(range(3)).demux(2, _mod3_drop2, drop_none=True, buffer_size=-1)
