"""torch.nn.utils odds and ends against PyTorch: stateless.functional_call, skip_init, clip_grads_with_norm_,
BatchNorm fusion, conv weight memory formats, utils.model_zoo."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, copy_weights, raises_like, to_ember


def test_stateless_functional_call_warns_and_delegates():
    torch.manual_seed(0)
    t, e = torch.nn.Linear(3, 2), ember.nn.Linear(3, 2)
    copy_weights(t, e)
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    x = np.ones((4, 3), dtype=np.float32)
    with warnings.catch_warnings(record=True) as t_warn:
        warnings.simplefilter("always")
        t_out = torch.nn.utils.stateless.functional_call(t, {"weight": torch.from_numpy(w)}, (torch.from_numpy(x),))
    with warnings.catch_warnings(record=True) as e_warn:
        warnings.simplefilter("always")
        e_out = ember.nn.utils.stateless.functional_call(e, {"weight": ember.from_numpy(w.copy())},
                                                         (ember.from_numpy(x),))
    assert_close(e_out, t_out)
    assert [(w.category, str(w.message)) for w in e_warn] == [(w.category, str(w.message)) for w in t_warn]
    assert e.weight.shape == (2, 3) and not np.array_equal(e.weight.detach().numpy(), w)


def test_skip_init():
    m = ember.nn.utils.skip_init(ember.nn.Linear, 5, 3, bias=False)
    assert isinstance(m, ember.nn.Linear) and m.weight.shape == (3, 5) and m.bias is None
    assert m.weight.device == ember.device("cpu")

    class NoDevice(torch.nn.Module):
        pass

    class ENoDevice(ember.nn.Module):
        pass
    raises_like(lambda: torch.nn.utils.skip_init(NoDevice), lambda: ember.nn.utils.skip_init(ENoDevice))
    raises_like(lambda: torch.nn.utils.skip_init(int), lambda: ember.nn.utils.skip_init(int))


@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grads_with_norm_(max_norm, norm_type):
    grads = [np.array([3.0, -4.0], dtype=np.float32), np.array([[1.0, 2.0], [0.5, -7.0]], dtype=np.float32)]
    results = []
    for lib in (torch, ember):
        params = []
        for g in grads:
            p = lib.nn.Parameter(lib.zeros(g.shape))
            p.grad = lib.from_numpy(g.copy())
            params.append(p)
        total = lib.nn.utils.get_total_norm([p.grad for p in params], norm_type)
        assert lib.nn.utils.clip_grads_with_norm_(params, max_norm, total) is None
        results.append(params)
    for e, t in zip(results[1], results[0]):
        assert_close(e.grad, t.grad)


def test_clip_grad_norm_takes_a_generator():
    results = []
    for lib in (torch, ember):
        p = lib.nn.Parameter(lib.zeros(3))
        p.grad = lib.tensor([3.0, 4.0, 0.0])
        results.append((lib.nn.utils.clip_grad_norm_((q for q in [p]), 1.0), p.grad))
    assert_close(results[1][0], results[0][0])
    assert_close(results[1][1], results[0][1])


def _bn_pair(lib_bn_t, lib_bn_e, n):
    torch.manual_seed(1)
    t, e = lib_bn_t(n), lib_bn_e(n)
    with torch.no_grad():
        t.running_mean.uniform_(-1, 1)
        t.running_var.uniform_(0.5, 2)
        t.weight.uniform_(0.5, 1.5)
        t.bias.uniform_(-1, 1)
    copy_weights(t, e)
    return t.eval(), e.eval()


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval(transpose, bias):
    torch.manual_seed(0)
    kind = "ConvTranspose2d" if transpose else "Conv2d"
    tc, ec = getattr(torch.nn, kind)(3, 4, 3, bias=bias), getattr(ember.nn, kind)(3, 4, 3, bias=bias)
    copy_weights(tc, ec)
    tbn, ebn = _bn_pair(torch.nn.BatchNorm2d, ember.nn.BatchNorm2d, 4)
    tf = torch.nn.utils.fuse_conv_bn_eval(tc.eval(), tbn, transpose=transpose)
    ef = ember.nn.utils.fuse_conv_bn_eval(ec.eval(), ebn, transpose=transpose)
    assert ef is not ec and isinstance(ef.weight, ember.nn.Parameter) and isinstance(ef.bias, ember.nn.Parameter)
    assert_close(ef.weight, tf.weight)
    assert_close(ef.bias, tf.bias)
    assert ef.bias.requires_grad == tf.bias.requires_grad
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32)
    assert_close(ef(ember.from_numpy(x)), tf(torch.from_numpy(x)), rtol=1e-4, atol=1e-5)
    assert_close(ef(ember.from_numpy(x)), ebn(ec(ember.from_numpy(x))), rtol=1e-4, atol=1e-5)


def test_fuse_conv_bn_weights_defaults():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 2, 3)).astype(np.float64)
    rm, rv = rng.standard_normal(4), rng.uniform(0.5, 2, 4)
    tw, tb = torch.nn.utils.fuse_conv_bn_weights(torch.from_numpy(w), None, torch.from_numpy(rm),
                                                  torch.from_numpy(rv), 1e-3, None, None)
    ew, eb = ember.nn.utils.fuse_conv_bn_weights(ember.from_numpy(w), None, ember.from_numpy(rm),
                                                  ember.from_numpy(rv), 1e-3, None, None)
    assert_close(ew, tw)
    assert_close(eb, tb)
    assert (ew.requires_grad, eb.requires_grad) == (tw.requires_grad, tb.requires_grad)


@pytest.mark.parametrize("features", [5, 1])
def test_fuse_linear_bn_eval(features):
    torch.manual_seed(0)
    tl, el = torch.nn.Linear(3, 5), ember.nn.Linear(3, 5)
    copy_weights(tl, el)
    tbn, ebn = _bn_pair(torch.nn.BatchNorm1d, ember.nn.BatchNorm1d, features)
    tf = torch.nn.utils.fuse_linear_bn_eval(tl.eval(), tbn)
    ef = ember.nn.utils.fuse_linear_bn_eval(el.eval(), ebn)
    assert_close(ef.weight, tf.weight)
    assert_close(ef.bias, tf.bias)


def test_fusion_errors():
    tc, ec = torch.nn.Conv2d(2, 3, 3), ember.nn.Conv2d(2, 3, 3)
    raises_like(lambda: torch.nn.utils.fuse_conv_bn_eval(tc, torch.nn.BatchNorm2d(3)),
                lambda: ember.nn.utils.fuse_conv_bn_eval(ec, ember.nn.BatchNorm2d(3)))
    tl, el = torch.nn.Linear(2, 3).eval(), ember.nn.Linear(2, 3).eval()
    raises_like(lambda: torch.nn.utils.fuse_linear_bn_eval(tl, torch.nn.BatchNorm1d(4).eval()),
                lambda: ember.nn.utils.fuse_linear_bn_eval(el, ember.nn.BatchNorm1d(4).eval()))


@pytest.mark.parametrize("nd", [2, 3])
def test_convert_conv_weight_memory_format(nd):
    fmt = "channels_last" if nd == 2 else "channels_last_3d"

    def build(lib):
        conv, convt = getattr(lib.nn, f"Conv{nd}d"), getattr(lib.nn, f"ConvTranspose{nd}d")
        return lib.nn.Sequential(conv(2, 3, 3), lib.nn.Sequential(convt(3, 2, 3)), lib.nn.Linear(2, 2))
    t, e = build(torch), build(ember)
    copy_weights(t, e)
    fn = f"convert_conv{nd}d_weight_memory_format"
    assert getattr(torch.nn.utils, fn)(t, getattr(torch, fmt)) is t
    assert getattr(ember.nn.utils, fn)(e, getattr(ember, fmt)) is e
    for tm, em in ((t[0], e[0]), (t[1][0], e[1][0])):
        assert isinstance(em.weight, ember.nn.Parameter)
        # NOTE: ember keeps every tensor row-major (memory formats are accepted, strides unchanged)
        assert em.weight.is_contiguous(memory_format=getattr(ember, fmt))
        assert_close(em.weight, tm.weight)
    assert e[2].weight.stride() == t[2].weight.stride()
    x = np.random.default_rng(0).standard_normal((1, 2) + (5,) * nd).astype(np.float32)
    t_x = torch.from_numpy(x).contiguous(memory_format=getattr(torch, fmt))
    assert_close(e[1](e[0](ember.from_numpy(x))), t[1](t[0](t_x)), rtol=1e-4, atol=1e-5)


def test_model_zoo_load_url_is_hub_load_state_dict_from_url():
    import ember.utils.model_zoo
    assert ember.utils.model_zoo.load_url is ember.hub.load_state_dict_from_url
    assert ember.utils.model_zoo is ember.utils.model_zoo
