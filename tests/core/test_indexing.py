"""Indexing against PyTorch: results (values, dtype, shape, strides), which results are views,
advanced indexing (copies), __setitem__ in all its forms, and the errors."""
import numpy as np
import pytest
import torch

import ember
from _core_helpers import same


def base(t, *shape, dtype="float32"):
    n = int(np.prod(shape)) if shape else 1
    return t.arange(n).to(getattr(t, dtype)).reshape(shape)


def layout(x):
    return (x, tuple(x.shape), x.stride(), x.is_contiguous()) if hasattr(x, "stride") else x


def aliases(t, key, shape=(2, 3, 4)):
    """Whether x[key] shares memory with x: write -1 through the result and look in x."""
    x = base(t, *shape)
    r = x[key(t)]
    r.fill_(-1) if r.dim() else r.fill_(-1)
    return bool((x == -1).any())


# keys are functions of the library so tensors in keys come from the right one
BASIC_KEYS = [
    lambda t: 0, lambda t: -1, lambda t: 1, lambda t: (0, 1), lambda t: (1, -1, 2), lambda t: (0, 0, 0),
    lambda t: slice(None), lambda t: slice(1, None), lambda t: slice(None, None, 2), lambda t: slice(0, 1),
    lambda t: (slice(None), 1), lambda t: (slice(None), slice(None, None, 2)), lambda t: (Ellipsis, 1),
    lambda t: (Ellipsis, slice(1, 3)), lambda t: (0, Ellipsis), lambda t: (0, Ellipsis, 2), lambda t: Ellipsis,
    lambda t: None, lambda t: (None, 0), lambda t: (slice(None), None, 1), lambda t: (Ellipsis, None),
    lambda t: (None, Ellipsis, None), lambda t: (1, None, slice(None, None, 3), None),
    lambda t: (slice(-2, None), slice(None, -1)), lambda t: (slice(5, 10),), lambda t: (slice(2, 1),),
    lambda t: (slice(-100, 100),), lambda t: (slice(None), slice(None), slice(1, None, 2)),
    lambda t: (slice(None, None, 3), slice(None, None, 2), slice(None, None, 3)), lambda t: (),
    lambda t: t.tensor(1), lambda t: (t.tensor(1), t.tensor(-1)), lambda t: np.int64(1),
    lambda t: (1, slice(None), np.int32(-2)), lambda t: True, lambda t: False, lambda t: (0, True),
    lambda t: (Ellipsis, False), lambda t: (None, None, None),
]


@pytest.mark.parametrize("key", BASIC_KEYS, ids=range(len(BASIC_KEYS)))
def test_basic_indexing(key):
    same(lambda t: layout(base(t, 2, 3, 4)[key(t)]), strides=True)
    same(lambda t: aliases(t, key))


@pytest.mark.parametrize("key", [
    lambda t: 0, lambda t: Ellipsis, lambda t: None, lambda t: (None, Ellipsis), lambda t: (), lambda t: True,
    lambda t: False, lambda t: slice(None),
], ids=range(8))
def test_indexing_0d(key):
    same(lambda t: layout(base(t)[key(t)]), strides=True)


ADVANCED_KEYS = [
    lambda t: [0, 1], lambda t: [1, 1, 0], lambda t: [-1], lambda t: [[0, 1], [1, 0]], lambda t: t.tensor([1, 0]),
    lambda t: t.tensor([[1], [0]]), lambda t: t.tensor([1, 0], dtype=t.int32), lambda t: np.array([1, 0]),
    lambda t: (0, slice(None), [1, 2]), lambda t: (slice(None), [0, 2], slice(1, None)),
    lambda t: ([0, 1], slice(None), [1, 2]), lambda t: ([0, 1], [1, 2]), lambda t: ([0, 1], [1, 2], [3, 0]),
    lambda t: (Ellipsis, [0, 3]), lambda t: (None, [0, 1]), lambda t: ([0, 1], None), lambda t: (slice(None), [[0], [1]], [0, 1]),
    lambda t: ([1], slice(None), 0), lambda t: (0, [1, 2], [0, 3]), lambda t: ([0, 1], 1, [2, 3]),
    lambda t: (slice(None), 1, [0, 2]), lambda t: (slice(None, None, -1) if False else slice(1, None), [0]),
    lambda t: base(t, 2, 3, 4) > 10, lambda t: base(t, 2, 3) % 2 == 0, lambda t: t.tensor([True, False]),
    lambda t: (slice(None), t.tensor([True, False, True])), lambda t: (0, t.tensor([True, False, True])),
    lambda t: (t.tensor([True, False]), slice(None), [0, 1]), lambda t: [True, False],
    lambda t: t.tensor([False, False]), lambda t: (Ellipsis, t.tensor([True, True, False, False])),
    lambda t: t.tensor([1, 0], dtype=t.uint8) > 0, lambda t: ([0, 1], [[0], [2]]), lambda t: t.tensor([], dtype=t.int64),
    lambda t: [], lambda t: (slice(None), []), lambda t: t.tensor(1) > 0, lambda t: (t.tensor(1), [0, 1]),
    lambda t: ([0], [1], [2]), lambda t: (None, slice(None), [0, 1], None, 1),
]


@pytest.mark.parametrize("key", ADVANCED_KEYS, ids=range(len(ADVANCED_KEYS)))
def test_advanced_indexing(key):
    same(lambda t: layout(base(t, 2, 3, 4)[key(t)]), strides=True)  # results are contiguous, as in PyTorch
    same(lambda t: aliases(t, key))  # advanced indexing copies: never an alias


def test_advanced_indexing_copies_pitfall_12():
    for lib in (torch, ember):
        a = base(lib, 3)
        b = a[[0, 1]]
        b += 1
        assert a.tolist() == [0.0, 1.0, 2.0]
        m = a[a > 0]
        m.zero_()
        assert a.tolist() == [0.0, 1.0, 2.0]


def test_duplicate_index_add_once_and_index_put_accumulate():
    def run(t):
        a = t.zeros(4)
        idx = t.tensor([0, 0, 2, 2, 2])
        a[idx] += 1
        b = t.zeros(4)
        b.index_put_((idx,), t.tensor(1.0), accumulate=True)
        c = t.zeros(4).index_put((idx,), t.ones(5), accumulate=True)
        d = t.zeros(4)
        d.index_put_((t.tensor([1, 3]),), t.tensor([5.0, 6.0]))
        return a, b, c, d
    same(run)


def test_index_put_errors():
    same(lambda t: t.zeros(4).index_put_([t.tensor([0, 1])], t.tensor([1.0, 2.0])))
    same(lambda t: t.zeros(4).index_put_((t.tensor([0, 1]),), t.tensor([1.0, 2.0, 3.0])),
         messages="shape mismatch")
    same(lambda t: t.zeros(4).index_put_((t.tensor([0, 1]),), t.tensor([1, 2])))


# --- errors -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [
    lambda t: 2, lambda t: -3, lambda t: (0, 3), lambda t: (0, 0, 4), lambda t: (0, 0, 0, 0), lambda t: 1.5,
    lambda t: (0, 1.0), lambda t: [0, 2], lambda t: [-3], lambda t: ([0], [3]), lambda t: t.tensor([5]),
    lambda t: t.tensor([0.0]), lambda t: t.tensor(0.5), lambda t: [0.5], lambda t: "a", lambda t: (Ellipsis, Ellipsis),
    lambda t: t.tensor([True, False, True]), lambda t: (slice(None), t.tensor([True, False])),
    lambda t: ([0, 1], [0, 1, 2]), lambda t: slice(None, None, -1), lambda t: slice(None, None, 0),
    lambda t: (0, slice(None, None, -2)), lambda t: {0}, lambda t: t.tensor(5), lambda t: np.float64(1.0),
    lambda t: [[0, 1], [2]],
], ids=range(26))
def test_index_errors(key):
    same(lambda t: base(t, 2, 3, 4)[key(t)])


def test_index_error_messages_verbatim():
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
        base(ember, 2, 3)[2]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        base(ember, 2, 3)[0, 0, 0]


# --- __setitem__ --------------------------------------------------------------------------------------
SET_CASES = [
    (lambda t: 0, lambda t: 5.0), (lambda t: -1, lambda t: 5), (lambda t: (0, 1), lambda t: t.tensor(7.0)),
    (lambda t: (0, 1, 2), lambda t: 9), (lambda t: slice(None), lambda t: 1.5),
    (lambda t: (slice(None), 1), lambda t: t.tensor([1.0, 2.0, 3.0, 4.0])),
    (lambda t: (slice(None), 1), lambda t: t.tensor([[1.0], [2.0]])),
    (lambda t: (Ellipsis, 0), lambda t: t.zeros(2, 3)), (lambda t: None, lambda t: 3.0),
    (lambda t: [0, 1], lambda t: -1.0), (lambda t: ([0, 1], [1, 2]), lambda t: t.tensor([10.0, 20.0])),
    (lambda t: (0, slice(None), [1, 2]), lambda t: t.tensor([[1.0, 2.0]])),
    (lambda t: (slice(None), [0, 2], slice(1, None)), lambda t: t.ones(2, 2, 3)),
    (lambda t: base(t, 2, 3, 4) > 10, lambda t: 0.0),
    (lambda t: base(t, 2, 3, 4) > 20, lambda t: t.tensor([1.0, 2.0, 3.0])),
    (lambda t: base(t, 2, 3) > 2, lambda t: t.tensor(-5.0)),
    (lambda t: (slice(None), slice(None), slice(None, None, 2)), lambda t: t.tensor([1.0, 2.0])),
    (lambda t: 0, lambda t: t.tensor([1, 2, 3, 4], dtype=t.int64)), (lambda t: 0, lambda t: 2.7),
    (lambda t: 0, lambda t: True), (lambda t: [1, 1], lambda t: t.tensor([[[1.0]], [[2.0]]])),
    (lambda t: (slice(None), 0), lambda t: t.tensor([1.0, 2.0, 3.0])),
    (lambda t: 0, lambda t: t.ones(2, 3, 4)), (lambda t: [0], lambda t: np.float64(3.0)),
    (lambda t: Ellipsis, lambda t: t.arange(4.0)), (lambda t: (), lambda t: 1.0),
    (lambda t: t.tensor([True, False]), lambda t: 4.0), (lambda t: (0, 0), lambda t: t.tensor([[1.0, 2, 3, 4]])),
    (lambda t: 0, lambda t: t.ones(3, 5)), (lambda t: 0, lambda t: "a"), (lambda t: 0, lambda t: [1.0, 2, 3, 4]),
    (lambda t: 5, lambda t: 1.0), (lambda t: [5], lambda t: 1.0), (lambda t: 1.5, lambda t: 1.0),
]


@pytest.mark.parametrize("dtype", ["float32", "int64"])
@pytest.mark.parametrize("case", SET_CASES, ids=range(len(SET_CASES)))
def test_setitem(case, dtype):
    key, value = case

    def run(t):
        x = base(t, 2, 3, 4, dtype=dtype)
        version = x._version
        x[key(t)] = value(t)
        return x, x._version - version
    same(run)


def test_setitem_on_views_writes_base():
    def run(t):
        x = base(t, 3, 4)
        v = x.t()
        v[1] = 0
        x[:, ::2][1] = -1
        x[1:][0][x[1:][0] > 5] = 100
        return x
    same(run)


def test_setitem_grad_h_mask_idiom():
    def run(t):
        t.manual_seed(0)
        h = t.tensor([[0.5, -1.0], [-0.2, 3.0]])
        grad_h = t.ones(2, 2) * 2
        grad_h[h < 0] = 0
        return grad_h
    same(run)


def test_setitem_with_uint8_mask_and_int_mask_shapes():
    same(lambda t: t.arange(4)[t.tensor([1, 0, 1, 0], dtype=t.uint8).bool()])
    def run(t):
        x = t.zeros(2, 2)
        x[t.tensor([[True, False], [False, True]])] = t.tensor([1.0, 2.0])
        return x
    same(run)


def test_setitem_value_from_other_tensor_broadcast_and_dtype():
    def run(t):
        x = t.zeros(3, 4, dtype=t.int32)
        x[:, 1:3] = t.tensor([1.9, -2.9])
        y = t.zeros(3, dtype=t.float16)
        y[[0, 2]] = t.tensor([1, 2])
        z = t.zeros(2, 3, dtype=t.bool)
        z[0] = 1
        return x, y, z
    same(run)


def test_setitem_self_overlap():
    def run(t):
        x = t.arange(6.0)
        x[1:] = x[:-1].clone()
        y = t.arange(6.0)
        y[[0, 1]] = y[[1, 0]]
        return x, y
    same(run)


# --- item / tolist / clone / detach / data --------------------------------------------------------------
@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                                  "float32", "float64"])
def test_item_and_tolist(name):
    same(lambda t: t.tensor([1.5]).to(getattr(t, name)).item())
    same(lambda t: t.tensor(3.25).to(getattr(t, name)).item())
    same(lambda t: t.tensor([[1.5, -2], [0, 3]]).to(getattr(t, name)).tolist())
    same(lambda t: t.tensor(2.0).to(getattr(t, name)).tolist())
    same(lambda t: t.tensor([[1.5, -2], [0, 3]]).to(getattr(t, name)).t().tolist())
    same(lambda t: t.zeros(2, 0).to(getattr(t, name)).tolist())
    same(lambda t: [type(v) for v in t.tensor([1.5, 0]).to(getattr(t, name)).tolist()])


def test_item_errors_and_scalar_conversions():
    same(lambda t: t.tensor([1.0, 2.0]).item())
    same(lambda t: t.tensor([]).item())
    same(lambda t: t.tensor([[7.5]]).item())
    same(lambda t: float(t.tensor([1.0, 2.0])))
    same(lambda t: int(t.tensor([1, 2])))
    same(lambda t: (float(t.tensor([2])), int(t.tensor(2.9)), int(t.tensor([-2.9])), bool(t.tensor([0.0]))))
    same(lambda t: bool(t.tensor([])))
    same(lambda t: bool(t.tensor([1, 2])))
    same(lambda t: [1, 2, 3][t.tensor(1)])
    same(lambda t: [1, 2, 3][t.tensor(1.0)])
    same(lambda t: [1, 2, 3][t.tensor([1, 2])])
    same(lambda t: len(t.zeros(3, 2)))
    same(lambda t: len(t.tensor(1)))
    same(lambda t: list(t.tensor(1)))
    same(lambda t: [layout(r) for r in t.arange(6.0).reshape(3, 2)], strides=True)
    same(lambda t: "{:.2f}".format(t.tensor(3.14159)))
    same(lambda t: t.tensor(float("nan")).item() != t.tensor(float("nan")).item())
    same(lambda t: t.tensor(3, dtype=t.uint8).item() + 300)


def test_clone_detach_data():
    def run(t):
        x = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        c = y.clone()
        d = y.detach()
        dd = x.data
        out = [c.requires_grad, c.is_leaf, d.requires_grad, d.is_leaf, dd.requires_grad, type(c.grad_fn).__name__]
        d[0] = 100  # shares y's memory
        dd[1] = 50  # shares x's memory
        out += [y.tolist() if False else y.detach().tolist(), x.detach().tolist()]
        xc = x.detach().clone()
        xc[2] = -1
        out.append(x.detach().tolist())
        out.append(layout(t.arange(6.0).reshape(2, 3).t().clone(memory_format=t.contiguous_format)))
        out.append(layout(t.arange(6.0).reshape(2, 3).t().detach()))
        return out
    same(run, strides=True)


def test_clone_preserves_layout():
    same(lambda t: layout(t.arange(6.0).reshape(2, 3).t().clone()), strides=True)
    same(lambda t: layout(t.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1).clone()), strides=True)
    same(lambda t: layout(t.arange(24.0).reshape(4, 6)[:, ::2].clone()), strides=True)
    same(lambda t: layout(t.arange(6.0).reshape(2, 3).t().clone(memory_format=t.contiguous_format)), strides=True)
    same(lambda t: layout(t.arange(6.0).reshape(2, 3).t().contiguous()), strides=True)


def test_detach_shares_version_data_does_not():
    for lib in (torch, ember):
        x = lib.ones(3)
        d = x.detach()
        d.add_(1)
        assert x._version == d._version == 1
        x.data.add_(1)
        assert x.tolist() == [3.0, 3.0, 3.0]


def test_data_setter():
    def run(t):
        x = t.ones(3, requires_grad=True)
        x.data = t.zeros(2, dtype=t.float64)
        return x.detach(), x.requires_grad, x.is_leaf
    same(run)


# --- index helpers ----------------------------------------------------------------------------------------
def test_nonzero_where_masked_select_index_select():
    same(lambda t: t.tensor([[0, 1], [2, 0]]).nonzero())
    same(lambda t: t.nonzero(t.tensor([0.0, 1, 0, 2])))
    same(lambda t: t.tensor([[0, 1], [2, 0]]).nonzero(as_tuple=True))
    same(lambda t: t.tensor(3).nonzero())
    same(lambda t: t.tensor(0).nonzero(as_tuple=True))
    same(lambda t: t.where(t.tensor([[True, False], [False, True]])))
    same(lambda t: t.argwhere(t.tensor([0, 3, 0, 4])))
    same(lambda t: t.masked_select(base(t, 2, 3), base(t, 2, 3) > 2))
    same(lambda t: base(t, 2, 3).masked_select(t.tensor([True, False, True])))
    same(lambda t: base(t, 3, 4).index_select(1, t.tensor([0, 2, 2])))
    same(lambda t: t.index_select(base(t, 3, 4), 0, t.tensor([2])))
    same(lambda t: base(t, 3, 4).index_select(0, t.tensor([3])))
    same(lambda t: base(t, 3, 4).index_select(0, t.tensor([0.0])))
    same(lambda t: base(t, 3, 4).index_select(0, t.tensor([[0]])))
    same(lambda t: base(t, 3, 4).masked_select(t.tensor([1, 0, 1, 0])))


# --- random keys ------------------------------------------------------------------------------------------
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402


def _item(size):
    """One key item for a dim of `size`: int, slice, None, Ellipsis, an index list or a bool mask list."""
    return st.one_of(
        st.integers(-size, size - 1),
        st.builds(slice, st.none() | st.integers(-size - 1, size + 1), st.none() | st.integers(-size - 1, size + 1),
                  st.none() | st.integers(1, 3)),
        st.just(None), st.just(Ellipsis), st.booleans(),
        st.lists(st.integers(-size, size - 1), min_size=0, max_size=3),
        st.lists(st.lists(st.integers(-size, size - 1), min_size=2, max_size=2), min_size=1, max_size=2),
        st.lists(st.booleans(), min_size=size, max_size=size),
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_item(3), min_size=1, max_size=4).filter(lambda k: sum(i is Ellipsis for i in k) <= 1))
def test_random_keys_get_and_set(items):
    key = tuple(items)
    # (the strides of an empty result are PyTorch's accident: x[False, None] has (27, 0, 9, 3, 1))
    same(lambda t: (lambda r: layout(r) if r.numel() else (tuple(r.shape), r.dtype))(base(t, 3, 3, 3)[key]),
         strides=True)

    def assign(t):
        x = base(t, 3, 3, 3)
        x[key] = -1.0
        return x
    same(assign)


# --- writes of numbers that the dtype cannot hold ------------------------------------------------------
def _set(t, key, value):
    t[key] = value
    return t


@pytest.mark.parametrize("dtype,key,value", [
    ("uint8", 0, 300), ("uint8", 0, 256), ("uint8", 0, -1), ("uint8", 0, 255), ("uint8", 0, -3.7),
    ("uint8", 0, 300.0), ("int8", 0, -129), ("int64", 0, float("nan")), ("int32", 0, float("inf")),
    ("int32", 0, 3.7), ("int32", 0, 2 ** 31), ("int64", 0, 2 ** 63), ("int64", 0, -2 ** 63), ("uint8", 0, 2 ** 63),
    ("float32", 0, 1e40), ("float16", 0, 1e6), ("bfloat16", 0, 1e40), ("float32", 0, 1 + 2j), ("int64", 0, 1 + 0j),
    ("int64", 0, 1 + 2j), ("complex64", 0, 1e300), ("uint8", 0, True), ("bool", 0, 5), ("bool", 0, float("nan")),
    ("uint8", slice(None), 300), ("uint8", "mask", 300), ("uint8", "index", 300), ("uint8", 0, "tensor300"),
    ("int64", 0, "tensor_nan"), ("uint8", 0, np.int64(300)), ("int64", 0, np.float64("nan")),
])
def test_item_assignment_checks_the_number_fits(dtype, key, value):
    """t[k] = 300 into uint8 is PyTorch's RuntimeError (not 44); a tensor value wraps like a cast."""
    def run(T):
        k = {"mask": T.tensor([True, False]), "index": T.tensor([0])}.get(key, key) if isinstance(key, str) else key
        v = {"tensor300": T.tensor(300), "tensor_nan": T.tensor(float("nan"))}.get(value, value) \
            if isinstance(value, str) else value
        return _set(T.zeros(2, dtype=getattr(T, dtype)), k, v)
    same(run)


@pytest.mark.parametrize("code", [
    "T.zeros(2, dtype=T.uint8).masked_fill(T.tensor([True, False]), 300)",
    "T.zeros(2, dtype=T.int64).masked_fill(T.tensor([True, False]), float('nan'))",
    "T.zeros(2, dtype=T.uint8).masked_fill(T.tensor([True, False]), -1)",
    "T.zeros(2, dtype=T.uint8).masked_fill(T.tensor([True, False]), T.tensor(300))",
    "T.zeros(2, dtype=T.uint8).masked_fill(T.tensor([True, False]), T.tensor(-1))",
    "T.zeros(2, dtype=T.uint8).masked_fill(T.tensor([True, False]), 255.5)",
    "T.zeros(2, dtype=T.uint8).masked_fill_(T.tensor([True, False]), 300)",
    "T.zeros(2, dtype=T.uint8).fill_(300)", "T.zeros(2, dtype=T.uint8).fill_(-1)",
    "T.zeros(2, dtype=T.uint8).fill_(-255)", "T.zeros(2, dtype=T.uint8).fill_(-256)",
    "T.zeros(2, dtype=T.int64).fill_(float('nan'))", "T.zeros(2, dtype=T.int64).fill_(float('inf'))",
    "T.zeros(2, dtype=T.int32).fill_(2 ** 40)", "T.zeros(2, dtype=T.int8).fill_(-129)",
    "T.zeros(2, dtype=T.uint8).fill_(T.tensor(300))", "T.zeros(2, dtype=T.uint8).fill_(255.5)",
    "T.zeros(2, dtype=T.float16).fill_(1e6)", "T.zeros(2, dtype=T.bfloat16).fill_(1e39)",
    "T.zeros(2, dtype=T.float32).fill_(1 + 1j)", "T.zeros(2, dtype=T.int64).fill_(2 ** 63)",
    "T.zeros(2, dtype=T.bool).fill_(float('nan'))", "T.zeros(2, dtype=T.float16).fill_(float('inf'))",
    "T.zeros(2, dtype=T.uint8).index_fill(0, T.tensor([0]), 300)",
    "T.zeros(2, dtype=T.int64).index_fill(0, T.tensor([0]), float('nan'))",
    "T.zeros(2, dtype=T.uint8).index_fill(0, T.tensor([0]), -1)",
    "T.zeros(2, dtype=T.uint8).index_fill_(0, T.tensor([0]), 300)",
    "T.full((2,), 300, dtype=T.uint8)", "T.full((2,), float('nan'), dtype=int)", "T.full((2,), -1, dtype=T.uint8)",
    "T.zeros(2, dtype=T.uint8).new_full((2,), 300)", "T.full_like(T.zeros(2, dtype=T.uint8), 300)",
    "T.zeros(2, dtype=T.uint8).add(300)", "T.zeros(2, dtype=T.uint8) + 300",
])
def test_fills_check_the_number_fits(code):
    """masked_fill, fill_, index_fill and full refuse numbers the dtype cannot hold, as PyTorch;
    arithmetic wraps (uint8 + 300), as PyTorch."""
    same(lambda T: eval(code, {"T": T, "np": np}))


@pytest.mark.parametrize("code", [
    "T.zeros(2, dtype=T.uint8).scatter(0, T.tensor([0]), 300)", "T.zeros(2, dtype=T.uint8).scatter(0, T.tensor([0]), -1)",
    "T.zeros(2, dtype=T.int64).scatter(0, T.tensor([0]), float('nan'))",
    "T.where(T.tensor([True, False]), T.zeros(2, dtype=T.uint8), 300)",
    "T.where(T.tensor([True, False]), T.zeros(2, dtype=T.uint8), -1)",
    "T.where(T.tensor([True, False]), 300, T.zeros(2, dtype=T.uint8))",
    "T.where(T.tensor([True, False]), T.zeros(2, dtype=T.uint8), 3.5)",
    "T.where(T.tensor([True, False]), T.zeros(2, dtype=T.int32), 2 ** 40)",
    "T.where(T.tensor([True, False]), T.zeros(2, dtype=T.bool), 3)",
    "T.where(T.tensor([True, False]), T.zeros(2), 1e40)",
    "T.where(T.tensor([True, False]), T.zeros(2, dtype=T.float16), 1e6)",
    "T.zeros(2, dtype=T.uint8).clamp(0, 300)", "T.zeros(2, dtype=T.uint8).clamp(-1, 3)",
    "T.zeros(2, dtype=T.uint8).clamp(0, 3.5)", "T.zeros(2, dtype=T.int32).clamp(max=2 ** 40)",
    "T.zeros(2, dtype=T.int64).clamp(max=float('nan'))", "T.zeros(2).clamp(max=1e40)",
    "T.zeros(2, dtype=T.float16).clamp(max=1e6)", "T.zeros(2, dtype=T.uint8).clamp_(0, 300)",
    "T.zeros(2, dtype=T.uint8).clamp_min(300)", "T.clip(T.zeros(2, dtype=T.uint8), max=300)",
])
def test_scatter_where_clamp_check_the_number_fits(code):
    same(lambda T: eval(code, {"T": T, "np": np}))
