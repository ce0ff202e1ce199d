"""The padding layers and F.pad's reflect/replicate/circular modes against PyTorch: values,
gradients, reprs and errors for 1-3 padded dims, batched and unbatched, negative pads."""
import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, raises_like


def _compare(t_fn, e_fn, shape, seed=0):
    arr = np.random.default_rng(seed).standard_normal(shape).astype("float32")
    tx, ex = torch.tensor(arr, requires_grad=True), ember.tensor(arr, requires_grad=True)
    ty, ey = t_fn(tx), e_fn(ex)
    assert_close(ey, ty)
    gy = np.random.default_rng(seed + 1).standard_normal(tuple(ty.shape)).astype("float32")
    ty.backward(torch.tensor(gy))
    ey.backward(ember.tensor(gy))
    assert_close(ex.grad, tx.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls_name,args,shape", [
    ("ZeroPad1d", (2,), (2, 3, 4)),
    ("ZeroPad2d", ((1, 0, 2, 3),), (3, 4, 5)),
    ("ZeroPad3d", (1,), (1, 2, 2, 3, 2)),
    ("ConstantPad1d", ((1, 2), 3.5), (3, 4)),
    ("ConstantPad2d", (1, 2), (1, 2, 3, 3)),
    ("ConstantPad3d", ((1, 0, 0, 2, 1, 1), -1.0), (2, 3, 2, 2)),
    ("ReflectionPad1d", ((2, 1),), (2, 3, 4)),
    ("ReflectionPad2d", (2,), (1, 2, 4, 3)),
    ("ReflectionPad2d", ((1, 0, 2, 1),), (2, 4, 3)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 2, 3)),
    ("ReplicationPad1d", ((3, 1),), (2, 2, 3)),
    ("ReplicationPad2d", ((0, 2, 3, 1),), (1, 2, 2, 3)),
    ("ReplicationPad3d", (2,), (2, 2, 2, 3)),
    ("CircularPad1d", ((2, 1),), (2, 3, 4)),
    ("CircularPad2d", ((1, 2, 2, 0),), (1, 2, 3, 3)),
    ("CircularPad2d", ((-1, 2, 1, -1),), (1, 2, 3, 4)),      # negative: crop, then wrap the cropped
    ("CircularPad3d", (1,), (1, 1, 2, 3, 2)),
])
def test_padding_modules_against_torch(cls_name, args, shape):
    t_mod, e_mod = getattr(torch.nn, cls_name)(*args), getattr(ember.nn, cls_name)(*args)
    assert repr(e_mod) == repr(t_mod)
    assert e_mod.padding == t_mod.padding
    _compare(t_mod, e_mod, shape)


@pytest.mark.parametrize("shape,pad,mode", [
    ((2, 3, 5), (-1, 2), "circular"),
    ((2, 3, 5), (2, -1), "circular"),
    ((2, 3, 4, 4), (-1, 2, 1, -2), "circular"),
    ((2, 3, 5), (-1, 2), "replicate"),
    ((3, 4, 5), (1, 0, 2, 3), "reflect"),
    ((1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2), "replicate"),
    ((2, 3, 4, 5), (1, 2), "constant"),
])
def test_f_pad_modes(shape, pad, mode):
    _compare(lambda x: torch.nn.functional.pad(x, pad, mode=mode),
             lambda x: ember.nn.functional.pad(x, pad, mode=mode), shape)


@pytest.mark.parametrize("cls_name,args,shape", [
    ("CircularPad1d", (1,), (2, 3, 4, 5)),           # ValueError from the module's own dim check
    ("CircularPad2d", (1,), (4, 5)),
    ("ReflectionPad1d", (1,), (2, 3, 4, 5)),         # NotImplementedError from F.pad
    ("ReflectionPad1d", (4,), (2, 3, 4)),            # pad >= input size
    ("ReplicationPad2d", (1,), (2, 0, 3, 3)),
    ("CircularPad1d", (5,), (2, 3, 4)),              # wraps more than once
])
def test_padding_errors(cls_name, args, shape):
    t_mod, e_mod = getattr(torch.nn, cls_name)(*args), getattr(ember.nn, cls_name)(*args)
    raises_like(lambda: t_mod(torch.zeros(shape)), lambda: e_mod(ember.zeros(shape)))
