"""LayerNorm / F.layer_norm / torch.layer_norm against PyTorch: values, gradients, half precision, errors."""
import numpy as np
import pytest
import torch

import ember
from tests.nn._nn_helpers import assert_close, copy_weights, raises_like
from tests.nn.test_norm_helpers import backward_both, close_any, pair


_pair = pair
_backward_both = backward_both
_close_low = close_any


@pytest.mark.parametrize("shape,norm", [((3, 7), (7,)), ((2, 3, 5), (3, 5)), ((5,), (5,)), ((2, 1, 3, 4), (4,)),
                                        ((0, 4), (4,))])
@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, False)])
def test_module_matches_torch(shape, norm, affine, bias):
    tm = torch.nn.LayerNorm(norm, eps=1e-4, elementwise_affine=affine, bias=bias)
    em = ember.nn.LayerNorm(norm, eps=1e-4, elementwise_affine=affine, bias=bias)
    if affine:
        with torch.no_grad():
            tm.weight.uniform_(0.5, 1.5)
            if bias:
                tm.bias.uniform_(-1, 1)
    copy_weights(tm, em)
    tx, ex = _pair(shape)
    ty, ey = tm(tx), em(ex)
    assert_close(ey, ty, rtol=1e-5, atol=1e-5)
    assert type(ey.grad_fn).__name__ == type(ty.grad_fn).__name__ == "NativeLayerNormBackward0"
    _backward_both(ty, ey)
    assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
    for name, p in tm.named_parameters():
        assert_close(dict(em.named_parameters())[name].grad, p.grad, rtol=1e-4, atol=1e-5)


def test_defaults_state_dict_and_repr():
    tm, em = torch.nn.LayerNorm([2, 3]), ember.nn.LayerNorm([2, 3])
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict()) == ["weight", "bias"]
    assert_close(em.weight, tm.weight)
    assert_close(em.bias, tm.bias)
    assert repr(ember.nn.LayerNorm(4, bias=False)) == repr(torch.nn.LayerNorm(4, bias=False))
    assert list(ember.nn.LayerNorm(4, elementwise_affine=False).state_dict()) == []
    # ember's weights load into torch too
    with ember.no_grad():
        em.weight.uniform_(0, 1)
    tm.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in em.state_dict().items()})
    assert_close(em.weight, tm.weight)


def test_functional_and_torch_alias():
    tx, ex = _pair((4, 6))
    tw, ew = _pair((6,), seed=3)
    assert_close(ember.layer_norm(ex, [6], ew, None, 1e-3), torch.layer_norm(tx, [6], tw, None, 1e-3), atol=1e-5)
    assert_close(ember.nn.functional.layer_norm(ex, ember.Size([6])), torch.nn.functional.layer_norm(tx, torch.Size([6])),
                 atol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_low_precision_computed_in_float32(dtype):
    tx, ex = _pair((4, 33), dtype=dtype)
    tw, ew = _pair((33,), dtype=dtype, seed=2)
    tb, eb = _pair((33,), dtype=dtype, seed=4)
    ty = torch.nn.functional.layer_norm(tx, (33,), tw, tb)
    ey = ember.nn.functional.layer_norm(ex, (33,), ew, eb)
    _close_low(ey, ty, 1e-2)
    _backward_both(ty, ey)
    for t, e in ((tx, ex), (tw, ew), (tb, eb)):
        _close_low(e.grad, t.grad, 3e-2)


def test_gradcheck_and_gradgradcheck_float64():
    args = [ember.randn(2, 3, 4, dtype=ember.float64, requires_grad=True),
            ember.randn(3, 4, dtype=ember.float64, requires_grad=True),
            ember.randn(3, 4, dtype=ember.float64, requires_grad=True)]

    def fn(x, w, b):
        return ember.nn.functional.layer_norm(x, (3, 4), w, b)
    assert ember.autograd.gradcheck(fn, args)
    assert ember.autograd.gradgradcheck(fn, args)


def test_backward_saves_no_more_than_needed():
    # NOTE: only the bias needs a gradient: the input may be modified in place afterwards
    x = ember.randn(3, 4)
    b = ember.zeros(4, requires_grad=True)
    y = ember.nn.functional.layer_norm(x, (4,), None, b)
    x.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), np.full(4, 3.0))


@pytest.mark.parametrize("call", [
    lambda F, t, x: F.layer_norm(x, (3,)),
    lambda F, t, x: F.layer_norm(x, (4,), t.ones(3)),
    lambda F, t, x: F.layer_norm(x, (2, 4), None, t.ones(3)),
    lambda F, t, x: F.layer_norm(x, 4),
    lambda F, t, x: F.layer_norm(x, []),
    lambda F, t, x: F.layer_norm(x, (2, 2, 4)),
])
def test_errors_match_torch(call):
    raises_like(lambda: call(torch.nn.functional, torch, torch.randn(2, 4)),
                lambda: call(ember.nn.functional, ember, ember.randn(2, 4)))
