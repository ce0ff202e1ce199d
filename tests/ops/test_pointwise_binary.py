"""Binary and ternary pointwise ops against real PyTorch: the semantics the generic spec test
cannot express (division and power edge cases, promotion with 0-d tensors and numbers, shifts,
isclose, gradients at ties and boundaries, and PyTorch's refusals with their messages)."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember

NAN, INF = float("nan"), float("inf")


class _Raised:
    def __init__(self, exc):
        self.type, self.message = type(exc), str(exc)

    def __repr__(self):
        return f"{self.type.__name__}({self.message!r})"


def _outcome(fn, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(lib)
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            return _Raised(exc)


def _check(theirs, ours, messages, path="result"):
    if isinstance(theirs, _Raised) or isinstance(ours, _Raised):
        assert isinstance(theirs, _Raised), f"{path}: ember raised {ours!r}; torch returned {theirs!r}"
        assert isinstance(ours, _Raised), f"{path}: torch raised {theirs!r}; ember returned {ours!r}"
        assert ours.type.__name__ == theirs.type.__name__, f"{path}: {ours!r} vs torch {theirs!r}"
        if messages:
            assert ours.message == theirs.message, f"{path}: {ours.message!r} vs torch {theirs.message!r}"
        return
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), f"{path}: ember gave {type(ours).__name__}"
        assert str(ours.dtype) == str(theirs.dtype), f"{path}: dtype {ours.dtype} vs torch {theirs.dtype}"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{path}: shape {tuple(ours.shape)} vs {tuple(theirs.shape)}"
        a = ours.detach().float().numpy() if "bfloat" in str(ours.dtype) else ours.detach().numpy()
        b = theirs.detach().float().numpy() if "bfloat" in str(theirs.dtype) else theirs.detach().numpy()
        if a.dtype.kind in "biu":
            np.testing.assert_array_equal(a, b, err_msg=path)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-5 if a.dtype.itemsize >= 4 else 2e-3, atol=1e-6,
                                       equal_nan=True, err_msg=path)
            # NOTE: signed zeros matter for copysign, atan2 and the -0.0 gradients PyTorch gives.
            np.testing.assert_array_equal(np.signbit(a[a == 0]), np.signbit(b[b == 0]), err_msg=path + " (sign)")
    elif isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs), f"{path}: {len(ours)} items vs {len(theirs)}"
        for i, (t, o) in enumerate(zip(theirs, ours)):
            _check(t, o, messages, f"{path}[{i}]")
    elif isinstance(theirs, float) and math.isnan(theirs):
        assert isinstance(ours, float) and math.isnan(ours), f"{path}: {ours!r} vs nan"
    else:
        assert type(ours) is type(theirs) and ours == theirs, f"{path}: {ours!r} vs torch {theirs!r}"


def same(fn, messages=True):
    """fn(torch) and fn(ember) give the same values, dtypes and shapes, or raise alike."""
    _check(_outcome(fn, torch), _outcome(fn, ember), messages)


def grads(fn, *values):
    """A snippet: fn's result and the gradients of its sum w.r.t. every tensor in values (lists)."""
    def run(t):
        xs = [t.tensor(v, requires_grad=True) if isinstance(v, list) else v for v in values]
        out = fn(t, *xs)
        gs = t.autograd.grad(out.sum(), [x for x in xs if isinstance(x, t.Tensor)], allow_unused=True)
        return out, [g if g is not None else "none" for g in gs]
    return run


def cases(*fns):
    return pytest.mark.parametrize("case", fns, ids=[f"case{i}" for i in range(len(fns))])


# --- division ----------------------------------------------------------------------------------------------
@cases(
    lambda t: t.tensor([7, -7, 7, -7]) / t.tensor([2, 2, -2, -2]),
    lambda t: t.tensor([7, -7, 7, -7]) // t.tensor([2, 2, -2, -2]),
    lambda t: t.div(t.tensor([7, -7, 7, -7]), t.tensor([2, 2, -2, -2]), rounding_mode="trunc"),
    lambda t: t.div(t.tensor([7.5, -7.5, 7.5, -7.5]), t.tensor([2, 2, -2, -2]), rounding_mode="trunc"),
    lambda t: t.div(t.tensor([7.5, -7.5, 0.0]), 0, rounding_mode="floor"),
    lambda t: t.div(t.tensor([7.5, -7.5, 0.0]), 0, rounding_mode="trunc"),
    lambda t: t.div(t.tensor([2 ** 62 + 1, -(2 ** 62) - 1]), 3, rounding_mode="trunc"),
    lambda t: t.div(t.tensor([7]), 0, rounding_mode="trunc"),
    lambda t: t.div(t.tensor([True]), t.tensor([True]), rounding_mode="trunc"),
    lambda t: t.div(t.tensor([True]), t.tensor([True]), rounding_mode="floor"),
    lambda t: t.divide(t.tensor([1.0]), 2, rounding_mode="round"),
    lambda t: t.tensor([7, -7, 7, -7]) % t.tensor([3, 3, -3, -3]),
    lambda t: t.fmod(t.tensor([7, -7, 7, -7]), t.tensor([3, 3, -3, -3])),
    lambda t: t.remainder(t.tensor([7.5, -7.5]), -2),
    lambda t: t.fmod(t.tensor([7.5, -7.5]), -2),
    lambda t: t.remainder(-7, t.tensor([3, -3])),
    lambda t: t.fmod(-7, t.tensor([3, -3])),
    lambda t: t.tensor([5]) // 0,
    lambda t: t.tensor([5]) % t.tensor([0]),
    lambda t: t.fmod(t.tensor([5]), 0),
    lambda t: t.tensor([5.0, -5.0, 0.0]) % 0,
    lambda t: t.fmod(t.tensor([5.0, -5.0]), 0.0),
    lambda t: t.tensor([True, False]) // True,
    lambda t: t.tensor([True, False]) % True,
    lambda t: t.fmod(t.tensor([True]), True),
    lambda t: t.tensor([True, False]) // 2,
    lambda t: t.tensor([True, False]) % 2,
    lambda t: t.tensor([1, 2]).true_divide_(2),
    lambda t: t.tensor([1.0, 2.0]).divide_(t.tensor([2, 4]), rounding_mode="floor"),
    lambda t: t.tensor([7, -7]).div_(2, rounding_mode="trunc"),
    lambda t: t.true_divide(t.tensor([7, 8]), t.tensor([2, 4]), out=t.empty(2)),
    lambda t: t.rsub(t.tensor([1.0, 2.0]), t.tensor([5.0]), alpha=2),
    lambda t: t.rsub(t.tensor([1, 2]), 5),
    lambda t: t.rsub(t.tensor([True]), t.tensor([True])),
    lambda t: hasattr(t.Tensor, "rsub"),
)
def test_division_semantics(case):
    same(case)


def test_rounded_division_has_zero_gradient():
    # NOTE: div with a rounding mode is differentiable (zero gradient); floor_divide is not.
    same(grads(lambda t, x, y: t.div(x, y, rounding_mode="floor"), [5.0, -5.0], [2.0, 3.0]))
    same(grads(lambda t, x, y: t.div(x, y, rounding_mode="trunc"), [5.0, -5.0], [2.0, 3.0]))
    same(grads(lambda t, x, y: t.remainder(x, y), [5.0, -5.0, 4.0], [2.0, 3.0, 2.0]))
    same(grads(lambda t, x, y: t.fmod(x, y), [5.0, -5.0, 4.0], [2.0, 3.0, 2.0]))


@pytest.mark.parametrize("alpha", [2, 2.5, True, -1])
@pytest.mark.parametrize("dtypes", [("int64", "int64"), ("float32", "float32"), ("bool", "bool"),
                                    ("int64", "float32")])
@pytest.mark.parametrize("op", ["add", "sub"])
def test_alpha_rules(op, dtypes, alpha):
    same(lambda t: getattr(t, op)(t.tensor([1, 0]).to(getattr(t, dtypes[0])),
                                  t.tensor([1, 1]).to(getattr(t, dtypes[1])), alpha=alpha))


# --- pow --------------------------------------------------------------------------------------------------
@cases(
    lambda t: t.tensor([0.0, 0.0, 2.0]) ** t.tensor([0.0, -1.0, 0.0]),
    lambda t: t.tensor([0, 2]) ** 0,
    lambda t: t.tensor([-8.0, -1.0]) ** (1 / 3),
    lambda t: t.tensor([-8.0, -2.0]) ** t.tensor([0.5, 2.0]),
    lambda t: t.tensor([2, 3]) ** -1,
    lambda t: t.tensor([2, 3], dtype=t.uint8) ** -2,
    lambda t: t.tensor([True]) ** -1,
    lambda t: t.tensor([2, -1, 1, 0, -2]) ** t.tensor([-1, -3, -2, 2, -2]),
    lambda t: t.tensor([2, 3]) ** 2.5,
    lambda t: 2 ** t.tensor([-1, 0, 3]),
    lambda t: t.pow(2, t.tensor([-1, 0, 3])),
    lambda t: t.pow(2.5, t.tensor([1, 2])),
    lambda t: t.tensor([True, False]) ** True,
    lambda t: t.tensor([True, False]) ** False,
    lambda t: t.tensor([True, False]) ** 2,
    lambda t: t.tensor([True, False]) ** t.tensor([True, True]),
    lambda t: t.tensor([True, False]) ** t.tensor(True),
    lambda t: True ** t.tensor([True, False]),
    lambda t: 2 ** t.tensor([True, False]),
    lambda t: t.ones(2, dtype=t.uint8) ** 300,
    lambda t: t.ones(2, dtype=t.int8) ** 200,
    lambda t: t.ones(2, dtype=t.int16) ** 40000,
    lambda t: t.ones(2, dtype=t.int32) ** (2 ** 40),
    lambda t: t.ones(2, dtype=t.uint8).pow_(300),
    lambda t: t.ones(2, dtype=t.uint8) ** 2.5,
    lambda t: t.tensor([2, 3]).pow_(0.5),
    lambda t: t.float_power(t.tensor([2, 3]), -1),
    lambda t: t.float_power(t.tensor([2.0, 3.0]), t.tensor([2, -1])),
    lambda t: t.float_power(2, t.tensor([1, 2])),
    lambda t: t.float_power(t.tensor([-8.0]), 1 / 3),
    lambda t: t.tensor([2.0]).float_power_(2),
    lambda t: t.tensor([2.0], dtype=t.float64).float_power_(t.tensor([3])),
    lambda t: t.tensor([2]).float_power_(2),
)
def test_pow_edge_cases(case):
    same(case)


@cases(
    grads(lambda t, x, y: x ** y, [0.0, 0.0, 3.0, -1.0, 0.0], [0.0, 2.0, 4.0, 0.5, -1.0]),
    grads(lambda t, x: x ** 0, [0.0, 2.0]),
    grads(lambda t, x: x ** 1.5, [0.0, 2.0]),
    grads(lambda t, y: 2 ** y, [0.0, -2.0]),
    grads(lambda t, y: 0 ** y, [0.0, 2.0]),
    grads(lambda t, x, y: t.float_power(x, y), [1.0, 3.0], [1.0, 4.0]),
    grads(lambda t, x: t.float_power(x, 2), [1.0, -3.0]),
)
def test_pow_gradients(case):
    same(case)


# --- promotion with 0-d tensors and numbers ------------------------------------------------------------------
_OPERANDS = {
    "f32": lambda t: t.tensor([1.5, -2.0]), "f64_0d": lambda t: t.tensor(2.0, dtype=t.float64),
    "f64": lambda t: t.tensor([1.0, 2.0], dtype=t.float64), "i32": lambda t: t.tensor([3, -4], dtype=t.int32),
    "i64_0d": lambda t: t.tensor(3), "u8": lambda t: t.tensor([3, 250], dtype=t.uint8),
    "i8": lambda t: t.tensor([-3, 5], dtype=t.int8), "f16": lambda t: t.tensor([1.0, 2.0], dtype=t.float16),
    "bool": lambda t: t.tensor([True, False]), "int": lambda t: 3, "float": lambda t: 2.5, "true": lambda t: True,
}
_PAIRS = [("f32", "f64_0d"), ("f32", "f64"), ("i32", "i64_0d"), ("u8", "i8"), ("i32", "float"), ("bool", "int"),
          ("f16", "f64_0d"), ("i64_0d", "f16"), ("u8", "int"), ("bool", "true"), ("i8", "f32")]
_PROMOTING = ["add", "sub", "mul", "div", "remainder", "fmod", "atan2", "hypot", "xlogy", "logaddexp", "copysign",
              "ldexp", "maximum", "fmin", "eq", "lt", "bitwise_and", "bitwise_left_shift", "gcd", "heaviside",
              "float_power", "logical_xor", "isclose", "floor_divide", "pow"]


@pytest.mark.parametrize("pair", _PAIRS, ids="-".join)
@pytest.mark.parametrize("op", _PROMOTING)
def test_promotion(op, pair):
    a, b = (_OPERANDS[k] for k in pair)
    same(lambda t: getattr(t, op)(a(t), b(t)))


@cases(
    lambda t: t.lerp(t.tensor([1.0, 2.0]), t.tensor([3.0, 4.0], dtype=t.float64), 0.5),
    lambda t: t.lerp(t.tensor([1.0, 2.0]), t.tensor([3.0, 4.0]), t.tensor([0.5], dtype=t.float64)),
    lambda t: t.lerp(t.tensor([1.0, 2.0]), t.tensor([3.0, 4.0]), t.tensor(0.3, dtype=t.float16)),
    lambda t: t.lerp(t.tensor([1.0, 2.0]), t.tensor([3.0, 4.0]), t.tensor(1)),
    lambda t: t.lerp(t.tensor([1.0, 2.0], dtype=t.float16), t.tensor([3.0, 4.0]), 0.5),
    lambda t: t.lerp(t.tensor([1, 2]), t.tensor([3, 4]), 0.5),
    lambda t: t.lerp(t.tensor([1, 2]), t.tensor([3, 4]), t.tensor([1, 1])),
    lambda t: t.lerp(t.tensor([1.0, 2.0]), 3.0, 0.5),
    lambda t: t.lerp(t.tensor([1.0, 2.0]), t.tensor([[3.0], [5.0]]), t.tensor([0.25, 0.75])),
    lambda t: t.tensor([1.0, 2.0]).lerp_(t.tensor([[3.0, 2.0]]), 0.3),
    lambda t: t.addcmul(t.tensor([1, 2]), t.tensor([3, 4]), t.tensor([1.5, 1.0], dtype=t.float64), value=2),
    lambda t: t.addcmul(t.tensor([1, 2]), t.tensor([3, 4]), t.tensor([1, 1]), value=2),
    lambda t: t.addcmul(t.tensor([1.0]), t.tensor(2.0, dtype=t.float64), t.tensor(3.0, dtype=t.float64)),
    lambda t: t.addcmul(t.tensor([True]), t.tensor([True]), t.tensor([True])),
    lambda t: t.addcmul(t.tensor([1.0]), t.tensor([1.0]), 2),
    lambda t: t.addcdiv(t.tensor([1.0]), t.tensor([3]), t.tensor([2])),
    lambda t: t.addcdiv(t.tensor([1]), t.tensor([3.0]), t.tensor([2.0]), value=2),
    lambda t: t.addcdiv(t.tensor([1.0, 2.0]), t.tensor([3.0, 4.0]), t.tensor([2.0, 0.0]), value=-1),
    lambda t: t.tensor([1.0, 2.0]).addcdiv_(t.tensor([3.0, 4.0]), t.tensor([2.0]), value=0.5),
    lambda t: t.tensor([1, 2]).addcmul_(t.tensor([3.0, 4.0]), t.tensor([2.0])),
    lambda t: t.where(t.tensor([True, False]), t.tensor([1, 2], dtype=t.int32), 2.5),
    lambda t: t.where(t.tensor([True, False]), t.tensor([1, 2], dtype=t.int32), 2),
    lambda t: t.where(t.tensor([True, False]), 1.0, 0),
    lambda t: t.where(t.tensor([True, False]), 2.5, t.tensor([1.0, 2.0], dtype=t.float16)),
)
def test_ternary_values_and_dtypes(case):
    same(case)


# --- shifts and bitwise ------------------------------------------------------------------------------------
@cases(
    lambda t: t.tensor([-8, -7, -1, 7]) >> 1,
    lambda t: t.tensor([-8, -7, -1, 7]) << 2,
    lambda t: t.tensor([-8, 8]) >> t.tensor([-1, 70]),
    lambda t: t.tensor([1, -1]) << t.tensor([63, 64]),
    lambda t: t.tensor([-1, 1]) >> t.tensor([63, 64]),
    lambda t: t.tensor([1, 255], dtype=t.uint8) << 7,
    lambda t: t.tensor([255], dtype=t.uint8) >> t.tensor([7, 8], dtype=t.uint8),
    lambda t: t.tensor([1, 3], dtype=t.int8) << 7,
    lambda t: t.tensor([-128], dtype=t.int8) >> 9,
    lambda t: t.tensor([1], dtype=t.int32) << t.tensor([31, 32], dtype=t.int32),
    lambda t: 1 << t.tensor([0, 3]),
    lambda t: -16 >> t.tensor([0, 3]),
    lambda t: t.tensor([True, False]) << 1,
    lambda t: t.tensor([True, False]) << t.tensor([True]),
    lambda t: t.tensor([1.0]) << 1,
    lambda t: t.tensor([4]) >> 1.0,
    lambda t: t.bitwise_left_shift(t.tensor([1, 2]), 3),
    lambda t: t.bitwise_right_shift(-64, t.tensor([1, 2])),
    lambda t: t.tensor([1, 2]).bitwise_left_shift_(t.tensor([2])),
    lambda t: t.tensor([1, 2], dtype=t.uint8).bitwise_right_shift_(1),
    lambda t: t.tensor([1.5]) & 1,
    lambda t: t.tensor([1, 2]) & t.tensor([True, True]),
    lambda t: t.tensor([True, False]) | 2,
    lambda t: 6 ^ t.tensor([3, 5]),
    lambda t: t.bitwise_xor(5, t.tensor([1])),
    lambda t: t.logical_and(t.tensor([1, 0]), 2),
    lambda t: t.logical_or(2, t.tensor([1, 0])),
    lambda t: t.logical_xor(t.tensor([1.5, 0.0]), t.tensor([0, 3])),
    lambda t: t.tensor([1.5, 0.0]).logical_and_(t.tensor([2, 2])),
    lambda t: t.gcd(t.tensor([0, 4, -6, 9]), t.tensor([0, 6, 4, -12])),
    lambda t: t.lcm(t.tensor([0, 4, -6, 9]), t.tensor([0, 6, 4, -12])),
    lambda t: t.gcd(t.tensor([4], dtype=t.uint8), t.tensor([6], dtype=t.int8)),
    lambda t: t.gcd(t.tensor([4]), 2),
    lambda t: t.lcm(t.tensor([4.0]), t.tensor([2.0])),
    lambda t: t.gcd(t.tensor([True]), t.tensor([True])),
)
def test_shifts_bitwise_integer_ops(case):
    same(case)


@pytest.mark.parametrize("op", ["<<=", ">>=", "&=", "|=", "^="])
@pytest.mark.parametrize("dtype,other", [("int64", "2"), ("int64", "t.tensor([1, 2, 3])"), ("uint8", "1"),
                                         ("int32", "t.tensor(2)"), ("bool", "True"), ("int64", "2.0"),
                                         ("int64", "t.ones(2, 1, 3, dtype=t.int64)")])
def test_augmented_bitwise_assignment(op, dtype, other):
    def run(t):
        x = t.tensor([[1, 6, 3], [0, 4, 7]]).to(getattr(t, dtype))
        alias = x
        ns = {"x": x, "t": t}
        exec(f"x {op} {other}", ns)
        return ns["x"] is alias, ns["x"], ns["x"]._version
    same(run)


# --- isclose / allclose / equal ------------------------------------------------------------------------------
@cases(
    lambda t: t.isclose(t.tensor([1.0, NAN, INF, -INF, INF]), t.tensor([1.0, NAN, INF, -INF, -INF])),
    lambda t: t.isclose(t.tensor([1.0, NAN, INF]), t.tensor([1.0, NAN, INF]), equal_nan=True),
    lambda t: t.isclose(t.tensor([1.0, 1.0, 1.0]), t.tensor([1.00001, 1.0001, 1.001])),
    lambda t: t.isclose(t.tensor([1.0, 1.0]), t.tensor([1.1, 1.2]), rtol=0.1, atol=0.0),
    lambda t: t.isclose(t.tensor([0.0, 1e-9]), t.tensor([1e-9, 0.0]), rtol=0.0, atol=0.0),
    lambda t: t.isclose(t.tensor([1, 2]), t.tensor([1, 3]), atol=0.5),
    lambda t: t.isclose(t.tensor([1, 2], dtype=t.uint8), t.tensor([2, 1], dtype=t.uint8), atol=1.5),
    lambda t: t.isclose(t.tensor([True, False]), t.tensor([True, True])),
    lambda t: t.isclose(t.tensor([1, 2]), t.tensor([1.0, 2.0])),
    lambda t: t.isclose(t.tensor([1.0]), t.tensor([1.0], dtype=t.float64)),
    lambda t: t.isclose(t.tensor([1.0]), 1.0),
    lambda t: t.isclose(t.tensor([1.0]), t.tensor([1.0]), rtol=-1),
    lambda t: t.isclose(t.tensor([1.0]), t.tensor([1.0]), atol=-1e-5),
    lambda t: t.isclose(t.ones(2, 3), t.ones(4)),
    lambda t: t.tensor([[1.0, 2.0]]).isclose(t.tensor([1.0, 2.1]), atol=0.2),
    lambda t: t.allclose(t.tensor([1.0, NAN]), t.tensor([1.0, NAN])),
    lambda t: t.allclose(t.tensor([1.0, NAN]), t.tensor([1.0, NAN]), equal_nan=True),
    lambda t: t.allclose(t.tensor([1.0, 2.0]), t.tensor([[1.0, 2.000001]])),
    lambda t: t.tensor([1.0, 2.0]).allclose(t.tensor([1.0, 2.1])),
    lambda t: t.allclose(t.tensor([1.0]), 1.0),
    lambda t: t.equal(t.tensor([1.0, 2.0]), t.tensor([1, 2])),
    lambda t: t.equal(t.tensor([1.0, 2.0]), t.tensor([[1.0, 2.0]])),
    lambda t: t.equal(t.tensor([1.0, NAN]), t.tensor([1.0, NAN])),
    lambda t: t.tensor([1.0, 2.0]).equal(t.tensor([1.0, 2.0])),
    lambda t: t.equal(t.tensor([1]), 1),
    lambda t: t.equal(t.ones(0), t.ones(0)),
)
def test_isclose_allclose_equal(case):
    same(case)


# --- comparisons -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge", "greater", "less_equal", "not_equal",
                                "maximum", "fmax", "atan2", "logical_and", "bitwise_or", "isclose", "hypot"])
def test_incompatible_shapes_name_both_sizes(op):
    same(lambda t: getattr(t, op)(t.ones(2, 3), t.ones(4)))
    same(lambda t: getattr(t, op)(t.ones(2, 3, 1), t.ones(5, 2)))


@cases(
    lambda t: t.tensor([255], dtype=t.uint8) == -1,
    lambda t: t.tensor([0], dtype=t.uint8) == 256,
    lambda t: t.tensor([0], dtype=t.int8) < 1000,
    lambda t: t.tensor([1, 2]) < 1.5,
    lambda t: t.tensor([NAN, 1.0]) != t.tensor([NAN, 1.0]),
    lambda t: 2 < t.tensor([1, 3]),
    lambda t: t.eq(2, t.tensor([1, 2])),
    lambda t: t.tensor([1.0, 2.0]).ge_(t.tensor([2.0])),
    lambda t: t.tensor([1, 2]).less_(2),
    lambda t: t.tensor([1.0, 2.0]).greater_equal_(t.tensor([[2.0]])),
    lambda t: t.greater(t.tensor([1, 2]), t.tensor([2, 1]), out=t.empty(2, dtype=t.bool)),
    lambda t: t.tensor([True, False]) > t.tensor([False, False]),
)
def test_comparison_edges(case):
    same(case)


# --- maximum / minimum / fmax / fmin -------------------------------------------------------------------------
@cases(
    grads(lambda t, x, y: t.maximum(x, y), [1.0, 2.0, NAN, 1.0, 0.0], [1.0, 1.0, 1.0, NAN, 3.0]),
    grads(lambda t, x, y: t.minimum(x, y), [1.0, 2.0, NAN, 1.0, 0.0], [1.0, 1.0, 1.0, NAN, 3.0]),
    grads(lambda t, x, y: t.fmax(x, y), [1.0, 2.0, NAN, 1.0, 0.0, NAN], [1.0, 1.0, 1.0, NAN, 3.0, NAN]),
    grads(lambda t, x, y: t.fmin(x, y), [1.0, 2.0, NAN, 1.0, 0.0, NAN], [1.0, 1.0, 1.0, NAN, 3.0, NAN]),
    grads(lambda t, x, y: t.maximum(x, y), [[1.0, 2.0], [3.0, 0.0]], [2.0, 2.0]),
    grads(lambda t, x, y: t.fmin(x, y), [[1.0, 2.0], [3.0, 0.0]], [2.0, 2.0]),
    lambda t: t.fmax(t.tensor([1, 5]), t.tensor([3.0, NAN])),
    lambda t: t.maximum(t.tensor([1.0]), 2),
    lambda t: t.tensor([1.0]).minimum(t.tensor(2, dtype=t.int64)),
    lambda t: t.fmin(t.tensor([True, False]), t.tensor([False, False])),
)
def test_max_min_family(case):
    same(case)


# --- gradients of every input ------------------------------------------------------------------------------
@cases(
    grads(lambda t, x, e, w: t.lerp(x, e, w), [1.0, 3.0, 0.0], [2.0, 4.0, -1.0], [0.3, 2.0, 0.5]),
    grads(lambda t, x, e, w: t.lerp(x, e, w), [[1.0, 3.0], [0.0, 2.0]], [2.0, 4.0], [[0.7], [-0.5]]),
    grads(lambda t, x, e: t.lerp(x, e, 0.75), [[1.0, 3.0], [0.0, 2.0]], [2.0, 4.0]),
    grads(lambda t, x, e, w: t.lerp(x, e, w), [1.0, 3.0], [2.0, 4.0], 0.0),
    grads(lambda t, x, a, b: t.addcdiv(x, a, b, value=-2), [1.0, 3.0], [[2.0, 4.0], [1.0, 1.0]], [0.5, -3.0]),
    grads(lambda t, x, a, b: t.addcmul(x, a, b, value=0.5), [1.0, 3.0], [[2.0, 4.0], [1.0, 1.0]], [0.5, -3.0]),
    grads(lambda t, x, a, b: t.addcdiv(x, a, b), [1.0], [2.0, 0.0], [0.0, 0.0]),
    grads(lambda t, x, y: t.atan2(x, y), [0.0, 3.0, -1.0, 0.0], [0.0, 4.0, 0.0, -2.0]),
    grads(lambda t, x, y: t.hypot(x, y), [0.0, 3.0, -1.0], [0.0, 4.0, 0.0]),
    grads(lambda t, x, y: t.xlogy(x, y), [0.0, 3.0, 0.0, 2.0, 0.0], [0.0, 4.0, -1.0, 0.0, NAN]),
    grads(lambda t, y: t.xlogy(2, y), [0.5, 3.0]),
    grads(lambda t, x: t.xlogy(x, 3), [0.0, 3.0]),
    grads(lambda t, x, y: t.copysign(x, y), [0.0, 3.0, -0.0, 2.0, -1.0], [-1.0, -4.0, 1.0, 0.0, -0.0]),
    grads(lambda t, x: t.copysign(x, -1), [0.0, 3.0]),
    grads(lambda t, x, y: t.ldexp(x, y), [1.0, 3.0], [1.0, -4.0]),
    grads(lambda t, x: t.ldexp(x, t.tensor([1, 3])), [1.0, 3.0]),
    grads(lambda t, x, y: t.logaddexp(x, y), [1.0, 3.0, -INF, INF], [1.0, 4.0, 0.0, 1.0]),
    grads(lambda t, x, y: t.logaddexp2(x, y), [1.0, 3.0, -INF], [1.0, 4.0, 0.0]),
    grads(lambda t, x, y: x / y, [1.0, -3.0], [2.0, 0.0]),
    grads(lambda t, x, y: t.remainder(x, y), [5.5, -5.5], [2.0, 2.0]),
)
def test_gradients_of_every_input(case):
    same(case)


def test_second_order_gradients():
    def run(t):
        x = t.tensor([0.5, 2.0], requires_grad=True)
        y = t.tensor([1.5, -1.0], requires_grad=True)
        out = (t.atan2(x, y) + t.hypot(x, y) + t.logaddexp(x, y) + t.xlogy(x, y.abs())
               + t.lerp(x, y, x) + t.addcdiv(x, x, y)).sum()
        gx, gy = t.autograd.grad(out, [x, y], create_graph=True)
        return t.autograd.grad((gx * gy).sum(), [x, y])
    same(run)


@cases(
    lambda t: t.logaddexp(t.tensor([INF, -INF, 1000.0, -1000.0, NAN]), t.tensor([INF, -INF, 1000.0, -1000.5, 0.0])),
    lambda t: t.logaddexp2(t.tensor([INF, -INF, 1000.0, NAN]), t.tensor([INF, -INF, 999.0, 0.0])),
    lambda t: t.xlogy(t.tensor([0.0, 0.0, 0.0, 1.0]), t.tensor([0.0, NAN, INF, -1.0])),
    lambda t: t.hypot(t.tensor([1e300], dtype=t.float64), t.tensor([1e300], dtype=t.float64)),
    lambda t: t.copysign(t.tensor([1.0, -2.0, 0.0]), t.tensor([-0.0, 0.0, -1.0])),
    lambda t: t.atan2(t.tensor([0.0, -0.0, 1.0]), t.tensor([-1.0, -1.0, 0.0])),
    lambda t: t.heaviside(t.tensor([NAN, 0.0, -0.0, -2.0, 3.0]), t.tensor([2.0])),
    lambda t: t.heaviside(t.tensor([1, 0, -1]), t.tensor([5])),
    lambda t: t.heaviside(t.tensor([1.0, 0.0]), t.tensor([5])),
    lambda t: t.heaviside(t.tensor([1.0, 0.0]), 5),
    lambda t: t.tensor([1.0, 0.0]).heaviside_(t.tensor([0.5])),
    lambda t: t.ldexp(t.tensor([1.0, 2.0]), t.tensor(3)),
    lambda t: t.ldexp(t.tensor([1.0]), 3),
    lambda t: t.arctan2(t.tensor([1.0]), t.tensor([-1.0])),
    lambda t: t.tensor([1.0]).arctan2_(t.tensor([-1.0])),
)
def test_special_values(case):
    same(case)


# --- PyTorch's refusals --------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["atan2", "hypot", "logaddexp", "logaddexp2", "ldexp", "maximum", "minimum", "fmax",
                                "fmin", "gcd", "lcm", "heaviside", "logical_and", "isclose", "allclose", "equal"])
@pytest.mark.parametrize("order", ["tensor_number", "number_tensor"])
def test_tensor_only_arguments(op, order):
    args = (lambda t: (t.tensor([1.0]), 2)) if order == "tensor_number" else (lambda t: (2.5, t.tensor([1.0])))
    same(lambda t: getattr(t, op)(*args(t)))


@pytest.mark.parametrize("op", ["hypot", "logaddexp", "logaddexp2", "gcd", "lcm", "bitwise_and",
                                "bitwise_left_shift", "bitwise_right_shift", "remainder", "fmod", "floor_divide"])
@pytest.mark.parametrize("dtype", ["int64", "bool", "float32", "float16"])
def test_kernel_dtype_refusals(op, dtype):
    same(lambda t: getattr(t, op)(t.tensor([1, 2]).to(getattr(t, dtype)), t.tensor([1, 1]).to(getattr(t, dtype))))


@pytest.mark.parametrize("op", ["heaviside", "floor_divide"])
def test_not_implemented_derivatives(op):
    same(lambda t: getattr(t, op)(t.tensor([1.0, 0.0], requires_grad=True), t.tensor([2.0])).requires_grad)


@pytest.mark.parametrize("expr,name", [
    ("x - y", "SubBackward0"), ("y - x", "SubBackward0"), ("2 - x", "RsubBackward1"), ("x / y", "DivBackward0"),
    ("x ** y", "PowBackward1"), ("x ** 2", "PowBackward0"), ("2 ** x", "PowBackward2"),
    ("t.atan2(x, y)", "Atan2Backward0"), ("t.hypot(x, y)", "HypotBackward0"), ("t.lerp(x, y, 0.5)", "LerpBackward0"),
    ("t.lerp(x, y, y)", "LerpBackward1"), ("t.addcmul(x, x, y)", "AddcmulBackward0"),
    ("t.addcdiv(x, x, y)", "AddcdivBackward0"), ("t.xlogy(x, y)", "XlogyBackward0"), ("t.xlogy(x, 2)", "XlogyBackward2"), ("t.xlogy(2, y)", "XlogyBackward1"),
    ("t.logaddexp(x, y)", "LogaddexpBackward0"), ("t.logaddexp2(x, y)", "Logaddexp2Backward0"),
    ("t.copysign(x, y)", "CopysignBackward0"), ("t.ldexp(x, y)", "LdexpBackward0"),
    ("t.fmax(x, y)", "FmaxBackward0"), ("t.fmin(x, y)", "FminBackward0"), ("t.maximum(x, y)", "MaximumBackward0"),
    ("t.minimum(x, y)", "MinimumBackward0"), ("t.div(x, y, rounding_mode='floor')", "DivBackward2"),
    ("t.remainder(x, y)", "RemainderBackward1"), ("t.fmod(x, y)", "FmodBackward1"),
    ("t.remainder(x, 2)", "RemainderBackward0"), ("x % 2", "RemainderBackward0"), ("t.fmod(x, 2)", "FmodBackward0"),
])
def test_grad_fn_names(expr, name):
    for t in (torch, ember):
        x = t.tensor([1.0, 2.0], requires_grad=True)
        y = t.tensor([3.0, 0.5], requires_grad=True)
        assert type(eval(expr, {"t": t, "x": x, "y": y}).grad_fn).__name__ == name


@pytest.mark.parametrize("call", [
    lambda t, x, y: x.div_(y, rounding_mode="floor"), lambda t, x, y: x // y, lambda t, x, y: x % y,
    lambda t, x, y: t.fmod(x, y), lambda t, x, y: t.div(x, y, rounding_mode="trunc"),
], ids=["div_-floor", "floordiv", "remainder", "fmod", "div-trunc"])
def test_integer_division_by_zero_of_an_empty_input_divides_nothing(call):
    """An empty input gives an empty result without dividing, so PyTorch does not raise ZeroDivisionError."""
    for lib in (torch, ember):
        out = call(lib, lib.zeros(0, 2, dtype=lib.int64), lib.tensor([0, 1]))
        assert tuple(out.shape) == (0, 2) and str(out.dtype) == "torch.int64"
