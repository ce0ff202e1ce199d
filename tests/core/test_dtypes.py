"""dtypes, aliases, the default dtype, type promotion, torch.Size and torch.device against PyTorch."""
import pickle

import numpy as np
import pytest
import torch

import ember
from _core_helpers import DTYPE_NAMES, assert_same, same

ALIASES = ("float", "double", "half", "short", "int", "long", "cfloat", "cdouble")
PAIRS = [(a, b) for a in DTYPE_NAMES for b in DTYPE_NAMES]
WITH_COMPLEX = DTYPE_NAMES + ("complex64", "complex128")
ALL_PAIRS = [(a, b) for a in WITH_COMPLEX for b in WITH_COMPLEX]  # NOTE: complex64 with float64 is complex128


@pytest.fixture
def restore_default_dtype():
    yield
    torch.set_default_dtype(torch.float32)
    ember.set_default_dtype(ember.float32)


# --- the dtype objects ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", DTYPE_NAMES + ("complex64", "complex128"))
def test_dtype_attributes(name):
    ours, theirs = getattr(ember, name), getattr(torch, name)
    assert isinstance(ours, ember.dtype)
    assert repr(ours) == repr(theirs) == str(theirs) and str(ours) == str(theirs)
    assert ours.is_floating_point == theirs.is_floating_point
    assert ours.is_complex == theirs.is_complex
    assert ours.is_signed == theirs.is_signed
    assert ours.itemsize == theirs.itemsize
    assert pickle.loads(pickle.dumps(ours)) is ours


@pytest.mark.parametrize("alias", ALIASES)
def test_aliases_are_the_same_objects(alias):
    assert repr(getattr(ember, alias)) == repr(getattr(torch, alias))
    canonical = repr(getattr(torch, alias)).split(".")[1]
    assert getattr(ember, alias) is getattr(ember, canonical)


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_tensor_of_each_dtype(name):
    same(lambda t: t.ones(2, 3, dtype=getattr(t, name)))
    same(lambda t: t.tensor([0, 1], dtype=getattr(t, name)).element_size())
    same(lambda t: t.zeros(2, dtype=getattr(t, name)).is_floating_point())
    same(lambda t: t.zeros(2, dtype=getattr(t, name)).type())


@pytest.mark.parametrize("method,name", [("float", "float32"), ("double", "float64"), ("half", "float16"),
                                         ("bfloat16", "bfloat16"), ("long", "int64"), ("int", "int32"),
                                         ("short", "int16"), ("char", "int8"), ("byte", "uint8"),
                                         ("bool", "bool")])
def test_cast_methods(method, name):
    same(lambda t: getattr(t.tensor([-1.5, 0.0, 2.7, 300.0]), method)())
    x = ember.tensor([1.0, 2.0], dtype=getattr(ember, name))
    assert getattr(x, method)() is x  # no change: the same tensor


def test_type_method_with_names_and_classes():
    same(lambda t: t.tensor([1.5, 2.5]).type(t.int32))
    same(lambda t: t.tensor([1.5, 2.5]).type("torch.LongTensor"))
    same(lambda t: t.tensor([1.5, 2.5]).type(t.DoubleTensor))
    same(lambda t: t.tensor([1, 2]).type_as(t.tensor([1.0])))


# --- default dtype ----------------------------------------------------------------------------------
def test_default_dtype_starts_float32():
    same(lambda t: t.get_default_dtype())


@pytest.mark.parametrize("name", ["float64", "float16", "bfloat16", "float32"])
def test_set_default_dtype_changes_float_creation(name, restore_default_dtype):
    def run(t):
        t.set_default_dtype(getattr(t, name))
        try:
            return [t.get_default_dtype(), t.tensor([1.0]).dtype, t.tensor([1, 2.5]).dtype, t.tensor(3.0).dtype,
                    t.tensor([1]).dtype, t.arange(3.0).dtype, t.arange(3).dtype, t.randn(2).dtype,
                    t.rand(2).dtype, t.zeros(2).dtype, t.full((2,), 1.5).dtype, t.linspace(0, 1, 3).dtype,
                    (t.tensor([1, 2]) / 2).dtype, (t.tensor([1, 2]) * 0.5).dtype,
                    t.Tensor(2).dtype, t.eye(2).dtype]
        finally:
            t.set_default_dtype(t.float32)
    same(run)


def test_default_float64_makes_complex128(restore_default_dtype):
    def run(t):
        t.set_default_dtype(t.float64)
        try:
            return t.tensor([1j]).dtype, t.tensor([1, 1j]).dtype, t.result_type(t.ones(2), 1j)
        finally:
            t.set_default_dtype(t.float32)
    same(run)


@pytest.mark.parametrize("name", ["int64", "bool", "complex64", "uint8"])
def test_set_default_dtype_rejects_non_float(name, restore_default_dtype):
    same(lambda t: t.set_default_dtype(getattr(t, name)))
    assert ember.get_default_dtype() is ember.float32


# --- promotion --------------------------------------------------------------------------------------
def test_promote_types_all_pairs():
    for a, b in ALL_PAIRS:
        same(lambda t: t.promote_types(getattr(t, a), getattr(t, b)))


def test_promote_types_with_complex():
    """complex64 with float64 is complex128; no pair above included a complex dtype."""
    for a in DTYPE_NAMES + ("complex64", "complex128"):
        for b in ("complex64", "complex128"):
            same(lambda t: t.promote_types(getattr(t, a), getattr(t, b)))
            same(lambda t: t.promote_types(getattr(t, b), getattr(t, a)))
            same(lambda t: (t.ones(2, dtype=getattr(t, a)) + t.ones(2, dtype=getattr(t, b))).dtype)


def test_can_cast_all_pairs():
    for a, b in ALL_PAIRS:
        same(lambda t: t.can_cast(getattr(t, a), getattr(t, b)))


def _operand(t, kind, name):
    """A tensor of dtype `name` with 1 dim, or 0 dims."""
    return t.ones(2 if kind == "dim" else (), dtype=getattr(t, name))


@pytest.mark.parametrize("kinds", [("dim", "dim"), ("dim", "zero"), ("zero", "dim"), ("zero", "zero")])
def test_result_type_tensors_of_mixed_dims(kinds):
    for a, b in ALL_PAIRS:
        if _gives_complex32(kinds, a, b):
            continue
        same(lambda t: t.result_type(_operand(t, kinds[0], a), _operand(t, kinds[1], b)))


def _gives_complex32(kinds, a, b):
    """A half tensor with a 0-d complex one: PyTorch's complex32, a dtype ember does not have."""
    half, other = ((a, b) if kinds == ("dim", "zero") else (b, a) if kinds == ("zero", "dim") else (None, None))
    return half in ("float16", "bfloat16") and other in ("complex64", "complex128")


def test_half_with_zero_dim_complex_gives_complex64():
    """NOTE: a known difference: PyTorch gives complex32 (ComplexHalf), which ember does not have."""
    for half in ("float16", "bfloat16"):
        for c in ("complex64", "complex128"):
            x = ember.ones(2, dtype=getattr(ember, half))
            z = ember.ones((), dtype=getattr(ember, c))
            if half == "float16":
                assert torch.result_type(torch.ones(2, dtype=torch.float16), torch.ones((), dtype=getattr(torch, c))) \
                    is torch.complex32
            assert ember.result_type(x, z) is ember.complex64
            assert (x + z).dtype is ember.complex64


@pytest.mark.parametrize("scalar", [True, 2, 2.5, 1 + 1j, np.float64(2.0), np.int64(3)])
@pytest.mark.parametrize("kind", ["dim", "zero"])
def test_result_type_tensor_and_scalar(scalar, kind):
    for name in DTYPE_NAMES:
        if isinstance(scalar, complex) and name in ("float16", "bfloat16"):
            continue  # PyTorch gives complex32, a dtype ember does not have
        same(lambda t: t.result_type(_operand(t, kind, name), scalar))
        same(lambda t: t.result_type(scalar, _operand(t, kind, name)))


@pytest.mark.parametrize("a,b", [(True, 2), (2, 2.5), (True, False), (1, 1j), (2.5, 2.5)])
def test_result_type_two_scalars(a, b):
    same(lambda t: t.result_type(a, b))


@pytest.mark.parametrize("kinds", [("dim", "dim"), ("dim", "zero"), ("zero", "dim"), ("zero", "zero")])
def test_arithmetic_result_dtype_matches_result_type(kinds):
    for a, b in ALL_PAIRS:
        if a == b == "bool" or _gives_complex32(kinds, a, b):
            continue
        same(lambda t: (_operand(t, kinds[0], a) * _operand(t, kinds[1], b)).dtype)
        same(lambda t: (_operand(t, kinds[0], a) + _operand(t, kinds[1], b)).dtype)


@pytest.mark.parametrize("case", [
    lambda t: t.ones(2, dtype=t.float32) + t.tensor(1.0, dtype=t.float64),
    lambda t: t.ones(2, dtype=t.float32) + t.ones(1, dtype=t.float64),
    lambda t: t.ones(2, dtype=t.int32) + t.tensor(1, dtype=t.int64),
    lambda t: t.ones(2, dtype=t.uint8) + t.ones(2, dtype=t.int8),
    lambda t: t.ones(2, dtype=t.int64) + 2.5,
    lambda t: t.ones(2, dtype=t.float32) * np.float64(2),
    lambda t: t.ones(2, dtype=t.int32) * np.int64(2),
    lambda t: t.ones(2, dtype=t.bool) + 1,
    lambda t: t.ones(2, dtype=t.bool) * 1.5,
    lambda t: t.ones(2, dtype=t.uint8) + t.tensor(-1, dtype=t.int8),
    lambda t: t.ones(2, dtype=t.float16) + t.tensor(1.0, dtype=t.float64),
    lambda t: t.ones(2, dtype=t.float16) + t.ones(2, dtype=t.bfloat16),
    lambda t: t.ones(2, dtype=t.int8) + t.tensor(1.5, dtype=t.float64),
    lambda t: t.ones(2, dtype=t.int64) + t.tensor(True),
    lambda t: t.tensor(1, dtype=t.int8) + 1000,
    lambda t: t.ones(2, dtype=t.complex64) + t.ones(2, dtype=t.float64),
    lambda t: t.ones(2, dtype=t.float64) * t.ones(2, dtype=t.complex64),
    lambda t: t.ones(2, dtype=t.complex64) + t.tensor(1.0, dtype=t.float64),
    lambda t: t.ones(2, dtype=t.float64) + t.tensor(1j, dtype=t.complex64),
    lambda t: t.ones(2, dtype=t.float32) + t.tensor(1j, dtype=t.complex128),
    lambda t: t.promote_types(t.complex64, t.float64),
], ids=lambda c: "")
def test_pitfall_10_promotion(case):
    same(case)


# --- in-place results that cannot be cast ------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda t: t.tensor([1, 2]).add_(1.5),
    lambda t: t.tensor([1, 2]).mul_(t.tensor([1.5, 2.0])),
    lambda t: t.tensor([1, 2]).div_(2),
    lambda t: t.tensor([True, False]).add_(1),
    lambda t: t.tensor([1.0, 2.0]).add_(1 + 1j),
    lambda t: t.tensor([1, 2], dtype=t.int32).add_(t.tensor([1, 2])),  # int64 stored into int32 is fine
    lambda t: t.tensor([1.0, 2.0]).add_(t.tensor([1, 2])),
    lambda t: t.tensor([1, 2], dtype=t.uint8).sub_(t.tensor([3, 1], dtype=t.int8)),
    lambda t: t.add(t.tensor([1, 2]), 0.5, out=t.zeros(2, dtype=t.int64)),
], ids=lambda c: "")
def test_inplace_result_cast(case):
    same(case)


def test_inplace_cast_error_message_text():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ember.tensor([1, 2]).add_(1.5)


# --- torch.Size -------------------------------------------------------------------------------------
def test_size_basics():
    same(lambda t: t.Size([2, 3, 4]))
    same(lambda t: repr(t.Size([2, 3, 4])))
    same(lambda t: repr(t.Size([])))
    same(lambda t: str(t.Size([5])))
    same(lambda t: t.Size([2, 3, 4])[1:])
    same(lambda t: t.Size([2, 3, 4])[::-1])
    same(lambda t: t.Size([2, 3, 4])[-1])
    same(lambda t: t.Size([2, 3, 4]).numel())
    same(lambda t: t.Size([]).numel())
    same(lambda t: t.Size([2, 0]).numel())
    same(lambda t: t.Size([2, 3]) + (4,))
    same(lambda t: (1,) + t.Size([2, 3]))
    same(lambda t: t.Size([2, 3]) == (2, 3))
    same(lambda t: t.Size([2, 3]) == [2, 3])
    same(lambda t: t.zeros(2, 3).shape == t.Size([2, 3]))
    same(lambda t: t.zeros(2, 3).size())
    same(lambda t: t.zeros(2, 3).shape)
    same(lambda t: t.zeros(2, 3).size(-1))
    same(lambda t: t.zeros(t.Size([2, 3])))


def test_size_is_a_tuple():
    s = ember.Size([2, 3])
    assert isinstance(s, tuple) and len(s) == 2
    a, b = s
    assert (a, b) == (2, 3) and type(a) is int
    assert pickle.loads(pickle.dumps(s)) == s and type(pickle.loads(pickle.dumps(s))) is ember.Size
    assert isinstance(ember.zeros(2).shape, tuple)


def test_size_rejects_non_ints():
    same(lambda t: t.Size([2.5]), messages=False)


# --- torch.device -----------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [("cpu",), ("cuda:1",), ("cuda", 0), ("cuda",), ("cpu", 0), ("meta",), ("cuda:0",),
                                  ("mps:0",), ("xpu",)])
def test_device_parsing(args):
    same(lambda t: t.device(*args))
    same(lambda t: (t.device(*args).type, t.device(*args).index, str(t.device(*args))))


@pytest.mark.parametrize("args", [("cuda:x",), ("foo",), ("cuda:-1",), ("CUDA",), ("cuda:01",), (" cuda",),
                                  ("cuda:1:2",), ("cuda", -1), ("cuda:1", 1)])
def test_device_parse_errors(args):
    same(lambda t: t.device(*args))


def test_device_bad_argument_types():
    same(lambda t: t.device("cuda", 1.0))
    same(lambda t: t.device(None), messages="device() received an invalid combination of arguments - got (NoneType)")


def test_device_equality_and_hash():
    same(lambda t: t.device("cuda", 0) == t.device("cuda:0"))
    same(lambda t: t.device("cuda") == t.device("cuda:0"))
    same(lambda t: t.device("cpu") == t.device("cpu"))
    same(lambda t: t.device("cpu") != t.device("cuda"))
    # NOTE: PyTorch compares devices only with devices: a string is never equal.
    same(lambda t: t.device("cpu") == "cpu")
    same(lambda t: t.device("cuda", 0) == "cuda:0")
    same(lambda t: t.device("cpu") != "cuda")
    same(lambda t: hash(t.device("cuda:1")) == hash(t.device("cuda", 1)))
    same(lambda t: {t.device("cpu"): 1}[t.device("cpu")])
    same(lambda t: str(t.zeros(1).device) == "cpu")
    same(lambda t: t.zeros(1).device)
    same(lambda t: t.zeros(1).device.type == "cpu")
    assert pickle.loads(pickle.dumps(ember.device("cuda:1"))) == ember.device("cuda:1")


def test_tensor_device_arguments():
    same(lambda t: t.zeros(2, device="cpu").device)
    same(lambda t: t.zeros(2, device=t.device("cpu")).device)
    same(lambda t: t.zeros(2).to("cpu").device)
    same(lambda t: t.zeros(2).cpu().get_device())
    same(lambda t: t.zeros(2).is_cuda)


def test_dtype_in_result_of_to():
    same(lambda t: t.zeros(2).to(t.float64))
    same(lambda t: t.zeros(2).to("cpu", t.int32))
    same(lambda t: t.zeros(2).to(device="cpu", dtype=t.int8))
    same(lambda t: t.zeros(2).to(t.ones(1, dtype=t.int16)))
    x = ember.zeros(2)
    assert x.to("cpu") is x and x.to(ember.float32) is x
    assert x.to(ember.float32, copy=True) is not x


@pytest.mark.parametrize("to", ["float16", "bfloat16"])
def test_float64_to_half_types_rounds_through_float32_as_torch(to):
    """PyTorch casts float64 to float16/bfloat16 through float32 (two roundings): values just off an exact
    half-precision halfway point land where PyTorch's do, in .to(), copy_() and tensor(..., dtype=)."""
    rng = np.random.default_rng(0)
    halfway = np.array([1.24951171875, 0.333251953125, 1.00390625, 3.0078125, -2.001953125, 1e-3])
    values = np.concatenate([halfway - 1e-12, halfway + 1e-12, rng.uniform(-4, 4, 200)])
    results = []
    for lib in (torch, ember):
        dt = getattr(lib, to)
        src = lib.tensor(values, dtype=lib.float64)
        results.append([src.to(dt).float().tolist(), lib.zeros(len(values), dtype=dt).copy_(src).float().tolist(),
                        lib.tensor(values.tolist(), dtype=dt).float().tolist()])
    assert results[1] == results[0]
