"""Adaptive, fractional and LP pooling and max unpooling against PyTorch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from tests.nn._nn_helpers import assert_close, raises_like, to_ember
from tests.nn.test_pooling import _compare


@pytest.mark.parametrize("name,shape,size", [
    ("adaptive_avg_pool2d", (2, 3, 7, 9), (3, 4)),
    ("adaptive_avg_pool2d", (2, 3, 8, 6), (4, 3)),  # equal windows
    ("adaptive_avg_pool2d", (3, 5, 5), 1),  # unbatched, global
    ("adaptive_avg_pool2d", (1, 2, 5, 7), (None, 3)),
    ("adaptive_avg_pool2d", (1, 2, 3, 4), (6, 7)),  # larger than the input
    ("adaptive_avg_pool1d", (2, 3, 11), 4),
    ("adaptive_avg_pool3d", (1, 2, 5, 4, 7), (2, 3, 3)),
    ("adaptive_max_pool2d", (2, 3, 7, 9), (3, 4)),
    ("adaptive_max_pool2d", (3, 8, 6), (4, 3)),
    ("adaptive_max_pool2d", (1, 2, 3, 4), (6, 7)),
    ("adaptive_max_pool1d", (2, 3, 11), 4),
    ("adaptive_max_pool2d", (2, 3, 5, 6), 1),  # global
    ("adaptive_max_pool3d", (3, 2, 4, 3), 1),
    ("adaptive_max_pool3d", (1, 2, 5, 4, 7), (2, 3, 3)),
])
def test_adaptive_pools(name, shape, size):
    kw = dict(return_indices=True) if "max" in name else {}
    _compare(name, shape, size, **kw)


def test_adaptive_torch_aliases_and_gradcheck():
    x = torch.randn(2, 3, 10)
    assert_close(ember.adaptive_avg_pool1d(to_ember(x), 3), torch.adaptive_avg_pool1d(x, 3))
    ev, ei = ember.adaptive_max_pool1d(to_ember(x), 3)
    tv, ti = torch.adaptive_max_pool1d(x, 3)
    assert_close(ev, tv)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    e = ember.randn(1, 2, 5, 7, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda t: EF.adaptive_avg_pool2d(t, (3, 4)), (e,))
    assert ember.autograd.gradcheck(lambda t: EF.adaptive_max_pool2d(t, (3, 4)), (e,))
    assert ember.autograd.gradgradcheck(lambda t: EF.adaptive_max_pool2d(t, (3, 4)), (e,))
    assert ember.autograd.gradgradcheck(lambda t: EF.adaptive_avg_pool2d(t, (3, 4)), (e,))
    assert type(EF.adaptive_max_pool2d(e, 2).grad_fn).__name__ == "AdaptiveMaxPool2DBackward0"


def _adaptive_error_cases():
    for nd in (1, 2, 3):
        for kind in ("avg", "max"):
            for shape, size in (([2, 0] + [4] * nd, 2), ([1, 2] + [4] * nd, (2,) * (nd + 1)), ([4] * (nd - 1), 2),
                                ([1, 2] + [4] * nd, -1), ([1, 1, 2] + [4] * nd, 2), ([1, 2] + [4] * nd, (None,) * nd),
                                ([1, 2] + [4] * nd, 0)):
                if shape:
                    yield f"adaptive_{kind}_pool{nd}d", shape, size


@pytest.mark.parametrize("name,shape,size", list(_adaptive_error_cases()))
def test_adaptive_errors_and_edge_sizes(name, shape, size):
    x = torch.randn(*shape)
    try:
        expected = getattr(TF, name)(x, size)
    except Exception:  # noqa: BLE001
        raises_like(lambda: getattr(TF, name)(x, size), lambda: getattr(EF, name)(to_ember(x), size))
        return
    got = getattr(EF, name)(to_ember(x), size)
    if isinstance(expected, tuple):
        expected, got = expected[0], got[0]
    assert_close(got, expected)


@pytest.mark.parametrize("nd,shape,kwargs", [
    (2, (2, 3, 9, 8), dict(kernel_size=2, output_size=(4, 5))),
    (2, (3, 10, 7), dict(kernel_size=(3, 2), output_ratio=(0.5, 0.6))),
    (2, (1, 2, 5, 5), dict(kernel_size=2, output_size=4)),
    (3, (1, 2, 6, 7, 5), dict(kernel_size=2, output_size=(3, 4, 2))),
])
def test_fractional_max_pool(nd, shape, kwargs):
    batch = shape[0] if len(shape) == nd + 2 else 1
    gen = torch.Generator().manual_seed(0)
    samples = torch.rand(batch, shape[-nd - 1], nd, generator=gen)
    t_x = torch.randn(*shape, generator=gen).requires_grad_(True)
    e_x = to_ember(t_x)
    tv, ti = getattr(TF, f"fractional_max_pool{nd}d")(t_x, return_indices=True, _random_samples=samples, **kwargs)
    ev, ei = getattr(EF, f"fractional_max_pool{nd}d")(e_x, return_indices=True, _random_samples=to_ember(samples),
                                                      **kwargs)
    assert_close(ev, tv)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    up = torch.randn(tv.shape, generator=gen)
    tv.backward(up)
    ev.backward(to_ember(up))
    assert_close(e_x.grad, t_x.grad)


def test_fractional_modules_and_errors():
    x = torch.randn(1, 2, 8, 8)
    samples = torch.rand(1, 2, 2)
    t_m = torch.nn.FractionalMaxPool2d(3, output_size=4, _random_samples=samples)
    e_m = ember.nn.FractionalMaxPool2d(3, output_size=4, _random_samples=to_ember(samples))
    assert_close(e_m(to_ember(x)), t_m(x))
    assert EF.fractional_max_pool2d(ember.randn(1, 2, 8, 8), 2, output_ratio=0.5).shape == (1, 2, 4, 4)
    raises_like(lambda: torch.nn.FractionalMaxPool2d(2), lambda: ember.nn.FractionalMaxPool2d(2))
    raises_like(lambda: torch.nn.FractionalMaxPool2d(2, 3, 0.5), lambda: ember.nn.FractionalMaxPool2d(2, 3, 0.5))
    raises_like(lambda: torch.nn.FractionalMaxPool2d(2, output_ratio=1.5),
                lambda: ember.nn.FractionalMaxPool2d(2, output_ratio=1.5))


@pytest.mark.parametrize("nd,shape,args,kwargs", [
    (1, (2, 3, 9), (2.0, 3), dict(stride=2)),
    (2, (2, 3, 7, 6), (2.0, 3), dict(stride=2, ceil_mode=True)),
    (2, (3, 6, 6), (3.0, (2, 3)), {}),
    (3, (1, 2, 4, 5, 4), (1.5, 2), {}),
])
def test_lp_pool(nd, shape, args, kwargs):
    gen = torch.Generator().manual_seed(0)
    t_x = (torch.rand(*shape, generator=gen) + 0.1).requires_grad_(True)  # NOTE: positive: p=1.5 needs it
    e_x = to_ember(t_x)
    t_out = getattr(TF, f"lp_pool{nd}d")(t_x, *args, **kwargs)
    e_out = getattr(EF, f"lp_pool{nd}d")(e_x, *args, **kwargs)
    assert_close(e_out, t_out, rtol=1e-5, atol=1e-6)
    t_out.sum().backward()
    e_out.sum().backward()
    assert_close(e_x.grad, t_x.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("nd,shape,kernel,stride,padding,output_size", [
    (1, (2, 3, 9), 2, None, 0, None),
    (2, (2, 3, 7, 6), 3, 2, 1, (7, 6)),
    (2, (2, 3, 7, 6), 2, None, 0, (7, 6)),
    (2, (3, 6, 6), 2, None, 0, None),
    (3, (1, 2, 4, 5, 4), 2, None, 0, (1, 2, 4, 5, 4)),
])
def test_max_unpool(nd, shape, kernel, stride, padding, output_size):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(*shape, generator=gen)
    t_v, t_i = getattr(TF, f"max_pool{nd}d")(x, kernel, stride, padding, return_indices=True)
    t_v.requires_grad_(True)
    e_v = to_ember(t_v)
    e_i = to_ember(t_i)
    t_out = getattr(TF, f"max_unpool{nd}d")(t_v, t_i, kernel, stride, padding, output_size)
    e_out = getattr(EF, f"max_unpool{nd}d")(e_v, e_i, kernel, stride, padding, output_size)
    assert_close(e_out, t_out)
    up = torch.randn(t_out.shape, generator=gen)
    t_out.backward(up)
    e_out.backward(to_ember(up))
    assert_close(e_v.grad, t_v.grad)
    t_m = getattr(torch.nn, f"MaxUnpool{nd}d")(kernel, stride, padding)
    e_m = getattr(ember.nn, f"MaxUnpool{nd}d")(kernel, stride, padding)
    assert repr(e_m) == repr(t_m)
    assert_close(e_m(e_v, e_i, output_size), t_m(t_v, t_i, output_size))


def test_max_unpool_bad_output_size():
    x = torch.randn(1, 1, 4, 4)
    v, i = TF.max_pool2d(x, 2, return_indices=True)
    for bad_v, bad_i in ((v, i.float()), (v, i[:, :, :1]), (v, i.int()), (v[0, 0], i[0, 0])):
        raises_like(lambda: TF.max_unpool2d(bad_v, bad_i, 2), lambda: EF.max_unpool2d(to_ember(bad_v), to_ember(bad_i), 2))
    # NOTE: which invalid index PyTorch names depends on its threads: the type only
    err = raises_like(lambda: TF.max_unpool1d(v[0], i[0], 2), lambda: EF.max_unpool1d(to_ember(v[0]), to_ember(i[0]), 2),
                      match_message=False)
    assert str(err).startswith("Found an invalid max index") and str(err).endswith("(output volumes are of size 4x1)")
    raises_like(lambda: TF.max_unpool2d(v, i, 2, output_size=(9, 9)),
                lambda: EF.max_unpool2d(to_ember(v), to_ember(i), 2, output_size=(9, 9)))
    raises_like(lambda: TF.max_unpool2d(v, i, 2, output_size=(1, 2, 3)),
                lambda: EF.max_unpool2d(to_ember(v), to_ember(i), 2, output_size=(1, 2, 3)))


@pytest.mark.parametrize("cls,args,shape", [
    ("AdaptiveAvgPool1d", (3,), (2, 3, 8)),
    ("AdaptiveAvgPool2d", ((None, 3),), (2, 3, 5, 7)),
    ("AdaptiveAvgPool3d", (2,), (1, 2, 3, 5, 4)),
    ("AdaptiveMaxPool1d", (3, True), (2, 3, 8)),
    ("AdaptiveMaxPool2d", ((2, 3),), (2, 3, 5, 7)),
    ("AdaptiveMaxPool3d", (2,), (1, 2, 3, 5, 4)),
    ("LPPool1d", (2, 3), (2, 3, 8)),
    ("LPPool2d", (2, 2, 1), (2, 3, 5, 7)),
    ("LPPool3d", (1, 2), (1, 2, 3, 5, 4)),
])
def test_adaptive_lp_modules(cls, args, shape):
    t_m, e_m = getattr(torch.nn, cls)(*args), getattr(ember.nn, cls)(*args)
    assert repr(e_m) == repr(t_m)
    x = torch.rand(*shape) + 0.1
    t_out, e_out = t_m(x), e_m(to_ember(x))
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(e_out[1].numpy(), t_out[1].numpy())
        t_out, e_out = t_out[0], e_out[0]
    assert_close(e_out, t_out)


def test_adaptive_max_ties_nan_first_index():
    x = torch.tensor([[[[1., 2., 2., 0., 7.], [2., 2., float("nan"), 1., 7.], [0., float("nan"), 2., 7., 7.]]]])
    for size in ((2, 3), (1, 2), (3, 1), (1, 1)):
        tv, ti = TF.adaptive_max_pool2d(x, size, return_indices=True)
        ev, ei = EF.adaptive_max_pool2d(to_ember(x), size, return_indices=True)
        np.testing.assert_array_equal(ev.numpy(), tv.numpy())
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())
        tv, ti = TF.adaptive_max_pool2d(x.nan_to_num(), size, return_indices=True)
        ev, ei = EF.adaptive_max_pool2d(to_ember(x.nan_to_num()), size, return_indices=True)
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())


@pytest.mark.parametrize("call", [
    lambda F, x: F.max_pool2d(x.bool(), 2), lambda F, x: F.max_pool3d(x.bool().unsqueeze(0), 2),
    lambda F, x: F.avg_pool2d(x.int(), 2), lambda F, x: F.avg_pool3d(x.to(torch.uint8 if F is TF else ember.uint8).unsqueeze(0), 2),
    lambda F, x: F.avg_pool1d(x[0].bool(), 2), lambda F, x: F.adaptive_avg_pool2d(x.long(), 2),
    lambda F, x: F.adaptive_max_pool1d(x[0].long(), 2), lambda F, x: F.adaptive_avg_pool3d(x.long().unsqueeze(0), 2),
    lambda F, x: F.interpolate(x.long(), scale_factor=2), lambda F, x: F.interpolate(x[0].long(), scale_factor=2),
    lambda F, x: F.interpolate(x.long(), scale_factor=2, mode="bilinear"),
    lambda F, x: F.interpolate(x[0].int(), scale_factor=2, mode="linear"),
    lambda F, x: F.interpolate(x.long(), scale_factor=2, mode="bicubic"),
    lambda F, x: F.interpolate(x.long(), size=3, mode="area"),
])
def test_integer_dtype_refusals(call):
    x = torch.randint(0, 5, (1, 2, 4, 4))
    raises_like(lambda: call(TF, x), lambda: call(EF, to_ember(x)))


def test_integer_dtypes_accepted():
    x = torch.randint(0, 200, (1, 2, 5, 5))
    for call in (lambda F, t: F.max_pool2d(t, 2), lambda F, t: F.avg_pool2d(t, 3, 2, 1),
                 lambda F, t: F.interpolate(t.to(torch.uint8 if F is TF else ember.uint8), size=(7, 3)),
                 lambda F, t: F.max_pool3d(t.unsqueeze(0).int() if F is TF else t.unsqueeze(0).int(), 2)):
        np.testing.assert_array_equal(call(EF, to_ember(x)).numpy(), call(TF, x).numpy())


def test_empty_batch():
    x = torch.randn(0, 2, 5, 5)
    for call in (lambda F, t: F.max_pool2d(t, 2), lambda F, t: F.avg_pool2d(t, 2),
                 lambda F, t: F.adaptive_max_pool2d(t, 3), lambda F, t: F.adaptive_avg_pool2d(t, 3),
                 lambda F, t: F.interpolate(t, scale_factor=2, mode="bilinear")):
        assert tuple(call(EF, to_ember(x)).shape) == tuple(call(TF, x).shape)


@pytest.mark.parametrize("nd,x_shape,kwargs,s_shape", [
    (2, (1, 2, 6, 6), dict(kernel_size=3, output_size=5), (1, 2, 2)),
    (3, (1, 2, 6, 6, 6), dict(kernel_size=3, output_size=5), (1, 2, 3)),
    (2, (1, 2, 6, 6), dict(kernel_size=3), (1, 2, 2)),
    (2, (1, 2, 6, 6), dict(kernel_size=2, output_ratio=(1.5, 0.5)), (1, 2, 2)),
    (2, (1, 2, 6, 6), dict(kernel_size=2, output_size=3), (1, 3, 2)),
    (2, (2, 2, 6, 6), dict(kernel_size=2, output_size=3), (1, 2, 2)),
    (2, (2, 2, 6, 6), dict(kernel_size=2, output_size=3), (2, 2, 3)),
    (2, (2, 2, 6, 6), dict(kernel_size=2, output_size=3), (2, 2)),
    (2, (1, 2, 6, 6, 6), dict(kernel_size=2, output_size=3), (1, 2, 2)),
])
def test_fractional_errors(nd, x_shape, kwargs, s_shape):
    x, s = torch.randn(*x_shape), torch.rand(*s_shape)
    name = f"fractional_max_pool{nd}d"
    raises_like(lambda: getattr(TF, name)(x, _random_samples=s, **kwargs),
                lambda: getattr(EF, name)(to_ember(x), _random_samples=to_ember(s), **kwargs))


def test_fractional_extra_sample_rows_ignored():
    x, s = torch.randn(2, 2, 7, 6), torch.rand(3, 2, 2)
    tv, ti = TF.fractional_max_pool2d(x, 2, output_size=3, return_indices=True, _random_samples=s)
    ev, ei = EF.fractional_max_pool2d(to_ember(x), 2, output_size=3, return_indices=True, _random_samples=to_ember(s))
    assert_close(ev, tv)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
