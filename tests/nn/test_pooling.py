"""Max and average pooling (functional and modules) against PyTorch: values, indices, gradients, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from tests.nn._nn_helpers import assert_close, raises_like, to_ember


def _compare(name, shape, *args, dtype=torch.float32, rtol=1e-5, atol=1e-6, seed=0, **kwargs):
    """Run F.<name> in both libraries on the same input; compare outputs (and indices) and input grads."""
    gen = torch.Generator().manual_seed(seed)
    t_x = torch.randn(*shape, generator=gen, dtype=dtype).requires_grad_(True)
    e_x = to_ember(t_x)
    t_out = getattr(TF, name)(t_x, *args, **kwargs)
    e_out = getattr(EF, name)(e_x, *args, **kwargs)
    if isinstance(t_out, tuple):
        (t_out, t_idx), (e_out, e_idx) = t_out, e_out
        assert e_idx.dtype == ember.int64
        np.testing.assert_array_equal(e_idx.numpy(), t_idx.numpy())
    assert_close(e_out, t_out, rtol=rtol, atol=atol)
    t_g = torch.randn(t_out.shape, generator=gen, dtype=dtype)
    t_out.backward(t_g)
    e_out.backward(to_ember(t_g))
    assert_close(e_x.grad, t_x.grad, rtol=rtol, atol=atol)
    return e_out


MAX_CASES = [
    ("max_pool2d", (2, 3, 7, 7), (3,), {}),
    ("max_pool2d", (2, 3, 7, 8), (3, 2, 1), {}),
    ("max_pool2d", (1, 2, 9, 6), ((3, 2),), dict(stride=(2, 1), padding=(1, 1), dilation=(2, 1))),
    ("max_pool2d", (2, 2, 8, 7), (3, 2, 1), dict(ceil_mode=True)),
    ("max_pool2d", (2, 2, 6, 6), (2, 3), {}),  # stride > kernel
    ("max_pool2d", (3, 5, 5), (2,), dict(ceil_mode=True)),  # unbatched, ceil edge
    ("max_pool2d", (1, 1, 4, 4), (4,), {}),
    ("max_pool1d", (2, 3, 11), (3, 2, 1), dict(ceil_mode=True)),
    ("max_pool1d", (3, 10), (2,), dict(dilation=3)),
    ("max_pool3d", (1, 2, 5, 6, 5), (3, 2, 1), {}),
    ("max_pool3d", (2, 4, 5, 5), ((1, 2, 3),), dict(stride=(1, 2, 1), ceil_mode=True)),
]


@pytest.mark.parametrize("name,shape,args,kwargs", MAX_CASES)
def test_max_pool_values_indices_grads(name, shape, args, kwargs):
    _compare(name, shape, *args, return_indices=True, **kwargs)


def test_max_pool_with_indices_functions_and_torch_aliases():
    t_x = torch.randn(2, 3, 9)
    e_x = to_ember(t_x)
    tv, ti = TF.max_pool1d_with_indices(t_x, 3, 2)
    ev, ei = EF.max_pool1d_with_indices(e_x, 3, 2)
    assert_close(ev, tv)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    assert_close(ember.max_pool1d(e_x, 2), torch.max_pool1d(t_x, 2))
    ev, ei = ember.max_pool1d_with_indices(e_x, 2)
    np.testing.assert_array_equal(ei.numpy(), torch.max_pool1d_with_indices(t_x, 2)[1].numpy())
    x4 = torch.randn(1, 2, 6, 6)
    assert_close(ember.max_pool2d(to_ember(x4), 3, 2, 1), torch.max_pool2d(x4, 3, 2, 1))
    x5 = torch.randn(1, 2, 4, 4, 4)
    assert_close(ember.max_pool3d(to_ember(x5), 2), torch.max_pool3d(x5, 2))
    for n in (2, 3):
        x = torch.randn(*([1, 2] + [5] * n))
        tv, ti = getattr(TF, f"max_pool{n}d_with_indices")(x, 2)
        ev, ei = getattr(EF, f"max_pool{n}d_with_indices")(to_ember(x), 2)
        assert_close(ev, tv)
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())


def test_max_pool_nan_ties_and_minus_inf():
    x = torch.tensor([[[[1., 1., 2., 2.], [float("nan"), 0., 5., 5.], [-float("inf")] * 4, [-float("inf")] * 4]]])
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1)):
        tv, ti = TF.max_pool2d(x, return_indices=True, **kw)
        ev, ei = EF.max_pool2d(to_ember(x), return_indices=True, **kw)
        np.testing.assert_array_equal(ev.numpy(), tv.numpy())
        np.testing.assert_array_equal(ei.numpy(), ti.numpy())


def test_max_pool_grad_fn_name_and_gradcheck():
    x = ember.randn(1, 2, 5, 5, dtype=ember.float64, requires_grad=True)
    y = EF.max_pool2d(x, 3, 2, 1)
    assert type(y.grad_fn).__name__ == "MaxPool2DWithIndicesBackward0"
    assert ember.autograd.gradcheck(lambda t: EF.max_pool2d(t, 3, 2, 1), (x,))
    assert ember.autograd.gradgradcheck(lambda t: EF.max_pool2d(t, 2), (x,))


def test_max_pool_integer_and_half():
    x = torch.randint(-50, 50, (1, 2, 6, 6))
    np.testing.assert_array_equal(EF.max_pool2d(to_ember(x), 3, 2, 1).numpy(), TF.max_pool2d(x, 3, 2, 1).numpy())
    h = torch.randn(1, 2, 6, 6).half()
    np.testing.assert_array_equal(EF.max_pool2d(to_ember(h), 2).numpy(), TF.max_pool2d(h, 2).numpy())


AVG_CASES = [
    ("avg_pool2d", (2, 3, 7, 7), (3,), {}),
    ("avg_pool2d", (2, 3, 7, 8), (3, 2, 1), {}),
    ("avg_pool2d", (2, 3, 7, 8), (3, 2, 1), dict(count_include_pad=False)),
    ("avg_pool2d", (2, 2, 8, 7), (3, 2, 1), dict(ceil_mode=True)),
    ("avg_pool2d", (2, 2, 8, 7), (3, 2, 1), dict(ceil_mode=True, count_include_pad=False)),
    ("avg_pool2d", (1, 2, 6, 5), ((3, 2),), dict(stride=(2, 3), padding=(1, 0), divisor_override=5)),
    ("avg_pool2d", (3, 5, 5), (2,), dict(ceil_mode=True)),
    ("avg_pool1d", (2, 3, 11), (3, 2, 1), dict(ceil_mode=True, count_include_pad=False)),
    ("avg_pool1d", (3, 10), (4,), {}),
    ("avg_pool3d", (1, 2, 5, 6, 5), (3, 2, 1), {}),
    ("avg_pool3d", (2, 4, 5, 5), ((1, 2, 3),), dict(stride=(1, 2, 1), ceil_mode=True, count_include_pad=False)),
]


@pytest.mark.parametrize("name,shape,args,kwargs", AVG_CASES)
def test_avg_pool_values_grads(name, shape, args, kwargs):
    _compare(name, shape, *args, **kwargs)


def test_avg_pool_float64_gradcheck_and_double_backward():
    x = ember.randn(1, 2, 5, 4, dtype=ember.float64, requires_grad=True)
    y = EF.avg_pool2d(x, 3, 2, 1, ceil_mode=True)
    assert type(y.grad_fn).__name__ == "AvgPool2DBackward0"
    fn = lambda t: EF.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False)  # noqa: E731
    assert ember.autograd.gradcheck(fn, (x,))
    assert ember.autograd.gradgradcheck(fn, (x,))


def test_avg_pool_integer_input_and_alias():
    x = torch.randint(-20, 20, (1, 2, 5, 5))
    np.testing.assert_array_equal(EF.avg_pool2d(to_ember(x), 2).numpy(), TF.avg_pool2d(x, 2).numpy())
    y = torch.randn(2, 3, 8)
    assert_close(ember.avg_pool1d(to_ember(y), 3, 2, 1, True, False), torch.avg_pool1d(y, 3, 2, 1, True, False))


def _both(fn_name, shape, *args, **kwargs):
    x = torch.randn(*shape)
    return (lambda: getattr(TF, fn_name)(x, *args, **kwargs),
            lambda: getattr(EF, fn_name)(to_ember(x), *args, **kwargs))


@pytest.mark.parametrize("name,shape,args,kwargs", [
    ("max_pool2d", (1, 2, 5, 5), (3,), dict(padding=2)),
    ("max_pool2d", (1, 2, 5, 5), (2,), dict(padding=-1)),
    ("max_pool2d", (1, 2, 5, 5), (7,), {}),
    ("max_pool2d", (1, 2, 5, 5), ((2, 2, 2),), {}),
    ("max_pool2d", (1, 2, 5, 5), (2,), dict(dilation=0)),
    ("max_pool2d", (1, 2, 5, 5), (2,), dict(stride=0)),
    ("max_pool2d", (2, 0, 5, 5), (2,), {}),
    ("max_pool3d", (1, 2, 5, 5, 5), ((2, 2),), {}),
    ("max_pool1d", (1, 2, 5), ((2, 2),), {}),
    ("avg_pool2d", (1, 2, 5, 5), (3,), dict(padding=2)),
    ("avg_pool2d", (1, 2, 5, 5), (7,), {}),
    ("avg_pool2d", (1, 2, 3, 5, 5), (2,), {}),
    ("avg_pool1d", (5,), (2,), {}),
    ("avg_pool1d", (1, 2, 5), ((2, 2),), {}),
])
def test_pool_errors_match_torch(name, shape, args, kwargs):
    raises_like(*_both(name, shape, *args, **kwargs))


# --- modules -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls,args,kwargs,shape", [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 10)),
    ("MaxPool2d", (3, 2, 1), {}, (2, 3, 9, 9)),
    ("MaxPool2d", (2,), dict(return_indices=True), (1, 2, 6, 6)),
    ("MaxPool3d", ((1, 2, 2),), {}, (1, 2, 3, 4, 4)),
    ("AvgPool1d", (3,), dict(stride=2), (2, 3, 10)),
    ("AvgPool2d", (3, 2, 1), dict(count_include_pad=False), (2, 3, 9, 9)),
    ("AvgPool3d", (2,), dict(divisor_override=3), (1, 2, 4, 4, 4)),
])
def test_pool_modules(cls, args, kwargs, shape):
    t_m = getattr(torch.nn, cls)(*args, **kwargs)
    e_m = getattr(ember.nn, cls)(*args, **kwargs)
    assert repr(e_m) == repr(t_m)
    assert list(e_m.state_dict()) == list(t_m.state_dict()) == []
    x = torch.randn(*shape)
    t_out, e_out = t_m(x), e_m(to_ember(x))
    if isinstance(t_out, tuple):
        np.testing.assert_array_equal(e_out[1].numpy(), t_out[1].numpy())
        t_out, e_out = t_out[0], e_out[0]
    assert_close(e_out, t_out)


def test_pool_stride_defaults_to_kernel():
    assert ember.nn.MaxPool2d(3).stride == torch.nn.MaxPool2d(3).stride == 3
    assert ember.nn.AvgPool2d((2, 3)).stride == (2, 3)


def _error_cases():
    for fn in ("max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d"):
        nd = int(fn[-2])
        good = [1, 2] + [5] * nd
        for args, kwargs in (((3,), dict(padding=2)), ((0,), {}), ((2,), dict(stride=0)), (((2,) * (nd + 1),), {}),
                             ((7,), {}), ((2,), dict(padding=-1)), ((3,), dict(stride=9))):
            yield fn, good, args, kwargs
        for shape in ([5], [1, 2, 3] + [5] * nd, [0, 2] + [5] * nd, [2, 0] + [5] * nd, [5] * nd, [2, 5] + [0] * nd):
            yield fn, shape, (2,), {}
        if fn.startswith("max"):
            yield fn, good, (2,), dict(dilation=0)


@pytest.mark.parametrize("name,shape,args,kwargs", list(_error_cases()))
def test_pool_argument_and_shape_errors_every_rank(name, shape, args, kwargs):
    """Each kernel's own wording: PyTorch's 1d, 2d and 3d max/avg pools word their checks differently."""
    x = torch.randn(*shape)
    try:
        getattr(TF, name)(x, *args, **kwargs)
    except Exception:  # noqa: BLE001
        raises_like(*_both(name, shape, *args, **kwargs))
        return
    assert_close(getattr(EF, name)(to_ember(x), *args, **kwargs), getattr(TF, name)(x, *args, **kwargs))


def test_every_pooling_and_resampling_name_exists():
    names = [n for n in dir(TF) if any(k in n for k in ("pool", "interpolate", "upsample", "grid_sample", "affine_grid"))
             and not n.startswith("_")]
    assert [n for n in names if not hasattr(EF, n)] == []
    modules = [n for n in dir(torch.nn) if any(k in n for k in ("Pool", "Unpool", "Upsampl"))]
    assert [n for n in modules if not hasattr(ember.nn, n)] == []
    for n in ("max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d",
              "adaptive_max_pool1d", "grid_sampler", "affine_grid_generator"):
        assert hasattr(torch, n) and hasattr(ember, n), n
