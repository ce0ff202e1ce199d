"""Creation ops against PyTorch: tensor/as_tensor/from_numpy, legacy constructors, filled tensors, ranges."""
import math

import numpy as np
import pytest
import torch

import ember
from _core_helpers import DTYPE_NAMES, assert_same, same, to_numpy

NP_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
             "complex128")


# --- torch.tensor ------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [
    [True, False], [1, 2], [1.0, 2.0], [1, 2.0], [True, 2], [True, 2.5], [[1, 2], [3, 4]], [[1.0], [2.0]],
    3, 3.5, True, [], [[]], [[], []], [[[1]]], (1, 2), [(1, 2), (3, 4)], [1, 1j], 2 + 0j, [-1, 2 ** 40],
    [float("inf"), float("nan")], [np.float32(1), np.float32(2)], [np.int32(1), 2], [np.float16(1)],
    [np.float64(1), np.float32(2)], [np.bool_(True)], [np.int8(1), np.int8(2)], np.float32(2.5), np.int16(7),
    np.bool_(False), [[np.float32(1)]],
], ids=repr)
def test_tensor_dtype_inference(data):
    same(lambda t: t.tensor(data))


@pytest.mark.parametrize("data", [
    [[1, 2], [3]], [[1], 2], [1, [2]], [[1, 2], [3, 4, 5]], [[[1, 2]], [[3]]], ["a"], [None], None, "abc",
    {1: 2}, [1, "a"], [[1, 2], []],
], ids=repr)
def test_tensor_bad_data(data):
    same(lambda t: t.tensor(data))


def test_tensor_of_tensors():
    same(lambda t: t.tensor([t.tensor(1), t.tensor(2)]))
    same(lambda t: t.tensor([t.tensor(1.5), 2]))
    same(lambda t: t.tensor(t.tensor([1, 2])))
    same(lambda t: t.tensor([t.tensor([1, 2]), t.tensor([3, 4])]), messages=False)


@pytest.mark.parametrize("name", NP_DTYPES)
def test_tensor_from_numpy_array_keeps_dtype_and_copies(name):
    arr = np.arange(6).reshape(2, 3).astype(name)
    same(lambda t: t.tensor(arr))
    same(lambda t: t.as_tensor(arr))
    same(lambda t: t.from_numpy(arr))
    ours = ember.tensor(arr)
    arr.flat[0] = 1
    assert to_numpy(ours).flat[0] == 0  # torch.tensor(ndarray) copies


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float16", "bfloat16", "uint8"])
def test_tensor_dtype_argument(dtype):
    same(lambda t: t.tensor([0, 1.7, -2.2], dtype=getattr(t, dtype)) if dtype not in ("uint8", "bool")
         else t.tensor([0, 1.7, 2.2], dtype=getattr(t, dtype)))
    same(lambda t: t.tensor(np.array([0.5, 1.5]), dtype=getattr(t, dtype)))


def test_tensor_unsupported_numpy_dtypes():
    # NOTE: PyTorch 2.13 has uint16/uint32/uint64; ember does not (TypeError naming the supported types).
    same(lambda t: t.from_numpy(np.array(["a"])), messages=False)
    same(lambda t: t.from_numpy([1, 2]))
    same(lambda t: t.tensor(np.array([1, 2], dtype=object)), messages=False)


def test_tensor_from_noncontiguous_numpy():
    arr = np.arange(12.0).reshape(3, 4)[:, ::2]
    same(lambda t: t.tensor(arr), strides=True)
    same(lambda t: t.as_tensor(arr), strides=True)
    same(lambda t: t.from_numpy(arr), strides=True)
    arr_t = np.arange(12.0).reshape(3, 4).T
    same(lambda t: t.from_numpy(arr_t), strides=True)


def test_from_numpy_negative_strides():
    same(lambda t: t.from_numpy(np.arange(4)[::-1]), messages=False)


def test_from_numpy_and_numpy_share_memory():
    arr = np.zeros(3, dtype=np.float32)
    t = ember.from_numpy(arr)
    arr[0] = 5
    assert t[0].item() == 5
    t[1] = 7
    assert arr[1] == 7
    back = t.numpy()
    back[2] = 9
    assert t[2].item() == 9 and arr[2] == 9
    x = ember.ones(2)
    x.numpy()[0] = 3
    assert x.tolist() == [3.0, 1.0]
    x.add_(1)
    assert x.numpy().tolist() == [4.0, 2.0]


def test_as_tensor_shares_and_copies():
    arr = np.zeros(3, dtype=np.float32)
    shared = ember.as_tensor(arr)
    arr[0] = 1
    assert shared[0].item() == 1
    cast = ember.as_tensor(arr, dtype=ember.float64)
    arr[1] = 1
    assert cast[1].item() == 0
    x = ember.ones(2)
    assert ember.as_tensor(x) is x
    same(lambda t: t.as_tensor([1, 2]))
    same(lambda t: t.as_tensor([1, 2], dtype=t.float16))
    same(lambda t: t.as_tensor(3.5))
    same(lambda t: t.as_tensor(t.tensor([1, 2]), dtype=t.float32))


def test_numpy_of_tensor_that_requires_grad():
    same(lambda t: t.ones(2, requires_grad=True).numpy())
    same(lambda t: t.ones(2, requires_grad=True).detach().numpy().tolist())
    same(lambda t: t.tensor([1, 2]).numpy().dtype.name)
    same(lambda t: np.asarray(t.tensor([1.0, 2.0])).dtype.name)


def test_tensor_requires_grad():
    same(lambda t: t.tensor([1.0, 2.0], requires_grad=True))
    same(lambda t: t.tensor([1.0, 2.0], requires_grad=True).is_leaf)
    same(lambda t: t.tensor([1, 2], requires_grad=True))
    same(lambda t: t.zeros(2, dtype=t.int64, requires_grad=True))
    same(lambda t: t.ones(2, requires_grad=True))
    same(lambda t: t.full((2,), 3.0, requires_grad=True))
    same(lambda t: t.arange(3.0, requires_grad=True))
    same(lambda t: t.randn(2, requires_grad=True).requires_grad)
    same(lambda t: t.zeros(2).requires_grad_())
    same(lambda t: t.zeros(2, dtype=t.int32).requires_grad_())
    same(lambda t: t.empty(2, 3, requires_grad=True).shape)


# --- legacy constructors -----------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda t: t.Tensor(5, 3).shape,
    lambda t: t.Tensor(5, 3).dtype,
    lambda t: t.Tensor([1, 2]),
    lambda t: t.Tensor([[1, 2], [3, 4]]),
    lambda t: t.Tensor(),
    lambda t: t.Tensor(0),
    lambda t: t.Tensor(t.Size([2, 3])).shape,
    lambda t: t.Tensor((2, 3)),
    lambda t: t.Tensor(np.array([1, 2], dtype=np.int64)),
    lambda t: t.FloatTensor([1, 2]),
    lambda t: t.FloatTensor(2, 3).shape,
    lambda t: t.LongTensor([1, 2]),
    lambda t: t.LongTensor([1.7, -2.7]),
    lambda t: t.DoubleTensor([1]),
    lambda t: t.ByteTensor([1, 255]),
    lambda t: t.BoolTensor([1, 0]),
    lambda t: t.IntTensor(3).shape,
    lambda t: t.HalfTensor([1.5]),
    lambda t: t.ShortTensor([1]),
    lambda t: t.CharTensor([-1]),
    lambda t: t.LongTensor(),
    lambda t: t.Tensor(t.tensor([1.0, 2.0])),
    lambda t: t.Tensor(-1),
    lambda t: t.Tensor(2.5),
    lambda t: t.Tensor(5, 3).type(),
    lambda t: t.LongTensor([1]).type(),
    lambda t: t.Tensor([1, 2], dtype=t.int64),
], ids=lambda c: "")
def test_legacy_constructors(case):
    same(case, messages=False)


def test_legacy_constructor_messages():
    same(lambda t: t.Tensor(-1))
    same(lambda t: t.FloatTensor(t.tensor([1, 2])), messages=False)


def test_legacy_isinstance():
    for lib in (torch, ember):
        f = lib.tensor([1.0])
        assert isinstance(f, lib.FloatTensor) and isinstance(f, lib.Tensor)
        assert not isinstance(f, lib.LongTensor) and not isinstance(f, lib.DoubleTensor)
        assert isinstance(lib.tensor([1]), lib.LongTensor)
        assert isinstance(lib.tensor([True]), lib.BoolTensor)
        assert isinstance(lib.tensor([1.0], dtype=lib.float64), lib.DoubleTensor)
        assert not isinstance([1.0], lib.FloatTensor)
        assert lib.FloatTensor.dtype == lib.float32 if hasattr(torch.FloatTensor, "dtype") else True


def test_legacy_class_attributes():
    assert ember.FloatTensor.__name__ == torch.FloatTensor.__name__
    same(lambda t: t.FloatTensor.dtype)
    same(lambda t: t.LongTensor.dtype)


# --- zeros / ones / empty / full -----------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda t: t.zeros(2, 3),
    lambda t: t.zeros((2, 3)),
    lambda t: t.zeros([2, 3]),
    lambda t: t.zeros(t.Size([2, 3])),
    lambda t: t.zeros(()),
    lambda t: t.zeros([]),
    lambda t: t.zeros(0),
    lambda t: t.zeros(2, 0, 3),
    lambda t: t.zeros(2, dtype=t.int32),
    lambda t: t.ones(3, dtype=t.bool),
    lambda t: t.ones(2, 2, dtype=t.bfloat16),
    lambda t: t.ones(np.int64(2)),
    lambda t: t.empty(2, 3).shape,
    lambda t: t.empty(2, 3, dtype=t.int8).dtype,
    lambda t: t.zeros(-1),
    lambda t: t.zeros(2, -3),
    lambda t: t.zeros(2.5),
    lambda t: t.zeros("a"),
    lambda t: t.ones((2, 3), dtype=t.float64).stride(),
    lambda t: t.zeros(size=(2, 3)),
    lambda t: t.full((2, 2), 7),
    lambda t: t.full((2, 2), 7.5),
    lambda t: t.full((2, 2), True),
    lambda t: t.full((2,), 1 + 2j),
    lambda t: t.full((2,), 7, dtype=t.float16),
    lambda t: t.full([2, 3], -1),
    lambda t: t.full((), 3),
    lambda t: t.full(2, 3),
    lambda t: t.full((2,), 300, dtype=t.uint8),
    lambda t: t.full((2,), t.tensor(3)),
    lambda t: t.full((2,), float("inf")),
    lambda t: t.full((2,), np.float32(2.5)),
], ids=lambda c: "")
def test_filled(case):
    same(case, strides=True)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like"])
@pytest.mark.parametrize("src", ["float64", "int32", "bool"])
def test_like(name, src):
    same(lambda t: getattr(t, name)(t.ones(2, 3, dtype=getattr(t, src))) if name != "empty_like"
         else getattr(t, name)(t.ones(2, 3, dtype=getattr(t, src))).dtype)
    same(lambda t: getattr(t, name)(t.ones(2, 3, dtype=getattr(t, src)), dtype=t.float16).dtype)
    same(lambda t: getattr(t, name)(t.ones(2, 3, dtype=getattr(t, src)).t()).stride())


def test_full_like_and_new_methods():
    same(lambda t: t.full_like(t.ones(2, dtype=t.int64), 2.7))
    same(lambda t: t.full_like(t.ones(2), 2, dtype=t.int16))
    same(lambda t: t.ones(2, dtype=t.float64).new_zeros(3))
    same(lambda t: t.ones(2, dtype=t.float64).new_zeros((3, 2)))
    same(lambda t: t.ones(2, dtype=t.int8).new_ones(2, 2))
    same(lambda t: t.ones(2, dtype=t.int8).new_full((2,), 5))
    same(lambda t: t.ones(2, dtype=t.int8).new_empty((2,)).dtype)
    same(lambda t: t.ones(2, dtype=t.float16).new_tensor([1, 2]))
    same(lambda t: t.ones(2, dtype=t.float16).new_tensor([1, 2], dtype=t.int64))
    same(lambda t: t.ones(2).new_ones(2, requires_grad=True))
    same(lambda t: t.zeros_like(t.ones(2), requires_grad=True))
    same(lambda t: t.rand_like(t.ones(2, 3, dtype=t.float64)).dtype)
    same(lambda t: t.randn_like(t.ones(2, 3)).shape)
    same(lambda t: t.randint_like(t.ones(2, 3), 10).dtype)
    same(lambda t: t.rand_like(t.ones(2, dtype=t.int64)))


# --- arange / linspace / eye ------------------------------------------------------------------------------
@pytest.mark.parametrize("args,kwargs", [
    ((5,), {}), ((2, 7), {}), ((0, 10, 3), {}), ((10, 0, -3), {}), ((5.0,), {}), ((0, 1, 0.1), {}),
    ((0, 1.0001, 0.25), {}), ((-1, 1, 0.3), {}), ((0,), {}), ((3, 3), {}), ((1, 2.5, 0.5), {}),
    ((0, 10), {"dtype": "float64"}), ((0, 3.5), {"dtype": "int64"}), ((0, 5, 2), {"dtype": "int8"}),
    ((0, 1, 0.1), {"dtype": "float64"}), ((1.5, 4.5), {}), ((10,), {"dtype": "float16"}),
    ((0, 5, 0), {}), ((0, 5, -1), {}), ((5, 0), {}), ((np.int64(3),), {}), ((0.0, 1.0, 1 / 3), {}),
    ((-5, -1), {}), ((0, -3, -1), {}), ((True, 3), {}), ((0, 3, 1), {"dtype": "bool"}),
    ((2.0, 4), {"dtype": "int32"}), ((0, 1e6, 1e5), {}), ((0, 2 ** 40, 2 ** 38), {}),
], ids=repr)
def test_arange(args, kwargs):
    kw = lambda t: {k: getattr(t, v) for k, v in kwargs.items()}  # noqa: E731
    same(lambda t: t.arange(*args, **kw(t)), exact=False)


def test_arange_keywords_and_tensors():
    same(lambda t: t.arange(start=1, end=4))
    same(lambda t: t.arange(end=4))
    same(lambda t: t.arange(0, 4, step=2))
    same(lambda t: t.arange(t.tensor(3)))
    same(lambda t: t.arange(t.tensor(3.0)))
    same(lambda t: t.arange(0, 5, out=t.zeros(5, dtype=t.int64)))
    same(lambda t: len(t.arange(-0.5, 1.5, 0.1)))
    same(lambda t: len(t.arange(0, 0.3, 0.1)))
    same(lambda t: len(t.arange(1, 1.3, 0.1)))


@pytest.mark.parametrize("args,kwargs", [
    ((0, 1, 5), {}), ((0, 10, 11), {}), ((1, 0, 4), {}), ((0, 1, 1), {}), ((0, 1, 0), {}), ((-2, 2, 7), {}),
    ((0, 10, 5), {"dtype": "int64"}), ((0, 1, 3), {"dtype": "float64"}), ((0, 7, 4), {"dtype": "int32"}),
    ((0, 1, -1), {}), ((2, 2, 3), {}), ((0, 1, 4), {"dtype": "float16"}), ((-7, 0, 4), {"dtype": "int64"}),
], ids=repr)
def test_linspace(args, kwargs):
    kw = lambda t: {k: getattr(t, v) for k, v in kwargs.items()}  # noqa: E731
    same(lambda t: t.linspace(*args, **kw(t)), exact=False)


def test_linspace_keywords_and_tensors():
    same(lambda t: t.linspace(start=0, end=1, steps=3))
    same(lambda t: t.linspace(t.tensor(0.0), t.tensor(1.0), 3))
    same(lambda t: t.linspace(0, 1), messages="linspace() received an invalid combination of arguments")


def test_logspace():
    same(lambda t: t.logspace(0, 2, 3), exact=False)
    same(lambda t: t.logspace(0, 3, 4, base=2), exact=False)


@pytest.mark.parametrize("args,kwargs", [
    ((3,), {}), ((2, 4), {}), ((4, 2), {}), ((0,), {}), ((3,), {"dtype": "int64"}), ((2,), {"dtype": "bool"}),
    ((-1,), {}), ((3, -2), {}), ((3, 0), {}),
], ids=repr)
def test_eye(args, kwargs):
    kw = lambda t: {k: getattr(t, v) for k, v in kwargs.items()}  # noqa: E731
    same(lambda t: t.eye(*args, **kw(t)))


def test_eye_keywords():
    same(lambda t: t.eye(n=2, m=3))
    same(lambda t: t.eye(2, requires_grad=True))


def test_scalar_tensor():
    same(lambda t: t.scalar_tensor(3))
    same(lambda t: t.scalar_tensor(True))
    same(lambda t: t.scalar_tensor(2, dtype=t.int64))


def test_out_on_creation():
    same(lambda t: t.zeros(2, 3, out=t.empty(0)))
    same(lambda t: t.ones(2, out=t.empty(2, dtype=t.int64)))
    same(lambda t: t.full((2,), 2.5, out=t.empty(2)))
    same(lambda t: t.linspace(0, 1, 3, out=t.empty(3)), exact=False)
    same(lambda t: t.eye(2, out=t.empty(0)))


def test_creation_gets_float_dtype_of_python_value_nan():
    same(lambda t: math.isnan(t.tensor(float("nan")).item()))


# --- sizes, integer ranges ------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda t: t.zeros(), lambda t: t.ones(), lambda t: t.empty(), lambda t: t.zeros(size=()),
    lambda t: t.zeros(size=[2, 1], dtype=t.int8), lambda t: t.ones(2, size=(3,)),
    lambda t: t.zeros(2, 3, dtype=t.float64, requires_grad=True), lambda t: t.empty(2, device="cpu", dtype=t.bool).zero_(),
    lambda t: t.full((2,), 3, dtype=t.float16, requires_grad=True), lambda t: t.ones(2, dtype=t.int64, requires_grad=True),
], ids=lambda c: "")
def test_factory_keywords(case):
    same(case)


@pytest.mark.parametrize("args", [
    (-1, -3.5, 6), (0, 10, 4), (2.7, -2.7, 5), (0.5, 9.9, 3), (-7, 7, 8), (1.9, 1.1, 2),
], ids=repr)
@pytest.mark.parametrize("name", ["int64", "int32", "uint8", "int8"])
def test_integer_linspace_truncates_bounds_first(args, name):
    same(lambda t: t.linspace(*args, dtype=getattr(t, name)))


@pytest.mark.parametrize("args", [
    (0.5, 0.4, 0.25), (0.5, 2.6, 0.7), (1, -0.9, -0.7), (0.5, 3.6, 1.5), (-2.5, 2.5, 1.5), (3, 0.5, -1.2),
], ids=repr)
def test_integer_arange_checks_signs_before_truncating(args):
    same(lambda t: t.arange(*args, dtype=t.int64))


@pytest.mark.parametrize("args", [
    (0, 1, 0.1), (1, 2.5, 0.5), (-1, 1, 0.3), (0, 0.3, 0.1), (10, 0, -0.7), (0, 1e-6, 1e-7), (0.1, 0.4, 0.1),
], ids=repr)
def test_float_arange_length_as_torch_computes_it(args):
    same(lambda t: t.arange(*args), exact=False)
    same(lambda t: t.arange(*args, dtype=t.float64), exact=False)


@pytest.mark.parametrize("code", [
    "T.tensor(float('nan'), dtype=T.int64)", "T.tensor([300], dtype=T.uint8)", "T.tensor(300, dtype=T.uint8)",
    "T.tensor([-1], dtype=T.uint8)", "T.tensor([-255], dtype=T.uint8)", "T.tensor([-256], dtype=T.uint8)",
    "T.tensor([255.5], dtype=T.uint8)", "T.tensor([-3.7], dtype=T.uint8)", "T.tensor([3.7], dtype=T.int64)",
    "T.tensor([2 ** 31], dtype=T.int32)", "T.tensor(2 ** 40, dtype=T.int32)", "T.tensor([float('inf')], dtype=T.int32)",
    "T.tensor([2 ** 63], dtype=T.int64)", "T.tensor(-2 ** 63, dtype=T.int64)", "T.tensor([float('nan')], dtype=T.bool)",
    "T.tensor([1e40], dtype=T.float32)", "T.tensor([[1.0, float('nan')]], dtype=T.int64)",
    "T.tensor([True, 300], dtype=T.uint8)", "T.as_tensor([300], dtype=T.uint8)",
    "T.tensor([np.float64('nan')], dtype=T.int64)", "T.tensor(np.array([np.nan]), dtype=T.int64)",
    "T.tensor(np.array([300]), dtype=T.uint8)",
])
def test_tensor_of_numbers_the_dtype_cannot_hold(code):
    """torch.tensor(numbers, dtype=<int>) raises for NaN and out-of-range values (an ndarray wraps)."""
    same(lambda T: eval(code, {"T": T, "np": np}))


@pytest.mark.parametrize("code", [
    "T.zeros(2, dtype=float)", "T.ones(2, dtype=complex)", "T.full((2,), 1, dtype=bool)", "T.tensor([1], dtype=float)",
    "T.arange(3, dtype=float)", "T.eye(2, dtype=int)", "T.zeros(2, dtype='float32')", "T.zeros(2, dtype=np.float32)",
    "T.ones(2, device='cpu:0', dtype=int)", "T.zeros(2, device=1.5)", "T.zeros(2, device=-1)",
])
def test_creation_dtype_and_device_arguments(code):
    same(lambda T: eval(code, {"T": T, "np": np}), messages=False)
