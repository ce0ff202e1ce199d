"""torch.testing: assert_close makes PyTorch's pass/fail decisions with its exception types and messages;
make_tensor's ranges, dtypes, layouts and errors; the deprecated assert_allclose."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember


def T(data, dtype="float32"):
    """A tensor spec that both libraries build."""
    return ("T", data, dtype)


def build(mod, value):
    if isinstance(value, dict):
        return {k: build(mod, v) for k, v in value.items()}
    if isinstance(value, list):
        return [build(mod, v) for v in value]
    if isinstance(value, tuple) and len(value) == 3 and value[0] == "T":
        return mod.tensor(value[1], dtype=getattr(mod, value[2]))
    return value


def outcome(mod, actual, expected, **kwargs):
    try:
        mod.testing.assert_close(build(mod, actual), build(mod, expected), **kwargs)
    except Exception as error:  # noqa: BLE001  (the exception type is what is compared)
        return type(error), str(error).replace("ember._tensor.Tensor", "torch.Tensor")
    return "pass"


NAN, INF = float("nan"), float("inf")
CASES = [
    (T([1., 2, 3]), T([1., 2.5, 3]), {}),
    (T([1., 2, 3]), T([1., 2, 3 + 1e-6]), {}),
    (T(1.), T(2.), {}),
    (T([1, 2, 3], "int64"), T([1, 2, 4], "int64"), {}),
    (T([1, 2], "uint8"), T([1, 0], "uint8"), {}),
    (T([1, 5], "int32"), T([1, 7], "int32"), dict(rtol=0.5, atol=0)),
    (T([True, False], "bool"), T([True, True], "bool"), {}),
    (T([1., 2]), T([1., 2], "float64"), {}),
    (T([1., 2]), T([1., 2, 3]), {}),
    (T([1., 2]), T([[1., 2]]), {}),
    (T([[1., 2], [3, 4]]), T([[1., 2], [3, 5]]), {}),
    (T([[1., 2, 3], [4, 5, 6]]), T([[1., 2, 3.1], [4, 5.5, 6]]), dict(atol=0.2, rtol=0)),
    (T([1., 2]), T([1., 2.1]), dict(msg="custom")),
    (T([1., 2]), T([1., 2.1]), dict(msg=lambda m: "X" + m[:12])),
    (T([1., 2]), T([1., 2.2]), dict(rtol=0.2, atol=0)),
    (T([1., 2]), T([1., 2.1]), dict(rtol=0)),
    (T([1.]), T([2.]), dict(atol=0, msg="ignored")),
    (T(NAN), T(NAN), {}),
    (T([NAN, 1.]), T([NAN, 1.]), {}),
    (T([NAN, 1.]), T([NAN, 1.]), dict(equal_nan=True)),
    (T([1., INF]), T([1., INF]), {}),
    (T([1., INF]), T([1., -INF]), {}),
    (T([0., 2]), T([1., 0]), {}),
    (T([1., 2], "bfloat16"), T([1., 2.5], "bfloat16"), {}),
    (T([1., 2], "bfloat16"), T([1., 2.01], "bfloat16"), {}),
    (T([1., 2], "float16"), T([1., 2.5], "float16"), {}),
    (T([1., 2], "float16"), T([1., 2.001], "float16"), {}),
    (T([1., 2], "float64"), T([1., 2 + 1e-8], "float64"), {}),
    (T([1 + 1j], "complex64"), T([1 + 2j], "complex64"), {}),
    (T([1 + 1j], "complex128"), T([1 + 1j + 1e-9], "complex128"), {}),
    (T([1, 2], "int64"), T([1., 2.]), dict(check_dtype=False)),
    (T([1, 2], "int64"), T([1., 2.00001]), dict(check_dtype=False)),
    (T([1., 2], "float16"), T([1., 2.001]), dict(check_dtype=False)),
    (T([1., 2], "float64"), T([1., 2.00001]), dict(check_dtype=False)),
    (T(1, "int64"), T(2, "int64"), {}),
    (T([]), T([]), {}),
    ([T(1.)], [T(2.)], {}),
    ((T(1.), T(2.)), [T(1.), T(2.)], {}),
    ({"a": T(1.)}, {"a": T(2.)}, {}),
    ({"a": 1, "b": 2, "c": 3}, {"c": 3, "d": 2, "e": 1}, {}),
    ([[T(1.)], {"k": 2}], [[T(1.)], {"k": 3}], {}),
    ([1, 2], [1, 2, 3], {}),
    ([1, 2], [1, 2, 3], dict(msg="ignored for the structure")),
    ([1, "a"], [1, "a"], {}),
    ({"a": 1}, [1], {}),
    ("a", "a", {}),
    (None, None, {}), (None, 1, {}), (1, None, {}),
    (True, False, {}), (True, True, {}),
    (1, 1.0, {}), (1, 1.0, dict(check_dtype=False)), (1.0, 1.1, {}), (1.0, 1.0 + 1e-9, {}), (1, 2, {}),
    (1 + 1j, 1 + 2j, {}), (INF, INF, {}), (INF, -INF, {}), (NAN, NAN, {}), (NAN, NAN, dict(equal_nan=True)),
    (np.float32(1.0), np.float32(1.5), {}), (np.float32(1.0), 1.5, {}), (np.int64(3), 3, {}),
    (T(1.), 1., {}), (1, T(1, "int64"), {}),
]


@pytest.mark.parametrize("actual,expected,kwargs", CASES, ids=[str(i) for i in range(len(CASES))])
def test_assert_close_decides_and_reports_as_torch(actual, expected, kwargs):
    assert outcome(ember, actual, expected, **kwargs) == outcome(torch, actual, expected, **kwargs)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("scale", [0.0, 1e-9, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1])
def test_default_tolerances_sweep(dtype, scale):
    values = [0.0, 1.0, -3.0, 100.0, 1e-4]
    perturbed = [v + scale * (1 + abs(v)) for v in values]
    assert outcome(ember, T(values, dtype), T(perturbed, dtype)) == outcome(torch, T(values, dtype),
                                                                           T(perturbed, dtype))


def test_rtol_without_atol_is_a_value_error():
    for mod in (ember, torch):
        with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or omitted, but got "
                                             "no atol."):
            mod.testing.assert_close(mod.ones(2), mod.ones(2), rtol=0.1)


def test_stride_layout_and_requires_grad():
    for mod in (ember, torch):
        a = mod.ones(2, 3).t()
        b = mod.ones(3, 2)
        mod.testing.assert_close(a, b)
        with pytest.raises(AssertionError, match=r"The values for attribute 'stride\(\)' do not match: "
                                                 r"\(1, 3\) != \(2, 1\)\."):
            mod.testing.assert_close(a, b, check_stride=True)
        mod.testing.assert_close(mod.ones(2, requires_grad=True) * 1, mod.ones(2))
    assert outcome(ember, T([1.]), T([1.])) == "pass"


def test_numpy_arrays_are_tensor_likes_but_do_not_mix_with_tensors():
    ember.testing.assert_close(np.array([1., 2.]), np.array([1., 2.]))
    with pytest.raises(AssertionError, match="Tensor-likes are not close!"):
        ember.testing.assert_close(np.array([1., 2.]), np.array([1., 3.]))
    with pytest.raises(TypeError, match="No comparison pair was able to handle inputs"):
        ember.testing.assert_close(ember.tensor([1., 2.]), np.array([1., 2.]))


def test_subclasses():
    param = ember.nn.Parameter(ember.tensor([1., 2.]))
    ember.testing.assert_close(ember.tensor([1., 2.]), param)
    with pytest.raises(TypeError, match="No comparison pair"):
        ember.testing.assert_close(ember.tensor([1., 2.]), param, allow_subclasses=False)


def test_torch_tensors_are_not_ember_tensor_likes():
    with pytest.raises(TypeError, match="No comparison pair"):
        ember.testing.assert_close(torch.ones(2), ember.ones(2))


def test_assert_allclose_is_deprecated_and_looser():
    for mod in (ember, torch):
        with pytest.warns(FutureWarning, match="assert_allclose"):
            mod.testing.assert_allclose(mod.tensor([1., NAN]), [1.00001, NAN])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            with pytest.raises(AssertionError, match="Tensor-likes are not close!"):
                mod.testing.assert_allclose(mod.tensor([1.]), [1.01])


# --- make_tensor ------------------------------------------------------------------------------------------
INTEGRAL = ["uint8", "int8", "int16", "int32", "int64"]
FLOATING = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"]


@pytest.mark.parametrize("dtype", ["bool"] + INTEGRAL + FLOATING)
def test_make_tensor_default_ranges(dtype):
    t = ember.testing.make_tensor(4, 50, dtype=getattr(ember, dtype), device="cpu")
    assert t.shape == (4, 50) and t.dtype is getattr(ember, dtype) and t.device.type == "cpu"
    values = t.to(ember.complex128).numpy() if dtype.startswith("complex") else t.to(ember.float64).numpy()
    parts = [values.real, values.imag] if dtype.startswith("complex") else [values]
    high = 2 if dtype == "bool" else (10 if dtype in INTEGRAL else 9)
    low = 0 if dtype in ("bool", "uint8") else -9
    for part in parts:
        assert part.min() >= low and part.max() < high
        assert len(np.unique(part)) > 1


@pytest.mark.parametrize("dtype", ["int32", "float32", "float64"])
def test_make_tensor_low_high_exclude_zero_noncontiguous(dtype):
    dt = getattr(ember, dtype)
    t = ember.testing.make_tensor((3, 7), dtype=dt, device="cpu", low=-1, high=1, exclude_zero=True,
                                  noncontiguous=True)
    ref = torch.testing.make_tensor((3, 7), dtype=getattr(torch, dtype), device="cpu", low=-1, high=1,
                                    exclude_zero=True, noncontiguous=True)
    assert t.shape == ref.shape and t.is_contiguous() == ref.is_contiguous() is False
    assert t.stride() == ref.stride()
    # NOTE: exclude_zero turns an integral zero into 1, which is `high` here: PyTorch does the same
    assert bool((t != 0).all()) and float(t.min()) >= -1 and float(t.max()) <= 1


def test_make_tensor_requires_grad():
    t = ember.testing.make_tensor(2, 3, dtype=ember.float32, device="cpu", requires_grad=True)
    assert t.requires_grad and t.is_leaf
    assert not ember.testing.make_tensor(2, dtype=ember.float32, device="cpu").requires_grad


@pytest.mark.xfail(strict=True, reason="ember's clone(memory_format=channels_last) keeps contiguous strides")
def test_make_tensor_memory_format():
    t = ember.testing.make_tensor(2, 3, 4, 5, dtype=ember.float32, device="cpu", memory_format=ember.channels_last)
    ref = torch.testing.make_tensor(2, 3, 4, 5, dtype=torch.float32, device="cpu", memory_format=torch.channels_last)
    assert t.stride() == ref.stride()


def errors(mod, *shape, **kwargs):
    try:
        mod.testing.make_tensor(*shape, device="cpu", **kwargs)
    except Exception as error:  # noqa: BLE001
        return type(error), str(error).replace("torch.", "ember.")
    return "ok"


@pytest.mark.parametrize("kwargs", [
    dict(dtype="float32", low=2, high=1), dict(dtype="int64", low=NAN), dict(dtype="int64", requires_grad=True),
    dict(dtype="uint8", low=300, high=400), dict(dtype="uint8", low=-5, high=3), dict(dtype="float32",
                                                                                     noncontiguous=True,
                                                                                     memory_format="cl"),
    dict(dtype="bool", low=0, high=1), dict(dtype="int8", low=1.5, high=2.5),
])
def test_make_tensor_errors(kwargs):
    def args(mod):
        out = dict(kwargs, dtype=getattr(mod, kwargs["dtype"]))
        if out.get("memory_format") == "cl":
            out["memory_format"] = mod.channels_last
        return out
    assert errors(ember, 2, 2, 2, 2, **args(ember)) == errors(torch, 2, 2, 2, 2, **args(torch))


def test_make_tensor_low_equal_high_warns_for_floats():
    with pytest.warns(FutureWarning, match="low==high"):
        t = ember.testing.make_tensor(3, dtype=ember.float32, device="cpu", low=2, high=2)
    assert t.tolist() == [2.0, 2.0, 2.0]
    assert math.isfinite(float(ember.testing.make_tensor(3, dtype=ember.float16, device="cpu",
                                                          low=-1e30, high=1e30).abs().max()))


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_on_complex_compares_moduli_as_torch(dtype, equal_nan):
    a = [1 + 1j, 1 + 1j, 2 + 0j, complex(NAN, 0), 1e-9j, complex(INF, 1), 3 - 4j]
    b = [1 + 1j, 1 + 1.000001j, 2.5 + 0j, complex(NAN, 1), 0j, complex(INF, 1), 3 - 4.00002j]
    got = ember.isclose(ember.tensor(a, dtype=getattr(ember, dtype)), ember.tensor(b, dtype=getattr(ember, dtype)),
                        equal_nan=equal_nan)
    expected = torch.isclose(torch.tensor(a, dtype=getattr(torch, dtype)),
                             torch.tensor(b, dtype=getattr(torch, dtype)), equal_nan=equal_nan)
    assert got.tolist() == expected.tolist()


def sparse_outcome(mod, a, e, layout, **kwargs):
    convert = {"coo": lambda t: t.to_sparse(), "csr": lambda t: t.to_sparse_csr(), "csc": lambda t: t.to_sparse_csc(),
               "dense": lambda t: t}
    actual = convert[layout[0]](mod.tensor(a))
    expected = convert[layout[1]](mod.tensor(e))
    try:
        mod.testing.assert_close(actual, expected, **kwargs)
    except Exception as error:  # noqa: BLE001
        return type(error), str(error)
    return "pass"


@pytest.mark.parametrize("layout", [("coo", "coo"), ("csr", "csr"), ("csc", "csc"), ("coo", "dense")])
@pytest.mark.parametrize("other", [[[0., 1.], [2., 0.]], [[0., 1.], [0., 2.]], [[0., 1.], [0., 0.]],
                                   [[0., 1.], [3., 0.]], [[0., 1.], [2. + 1e-7, 0.]]])
def test_sparse_layouts_compare_as_torch(layout, other):
    base = [[0., 1.], [2., 0.]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = sparse_outcome(torch, base, other, layout)
    assert sparse_outcome(ember, base, other, layout) == expected
    if layout[1] == "dense":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = sparse_outcome(torch, base, other, layout, check_layout=False)
        assert sparse_outcome(ember, base, other, layout, check_layout=False) == expected


def test_device_mismatch_on_the_stand_in():
    if not ember.cuda.is_available():
        pytest.skip("needs a cuda device (the stand-in or a GPU)")
    with pytest.raises(AssertionError, match="The values for attribute 'device' do not match: cpu != cuda:0."):
        ember.testing.assert_close(ember.ones(2, device="cpu"), ember.ones(2, device="cuda"))
    ember.testing.assert_close(ember.ones(2, device="cpu"), ember.ones(2, device="cuda"), check_device=False)


FUZZ_DTYPES = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int8", "uint8", "int32",
               "int64", "bool"]


@pytest.mark.parametrize("seed", range(60))
def test_assert_close_fuzz_against_torch(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 4, size=rng.integers(0, 4)))
    dtype = FUZZ_DTYPES[seed % len(FUZZ_DTYPES)]
    base = rng.normal(size=shape) * 10.0 ** rng.integers(-3, 4)
    if dtype.startswith("complex"):
        base = base + 1j * rng.normal(size=shape)
    scale = 10.0 ** rng.integers(-9, 0)
    other = base + scale * rng.normal(size=shape) * (rng.random(size=shape) < 0.5)
    if dtype.startswith("float") and base.size > 1 and rng.random() < 0.3:
        base.flat[0] = other.flat[0] = float(rng.choice([NAN, INF, -INF]))
    kwargs = {}
    if rng.random() < 0.3:
        kwargs.update(rtol=float(rng.choice([0.0, 1e-6, 1e-3])), atol=float(rng.choice([0.0, 1e-8, 1e-4])))
    if rng.random() < 0.2:
        kwargs["equal_nan"] = True

    def run(mod):
        dt = getattr(mod, dtype)
        a = mod.tensor(base.tolist() if shape else base.item()).to(dt)
        e = mod.tensor(other.tolist() if shape else other.item()).to(dt)
        try:
            mod.testing.assert_close(a, e, **kwargs)
        except AssertionError as error:
            return str(error)
        return "pass"
    assert run(ember) == run(torch)
