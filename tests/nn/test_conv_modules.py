"""nn.Conv1d/2d/3d and nn.ConvTranspose1d/2d/3d against PyTorch: every padding_mode, weights moved
through state_dict both ways, outputs and gradients (input, weight, bias), output_size, attributes,
reprs, init bounds and constructor/forward errors."""
import math

import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, copy_weights, raises_like, to_ember


def _check_module(t_mod, e_mod, x_shape, seed=0, forward_kwargs=None):
    copy_weights(t_mod, e_mod)
    t_sd, e_sd = t_mod.state_dict(), e_mod.state_dict()
    assert list(t_sd) == list(e_sd)
    assert [tuple(v.shape) for v in t_sd.values()] == [tuple(v.shape) for v in e_sd.values()]
    # and back: ember's weights load into a fresh torch module
    t_mod2 = type(t_mod)(*t_mod._ctor_args, **t_mod._ctor_kwargs)
    t_mod2.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in e_sd.items()})
    rng = np.random.default_rng(seed)
    arr = rng.standard_normal(x_shape).astype("float32")
    tx, ex = torch.tensor(arr, requires_grad=True), ember.tensor(arr, requires_grad=True)
    kw = forward_kwargs or {}
    ty, ey = t_mod(tx, **kw), e_mod(ex, **kw)
    assert_close(ey, ty, rtol=1e-4, atol=1e-5)
    assert_close(e_mod2_out(e_mod, t_mod2, ex, kw), ty, rtol=1e-4, atol=1e-5)
    gy = rng.standard_normal(tuple(ty.shape)).astype("float32")
    ty.backward(torch.tensor(gy))
    ey.backward(ember.tensor(gy))
    assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-4)
    for (name, tp), (_, ep) in zip(t_mod.named_parameters(), e_mod.named_parameters()):
        assert_close(ep.grad, tp.grad, rtol=1e-4, atol=1e-4)


def e_mod2_out(e_mod, t_mod2, ex, kw):
    """torch's module loaded from ember's state_dict computes what ember's does (as an ember tensor)."""
    return to_ember(t_mod2(torch.tensor(ex.detach().numpy()), **kw))


def _make(cls_name, *args, **kwargs):
    t_mod = getattr(torch.nn, cls_name)(*args, **kwargs)
    t_mod._ctor_args, t_mod._ctor_kwargs = args, kwargs
    return t_mod, getattr(ember.nn, cls_name)(*args, **kwargs)


@pytest.mark.parametrize("cls_name,args,kwargs,x_shape", [
    ("Conv2d", (3, 4, 3), {}, (2, 3, 6, 5)),
    ("Conv2d", (3, 4, (3, 2)), dict(stride=2, padding=(1, 2), bias=False), (2, 3, 7, 6)),
    ("Conv2d", (4, 6, 3), dict(groups=2, dilation=2, padding=2, padding_mode="reflect"), (1, 4, 6, 7)),
    ("Conv2d", (2, 3, 3), dict(padding=1, padding_mode="replicate", stride=(1, 2)), (2, 2, 5, 5)),
    ("Conv2d", (2, 3, 3), dict(padding=(2, 1), padding_mode="circular"), (2, 2, 5, 4)),
    ("Conv2d", (2, 3, 4), dict(padding="same", padding_mode="reflect"), (2, 2, 6, 6)),
    ("Conv2d", (2, 3, 3), dict(padding="same"), (2, 6, 5)),                         # unbatched
    ("Conv2d", (4, 4, 3), dict(groups=4, padding="valid"), (2, 4, 5, 5)),
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1, padding_mode="circular"), (2, 3, 9)),
    ("Conv1d", (2, 4, 2), dict(padding="same", dilation=3, padding_mode="replicate"), (2, 2, 8)),
    ("Conv3d", (2, 3, 3), dict(padding=1, padding_mode="reflect"), (1, 2, 4, 5, 4)),
    ("Conv3d", (2, 4, (1, 2, 3)), dict(stride=(1, 2, 1), groups=2), (2, 2, 3, 4, 5)),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    ("ConvTranspose2d", (4, 2, (2, 3)), dict(groups=2, dilation=2, bias=False), (1, 4, 3, 3)),
    ("ConvTranspose1d", (3, 2, 3), dict(stride=3, padding=1), (2, 3, 5)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2), (1, 2, 2, 3, 2)),
])
def test_conv_module_against_torch(cls_name, args, kwargs, x_shape):
    t_mod, e_mod = _make(cls_name, *args, **kwargs)
    _check_module(t_mod, e_mod, x_shape)
    assert repr(e_mod) == repr(t_mod)
    for attr in ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
                 "padding_mode", "output_padding", "transposed"):
        assert getattr(e_mod, attr) == getattr(t_mod, attr), attr
    assert tuple(e_mod._reversed_padding_repeated_twice) == tuple(t_mod._reversed_padding_repeated_twice)


@pytest.mark.parametrize("output_size", [(9, 11), [1, 4, 10, 12], (10, 11)])
def test_conv_transpose_output_size(output_size):
    t_mod, e_mod = _make("ConvTranspose2d", 3, 4, 3, stride=2, padding=1)
    _check_module(t_mod, e_mod, (1, 3, 5, 6), forward_kwargs=dict(output_size=output_size))


def test_conv_transpose_output_size_errors():
    t_mod, e_mod = _make("ConvTranspose2d", 3, 4, 3, stride=2, padding=1)
    copy_weights(t_mod, e_mod)
    tx, ex = torch.zeros(1, 3, 5, 6), ember.zeros(1, 3, 5, 6)
    raises_like(lambda: t_mod(tx, output_size=(12, 11)), lambda: e_mod(ex, output_size=(12, 11)))
    raises_like(lambda: t_mod(tx, output_size=(12,)), lambda: e_mod(ex, output_size=(12,)))


def test_conv_init_bounds_and_dtype():
    m = ember.nn.Conv2d(10, 4, (2, 5))   # fan_in 100: U(+-0.1)
    w = m.weight.detach().numpy()
    assert w.shape == (4, 10, 2, 5) and 0.08 < np.abs(w).max() <= 0.1
    assert 0 < np.abs(m.bias.detach().numpy()).max() <= 0.1
    mt = ember.nn.ConvTranspose2d(10, 6, 3, groups=2)  # weight (10, 3, 3, 3): fan_in 27
    assert tuple(mt.weight.shape) == (10, 3, 3, 3)
    assert np.abs(mt.bias.detach().numpy()).max() <= 1 / math.sqrt(27)
    md = ember.nn.Conv1d(2, 2, 3, dtype=ember.float64)
    assert md.weight.dtype == ember.float64 and md.bias.dtype == ember.float64
    assert ember.nn.Conv2d(2, 2, 1, bias=False).bias is None


@pytest.mark.parametrize("cls_name,args,kwargs", [
    ("Conv2d", (3, 2, 3), dict(groups=2)),                     # in_channels not divisible by groups
    ("Conv2d", (4, 3, 3), dict(groups=2)),                     # out_channels not divisible
    ("Conv2d", (4, 4, 3), dict(groups=0)),
    ("Conv2d", (4, 4, 3), dict(padding="same", stride=2)),
    ("Conv2d", (4, 4, 3), dict(padding="full")),
    ("Conv2d", (4, 4, 3), dict(padding_mode="zero")),
    ("ConvTranspose2d", (4, 4, 3), dict(padding_mode="reflect")),
    ("Conv1d", (4, 4, 3), dict(groups=3)),
])
def test_conv_constructor_errors(cls_name, args, kwargs):
    # NOTE: messages that print a Python set compare as sets: the set's order follows string hashes
    # (and the order marshalled into torch's .pyc), not anything either library chooses.
    exc = raises_like(lambda: getattr(torch.nn, cls_name)(*args, **kwargs),
                      lambda: getattr(ember.nn, cls_name)(*args, **kwargs), match_message=False)
    try:
        getattr(torch.nn, cls_name)(*args, **kwargs)
    except ValueError as t_exc:
        assert _unordered(str(exc)) == _unordered(str(t_exc))


def _unordered(message):
    if "{" not in message:
        return message
    head, rest = message.split("{", 1)
    inside, tail = rest.split("}", 1)
    return head, frozenset(inside.split(", ")), tail


@pytest.mark.parametrize("cls_name,args,kwargs,x_shape", [
    ("Conv2d", (3, 2, 3), {}, (1, 4, 5, 5)),               # wrong channel count
    ("Conv2d", (3, 2, 3), {}, (5, 5)),                     # 2-d input to Conv2d
    ("Conv2d", (3, 2, 3), {}, (1, 3, 2, 2)),               # kernel larger than input
    ("Conv2d", (3, 2, 3), dict(padding=1, padding_mode="circular"), (1, 3, 5)),
    ("Conv2d", (3, 2, 3), dict(padding=3, padding_mode="reflect"), (1, 3, 3, 3)),
    ("Conv1d", (3, 2, 3), {}, (1, 3, 4, 4)),
    ("ConvTranspose2d", (3, 2, 3), {}, (1, 2, 4, 4)),
])
def test_conv_forward_errors(cls_name, args, kwargs, x_shape):
    t_mod, e_mod = _make(cls_name, *args, **kwargs)
    raises_like(lambda: t_mod(torch.zeros(x_shape)), lambda: e_mod(ember.zeros(x_shape)))


def test_conv_module_double_backward_and_eval():
    t_mod, e_mod = _make("Conv2d", 2, 3, 3, padding=1)
    copy_weights(t_mod, e_mod)
    t_mod.eval()
    e_mod.eval()
    arr = np.random.default_rng(9).standard_normal((2, 2, 4, 4)).astype("float32")
    grads = []
    for lib, mod in ((torch, t_mod), (ember, e_mod)):
        x = lib.tensor(arr, requires_grad=True)
        (gx,) = lib.autograd.grad(mod(x).pow(2).sum(), x, create_graph=True)
        gx.pow(2).sum().backward()
        grads.append((mod.weight.grad, x.grad))
    assert_close(grads[1][0], grads[0][0], rtol=1e-4, atol=1e-3)
    assert_close(grads[1][1], grads[0][1], rtol=1e-4, atol=1e-3)
