"""Types against PyTorch: finfo/iinfo, casts and type names, type queries, complex tensors,
from_numpy over NumPy's dtypes, memory formats and layouts, asarray, apply_, is_nonzero."""
import pickle

import numpy as np
import pytest
import torch

import ember
from _core_helpers import same

FLOATS = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128")
INTS = ("uint8", "int8", "int16", "int32", "int64", "uint16", "uint32", "uint64")


def info(x):
    """A finfo/iinfo as comparable data: its repr and every attribute torch documents."""
    attrs = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")
    return repr(x), {a: getattr(x, a) for a in attrs if hasattr(x, a)}


# --- finfo / iinfo --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", FLOATS)
def test_finfo(name):
    same(lambda t: info(t.finfo(getattr(t, name))))


@pytest.mark.parametrize("name", INTS)
def test_iinfo(name):
    same(lambda t: info(t.iinfo(getattr(t, name))))


@pytest.mark.parametrize("case", [
    lambda t: t.finfo(t.int32), lambda t: t.finfo(t.bool), lambda t: t.iinfo(t.float32), lambda t: t.iinfo(t.bool),
    lambda t: t.iinfo(t.complex64), lambda t: t.finfo("float32"), lambda t: t.iinfo(3),
], ids=lambda c: "")
def test_info_errors(case):
    same(case)


def test_finfo_default_and_equality(restore_default_dtype):
    same(lambda t: info(t.finfo()))
    same(lambda t: (t.finfo() == t.finfo(t.float32), t.finfo(t.float32) == t.finfo(t.float64),
                    t.iinfo(t.int8) == t.iinfo(t.int8), t.finfo(t.complex64) == t.finfo(t.float32)))
    for lib in (torch, ember):
        lib.set_default_dtype(lib.float64)
    same(lambda t: t.finfo().dtype)
    with pytest.raises(TypeError):
        hash(ember.finfo())


@pytest.fixture
def restore_default_dtype():
    yield
    torch.set_default_dtype(torch.float32)
    ember.set_default_dtype(ember.float32)


# --- casts and type names -----------------------------------------------------------------------------
CASTS = ("float", "double", "half", "bfloat16", "long", "int", "short", "char", "byte", "bool", "cfloat", "cdouble")


@pytest.mark.parametrize("cast", CASTS)
@pytest.mark.parametrize("src", ["float32", "int64", "bool", "complex64"])
def test_cast_methods(cast, src):
    with np.errstate(all="ignore"):
        same(lambda t: getattr(t.tensor([0, 1, 2.5, -3], dtype=getattr(t, src)), cast)())


@pytest.mark.parametrize("case", [
    lambda t: t.ones(2).to(t.float64), lambda t: t.ones(2).to(t.ones(1, dtype=t.int32)),
    lambda t: t.ones(2).to("cpu", t.float16), lambda t: t.ones(2).to(device="cpu", dtype=t.int8),
    lambda t: t.ones(2).to(t.device("cpu")), lambda t: t.ones(2).to("cpu", copy=True),
    lambda t: t.ones(2).type(t.float64), lambda t: t.ones(2).type("torch.IntTensor"), lambda t: t.ones(2).type(),
    lambda t: t.ones(2, dtype=t.uint8).type(), lambda t: t.ones(2).type(t.LongTensor),
    lambda t: t.ones(2, dtype=t.complex64).type(), lambda t: t.ones(2).type("torch.NoSuchTensor"),
    lambda t: t.ones(2).type_as(t.ones(1, dtype=t.int16)),
], ids=lambda c: "")
def test_to_and_type(case):
    same(case)


def test_to_returns_self_when_nothing_changes():
    for lib in (torch, ember):
        x = lib.ones(2)
        assert x.to(lib.float32) is x and x.to("cpu") is x and x.to(x) is x
        assert x.to(lib.float32, copy=True) is not x


def test_gradients_flow_through_casts():
    def grads(t):
        x = t.tensor([1.5, -2.0], requires_grad=True)
        (x.to(t.float64) * 3).sum().backward()
        y = t.tensor([1.5, -2.0], dtype=t.float64, requires_grad=True)
        (y.float() * y.half().float()).sum().backward()
        z = t.tensor([1.0, 2.0], requires_grad=True)
        t.view_as_real(z.cdouble()).sum().backward()
        return x.grad, y.grad, z.grad
    same(grads)


@pytest.mark.parametrize("name", ["float32", "int64", "uint8", "bool", "complex128", "bfloat16", "uint16"])
def test_sizes_of_elements(name):
    same(lambda t: (t.ones(3, dtype=getattr(t, name)).element_size(), t.ones(3, dtype=getattr(t, name)).nbytes,
                    t.ones(3, dtype=getattr(t, name)).itemsize))


@pytest.mark.parametrize("name", ["float32", "int64", "uint8", "bool", "complex64", "int8"])
def test_type_queries(name):
    same(lambda t: (t.is_floating_point(t.ones(1, dtype=getattr(t, name))),
                    t.is_complex(t.ones(1, dtype=getattr(t, name))),
                    t.is_signed(t.ones(1, dtype=getattr(t, name))),
                    t.ones(1, dtype=getattr(t, name)).is_signed(),
                    t.ones(1, dtype=getattr(t, name)).is_floating_point()))


def test_type_queries_refuse_non_tensors():
    same(lambda t: t.is_signed(3))
    same(lambda t: t.is_nonzero(3))
    same(lambda t: (t.is_tensor(3), t.is_tensor(t.ones(1)), t.is_storage(t.ones(1)), t.is_storage(3)))
    same(lambda t: (t.numel(t.ones(2, 3)), t.numel(t.ones(()))))


# --- uint16/32/64: PyTorch's limited-support dtypes ------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda t: t.promote_types(t.uint16, t.int32), lambda t: t.promote_types(t.uint32, t.uint32),
    lambda t: t.zeros(2, dtype=t.uint32), lambda t: t.tensor([1, 2], dtype=t.uint64).float(),
    lambda t: t.tensor([1.5, 2], dtype=t.float32).to(t.uint16), lambda t: (t.uint16.is_signed, t.uint64.itemsize),
    lambda t: t.ones(2, dtype=t.uint16).type(),
], ids=lambda c: "")
def test_wide_unsigned_dtypes(case):
    same(case)


# --- from_numpy ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("np_dtype", ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                                      "float64", "complex64", "complex128", "uint16", "uint32", "uint64"])
def test_from_numpy_every_supported_dtype(np_dtype):
    arr = np.arange(6).reshape(2, 3).astype(np_dtype)
    same(lambda t: t.from_numpy(arr), strides=True)
    same(lambda t: t.from_numpy(arr.T), strides=True)


@pytest.mark.parametrize("make", [
    lambda: np.array([object()]), lambda: np.array(["a"]), lambda: np.array([1], dtype=np.longdouble),
    lambda: np.array(["2020-01-01"], dtype="datetime64[D]"), lambda: np.array([1], dtype=">i4"),
    lambda: np.array([1], dtype=">f8"), lambda: [1, 2], lambda: 3.0,
], ids=lambda c: "")
def test_from_numpy_refusals(make):
    data = make()
    same(lambda t: t.from_numpy(data))


# --- complex tensors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda t: t.complex(t.tensor([1.0, 2]), t.tensor([3.0, 4])),
    lambda t: t.complex(t.tensor([1.0], dtype=t.float64), t.tensor([[3.0], [4]], dtype=t.float64)),
    lambda t: t.complex(t.tensor([1, 2]), t.tensor([3, 4])),
    lambda t: t.complex(t.tensor([1.0]), t.tensor([2.0], dtype=t.float64)),
    lambda t: t.complex(t.tensor([1.0], dtype=t.bfloat16), t.tensor([2.0], dtype=t.bfloat16)),
    lambda t: t.complex(t.ones(2), t.ones(3)),
    lambda t: t.polar(t.tensor([1.0, 2]), t.tensor([0.0, 1.5])),
    lambda t: t.polar(t.tensor([1, 2]), t.tensor([0, 1])),
    lambda t: t.tensor([1 + 2j, -3j]).real, lambda t: t.tensor([1 + 2j, -3j]).imag,
    lambda t: t.real(t.tensor([1.0, 2])), lambda t: t.imag(t.tensor([1.0, 2])), lambda t: t.tensor([1, 2]).real,
    lambda t: t.view_as_real(t.tensor([1 + 2j, -3j])), lambda t: t.view_as_real(t.tensor(1 + 2j, dtype=t.complex128)),
    lambda t: t.view_as_real(t.tensor([1.0])),
    lambda t: t.view_as_complex(t.tensor([[1.0, 2], [3, 4]])), lambda t: t.view_as_complex(t.zeros(0, 2)),
    lambda t: t.view_as_complex(t.zeros(3, 4)[:, :2]), lambda t: t.view_as_complex(t.tensor([1.0, 2, 3])),
    lambda t: t.view_as_complex(t.zeros(2, 2).t()), lambda t: t.view_as_complex(t.zeros(2, 2, dtype=t.int64)),
    lambda t: t.view_as_complex(t.zeros(2, dtype=t.bfloat16)), lambda t: t.view_as_complex(t.zeros(())),
    lambda t: t.view_as_complex(t.zeros(2, 6)[:, 1:3]),
    lambda t: t.tensor([1 + 2j]).conj().resolve_conj(), lambda t: t.tensor([1, 2]).conj(),
    lambda t: t.conj_physical(t.tensor([1 + 2j])), lambda t: t.tensor([1.5]).conj_physical(),
    lambda t: t.is_conj(t.tensor([1.0])),
], ids=lambda c: "")
def test_complex(case):
    same(case, strides=True)


def test_real_and_imag_are_views():
    def views(t):
        z = t.tensor([1 + 2j, 3 - 1j])
        z.real[0] = 10
        z.imag.mul_(2)
        r = t.view_as_real(z)
        r[1, 0] = -1
        z.imag = t.tensor([7.0, 8.0])
        return z, z.real._base is z, t.view_as_real(z)._base is z
    same(views)


def test_complex_gradients():
    def grads(t):
        a = t.tensor([1.0, -2.0], requires_grad=True)
        b = t.tensor([0.5, 3.0], requires_grad=True)
        z = t.complex(a, b)
        (z.real * 2 + z.imag * 3 + t.view_as_real(z.conj().resolve_conj())[..., 1]).sum().backward()
        r = t.tensor([1.0, 2.0], requires_grad=True)
        th = t.tensor([0.3, -1.2], requires_grad=True)
        t.view_as_real(t.polar(r, th)).pow(3).sum().backward()
        x = t.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        t.view_as_complex(x).imag.sum().backward()
        w = t.tensor([1 + 1j, 2 - 1j], requires_grad=True)
        w.imag.sum().backward()
        return a.grad, b.grad, r.grad, th.grad, x.grad, w.grad
    same(grads, exact=False)


@pytest.mark.xfail(strict=True, reason="ember materialises conj(): no lazy conjugate bit, no aliasing")
def test_conj_is_a_lazy_view():
    z = ember.tensor([1 + 2j])
    assert z.conj().is_conj()


# --- memory formats, layouts, clone ------------------------------------------------------------------
@pytest.mark.parametrize("name", ["contiguous_format", "preserve_format", "channels_last", "channels_last_3d",
                                  "strided", "sparse_coo"])
def test_constants_print_as_torch(name):
    same(lambda t: (repr(getattr(t, name)), str(getattr(t, name)), f"{getattr(t, name)}",
                    type(getattr(t, name)).__name__))
    assert pickle.loads(pickle.dumps(getattr(ember, name))) is getattr(ember, name)


def test_constants_types():
    assert isinstance(ember.contiguous_format, ember.memory_format)
    assert isinstance(ember.strided, ember.layout)
    assert ember.contiguous_format != ember.preserve_format


@pytest.mark.parametrize("fmt", ["contiguous_format", "preserve_format"])
def test_clone_memory_format(fmt):
    same(lambda t: t.clone(t.ones(2, 3).t(), memory_format=getattr(t, fmt)), strides=True)
    same(lambda t: t.ones(2, 3).t().clone(memory_format=getattr(t, fmt)), strides=True)
    same(lambda t: t.zeros_like(t.ones(2, 3).t(), memory_format=getattr(t, fmt)), strides=True)


# --- asarray ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda t: t.asarray([1, 2]), lambda t: t.asarray(3.5), lambda t: t.asarray([1, 2], dtype=t.float32),
    lambda t: t.asarray(np.float32(2)), lambda t: t.asarray(np.array([1.0, 2.0])),
    lambda t: t.asarray(np.array([1.0]), dtype=t.float32, copy=False),
    lambda t: t.asarray(t.ones(2), dtype=t.float64, copy=False), lambda t: t.asarray(t.ones(2), dtype=t.float64),
    lambda t: t.asarray([1, 2], requires_grad=True), lambda t: t.asarray([[1, 2], [3]]),
    lambda t: t.asarray([1.0, 2.0], requires_grad=True),
], ids=lambda c: "")
def test_asarray(case):
    same(case)


def test_asarray_memory_sharing():
    def sharing(t):
        a = np.array([1.0, 2.0])
        t.asarray(a)[0] = 5
        t.asarray(a, copy=True)[1] = 7
        x = t.ones(2)
        return a.tolist(), t.asarray(x) is x, t.asarray(x, copy=True) is x
    same(sharing)


# --- apply_, is_nonzero -------------------------------------------------------------------------------
@pytest.mark.parametrize("case", [
    lambda t: t.tensor([1.0, 2]).apply_(lambda v: v * 2), lambda t: t.tensor([1, 2]).apply_(lambda v: v + 0.7),
    lambda t: t.tensor([True, False]).apply_(lambda v: 2), lambda t: t.tensor([1.5]).apply_(lambda v: int(v)),
    lambda t: t.tensor([1.0]).apply_(lambda v: "a"), lambda t: t.tensor([1.0], requires_grad=True).apply_(abs),
    lambda t: t.zeros(0).apply_(lambda v: 1), lambda t: t.arange(6.0).reshape(2, 3).t().apply_(lambda v: v * 10),
], ids=lambda c: "")
def test_apply_(case):
    same(case)


def test_apply_works_in_place_on_views():
    same(lambda t: (lambda x: (x[1].apply_(lambda v: -v), x)[1])(t.arange(6.0).reshape(3, 2)))


@pytest.mark.parametrize("case", [
    lambda t: t.is_nonzero(t.tensor([0.0])), lambda t: t.is_nonzero(t.tensor(1j)),
    lambda t: t.is_nonzero(t.tensor([[True]])), lambda t: t.is_nonzero(t.tensor(float("nan"))),
    lambda t: t.is_nonzero(t.tensor([])), lambda t: t.is_nonzero(t.tensor([1, 2])),
    lambda t: t.tensor([3]).is_nonzero(),
], ids=lambda c: "")
def test_is_nonzero(case):
    same(case)


# --- the default dtype ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["float64", "float16", "bfloat16"])
def test_default_dtype_effects(name, restore_default_dtype):
    for lib in (torch, ember):
        lib.set_default_dtype(getattr(lib, name))
    same(lambda t: (t.get_default_dtype(), t.tensor([1.5]).dtype, t.zeros(2).dtype, t.arange(0.5, 2).dtype,
                    t.linspace(0, 1, 3).dtype, t.full((1,), 2.0).dtype, t.rand(1).dtype,
                    t.tensor([1]).dtype, (t.tensor([1]) * 0.5).dtype, t.eye(2).dtype, t.empty(1).dtype,
                    t.randn(1).dtype, t.finfo().dtype, t.Tensor([1]).dtype))


def test_default_dtype_sets_the_complex_default(restore_default_dtype):
    for lib in (torch, ember):
        lib.set_default_dtype(lib.float64)
    same(lambda t: (t.tensor([1j]).dtype, t.full((1,), 1j).dtype, (t.ones(1) * 1j).dtype))


def test_set_default_dtype_refusals():
    same(lambda t: t.set_default_dtype(t.int64))
