"""F.unfold/F.fold, nn.Unfold/nn.Fold, pixel (un)shuffle and channel shuffle against PyTorch:
values, gradients, double backward, reprs and errors."""
import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, raises_like

TF, EF = torch.nn.functional, ember.nn.functional


def _compare(t_fn, e_fn, shape, seed=0, dtype="float32"):
    arr = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    tx, ex = torch.tensor(arr, requires_grad=True), ember.tensor(arr, requires_grad=True)
    ty, ey = t_fn(tx), e_fn(ex)
    assert_close(ey, ty, rtol=1e-5, atol=1e-5)
    gy = np.random.default_rng(seed + 1).standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.tensor(gy))
    ey.backward(ember.tensor(gy))
    assert_close(ex.grad, tx.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape,kwargs", [
    ((2, 3, 5, 6), dict(kernel_size=(2, 3))),
    ((2, 3, 5, 6), dict(kernel_size=2, stride=2, padding=1)),
    ((1, 2, 7, 6), dict(kernel_size=(3, 2), dilation=(2, 1), stride=(1, 2), padding=(1, 0))),
    ((3, 5, 6), dict(kernel_size=3)),                                    # unbatched
    ((0, 2, 4, 4), dict(kernel_size=2)),                                 # empty batch
])
def test_unfold(shape, kwargs):
    _compare(lambda x: TF.unfold(x, **kwargs), lambda x: EF.unfold(x, **kwargs), shape)
    t_mod, e_mod = torch.nn.Unfold(**kwargs), ember.nn.Unfold(**kwargs)
    assert repr(e_mod) == repr(t_mod)
    _compare(t_mod, e_mod, shape)


@pytest.mark.parametrize("shape,output_size,kwargs", [
    ((2, 12, 16), (5, 6), dict(kernel_size=(2, 3))),
    ((2, 8, 12), (5, 6), dict(kernel_size=2, stride=2, padding=1)),
    ((1, 12, 15), (7, 6), dict(kernel_size=(3, 2), dilation=(2, 1), stride=(1, 2), padding=(1, 0))),
    ((18, 9), (5, 5), dict(kernel_size=3, stride=(2, 2), padding=1)),    # unbatched
])
def test_fold(shape, output_size, kwargs):
    _compare(lambda x: TF.fold(x, output_size, **kwargs), lambda x: EF.fold(x, output_size, **kwargs), shape)
    t_mod, e_mod = torch.nn.Fold(output_size, **kwargs), ember.nn.Fold(output_size, **kwargs)
    assert repr(e_mod) == repr(t_mod)
    _compare(t_mod, e_mod, shape)


def test_unfold_fold_gradcheck_and_double_backward():
    x = ember.tensor(np.random.default_rng(2).standard_normal((1, 2, 4, 3)), requires_grad=True)
    f = lambda x: EF.unfold(x, (2, 2), padding=1, stride=(2, 1)).pow(2)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x,))
    assert ember.autograd.gradgradcheck(f, (x,))
    c = ember.tensor(np.random.default_rng(3).standard_normal((1, 8, 6)), requires_grad=True)
    g = lambda c: EF.fold(c, (3, 4), (2, 2), padding=(1, 0), stride=(2, 1)).pow(2)  # noqa: E731
    assert ember.autograd.gradcheck(g, (c,))
    assert ember.autograd.gradgradcheck(g, (c,))


@pytest.mark.parametrize("call", [
    lambda F, x: F.unfold(x[0, 0], (2, 3)),                              # 2-d input: IndexError
    lambda F, x: F.unfold(x.unsqueeze(0), (2, 3)),
    lambda F, x: F.unfold(x, (7, 3)),
    lambda F, x: F.unfold(x, 3, padding=-1),
    lambda F, x: F.unfold(x, 3, stride=0),
    lambda F, x: F.unfold(x, 3, dilation=0),
    lambda F, x: F.unfold(x, 0),
    lambda F, x: F.unfold(x, (1, 2, 3)),
    lambda F, x: F.unfold(x[:, :0], 2),
    lambda F, x: F.unfold(x.long(), 2),
    lambda F, x: F.fold(x.reshape(2, 12, 10), (5, 6), (2, 3)),
    lambda F, x: F.fold(x.reshape(2, 15, 12)[:, :13], (5, 6), 2),
    lambda F, x: F.fold(x, (5, 6), 2),
    lambda F, x: F.fold(x.reshape(2, 12, 15), (5,), 2),
    lambda F, x: F.fold(x.reshape(2, 12, 15), (1, 1), 2),
])
def test_fold_unfold_errors(call):
    arr = np.zeros((2, 3, 5, 6), dtype="float32")
    raises_like(lambda: call(TF, torch.tensor(arr)), lambda: call(EF, ember.tensor(arr)))


@pytest.mark.parametrize("name,factor,shape", [
    ("pixel_shuffle", 2, (2, 8, 3, 2)),
    ("pixel_shuffle", 3, (9, 2, 3)),
    ("pixel_shuffle", 2, (2, 3, 8, 3, 3)),
    ("pixel_unshuffle", 2, (2, 2, 4, 6)),
    ("pixel_unshuffle", 3, (1, 3, 3, 6, 3)),
    ("channel_shuffle", 3, (2, 6, 3, 2)),
    ("channel_shuffle", 2, (2, 4, 3)),
    ("native_channel_shuffle", 2, (2, 4, 3)),
])
def test_shuffles(name, factor, shape):
    if name == "native_channel_shuffle":  # NOTE: PyTorch does not differentiate it; compare values only
        arr = np.random.default_rng(4).standard_normal(shape).astype("float32")
        assert_close(EF.native_channel_shuffle(ember.tensor(arr), factor),
                     TF.native_channel_shuffle(torch.tensor(arr), factor))
        return
    _compare(lambda x: getattr(TF, name)(x, factor), lambda x: getattr(EF, name)(x, factor), shape)
    cls = {"pixel_shuffle": "PixelShuffle", "pixel_unshuffle": "PixelUnshuffle",
           "channel_shuffle": "ChannelShuffle"}[name]
    t_mod, e_mod = getattr(torch.nn, cls)(factor), getattr(ember.nn, cls)(factor)
    assert repr(e_mod) == repr(t_mod)
    _compare(t_mod, e_mod, shape)
    assert_close(getattr(ember, name)(ember.ones(shape), factor), getattr(torch, name)(torch.ones(shape), factor))


@pytest.mark.parametrize("call", [
    lambda F, x: F.pixel_shuffle(x[:, :7], 2),
    lambda F, x: F.pixel_shuffle(x[0, 0], 2),
    lambda F, x: F.pixel_shuffle(x, 0),
    lambda F, x: F.pixel_unshuffle(x[..., :3, :], 2),
    lambda F, x: F.pixel_unshuffle(x[..., :3], 2),
    lambda F, x: F.pixel_unshuffle(x[0, 0], 2),
    lambda F, x: F.pixel_unshuffle(x, 0),
    lambda F, x: F.channel_shuffle(x[:, :, 0, 0], 2),
    lambda F, x: F.channel_shuffle(x, 3),
    lambda F, x: F.channel_shuffle(x, 0),
])
def test_shuffle_errors(call):
    arr = np.zeros((2, 8, 4, 4), dtype="float32")
    raises_like(lambda: call(TF, torch.tensor(arr)), lambda: call(EF, ember.tensor(arr)))
