"""nn activation layers and their functional forms against PyTorch: values, gradients (at the kinks
too), repr, in-place forms, errors; gradcheck in float64."""
import warnings

import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, copy_weights, raises_like, to_ember

# Points where some activation has a kink or a branch change, then random values.
KINKS = [-20.0, -6.0, -3.0, -1.0, -0.7, -0.5, 0.0, 0.5, 0.7, 1.0, 2.0, 3.0, 6.0, 10.0, 20.0]
TOL = {"float32": dict(rtol=2e-5, atol=2e-6), "float64": dict(rtol=1e-10, atol=1e-12)}


def _values(dtype, shape=(3, 4, 6), seed=0, kinks=True):
    rng = np.random.default_rng(seed)
    a = np.asarray(rng.standard_normal(shape) * 3)
    if kinks:
        flat = a.reshape(-1)
        flat[:len(KINKS)] = KINKS
    return a.astype(dtype)


def _check(t_fn, e_fn, dtype, shape=(3, 4, 6), seed=0, kinks=True, tol=None):
    """Same forward and same input gradient (for a random upstream gradient) in both libraries."""
    x = _values(dtype, shape, seed, kinks)
    tx = torch.tensor(x, requires_grad=True)
    ex = to_ember(tx)
    ty, ey = t_fn(tx), e_fn(ex)
    tol = tol or TOL[dtype]
    assert_close(ey, ty, **tol)
    up = np.random.default_rng(seed + 1).standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.from_numpy(up))
    ey.backward(ember.from_numpy(up.copy()))
    assert_close(ex.grad, tx.grad, **tol)
    return ex, tx


# (class name, constructor kwargs)
MODULES = [
    ("ReLU", {}), ("ReLU6", {}), ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.2}), ("ELU", {}),
    ("ELU", {"alpha": 0.5}), ("SELU", {}), ("CELU", {}), ("CELU", {"alpha": 2.0}), ("GELU", {}),
    ("GELU", {"approximate": "tanh"}), ("SiLU", {}), ("Mish", {}), ("Softplus", {}),
    ("Softplus", {"beta": 2.0, "threshold": 5.0}), ("Softsign", {}), ("Softshrink", {}), ("Softshrink", {"lambd": 1.0}),
    ("Hardshrink", {}), ("Hardshrink", {"lambd": 0.7}), ("Tanhshrink", {}), ("Hardtanh", {}),
    ("Hardtanh", {"min_val": -3.0, "max_val": 2.0}), ("Hardsigmoid", {}), ("Hardswish", {}), ("Sigmoid", {}),
    ("LogSigmoid", {}), ("Tanh", {}), ("Threshold", {"threshold": 0.5, "value": -2.0}), ("GLU", {}),
    ("GLU", {"dim": 1}), ("Softmax", {"dim": 1}), ("Softmax", {"dim": -1}), ("Softmin", {"dim": 0}),
    ("LogSoftmax", {"dim": 2}), ("Softmax2d", {}), ("RReLU", {}), ("PReLU", {}), ("PReLU", {"num_parameters": 4}),
]

INPLACE = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "SiLU", "Mish", "Hardtanh", "Hardsigmoid",
           "Hardswish", "Threshold", "RReLU"]


def _module_id(case):
    name, kw = case
    return name + "".join(f"-{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", MODULES, ids=_module_id)
def test_module_forward_backward_match_torch(case, dtype):
    name, kw = case
    tm = getattr(torch.nn, name)(**kw)
    em = getattr(ember.nn, name)(**kw)
    if name == "RReLU":  # random in training; deterministic in eval
        tm.eval(), em.eval()
    if name == "PReLU":
        tm, em = tm.to(getattr(torch, dtype)), em.to(getattr(ember, dtype))
        with torch.no_grad():
            tm.weight.uniform_(-0.5, 0.5)
        copy_weights(tm, em)
    ex, tx = _check(tm, em, dtype)
    if name == "PReLU":
        assert_close(em.weight.grad, tm.weight.grad, **TOL[dtype])


@pytest.mark.parametrize("case", MODULES + [(n, {"inplace": True}) for n in INPLACE] +
                         [("Hardtanh", {"min_val": -2, "max_val": 2, "inplace": True}),
                          ("LeakyReLU", {"negative_slope": 0.2, "inplace": True}),
                          ("RReLU", {"lower": 0.1, "upper": 0.3, "inplace": True}),
                          ("ELU", {"alpha": 2.0, "inplace": True}), ("PReLU", {"num_parameters": 3, "init": 0.1}),
                          ("Threshold", {"threshold": 1, "value": 2, "inplace": True}), ("Softmax", {}),
                          ("LogSoftmax", {})],
                         ids=_module_id)
def test_repr_matches_torch(case):
    name, kw = case
    if name == "Threshold" and "threshold" not in kw:
        kw = dict(kw, threshold=0.1, value=20)
    assert repr(getattr(ember.nn, name)(**kw)) == repr(getattr(torch.nn, name)(**kw))


@pytest.mark.parametrize("name", INPLACE)
def test_inplace_modules_write_into_their_input(name):
    kw = {"threshold": 0.5, "value": -2.0} if name == "Threshold" else {}
    tm = getattr(torch.nn, name)(inplace=True, **kw).eval()
    em = getattr(ember.nn, name)(inplace=True, **kw).eval()

    def run(mod, x):
        y = x * 1
        out = mod(y)
        assert out is y
        return out

    _check(lambda x: run(tm, x), lambda x: run(em, x), "float64")


# (functional name, kwargs, inplace form)
FUNCTIONAL = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.3}), ("elu", {"alpha": 1.5}), ("selu", {}),
    ("celu", {"alpha": 0.5}), ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}),
    ("softplus", {"beta": 0.5, "threshold": 2.0}), ("softsign", {}), ("softshrink", {"lambd": 0.7}),
    ("hardshrink", {"lambd": 1.0}), ("tanhshrink", {}), ("hardtanh", {"min_val": -0.5, "max_val": 3.0}),
    ("hardsigmoid", {}), ("hardswish", {}), ("sigmoid", {}), ("logsigmoid", {}), ("tanh", {}),
    ("threshold", {"threshold": 1.0, "value": 0.25}), ("glu", {"dim": 1}), ("softmax", {"dim": 1}),
    ("softmin", {"dim": 2}), ("log_softmax", {"dim": 0}), ("softmax", {"dim": 1, "dtype": torch.float64}),
    ("log_softmax", {"dim": -1, "dtype": torch.float64}), ("rrelu", {"lower": 0.2, "upper": 0.4}),
]
INPLACE_FUNCTIONAL = ["relu_", "leaky_relu_", "elu_", "selu_", "celu_", "hardtanh_", "threshold_", "rrelu_"]


def _kw_for(lib, kw):
    return {k: (getattr(lib, str(v).split(".")[-1]) if isinstance(v, torch.dtype) else v) for k, v in kw.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", FUNCTIONAL, ids=_module_id)
def test_functional_matches_torch(case, dtype):
    name, kw = case
    _check(lambda x: getattr(torch.nn.functional, name)(x, **_kw_for(torch, kw)),
           lambda x: getattr(ember.nn.functional, name)(x, **_kw_for(ember, kw)), dtype)


@pytest.mark.parametrize("name", INPLACE_FUNCTIONAL)
def test_inplace_functionals_match_torch(name):
    kw = {"threshold": 0.5, "value": -1.0} if name == "threshold_" else {}

    def run(F, x):
        y = x * 1
        assert getattr(F, name)(y, **kw) is y
        return y

    _check(lambda x: run(torch.nn.functional, x), lambda x: run(ember.nn.functional, x), "float64")


@pytest.mark.parametrize("name", ["relu", "elu", "selu", "celu", "silu", "mish", "hardtanh", "relu6", "leaky_relu",
                                  "hardsigmoid", "hardswish", "threshold", "rrelu"])
def test_inplace_flag_of_functionals(name):
    kw = {"threshold": 0.5, "value": -1.0} if name == "threshold" else {}

    def run(F, x):
        y = x * 1
        assert getattr(F, name)(y, inplace=True, **kw) is y
        return y

    _check(lambda x: run(torch.nn.functional, x), lambda x: run(ember.nn.functional, x), "float32")


def test_gradients_at_the_kinks_match_torch():
    """The exact subgradients PyTorch picks (relu'(0)=0, hardtanh 0 at its bounds, ...)."""
    pts = [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]
    cases = [("relu", {}), ("relu6", {}), ("hardtanh", {}), ("leaky_relu", {}), ("elu", {"alpha": 2.0}),
             ("celu", {"alpha": 2.0}), ("selu", {}), ("hardshrink", {}), ("softshrink", {}), ("hardsigmoid", {}),
             ("hardswish", {}), ("threshold", {"threshold": 1.0, "value": 5.0}), ("rrelu", {}),
             ("softplus", {"beta": 2.0, "threshold": 1.0}), ("softsign", {})]
    for name, kw in cases:
        tx = torch.tensor(pts, dtype=torch.float64, requires_grad=True)
        ex = ember.tensor(pts, dtype=ember.float64, requires_grad=True)
        getattr(torch.nn.functional, name)(tx, **kw).sum().backward()
        getattr(ember.nn.functional, name)(ex, **kw).sum().backward()
        np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-14, atol=0, err_msg=name)


def test_prelu_per_channel_and_unbatched():
    for shape, n in [((2, 3, 4), 3), ((3,), 1), ((2, 3), 3), ((4, 3, 2, 2), 3)]:
        tm, em = torch.nn.PReLU(n), ember.nn.PReLU(n)
        with torch.no_grad():
            tm.weight.uniform_(-1, 1)
        copy_weights(tm, em)
        x = _values("float32", shape, kinks=False)
        tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
        ty, ey = tm(tx), em(ex)
        assert_close(ey, ty)
        ty.sum().backward(), ey.sum().backward()
        assert_close(ex.grad, tx.grad)
        assert_close(em.weight.grad, tm.weight.grad, rtol=1e-5, atol=1e-5)
    assert [n for n, _ in ember.nn.PReLU(3).named_parameters()] == ["weight"]
    assert isinstance(ember.nn.PReLU().weight, ember.nn.Parameter)
    assert ember.nn.PReLU(2, init=0.1).weight.tolist() == pytest.approx([0.1, 0.1])


def test_rrelu_training_draws_slopes_in_range():
    em = ember.nn.RReLU(0.1, 0.3)
    x = ember.tensor(_values("float64", (50, 40), kinks=False), requires_grad=True)
    y = em(x)
    neg = x.detach().numpy() < 0
    slopes = y.detach().numpy()[neg] / x.detach().numpy()[neg]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    np.testing.assert_array_equal(y.detach().numpy()[~neg], x.detach().numpy()[~neg])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy()[neg], slopes)  # the gradient is the drawn slope
    em.eval()
    np.testing.assert_allclose(em(x).detach().numpy()[neg], x.detach().numpy()[neg] * 0.2)


@pytest.mark.parametrize("name,kw", [("softmax", {}), ("softmin", {}), ("log_softmax", {})])
def test_softmax_implicit_dim_warns_and_picks_torchs_dim(name, kw):
    for shape in [(), (5,), (2, 3), (2, 3, 4), (2, 3, 4, 5)]:
        x = _values("float32", shape, kinks=False)
        with warnings.catch_warnings(record=True) as tw:
            warnings.simplefilter("always")
            t = getattr(torch.nn.functional, name)(torch.from_numpy(x))
        with warnings.catch_warnings(record=True) as ew:
            warnings.simplefilter("always")
            e = getattr(ember.nn.functional, name)(ember.from_numpy(x))
        assert_close(e, t)
        assert [str(w.message) for w in ew] == [str(w.message) for w in tw]
        assert ew and ew[0].filename == __file__  # the warning points at the caller
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        ember.nn.Softmax()(ember.ones(2, 3))


def test_softmax_family_is_stable_for_large_inputs():
    x = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]], dtype="float32")
    for name in ["softmax", "log_softmax", "softmin"]:
        t = getattr(torch.nn.functional, name)(torch.from_numpy(x), dim=1)
        e = getattr(ember.nn.functional, name)(ember.from_numpy(x), dim=1)
        assert_close(e, t)
    big = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype="float32")
    for name in ["logsigmoid", "softplus", "sigmoid", "silu", "mish", "tanh"]:
        t = getattr(torch.nn.functional, name)(torch.from_numpy(big))
        e = getattr(ember.nn.functional, name)(ember.from_numpy(big))
        assert np.isfinite(e.numpy()).all()
        assert_close(e, t)


def test_zero_dim_and_empty_inputs():
    for name, kw in [("relu", {}), ("gelu", {}), ("elu", {}), ("softmax", {"dim": 0}), ("log_softmax", {"dim": 0}),
                     ("hardtanh", {}), ("sigmoid", {}), ("softplus", {})]:
        for x in [np.array(0.7, dtype="float32"), np.zeros((0, 3), dtype="float32")]:
            tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
            ty = getattr(torch.nn.functional, name)(tx, **kw)
            ey = getattr(ember.nn.functional, name)(ex, **kw)
            assert_close(ey, ty)
            ty.sum().backward(), ey.sum().backward()
            assert_close(ex.grad, tx.grad)


def test_grad_fn_names_match_torch():
    for name in ["gelu", "elu", "leaky_relu", "hardtanh", "softplus", "logsigmoid", "silu", "mish", "hardswish",
                 "hardsigmoid", "hardshrink", "softshrink", "sigmoid", "tanh"]:
        tx, ex = torch.ones(2, requires_grad=True), ember.ones(2, requires_grad=True)
        t = getattr(torch.nn.functional, name)(tx)
        e = getattr(ember.nn.functional, name)(ex)
        assert e.grad_fn.name() == t.grad_fn.name()
    assert ember.nn.functional.softmax(ember.ones(2, requires_grad=True), 0).grad_fn.name() == "SoftmaxBackward0"
    assert ember.nn.functional.log_softmax(ember.ones(2, requires_grad=True), 0).grad_fn.name() == \
        "LogSoftmaxBackward0"


@pytest.mark.parametrize("call", [
    lambda F, x: F.glu(x),  # last dim is odd
    lambda F, x: F.glu(x[0, 0, 0]),  # 0-d
    lambda F, x: F.gelu(x, approximate="foo"),
    lambda F, x: F.rrelu(x, 0.5, 0.1, training=True),
    lambda F, x: F.softmax(x, 3),
    lambda F, x: F.log_softmax(x, -4),
    lambda F, x: F.prelu(x, x.new_ones(4)),
    lambda F, x: F.prelu(x[0, 0, 0], x.new_ones(3)),
    lambda F, x: F.softshrink(x, -1.0),
    lambda F, x: F.elu(x.long()),
    lambda F, x: F.gelu(x.long()),
    lambda F, x: F.softmax(x.long(), 0),
    lambda F, x: F.leaky_relu(x.long()),
    lambda F, x: F.hardswish(x.long()),
    lambda F, x: F.softshrink(x.long()),
    lambda F, x: F.glu(x[..., :4].long()),
    lambda F, x: F.hardtanh(x, 2.0, 1.0),
])
def test_errors_match_torch(call):
    x = _values("float32", (2, 3, 5), kinks=False)
    raises_like(lambda: call(torch.nn.functional, torch.from_numpy(x)),
                lambda: call(ember.nn.functional, ember.from_numpy(x)))


def test_integer_inputs_where_torch_accepts_them():
    x = torch.tensor([-2, 1, 7])
    for call in [lambda F, x: F.relu6(x), lambda F, x: F.hardtanh(x), lambda F, x: F.threshold(x, 0, 5),
                 lambda F, x: F.relu(x), lambda F, x: F.tanhshrink(x), lambda F, x: F.softsign(x),
                 lambda F, x: F.sigmoid(x), lambda F, x: F.hardtanh(x.float(), 2.0, 2.0)]:
        assert_close(call(ember.nn.functional, ember.tensor(x.numpy())), call(torch.nn.functional, x))


def test_module_errors_match_torch():
    raises_like(lambda: torch.nn.Softmax2d()(torch.ones(3)), lambda: ember.nn.Softmax2d()(ember.ones(3)))
    raises_like(lambda: torch.nn.PReLU(3)(torch.ones(2, 4)), lambda: ember.nn.PReLU(3)(ember.ones(2, 4)))
    raises_like(lambda: torch.nn.Hardtanh(1.0, -1.0), lambda: ember.nn.Hardtanh(1.0, -1.0), match_message=False)
    x = torch.ones(2, requires_grad=True)
    raises_like(lambda: torch.nn.ReLU(inplace=True)(x), lambda: ember.nn.ReLU(inplace=True)(to_ember(x)))
    raises_like(lambda: torch.nn.ELU(inplace=True)(x), lambda: ember.nn.ELU(inplace=True)(to_ember(x)))


@pytest.mark.parametrize("name,kw", [
    ("gelu", {}), ("gelu", {"approximate": "tanh"}), ("elu", {"alpha": 0.7}), ("selu", {}), ("celu", {"alpha": 2.0}),
    ("softplus", {"beta": 1.5}), ("logsigmoid", {}), ("silu", {}), ("mish", {}), ("sigmoid", {}), ("tanh", {}),
    ("softsign", {}), ("tanhshrink", {}), ("hardswish", {}), ("glu", {"dim": 0}), ("softmax", {"dim": 1}),
    ("log_softmax", {"dim": 1}), ("softmin", {"dim": 0}), ("leaky_relu", {"negative_slope": 0.1}),
])
def test_gradcheck_float64(name, kw):
    x = ember.tensor(_values("float64", (4, 3), seed=3, kinks=False) * 0.7, requires_grad=True)
    fn = getattr(ember.nn.functional, name)
    assert ember.autograd.gradcheck(lambda t: fn(t, **kw), (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_prelu_gradcheck_includes_the_weight():
    x = ember.tensor(_values("float64", (4, 3, 2), seed=5, kinks=False), requires_grad=True)
    w = ember.tensor([0.1, -0.3, 0.5], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.nn.functional.prelu, (x, w), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_second_derivatives_match_torch():
    for name in ["gelu", "softplus", "logsigmoid", "silu", "mish", "elu", "tanh", "sigmoid"]:
        x = _values("float64", (6,), seed=7, kinks=False)
        tx, ex = torch.tensor(x, requires_grad=True), ember.tensor(x, requires_grad=True)
        (tg,) = torch.autograd.grad(getattr(torch.nn.functional, name)(tx).sum(), tx, create_graph=True)
        (eg,) = ember.autograd.grad(getattr(ember.nn.functional, name)(ex).sum(), ex, create_graph=True)
        (tgg,) = torch.autograd.grad(tg.sum(), tx)
        (egg,) = ember.autograd.grad(eg.sum(), ex)
        assert_close(egg, tgg, rtol=1e-9, atol=1e-12)


def test_modules_are_exported_and_listed():
    for name, _ in MODULES:
        assert name in ember.nn.modules.__all__
        assert getattr(ember.nn, name) is getattr(ember.nn.modules, name)
    seq_t = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.GELU())
    seq_e = ember.nn.Sequential(ember.nn.Linear(2, 3), ember.nn.ReLU(), ember.nn.Dropout(0.1), ember.nn.GELU())
    assert repr(seq_e) == repr(seq_t)
