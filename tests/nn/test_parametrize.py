"""nn.utils weight_norm / spectral_norm (hook-based), parametrize and parametrizations against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.nn._nn_helpers import assert_close, raises_like, to_ember

EP, TP = ember.nn.utils.parametrize, torch.nn.utils.parametrize


def _linear_pair(i=4, o=3, seed=0):
    torch.manual_seed(seed)
    tm = torch.nn.Linear(i, o)
    em = ember.nn.Linear(i, o)
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})
    return tm, em


def _load_from(tm, em):
    em.load_state_dict({k: to_ember(v) for k, v in tm.state_dict().items()})


def _step_and_compare(tm, em, x_shape=(5, 4), params=()):
    tx = torch.randn(x_shape)
    ty, ey = tm(tx), em(to_ember(tx))
    assert_close(ey, ty, rtol=1e-5, atol=1e-5)
    ty.square().sum().backward()
    ey.square().sum().backward()
    for name, p in tm.named_parameters():
        assert_close(dict(em.named_parameters())[name].grad, p.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dim", [0, 1, None, -1])
def test_weight_norm_hook(dim):
    tm, em = _linear_pair()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.nn.utils.weight_norm(em, dim=dim)
    assert caught and caught[0].category is FutureWarning
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.nn.utils.weight_norm(tm, dim=dim)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["bias", "weight_g", "weight_v"]
    assert_close(em.weight_g, tm.weight_g, atol=1e-6)
    _step_and_compare(tm, em)
    ember.nn.utils.remove_weight_norm(em), torch.nn.utils.remove_weight_norm(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert isinstance(em.weight, ember.nn.Parameter)
    assert_close(em.weight, tm.weight, atol=1e-6)


def test_weight_norm_conv_like_weight_and_errors():
    m = ember.nn.Linear(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ember.nn.utils.weight_norm(m)
        with pytest.raises(RuntimeError, match="Cannot register two weight_norm hooks on the same parameter weight"):
            ember.nn.utils.weight_norm(m)
    raises_like(lambda: torch.nn.utils.remove_weight_norm(torch.nn.Linear(3, 2)),
                lambda: ember.nn.utils.remove_weight_norm(ember.nn.Linear(3, 2)))
    v = ember.randn(3, 2, 4, dtype=ember.float64, requires_grad=True)
    g = ember.randn(1, 2, 1, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda v, g: ember._weight_norm(v, g, 1), (v, g))
    tv = torch.from_numpy(v.detach().numpy())
    assert_close(ember.norm_except_dim(v, 2, 1), torch.norm_except_dim(tv, 2, 1))


@pytest.mark.parametrize("n_iter", [1, 3])
def test_spectral_norm_hook_train_and_eval(n_iter):
    tm, em = _linear_pair(4, 6)
    torch.nn.utils.spectral_norm(tm, n_power_iterations=n_iter)
    ember.nn.utils.spectral_norm(em, n_power_iterations=n_iter)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    _load_from(tm, em)
    for _ in range(2):
        _step_and_compare(tm, em)
        assert_close(em.weight_u, tm.weight_u, atol=1e-5)
        assert_close(em.weight_v, tm.weight_v, atol=1e-5)
    tm.eval(), em.eval()
    _step_and_compare(tm, em)
    torch.nn.utils.remove_spectral_norm(tm), ember.nn.utils.remove_spectral_norm(em)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.weight, tm.weight, atol=1e-5)


def test_spectral_norm_hook_errors():
    raises_like(lambda: torch.nn.utils.spectral_norm(torch.nn.Linear(2, 2), n_power_iterations=0),
                lambda: ember.nn.utils.spectral_norm(ember.nn.Linear(2, 2), n_power_iterations=0))
    raises_like(lambda: torch.nn.utils.remove_spectral_norm(torch.nn.Linear(2, 2)),
                lambda: ember.nn.utils.remove_spectral_norm(ember.nn.Linear(2, 2)))


class _Symmetric(ember.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class _TSymmetric(torch.nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


class _Scale(ember.nn.Module):
    def forward(self, X):
        return 2 * X

    def right_inverse(self, X):
        return X / 2


def test_register_and_remove_parametrization():
    m = ember.nn.Linear(3, 3)
    w0 = m.weight.detach().clone()
    EP.register_parametrization(m, "weight", _Symmetric())
    assert EP.is_parametrized(m) and EP.is_parametrized(m, "weight") and not EP.is_parametrized(m, "bias")
    assert type(m).__name__ == "ParametrizedLinear" and EP.type_before_parametrizations(m) is ember.nn.Linear
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    np.testing.assert_allclose(m.parametrizations.weight.original.detach().numpy(), w0.numpy())
    W = m.weight
    np.testing.assert_allclose(W.detach().numpy(), W.detach().numpy().T)
    m(ember.randn(2, 3)).sum().backward()
    g = m.parametrizations.weight.original.grad
    assert g is not None and float(g.tril(-1).abs().sum()) == 0.0  # the lower part is not used
    EP.register_parametrization(m, "weight", _Scale())
    np.testing.assert_allclose(m.weight.detach().numpy(), 2 * W.detach().numpy(), rtol=1e-6)
    EP.remove_parametrizations(m, "weight")
    assert type(m) is ember.nn.Linear and not hasattr(m, "parametrizations")
    assert isinstance(m.weight, ember.nn.Parameter)
    assert list(m.state_dict()) == ["bias", "weight"]  # NOTE: as PyTorch, re-registered last


def test_assignment_goes_through_right_inverse():
    m = ember.nn.Linear(2, 2)
    EP.register_parametrization(m, "weight", _Scale())
    m.weight = ember.eye(2) * 4
    np.testing.assert_allclose(m.parametrizations.weight.original.detach().numpy(), 2 * np.eye(2))
    np.testing.assert_allclose(m.weight.detach().numpy(), 4 * np.eye(2))
    assert isinstance(m.parametrizations.weight.original, ember.nn.Parameter)


def test_right_inverse_missing_raises_and_leave_unparametrized():
    m = ember.nn.Linear(2, 2)
    EP.register_parametrization(m, "weight", _Symmetric())
    with pytest.raises(RuntimeError, match="parametrization _Symmetric does not implement right_inverse."):
        m.weight = ember.eye(2)
    orig = m.parametrizations.weight.original.detach().clone()
    EP.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_allclose(m.weight.detach().numpy(), orig.numpy())
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        EP.remove_parametrizations(m, "weight")
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element"):
        EP.register_parametrization(m, "nope", _Symmetric())


def test_cached_computes_once():
    calls = []

    class Count(ember.nn.Module):
        def forward(self, X):
            calls.append(1)
            return X

    m = ember.nn.Linear(2, 2)
    EP.register_parametrization(m, "weight", Count())
    calls.clear()
    with EP.cached():
        m.weight, m.weight
    assert len(calls) == 1
    m.weight
    assert len(calls) == 2


def test_state_dict_matches_torch_parametrization():
    tm, em = _linear_pair(3, 3)
    TP.register_parametrization(tm, "weight", _TSymmetric())
    EP.register_parametrization(em, "weight", _Symmetric())
    assert list(em.state_dict()) == list(tm.state_dict())
    _load_from(tm, em)
    _step_and_compare(tm, em, (4, 3))


@pytest.mark.parametrize("dim", [0, 1])
def test_parametrizations_weight_norm(dim):
    tm, em = _linear_pair()
    torch.nn.utils.parametrizations.weight_norm(tm, dim=dim)
    ember.nn.utils.parametrizations.weight_norm(em, dim=dim)
    assert list(em.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, atol=1e-6)
    _step_and_compare(tm, em)
    TP.remove_parametrizations(tm, "weight"), EP.remove_parametrizations(em, "weight")
    assert list(em.state_dict()) == list(tm.state_dict())
    assert_close(em.weight, tm.weight, atol=1e-6)


def test_parametrizations_spectral_norm():
    tm, em = _linear_pair(4, 5)
    torch.nn.utils.parametrizations.spectral_norm(tm)
    ember.nn.utils.parametrizations.spectral_norm(em)
    assert list(em.state_dict()) == list(tm.state_dict())
    _load_from(tm, em)
    for _ in range(2):
        _step_and_compare(tm, em)
    for k, v in tm.state_dict().items():
        assert_close(em.state_dict()[k], v, atol=1e-5)
    tm.eval(), em.eval()
    _step_and_compare(tm, em)
    # the spectral norm of the parametrized weight is ~1 after a few power iterations
    em.train()
    for _ in range(20):
        em(ember.randn(1, 4))
    assert abs(float(ember.linalg.matrix_norm(em.weight.detach(), 2)) - 1) < 1e-3
    raises_like(lambda: torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(2, 2), "foo"),
                lambda: ember.nn.utils.parametrizations.spectral_norm(ember.nn.Linear(2, 2), "foo"))
    raises_like(lambda: torch.nn.utils.parametrizations.spectral_norm(torch.nn.Linear(2, 2), n_power_iterations=0),
                lambda: ember.nn.utils.parametrizations.spectral_norm(ember.nn.Linear(2, 2), n_power_iterations=0))


@pytest.mark.parametrize("shape,orth_map", [((3, 3), None), ((3, 5), None), ((5, 3), "cayley"),
                                            ((4, 4), "householder"), ((5, 3), "matrix_exp")])
def test_parametrizations_orthogonal(shape, orth_map):
    tm, em = _linear_pair(shape[1], shape[0])
    torch.nn.utils.parametrizations.orthogonal(tm, orthogonal_map=orth_map)
    ember.nn.utils.parametrizations.orthogonal(em, orthogonal_map=orth_map)
    assert list(em.state_dict()) == list(tm.state_dict())
    if shape[0] == shape[1]:  # NOTE: no random completion: right_inverse must agree with torch's
        for k, v in tm.state_dict().items():
            assert_close(em.state_dict()[k], v, atol=1e-5)
    _load_from(tm, em)
    _step_and_compare(tm, em, (2, shape[1]))
    W = em.weight.detach().numpy()
    gram = W @ W.T if shape[0] < shape[1] else W.T @ W
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-5)


def test_orthogonal_errors():
    for call in (lambda nn: nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), orthogonal_map="nope"),
                 lambda nn: nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), "bias"),
                 lambda nn: nn.utils.parametrizations.orthogonal(nn.Linear(2, 2), "foo")):
        raises_like(lambda: call(torch.nn), lambda: call(ember.nn))
    em = ember.nn.utils.parametrizations.orthogonal(ember.nn.Linear(3, 3), use_trivialization=False)
    with pytest.raises(NotImplementedError, match="not possible to assign to the matrix exponential"):
        em.weight = ember.eye(3)


def test_parametrize_a_buffer_and_transfer():
    m = ember.nn.BatchNorm1d(2)
    EP.register_parametrization(m, "running_var", _Scale())
    assert "parametrizations.running_var.original" in m.state_dict()
    assert not isinstance(m.parametrizations.running_var.original, ember.nn.Parameter)
    np.testing.assert_allclose(m.running_var.numpy(), np.ones(2))  # right_inverse stored 0.5, forward doubles
    src = ember.nn.Linear(3, 3)
    EP.register_parametrization(src, "weight", _Scale())
    dst = EP.transfer_parametrizations_and_params(src, ember.nn.Linear(3, 3))
    assert EP.is_parametrized(dst, "weight")
    np.testing.assert_allclose(dst.weight.detach().numpy(), src.weight.detach().numpy())


@pytest.mark.parametrize("cls", ["Conv2d", "ConvTranspose2d"])
def test_norms_on_conv_weights(cls):
    torch.manual_seed(1)
    tm, em = getattr(torch.nn, cls)(3, 4, 2), getattr(ember.nn, cls)(3, 4, 2)
    _load_from(tm, em)
    torch.nn.utils.spectral_norm(tm), ember.nn.utils.spectral_norm(em)
    assert [tuple(v.shape) for v in em.state_dict().values()] == [tuple(v.shape) for v in tm.state_dict().values()]
    _load_from(tm, em)
    _step_and_compare(tm, em, (2, 3, 4, 4))
    tw, ew = getattr(torch.nn, cls)(3, 4, 2), getattr(ember.nn, cls)(3, 4, 2)
    _load_from(tw, ew)
    torch.nn.utils.parametrizations.weight_norm(tw, dim=1)
    ember.nn.utils.parametrizations.weight_norm(ew, dim=1)
    for k, v in tw.state_dict().items():
        assert_close(ew.state_dict()[k], v, atol=1e-6)
    _step_and_compare(tw, ew, (2, 3, 4, 4))


def test_parametrized_weight_norm_loads_old_hook_state_dict():
    old = ember.nn.Linear(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ember.nn.utils.weight_norm(old)
    new = ember.nn.utils.parametrizations.weight_norm(ember.nn.Linear(3, 2))
    new.load_state_dict(old.state_dict())
    x = ember.randn(4, 3)
    np.testing.assert_allclose(new(x).detach().numpy(), old(x).detach().numpy(), rtol=1e-6)
