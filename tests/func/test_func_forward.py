"""torch.func.jvp and jacfwd against PyTorch's: polynomials, an MLP, losses, has_aux, argnums, nesting and
PyTorch's argument errors."""
import numpy as np
import pytest
import torch

import ember


def _t(m, a):
    return m.from_numpy(np.array(a, dtype=np.float64))


def _np(x):
    if isinstance(x, (tuple, list)):
        return [_np(v) for v in x]
    if isinstance(x, dict):
        return {k: _np(v) for k, v in x.items()}
    return x.detach().numpy()


def _close(a, b):
    if isinstance(b, list):
        assert isinstance(a, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y)
    elif isinstance(b, dict):
        assert a.keys() == b.keys()
        for k in b:
            _close(a[k], b[k])
    else:
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


RNG = np.random.default_rng(0)
X = RNG.standard_normal(5)
V = RNG.standard_normal(5)
W1, B1 = RNG.standard_normal((4, 5)), RNG.standard_normal(4)
W2, B2 = RNG.standard_normal((3, 4)), RNG.standard_normal(3)
BATCH = RNG.standard_normal((6, 5))
LABELS = np.array([0, 2, 1, 1, 0, 2])


def _poly(m):
    return lambda x: 3 * x ** 3 - 2 * x * x + x - 7


def _poly2(m):
    return lambda x, y: (x * y * y + x.sin() * y).sum()


def _mlp(m):
    F = m.nn.functional

    def f(w1, b1, w2, b2, x):
        return F.linear(F.relu(F.linear(x, w1, b1)).tanh(), w2, b2)
    return f


def _ce_loss(m):
    F = m.nn.functional
    labels = m.from_numpy(LABELS)

    def f(w1, b1, w2, b2):
        return F.cross_entropy(_mlp(m)(w1, b1, w2, b2, _t(m, BATCH)), labels)
    return f


def _mse_loss(m):
    F = m.nn.functional
    target = _t(m, BATCH[:, :3])

    def f(w1, b1, w2, b2):
        return F.mse_loss(_mlp(m)(w1, b1, w2, b2, _t(m, BATCH)), target)
    return f


def _params(m):
    return tuple(_t(m, a) for a in (W1, B1, W2, B2))


def _tangents(m):
    rng = np.random.default_rng(1)
    return tuple(_t(m, rng.standard_normal(a.shape)) for a in (W1, B1, W2, B2))


JVP_CASES = {
    "poly": lambda m: (_poly(m), (_t(m, X),), (_t(m, V),)),
    "poly2": lambda m: (_poly2(m), (_t(m, X), _t(m, V)), (_t(m, V), _t(m, X))),
    "mlp": lambda m: (_mlp(m), _params(m) + (_t(m, BATCH),), _tangents(m) + (_t(m, BATCH * 0.5),)),
    "cross_entropy": lambda m: (_ce_loss(m), _params(m), _tangents(m)),
    "mse": lambda m: (_mse_loss(m), _params(m), _tangents(m)),
    "two_outputs": lambda m: (lambda x: (x.exp(), {"s": x.sum()}), (_t(m, X),), (_t(m, V),)),
    "constant_output": lambda m: ((lambda x: _t(m, X)), (_t(m, X),), (_t(m, V),)),
}


@pytest.mark.parametrize("case", list(JVP_CASES))
def test_jvp_matches_torch(case):
    expected = torch.func.jvp(*JVP_CASES[case](torch))
    actual = ember.func.jvp(*JVP_CASES[case](ember))
    _close(_np(list(actual)), _np(list(expected)))


def test_jvp_strict_is_accepted_and_identity_returns_the_tangent():
    x, t = _t(ember, X), _t(ember, V)
    out, tangent = ember.func.jvp(lambda a: a, (x,), (t,), strict=True)
    assert tangent is t and torch.func.jvp(lambda a: a, (_t(torch, X),), (_t(torch, V),), strict=True)[1] is not None
    np.testing.assert_array_equal(out.numpy(), X)


def test_jvp_has_aux():
    def f(m):
        return lambda x: ((x * x).sum(), {"aux": x.cos()})
    results = [mod.func.jvp(f(mod), (_t(mod, X),), (_t(mod, V),), has_aux=True) for mod in (torch, ember)]
    _close(_np(list(results[1])), _np(list(results[0])))
    assert ember.autograd.forward_ad.unpack_dual(results[1][2]["aux"]).tangent is None


def test_nested_jvp_matches_torch():
    """jvp of jvp: the second directional derivative (each jvp its own level)."""
    def second(m):
        f = _poly2(m)
        inner = lambda x, y: m.func.jvp(f, (x, y), (_t(m, V), _t(m, X)))[1]  # noqa: E731
        return m.func.jvp(inner, (_t(m, X), _t(m, V)), (_t(m, X), _t(m, V)))
    _close(_np(list(second(ember))), _np(list(second(torch))))


JAC_CASES = {
    "poly": lambda m: (m.func.jacfwd(_poly(m)), (_t(m, X),)),
    "poly2_argnums": lambda m: (m.func.jacfwd(_poly2(m), argnums=(0, 1)), (_t(m, X), _t(m, V))),
    "poly2_argnum_1": lambda m: (m.func.jacfwd(_poly2(m), argnums=1), (_t(m, X), _t(m, V))),
    # NOTE: torch 2.13's jacfwd(argnums=-1) returns zeros here (it perturbs no argument); ember's
    # -1 is the last argument, as PyTorch documents, so the oracle is torch's argnums=1
    "negative_argnum": lambda m: (m.func.jacfwd(_poly2(m), argnums=-1 if m is ember else 1), (_t(m, X), _t(m, V))),
    "mlp": lambda m: (m.func.jacfwd(_mlp(m), argnums=(0, 3)), _params(m) + (_t(m, BATCH[:2]),)),
    "cross_entropy": lambda m: (m.func.jacfwd(_ce_loss(m), argnums=(0, 1, 2, 3)), _params(m)),
    "tuple_output": lambda m: (m.func.jacfwd(lambda a, b: (a * b, a.sum()), argnums=(0, 1)), (_t(m, X), _t(m, V))),
    "dict_output": lambda m: (m.func.jacfwd(lambda a: {"s": a.sin(), "m": a.reshape(5, 1) * a}), (_t(m, X),)),
    "hessian": lambda m: (m.func.jacfwd(m.func.jacfwd(lambda a: (a ** 3).sum() + a.prod())), (_t(m, X),)),
    "scalar_input": lambda m: (m.func.jacfwd(lambda a: a * a), (_t(m, 1.5),)),
}


@pytest.mark.parametrize("case", list(JAC_CASES))
def test_jacfwd_matches_torch(case):
    fn, args = JAC_CASES[case](torch)
    expected = fn(*args)
    fn, args = JAC_CASES[case](ember)
    actual = fn(*args)
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, ember.Tensor)
    else:
        assert type(actual) is type(expected)
    _close(_np(actual if isinstance(actual, dict) else [actual]), _np(expected if isinstance(expected, dict) else
                                                                      [expected]))


def test_jacfwd_has_aux():
    def f(m):
        return lambda x: (x.sin() * x, x.sum())
    results = [mod.func.jacfwd(f(mod), has_aux=True)(_t(mod, X)) for mod in (torch, ember)]
    _close(_np(list(results[1])), _np(list(results[0])))


def _error(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - compared with torch's
        return type(exc), str(exc)
    return None


ERRORS = {
    "primals_not_tuple": lambda m: m.func.jvp(m.sin, _t(m, X), _t(m, V)),
    "structure": lambda m: m.func.jvp(m.sin, (_t(m, X),), (_t(m, V), _t(m, V))),
    "structure_not_tuple": lambda m: m.func.jvp(m.sin, (_t(m, X),), _t(m, V)),
    "size": lambda m: m.func.jvp(m.sin, (_t(m, X),), (_t(m, V[:3]),)),
    "non_tensor_primal": lambda m: m.func.jvp(lambda a, b: a * b, (_t(m, X), 2.0), (_t(m, V), 1.0)),
    "int_primal": lambda m: m.func.jvp(lambda a: a.sum(), (m.arange(3),), (m.arange(3),)),
    "aux_not_tuple": lambda m: m.func.jvp(lambda a: a.sin(), (_t(m, X),), (_t(m, V),), has_aux=True),
    "non_tensor_output": lambda m: m.func.jvp(lambda a: 3, (_t(m, X),), (_t(m, V),)),
    "aux_not_tensor": lambda m: m.func.jvp(lambda a: (a.sin(), 1), (_t(m, X),), (_t(m, V),), has_aux=True),
    "argnum_range": lambda m: m.func.jacfwd(m.sin, argnums=1)(_t(m, X)),
    "argnum_type": lambda m: m.func.jacfwd(m.sin, argnums=1.0)(_t(m, X)),
    "argnums_empty": lambda m: m.func.jacfwd(m.sin, argnums=())(_t(m, X)),
    "randomness": lambda m: m.func.jacfwd(m.sin, randomness="bad")(_t(m, X)),
    "jacfwd_int_input": lambda m: m.func.jacfwd(lambda a: a.sum())(m.arange(3)),
    "inside_dual_level": lambda m: _in_level(m, lambda: m.func.jvp(m.sin, (_t(m, X),), (_t(m, V),))),
}


def _in_level(m, fn):
    with m.autograd.forward_ad.dual_level():
        return fn()


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_match_torch(case):
    expected = _error(lambda: ERRORS[case](torch))
    assert expected is not None
    assert _error(lambda: ERRORS[case](ember)) == expected
