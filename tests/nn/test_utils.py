"""nn.utils against PyTorch: clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters."""
import math

import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, raises_like, to_ember


def _params(lib, grads):
    params = []
    for g in grads:
        p = lib.nn.Parameter(lib.zeros(g.shape, dtype=getattr(lib, str(g.dtype))))
        p.grad = lib.from_numpy(g.copy())
        params.append(p)
    return params


GRADS = [np.array([3.0, 4.0, 0.0], dtype=np.float32), np.array([[1.0, -2.0], [0.5, 7.0]], dtype=np.float32)]


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0])
@pytest.mark.parametrize("max_norm", [1.0, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    tp, ep = _params(torch, GRADS), _params(ember, GRADS)
    t_total = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=norm_type)
    e_total = ember.nn.utils.clip_grad_norm_(ep, max_norm, norm_type=norm_type)
    assert_close(e_total, t_total)
    for t, e in zip(tp, ep):
        assert_close(e.grad, t.grad)


def test_clip_grad_norm_mixed_dtypes_single_tensor_and_no_grads():
    t = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    e = ember.nn.Parameter(ember.ones(2, dtype=ember.float64))
    t.grad, e.grad = torch.ones(2, dtype=torch.float64), ember.ones(2, dtype=ember.float64)
    tp, ep = _params(torch, GRADS[:1]) + [t], _params(ember, GRADS[:1]) + [e]
    assert_close(ember.nn.utils.clip_grad_norm_(ep, 1.0), torch.nn.utils.clip_grad_norm_(tp, 1.0))
    assert_close(ember.nn.utils.clip_grad_norm_(ep[0], 0.5), torch.nn.utils.clip_grad_norm_(tp[0], 0.5))
    assert_close(ember.nn.utils.clip_grad_norm_([ember.nn.Parameter(ember.ones(2))], 1.0),
                 torch.nn.utils.clip_grad_norm_([torch.nn.Parameter(torch.ones(2))], 1.0))


def test_clip_grad_norm_nonfinite_error_matches_torch():
    bad = [np.array([np.inf, 1.0], dtype=np.float32)]
    raises_like(lambda: torch.nn.utils.clip_grad_norm_(_params(torch, bad), 1.0, error_if_nonfinite=True),
                lambda: ember.nn.utils.clip_grad_norm_(_params(ember, bad), 1.0, error_if_nonfinite=True))


def test_clip_grad_value_matches_torch():
    tp, ep = _params(torch, GRADS), _params(ember, GRADS)
    assert torch.nn.utils.clip_grad_value_(tp, 1.5) is None
    assert ember.nn.utils.clip_grad_value_(ep, 1.5) is None
    for t, e in zip(tp, ep):
        assert_close(e.grad, t.grad)


def test_parameters_to_vector_and_back():
    t_lin = torch.nn.Linear(3, 2)
    e_lin = ember.nn.Linear(3, 2)
    e_lin.load_state_dict({k: to_ember(v) for k, v in t_lin.state_dict().items()})
    assert_close(ember.nn.utils.parameters_to_vector(e_lin.parameters()),
                 torch.nn.utils.parameters_to_vector(t_lin.parameters()))
    vec = np.arange(8, dtype=np.float32)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(vec.copy()), t_lin.parameters())
    ember.nn.utils.vector_to_parameters(ember.from_numpy(vec.copy()), e_lin.parameters())
    assert_close(e_lin.weight, t_lin.weight)
    assert_close(e_lin.bias, t_lin.bias)
    raises_like(lambda: torch.nn.utils.vector_to_parameters([1], t_lin.parameters()),
                lambda: ember.nn.utils.vector_to_parameters([1], e_lin.parameters()))
