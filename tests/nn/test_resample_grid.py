"""grid_sample and affine_grid against PyTorch: values, gradients wrt input and grid, errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from tests.nn._nn_helpers import assert_close, raises_like, to_ember


def _grid_case(in_shape, grid_shape, mode, padding_mode, align_corners, dtype=torch.float32, rtol=1e-4, atol=1e-5):
    gen = torch.Generator().manual_seed(1)
    t_x = torch.randn(*in_shape, generator=gen, dtype=dtype).requires_grad_(True)
    # NOTE: points beyond [-1, 1] exercise the padding modes
    t_g = (torch.rand(*grid_shape, generator=gen, dtype=dtype) * 2.6 - 1.3).requires_grad_(True)
    e_x, e_g = to_ember(t_x), to_ember(t_g)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    t_out, e_out = TF.grid_sample(t_x, t_g, **kw), EF.grid_sample(e_x, e_g, **kw)
    assert_close(e_out, t_out, rtol=rtol, atol=atol)
    up = torch.randn(t_out.shape, generator=gen, dtype=dtype)
    t_out.backward(up)
    e_out.backward(to_ember(up))
    assert_close(e_x.grad, t_x.grad, rtol=rtol, atol=atol)
    assert_close(e_g.grad, t_g.grad, rtol=rtol, atol=1e-4)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_2d(mode, padding_mode, align_corners):
    _grid_case((2, 3, 5, 6), (2, 4, 3, 2), mode, padding_mode, align_corners)


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_3d(mode, padding_mode):
    _grid_case((1, 2, 3, 4, 5), (1, 2, 3, 2, 3), mode, padding_mode, False)


def test_grid_sample_float64_gradcheck():
    x = ember.randn(1, 2, 3, 4, dtype=ember.float64, requires_grad=True)
    g = (ember.rand(1, 2, 3, 2, dtype=ember.float64) * 1.8 - 0.9).requires_grad_(True)
    for mode in ("bilinear", "bicubic"):
        assert ember.autograd.gradcheck(
            lambda a, b: EF.grid_sample(a, b, mode=mode, padding_mode="border", align_corners=False), (x, g))


@pytest.mark.parametrize("args,kwargs", [
    (((1, 2, 4, 4), (1, 3, 3, 3)), {}),
    (((2, 2, 4, 4), (1, 3, 3, 2)), {}),
    (((1, 2, 4, 4), (1, 3, 3, 2)), dict(mode="area")),
    (((1, 2, 4, 4), (1, 3, 3, 2)), dict(padding_mode="circular")),
    (((1, 2, 3, 4, 4), (1, 3, 3, 3, 3)), dict(mode="bicubic")),
])
def test_grid_sample_errors(args, kwargs):
    x, g = torch.randn(*args[0]), torch.randn(*args[1])
    kwargs = dict(kwargs, align_corners=False)
    raises_like(lambda: TF.grid_sample(x, g, **kwargs), lambda: EF.grid_sample(to_ember(x), to_ember(g), **kwargs))


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 3, 2, 4), (2, 3, 1, 5)])
def test_affine_grid(size, align_corners):
    nd = len(size) - 2
    t_theta = torch.randn(2, nd, nd + 1, dtype=torch.float64, requires_grad=True)
    e_theta = to_ember(t_theta)
    t_grid = TF.affine_grid(t_theta, size, align_corners=align_corners)
    e_grid = EF.affine_grid(e_theta, size, align_corners=align_corners)
    assert_close(e_grid, t_grid, rtol=1e-10, atol=1e-12)
    up = torch.randn(t_grid.shape, dtype=torch.float64)
    t_grid.backward(up)
    e_grid.backward(to_ember(up))
    assert_close(e_theta.grad, t_theta.grad, rtol=1e-10, atol=1e-12)


def test_affine_grid_then_grid_sample_identity():
    theta = ember.tensor([[[1.0, 0, 0], [0, 1, 0]]])
    x = ember.randn(1, 2, 4, 5)
    grid = EF.affine_grid(theta, [1, 2, 4, 5], align_corners=False)
    np.testing.assert_allclose(EF.grid_sample(x, grid, align_corners=False).numpy(), x.numpy(), atol=1e-6)


@pytest.mark.parametrize("theta_shape,size", [((1, 2, 3), [1, 2, 3]), ((1, 3, 3), [1, 2, 3, 4]),
                                               ((1, 3, 4), [1, 2, 3, 4, 5, 6]), ((1, 2, 3), [1, 2, 0, 4])])
def test_affine_grid_errors(theta_shape, size):
    t = torch.randn(*theta_shape)
    raises_like(lambda: TF.affine_grid(t, size, align_corners=False),
                lambda: EF.affine_grid(to_ember(t), size, align_corners=False))
    raises_like(lambda: TF.affine_grid(t.long(), size, align_corners=False),
                lambda: EF.affine_grid(to_ember(t.long()), size, align_corners=False))


def test_align_corners_none_warns():
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        EF.affine_grid(ember.randn(1, 2, 3), [1, 1, 2, 2])
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        EF.grid_sample(ember.randn(1, 1, 2, 2), ember.zeros(1, 1, 1, 2))


def test_torch_grid_sampler_and_affine_grid_generator_aliases():
    x, g = torch.randn(1, 2, 3, 4), torch.rand(1, 2, 3, 2) * 2 - 1
    for name in ("grid_sampler", "grid_sampler_2d"):
        for mode, pad in ((0, 0), (1, 1), (2, 2)):
            assert_close(getattr(ember, name)(to_ember(x), to_ember(g), mode, pad, True),
                         getattr(torch, name)(x, g, mode, pad, True), rtol=1e-4, atol=1e-5)
    x3, g3 = torch.randn(1, 2, 3, 4, 2), torch.rand(1, 2, 3, 2, 3) * 2 - 1
    assert_close(ember.grid_sampler_3d(to_ember(x3), to_ember(g3), 0, 2, False),
                 torch.grid_sampler_3d(x3, g3, 0, 2, False), rtol=1e-4, atol=1e-5)
    theta = torch.randn(2, 2, 3)
    assert_close(ember.affine_grid_generator(to_ember(theta), [2, 1, 3, 4], False),
                 torch.affine_grid_generator(theta, [2, 1, 3, 4], False))


@pytest.mark.parametrize("mode,padding_mode", [("bilinear", "zeros"), ("bilinear", "reflection"), ("nearest", "border"),
                                               ("bicubic", "zeros")])
def test_grid_sample_double_backward(mode, padding_mode):
    gen = torch.Generator().manual_seed(3)
    t_x = torch.randn(1, 2, 3, 4, dtype=torch.float64, generator=gen).requires_grad_(True)
    t_g = (torch.rand(1, 2, 3, 2, dtype=torch.float64, generator=gen) * 2.4 - 1.2).requires_grad_(True)
    e_x, e_g = to_ember(t_x), to_ember(t_g)
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=False)
    results = []
    for lib, F, x, g in ((torch, TF, t_x, t_g), (ember, EF, e_x, e_g)):
        gx, gg = lib.autograd.grad((F.grid_sample(x, g, **kw) ** 2).sum(), (x, g), create_graph=True)
        (gx.sum() + (gg ** 2).sum()).backward()
        results.append((gx, gg, x.grad, g.grad))
    for e, t in zip(results[1], results[0]):
        assert_close(e, t, rtol=1e-7, atol=1e-9)
