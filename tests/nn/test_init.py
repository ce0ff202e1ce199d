"""nn.init and the layers' default initialisation: PyTorch's distributions, gains and errors."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from _nn_helpers import raises_like

init_t, init_e = torch.nn.init, ember.nn.init


@pytest.mark.parametrize("args", [("linear",), ("relu",), ("tanh",), ("sigmoid",), ("selu",), ("leaky_relu",),
                                  ("leaky_relu", 0.2), ("conv2d",)])
def test_calculate_gain_matches_torch(args):
    assert init_e.calculate_gain(*args) == pytest.approx(init_t.calculate_gain(*args))


def test_init_errors_match_torch():
    raises_like(lambda: init_t.calculate_gain("foo"), lambda: init_e.calculate_gain("foo"))
    raises_like(lambda: init_t.xavier_uniform_(torch.zeros(3)), lambda: init_e.xavier_uniform_(ember.zeros(3)))
    raises_like(lambda: init_t.eye_(torch.zeros(3, 3, 3)), lambda: init_e.eye_(ember.zeros(3, 3, 3)))
    raises_like(lambda: init_t.orthogonal_(torch.zeros(3)), lambda: init_e.orthogonal_(ember.zeros(3)))
    raises_like(lambda: init_t.dirac_(torch.zeros(3, 3)), lambda: init_e.dirac_(ember.zeros(3, 3)))
    raises_like(lambda: init_t.sparse_(torch.zeros(3, 3, 3), 0.1), lambda: init_e.sparse_(ember.zeros(3, 3, 3), 0.1))
    raises_like(lambda: init_t.kaiming_uniform_(torch.zeros(3, 3), mode="fan"),
                lambda: init_e.kaiming_uniform_(ember.zeros(3, 3), mode="fan"))


def test_zero_element_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init_e.kaiming_uniform_(ember.zeros(3, 0))
    assert [str(w.message) for w in caught] == ["Initializing zero-element tensors is a no-op"]


def _stats(t):
    a = t.detach().numpy().astype(np.float64)
    return a.min(), a.max(), a.mean(), a.std()


def test_linear_default_init_is_uniform_one_over_sqrt_fan_in():
    ember.manual_seed(0)
    layer = ember.nn.Linear(100, 400)
    lo, hi, mean, std = _stats(layer.weight)
    bound = 1 / math.sqrt(100)
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound
    assert abs(mean) < 0.002 and std == pytest.approx(bound / math.sqrt(3), rel=0.02)
    blo, bhi, _, _ = _stats(layer.bias)
    assert -bound <= blo and bhi <= bound


@pytest.mark.parametrize("name,kwargs,expected_std", [
    ("xavier_uniform_", {}, math.sqrt(2 / (200 + 300))),
    ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / (200 + 300))),
    ("kaiming_uniform_", {"nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(200)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2) / math.sqrt(300)),
    ("normal_", {"std": 0.5}, 0.5),
    ("uniform_", {"a": -1.0, "b": 1.0}, 1 / math.sqrt(3)),
    ("trunc_normal_", {"std": 1.0}, 0.8796),  # std of N(0,1) truncated to [-2, 2]
])
def test_distributions_have_torch_std(name, kwargs, expected_std):
    ember.manual_seed(1)
    w = getattr(init_e, name)(ember.empty(300, 200), **kwargs)
    _, _, mean, std = _stats(w)
    assert abs(mean) < 5 * expected_std / math.sqrt(w.numel())
    assert std == pytest.approx(expected_std, rel=0.03)


def test_constant_eye_dirac_orthogonal_sparse():
    assert init_e.constant_(ember.empty(2, 2), 3.0).sum().item() == 12
    assert init_e.ones_(ember.empty(3)).sum().item() == 3
    assert init_e.zeros_(ember.ones(3)).sum().item() == 0
    np.testing.assert_array_equal(init_e.eye_(ember.empty(2, 3)).numpy(), init_t.eye_(torch.empty(2, 3)).numpy())
    np.testing.assert_array_equal(init_e.dirac_(ember.empty(4, 2, 3)).numpy(),
                                  init_t.dirac_(torch.empty(4, 2, 3)).numpy())
    np.testing.assert_array_equal(init_e.dirac_(ember.empty(4, 2, 3, 3), groups=2).numpy(),
                                  init_t.dirac_(torch.empty(4, 2, 3, 3), groups=2).numpy())
    q = init_e.orthogonal_(ember.empty(3, 5), gain=2.0).numpy().astype(np.float64)
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)
    s = init_e.sparse_(ember.empty(10, 4), sparsity=0.3).numpy()
    assert ((s == 0).sum(axis=0) >= 3).all()


def test_init_does_not_record_history():
    w = ember.nn.Parameter(ember.empty(3, 3))
    init_e.xavier_uniform_(w)
    assert w.grad_fn is None and w.is_leaf and w.requires_grad
