"""GroupNorm, InstanceNorm1d/2d/3d, RMSNorm, LocalResponseNorm, CrossMapLRN2d (and their functions) against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import ember
from tests.nn._nn_helpers import assert_close, copy_weights, raises_like
from tests.nn.test_norm_helpers import backward_both, close_any, pair, randomize_affine


def _compare(tm, em, shape, dtype=torch.float32, tol=1e-5, gtol=1e-4):
    randomize_affine(tm)
    copy_weights(tm, em)
    tx, ex = pair(shape, dtype=dtype)
    ty, ey = tm(tx), em(ex)
    close_any(ey, ty, tol)
    backward_both(ty, ey)
    close_any(ex.grad, tx.grad, gtol)
    for name, p in tm.named_parameters():
        close_any(dict(em.named_parameters())[name].grad, p.grad, gtol)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert repr(em) == repr(tm)
    return tx, ex


@pytest.mark.parametrize("groups,shape,kw", [(2, (3, 4, 5), {}), (1, (2, 6), {}), (3, (2, 3, 2, 3), {"affine": False}),
                                             (2, (1, 4, 3, 3, 2), {"bias": False, "eps": 1e-3})])
def test_group_norm(groups, shape, kw):
    c = shape[1]
    _compare(torch.nn.GroupNorm(groups, c, **kw), ember.nn.GroupNorm(groups, c, **kw), shape)


@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (3, 4, 5)), ("InstanceNorm1d", (4, 6)),
                                       ("InstanceNorm2d", (2, 4, 3, 3)), ("InstanceNorm2d", (4, 2, 3)),
                                       ("InstanceNorm3d", (2, 4, 2, 2, 3))])
@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"affine": True, "track_running_stats": True, "momentum": 0.3},
                                {"track_running_stats": True, "momentum": None}])
def test_instance_norm_train_then_eval(cls, shape, kw):
    tm, em = getattr(torch.nn, cls)(4, **kw), getattr(ember.nn, cls)(4, **kw)
    for _ in range(2):
        _compare(tm, em, shape)
    for name, b in tm.named_buffers():
        assert_close(dict(em.named_buffers())[name], b)
    tm.eval(), em.eval()
    _compare(tm, em, shape)


def test_instance_norm_warns_when_channels_differ_without_affine():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.nn.InstanceNorm1d(3)(ember.randn(2, 4, 5))
    assert "input's size at dim=1 does not match num_features" in str(caught[0].message)


@pytest.mark.parametrize("shape,norm,kw", [((3, 5), 5, {}), ((2, 3, 4), (3, 4), {"eps": 1e-3}),
                                           ((4, 6), [6], {"elementwise_affine": False})])
def test_rms_norm(shape, norm, kw):
    _compare(torch.nn.RMSNorm(norm, **kw), ember.nn.RMSNorm(norm, **kw), shape)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_rms_norm_low_precision_uses_float32_eps(dtype):
    tx, ex = pair((3, 8), dtype=dtype, scale=1e-4, shift=0.0)
    close_any(ember.rms_norm(ex, (8,)), torch.rms_norm(tx, (8,)), 2e-2)
    close_any(ember.nn.functional.group_norm(ex, 1), torch.nn.functional.group_norm(tx, 1), 2e-2)


@pytest.mark.parametrize("shape,size", [((2, 5, 4), 3), ((2, 6, 3, 3), 2), ((1, 4, 2, 2, 2), 5)])
def test_local_response_norm(shape, size):
    _compare(torch.nn.LocalResponseNorm(size, alpha=0.3, beta=0.6, k=2.0),
             ember.nn.LocalResponseNorm(size, alpha=0.3, beta=0.6, k=2.0), shape)


@pytest.mark.parametrize("c,size", [(7, 3), (6, 5), (3, 4)])
def test_cross_map_lrn2d_matches_torch_kernel(c, size):
    # NOTE: many channels and a small window: PyTorch's quirky running window shows
    _compare(torch.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.7, k=1.5),
             ember.nn.CrossMapLRN2d(size, alpha=0.5, beta=0.7, k=1.5), (2, c, 3, 2))


def test_functional_aliases():
    tx, ex = pair((3, 4, 5))
    tw, ew = pair((4,), seed=2)
    assert_close(ember.group_norm(ex, 2, ew, None, 1e-3), torch.group_norm(tx, 2, tw, None, 1e-3), atol=1e-5)
    trm, erm = torch.zeros(4), ember.zeros(4)
    trv, erv = torch.ones(4), ember.ones(4)
    ty = torch.instance_norm(tx, tw, None, trm, trv, True, 0.1, 1e-5, False)
    ey = ember.instance_norm(ex, ew, None, erm, erv, True, 0.1, 1e-5, False)
    assert_close(ey, ty, atol=1e-5)
    assert_close(erm, trm), assert_close(erv, trv)
    ty = torch.nn.functional.instance_norm(tx, trm, trv, use_input_stats=False)
    ey = ember.nn.functional.instance_norm(ex, erm, erv, use_input_stats=False)
    assert_close(ey, ty, atol=1e-5)


def test_gradcheck_float64():
    x = ember.randn(2, 4, 3, dtype=ember.float64, requires_grad=True)
    w = ember.randn(4, dtype=ember.float64, requires_grad=True)
    b = ember.randn(4, dtype=ember.float64, requires_grad=True)
    F = ember.nn.functional
    assert ember.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert ember.autograd.gradgradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))
    assert ember.autograd.gradcheck(lambda x, w: F.rms_norm(x, (3,), w[:3]), (x, w))
    assert ember.autograd.gradcheck(lambda x: F.local_response_norm(x, 3, 0.5, 0.7, 1.5), (x,))


@pytest.mark.parametrize("call", [
    lambda nn, F, t: nn.GroupNorm(3, 4),
    lambda nn, F, t: F.group_norm(t.randn(2, 4, 3), 3),
    lambda nn, F, t: F.group_norm(t.randn(2, 4, 3), 2, t.ones(3)),
    lambda nn, F, t: F.group_norm(t.randn(2, 4, 3), 2, t.ones(4), t.ones(3)),
    lambda nn, F, t: F.group_norm(t.randn(4), 2),
    lambda nn, F, t: F.group_norm(t.randn(2, 4), 0),
    lambda nn, F, t: F.group_norm(t.randn(1, 2), 2),
    lambda nn, F, t: nn.InstanceNorm1d(3)(t.randn(2, 3, 4, 5)),
    lambda nn, F, t: nn.InstanceNorm3d(3)(t.randn(2, 3, 4)),
    lambda nn, F, t: nn.InstanceNorm1d(3, affine=True)(t.randn(2, 4, 5)),
    lambda nn, F, t: nn.InstanceNorm1d(3, track_running_stats=True)(t.randn(1, 3, 1)),
    lambda nn, F, t: F.instance_norm(t.randn(2, 3, 1)),
    lambda nn, F, t: F.instance_norm(t.randn(2, 5, 3), use_input_stats=False),
    lambda nn, F, t: F.instance_norm(t.randn(2, 5, 3), t.zeros(4), t.ones(4)),
    lambda nn, F, t: F.instance_norm(t.randn(2, 5, 3), None, None, t.ones(4)),
    lambda nn, F, t: F.local_response_norm(t.randn(2, 3), 3),
    lambda nn, F, t: nn.CrossMapLRN2d(3)(t.randn(2, 3, 4)),
    lambda nn, F, t: F.rms_norm(t.randn(2, 3), (4,)),
    lambda nn, F, t: F.rms_norm(t.randn(2, 3), (3,), t.ones(2)),
    lambda nn, F, t: F.rms_norm(t.randn(2, 3, 4), (2, 4)),
    lambda nn, F, t: F.rms_norm(t.randn(4), (2, 4)),
    lambda nn, F, t: F.rms_norm(t.randn(2, 4), []),
    lambda nn, F, t: F.rms_norm(t.randn(2, 4), 4),
])
def test_errors_match_torch(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_like(lambda: call(torch.nn, torch.nn.functional, torch),
                    lambda: call(ember.nn, ember.nn.functional, ember))


_F = (lambda t: t.nn.functional)


@pytest.mark.parametrize("call", [
    lambda t: _F(t).layer_norm(t.ones(2, 3, dtype=t.float64), (3,), t.ones(3)),
    lambda t: _F(t).layer_norm(t.ones(2, 3), (3,), t.ones(3, dtype=t.float64)),
    lambda t: _F(t).layer_norm(t.ones(2, 3, dtype=t.int64), (3,)),
    lambda t: _F(t).layer_norm(t.ones(2, 3, dtype=t.int64), (3,), t.ones(3)),
    lambda t: _F(t).batch_norm(t.ones(2, 3, dtype=t.int64), None, None, training=True),
    lambda t: t.nn.BatchNorm1d(3)(t.ones(2, 3, dtype=t.float64)),
    lambda t: t.nn.BatchNorm1d(3).eval()(t.ones(2, 3, dtype=t.float64)),
    lambda t: _F(t).group_norm(t.ones(2, 3, dtype=t.int64), 1),
    lambda t: _F(t).group_norm(t.ones(2, 3, dtype=t.float16), 1, t.ones(3, dtype=t.float64)),
    lambda t: _F(t).instance_norm(t.ones(2, 3, 2, dtype=t.int64)),
])
def test_dtype_errors_match_torch(call):
    raises_like(lambda: call(torch), lambda: call(ember))


def test_mixed_half_input_float32_params_allowed():
    for t in (torch, ember):
        x = t.ones(2, 3, 2, dtype=t.float16)
        assert str(_F(t).layer_norm(x, (2,), t.ones(2)).dtype) == "torch.float16"
        assert str(_F(t).group_norm(x, 1, t.ones(3)).dtype) == "torch.float16"


def test_empty_batch_leaves_running_stats():
    tm, em = torch.nn.BatchNorm1d(3), ember.nn.BatchNorm1d(3)
    assert tuple(em(ember.zeros(0, 3, 2)).shape) == tuple(tm(torch.zeros(0, 3, 2)).shape)
    assert_close(em.running_mean, tm.running_mean)
    assert_close(em.running_var, tm.running_var)


@pytest.mark.parametrize("kw", [{}, {"p": 1, "dim": 2}, {"p": 3.0, "dim": 0, "eps": 0.5}, {"p": float("inf"), "dim": -1}])
def test_normalize(kw):
    tx, ex = pair((3, 4, 5), dtype=torch.float64)
    ty, ey = torch.nn.functional.normalize(tx, **kw), ember.nn.functional.normalize(ex, **kw)
    close_any(ey, ty, 1e-12)
    backward_both(ty, ey)
    close_any(ex.grad, tx.grad, 1e-10)


_PARTIAL = {
    "batch": lambda F, x, w, b: F.batch_norm(x, None, None, w, b, training=True),
    "batch_eval": lambda F, x, w, b: F.batch_norm(x, x.new_zeros(4) + 0.3, x.new_ones(4) * 2, w, b),
    "instance": lambda F, x, w, b: F.instance_norm(x, weight=w, bias=b),
    "group": lambda F, x, w, b: F.group_norm(x, 2, w, b),
    "layer": lambda F, x, w, b: F.layer_norm(x, (5,), None if w is None else w[:1].expand(5) * 1,
                                             b[:1].expand(5) * 1),
}


@pytest.mark.parametrize("name", list(_PARTIAL))
@pytest.mark.parametrize("mask", [(1, 0, 1), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1)])
def test_gradients_when_only_some_inputs_need_them(name, mask):
    if name == "group" and not mask[1]:
        pytest.skip("PyTorch 2.13's group_norm backward without weight raises 'tensor does not have a device'")
    grads = []
    for lib in (torch, ember):
        rs = np.random.RandomState(0)
        x, w, b, g = rs.randn(3, 4, 5), rs.rand(4) + 0.5, rs.randn(4), rs.randn(3, 4, 5)
        X, W, B = (lib.from_numpy(a.copy()).requires_grad_(bool(m)) for a, m in zip((x, w, b), mask))
        _PARTIAL[name](lib.nn.functional, X, W if mask[1] else None, B).backward(lib.from_numpy(g))
        grads.append([None if t.grad is None else t.grad.numpy() for t in (X, W, B)])
    for t, e in zip(*grads):
        assert (t is None) == (e is None)
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-12)
