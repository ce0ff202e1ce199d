"""F.conv{1,2,3}d, F.conv_transpose{1,2,3}d and F.conv_tbc against PyTorch: values and gradients
(input, weight, bias) over a grid of stride/padding/dilation/groups, double backward, gradcheck in
float64 on tiny sizes, empty batches, unbatched inputs, and PyTorch's errors."""
import numpy as np
import pytest
import torch

import ember
from _nn_helpers import assert_close, raises_like

TF, EF = torch.nn.functional, ember.nn.functional


def _pair(shape, rng, dtype="float32", requires_grad=True):
    arr = rng.standard_normal(shape).astype(dtype)
    t = torch.tensor(arr, requires_grad=requires_grad)
    e = ember.tensor(arr, requires_grad=requires_grad)
    return t, e


def _run_both(fn_name, x_shape, w_shape, bias, kwargs, seed=0, dtype="float32"):
    rng = np.random.default_rng(seed)
    tx, ex = _pair(x_shape, rng, dtype)
    tw, ew = _pair(w_shape, rng, dtype)
    tb = eb = None
    if bias:
        tb, eb = _pair((bias,), rng, dtype)
    ty = getattr(TF, fn_name)(tx, tw, tb, **kwargs)
    ey = getattr(EF, fn_name)(ex, ew, eb, **kwargs)
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == "float32" else dict(rtol=1e-10, atol=1e-10)
    assert_close(ey, ty, **tol)
    gy = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.tensor(gy))
    ey.backward(ember.tensor(gy))
    assert_close(ex.grad, tx.grad, **tol)
    assert_close(ew.grad, tw.grad, **tol)
    if bias:
        assert_close(eb.grad, tb.grad, **tol)


CONV_CASES = [
    # (nd, x_shape, w_shape, bias, kwargs)
    (2, (2, 3, 7, 6), (4, 3, 3, 3), 4, {}),
    (2, (2, 3, 7, 6), (4, 3, 3, 2), None, dict(stride=2, padding=1)),
    (2, (1, 4, 8, 9), (6, 2, 3, 3), 6, dict(groups=2, dilation=2, padding=(2, 1))),
    (2, (2, 4, 6, 6), (4, 1, 3, 3), 4, dict(groups=4, padding=1)),            # depthwise
    (2, (2, 4, 6, 6), (8, 1, 3, 3), 8, dict(groups=4, stride=(2, 1))),        # depthwise, multiplier 2
    (2, (2, 3, 6, 7), (2, 3, 4, 3), 2, dict(padding="same")),                 # even kernel: asymmetric
    (2, (2, 3, 6, 7), (2, 3, 3, 3), 2, dict(padding="same", dilation=2)),
    (2, (2, 3, 6, 7), (2, 3, 3, 3), 2, dict(padding="valid")),
    (2, (1, 2, 2, 2), (3, 2, 3, 3), 3, dict(padding=1)),                      # kernel > input, padded
    (2, (2, 3, 5, 5), (2, 3, 1, 1), 2, dict(stride=3)),
    (1, (2, 3, 9), (4, 3, 3), 4, dict(stride=2, padding=1, dilation=2)),
    (1, (2, 4, 8), (4, 2, 4), None, dict(groups=2, padding="same")),
    (3, (2, 2, 4, 5, 4), (3, 2, 2, 3, 2), 3, dict(stride=(1, 2, 1), padding=1)),
    (3, (1, 4, 4, 4, 4), (4, 2, 3, 3, 3), 4, dict(groups=2, dilation=(1, 1, 2), padding=(1, 0, 2))),
]


@pytest.mark.parametrize("nd,x_shape,w_shape,bias,kwargs", CONV_CASES)
def test_conv_values_and_grads(nd, x_shape, w_shape, bias, kwargs):
    _run_both(f"conv{nd}d", x_shape, w_shape, bias, kwargs)


TRANSPOSE_CASES = [
    (2, (2, 3, 4, 5), (3, 2, 3, 3), 2, {}),
    (2, (2, 3, 4, 5), (3, 2, 3, 2), None, dict(stride=2, padding=1, output_padding=1)),
    (2, (1, 4, 3, 4), (4, 3, 3, 3), 6, dict(groups=2, dilation=2, padding=(1, 2))),
    (2, (1, 4, 3, 3), (4, 1, 2, 2), 4, dict(groups=4, stride=3, output_padding=(2, 1))),
    (2, (2, 2, 3, 3), (2, 3, 3, 3), 3, dict(stride=2, dilation=3, output_padding=2)),  # op >= stride, < dilation
    (1, (2, 3, 5), (3, 4, 3), 4, dict(stride=2, padding=1, output_padding=1)),
    (1, (1, 2, 4), (2, 3, 3), 3, dict(dilation=2, output_padding=1)),  # stride 1, op < dilation
    (3, (1, 2, 3, 2, 3), (2, 3, 2, 3, 2), 3, dict(stride=(2, 1, 2), padding=(0, 1, 1))),
]


@pytest.mark.parametrize("nd,x_shape,w_shape,bias,kwargs", TRANSPOSE_CASES)
def test_conv_transpose_values_and_grads(nd, x_shape, w_shape, bias, kwargs):
    _run_both(f"conv_transpose{nd}d", x_shape, w_shape, bias, kwargs)


def test_conv_float64_and_torch_aliases():
    _run_both("conv2d", (2, 2, 5, 4), (3, 2, 2, 3), 3, dict(stride=(1, 2)), dtype="float64")
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                 "conv_tbc", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "native_channel_shuffle"):
        assert getattr(ember, name).__name__ == name
    x, w = ember.ones(1, 2, 3, 3), ember.ones(1, 2, 2, 2)
    assert ember.conv2d(x, w, None, 1, 1).tolist() == EF.conv2d(x, w, None, 1, 1).tolist()


def test_conv_grad_fn_name_and_unbatched():
    rng = np.random.default_rng(1)
    tx, ex = _pair((3, 6, 5), rng)
    tw, ew = _pair((2, 3, 3, 3), rng)
    ty, ey = TF.conv2d(tx, tw, padding=1), EF.conv2d(ex, ew, padding=1)
    assert_close(ey, ty, rtol=1e-4, atol=1e-5)
    assert type(EF.conv2d(ex.unsqueeze(0), ew).grad_fn).__name__ == "ConvolutionBackward0"
    eb = ember.ones(2, requires_grad=True)
    assert type(EF.conv_transpose2d(ex.unsqueeze(0), ew.transpose(0, 1), eb).grad_fn).__name__ == \
        "ConvolutionBackward0"
    ty.sum().backward()
    ey.sum().backward()
    assert_close(ex.grad, tx.grad, rtol=1e-4, atol=1e-5)
    tw2, ew2 = _pair((3, 2, 3, 3), rng)
    assert_close(EF.conv_transpose2d(ex, ew2), TF.conv_transpose2d(tx, tw2), rtol=1e-4, atol=1e-5)


def test_conv_empty_batch_and_batch_of_one():
    rng = np.random.default_rng(2)
    for n in (0, 1):
        tx, ex = _pair((n, 3, 5, 5), rng)
        tw, ew = _pair((4, 3, 3, 3), rng)
        tb, eb = _pair((4,), rng)
        ty, ey = TF.conv2d(tx, tw, tb), EF.conv2d(ex, ew, eb)
        assert_close(ey, ty, rtol=1e-4, atol=1e-5)
        ty.sum().backward()
        ey.sum().backward()
        assert_close(ew.grad, tw.grad, rtol=1e-4, atol=1e-5)
        assert_close(eb.grad, tb.grad, rtol=1e-4, atol=1e-5)
        assert_close(ex.grad, tx.grad)


def test_conv_double_backward_matches_torch():
    rng = np.random.default_rng(3)
    tx, ex = _pair((2, 4, 5, 5), rng, "float64")
    tw, ew = _pair((4, 2, 3, 3), rng, "float64")
    outs = []
    for F, x, w, lib in ((TF, tx, tw, torch), (EF, ex, ew, ember)):
        y = F.conv2d(x, w, stride=2, padding=1, groups=2)
        gx, gw = lib.autograd.grad((y ** 2).sum(), (x, w), create_graph=True)
        (gx.pow(2).sum() + (gw * gw).sum()).backward()
        outs.append((x.grad, w.grad))
    assert_close(outs[1][0], outs[0][0], rtol=1e-8, atol=1e-8)
    assert_close(outs[1][1], outs[0][1], rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("fn,x_shape,w_shape,kwargs", [
    ("conv2d", (1, 2, 4, 3), (2, 1, 2, 2), dict(groups=2, stride=(2, 1), padding=1)),
    ("conv1d", (2, 2, 5), (3, 2, 2), dict(dilation=2, padding="same")),
    ("conv_transpose2d", (1, 2, 3, 2), (2, 2, 2, 2), dict(stride=2, output_padding=1, padding=1)),
    ("conv_transpose1d", (1, 4, 3), (4, 1, 3), dict(stride=2, groups=2)),
])
def test_conv_gradcheck_and_gradgradcheck(fn, x_shape, w_shape, kwargs):
    rng = np.random.default_rng(4)
    x = ember.tensor(rng.standard_normal(x_shape), requires_grad=True)
    w = ember.tensor(rng.standard_normal(w_shape), requires_grad=True)
    out_c = w_shape[0] if "transpose" not in fn else w_shape[1] * kwargs.get("groups", 1)
    b = ember.tensor(rng.standard_normal(out_c), requires_grad=True)
    f = lambda x, w, b: getattr(EF, fn)(x, w, b, **kwargs)  # noqa: E731
    assert ember.autograd.gradcheck(f, (x, w, b))
    assert ember.autograd.gradgradcheck(f, (x, w, b))


def test_conv_tbc():
    rng = np.random.default_rng(5)
    tx, ex = _pair((6, 2, 3), rng)
    tw, ew = _pair((3, 3, 4), rng)
    tb, eb = _pair((4,), rng)
    ty, ey = torch.conv_tbc(tx, tw, tb, 1), ember.conv_tbc(ex, ew, eb, 1)
    assert_close(ey, ty, rtol=1e-4, atol=1e-5)
    ty.pow(2).sum().backward()
    ey.pow(2).sum().backward()
    for e, t in ((ex, tx), (ew, tw), (eb, tb)):
        assert_close(e.grad, t.grad, rtol=1e-4, atol=1e-4)
    raises_like(lambda: TF.conv_tbc(tx, tw[:, :2], tb), lambda: EF.conv_tbc(ex, ew[:, :2], eb))
    raises_like(lambda: TF.conv_tbc(tx[0], tw, tb), lambda: EF.conv_tbc(ex[0], ew, eb))


def _errors_pair(fn, x_shape, w_shape, bias=None, x_dtype="float32", **kwargs):
    rng = np.random.default_rng(6)
    tx, ex = _pair(x_shape, rng, x_dtype, requires_grad=False)
    tw, ew = _pair(w_shape, rng, requires_grad=False)
    tb = eb = None
    if bias is not None:
        tb, eb = _pair(bias, rng, requires_grad=False)
    if bias is not None:
        kwargs = dict(kwargs, bias=None)
        kwargs["bias"] = tb
        raises_like(lambda: getattr(TF, fn)(tx, tw, **kwargs), lambda: getattr(EF, fn)(ex, ew, **dict(kwargs, bias=eb)))
    else:
        raises_like(lambda: getattr(TF, fn)(tx, tw, **kwargs), lambda: getattr(EF, fn)(ex, ew, **kwargs))


@pytest.mark.parametrize("fn,x_shape,w_shape,bias,x_dtype,kwargs", [
    ("conv2d", (1, 4, 5, 5), (2, 3, 3, 3), None, "float32", {}),                  # wrong channel count
    ("conv2d", (4, 5, 5), (2, 3, 3, 3), None, "float32", {}),                     # unbatched, wrong channels
    ("conv2d", (5, 5), (2, 3, 3, 3), None, "float32", {}),                        # 2-d input
    ("conv2d", (1, 1, 3, 5, 5), (2, 3, 3, 3), None, "float32", {}),
    ("conv1d", (1, 3, 4, 4, 4), (2, 3, 3), None, "float32", {}),
    ("conv2d", (1, 3, 2, 2), (2, 3, 3, 3), None, "float32", {}),                  # kernel > input
    ("conv2d", (1, 3, 4, 4), (2, 3, 3, 3), None, "float32", dict(dilation=2)),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(padding="same", stride=2)),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(padding="foo")),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(groups=2)),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(groups=0)),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(stride=0)),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(padding=-1)),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(dilation=0)),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(stride=(1, 1, 1))),
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), (3,), "float32", {}),                  # bias size
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float64", {}),                  # dtype mismatch
    ("conv2d", (1, 3, 5, 5), (2, 3, 3, 3), None, "float32", dict(padding=1.5)),   # TypeError
    ("conv2d", (1, 1, 3, 3), (1, 1), None, "float32", {}),                        # 2-d weight
    ("conv2d", (1, 2, 3, 3), (0, 2, 1, 1), None, "float32", {}),                  # no output channels
    ("conv2d", (1, 2, 3, 3), (4, 1, 1, 1), None, "float32", dict(groups=3)),
    ("conv1d", (1, 1, 3), (1, 1, 1, 1), None, "float32", {}),                     # weight of another conv
    ("conv_transpose2d", (1, 3, 5, 5), (3, 2, 3, 3), None, "float32", dict(output_padding=1)),
    ("conv_transpose2d", (1, 4, 5, 5), (3, 2, 3, 3), None, "float32", {}),
    ("conv_transpose2d", (1, 3, 5, 5), (3, 2, 3, 3), None, "float32", dict(groups=2)),
    ("conv_transpose2d", (1, 3, 1, 1), (3, 2, 3, 3), None, "float32", dict(padding=2)),
    ("conv_transpose2d", (1, 3, 5, 5), (3, 2, 3, 3), (3,), "float32", {}),
    ("conv_transpose2d", (1, 3, 5, 5), (3, 2, 3, 3), None, "float32", dict(output_padding=-1)),
    ("conv_transpose2d", (5, 5), (3, 2, 3, 3), None, "float32", {}),
    ("conv_transpose1d", (1, 3, 5), (3, 2, 3), None, "float32", dict(output_padding=2, stride=2)),
    ("conv_transpose3d", (1, 3, 2, 2, 2), (3, 2, 1, 1, 1), None, "float32", dict(output_padding=1)),
])
def test_conv_errors_match_torch(fn, x_shape, w_shape, bias, x_dtype, kwargs):
    _errors_pair(fn, x_shape, w_shape, bias, x_dtype, **kwargs)


def test_conv_transpose_padding_string_refused():
    rng = np.random.default_rng(7)
    tx, ex = _pair((1, 3, 5, 5), rng, requires_grad=False)
    tw, ew = _pair((3, 2, 3, 3), rng, requires_grad=False)
    raises_like(lambda: TF.conv_transpose2d(tx, tw, padding="same"),
                lambda: EF.conv_transpose2d(ex, ew, padding="same"))


def test_conv_integer_and_low_precision():
    x, w = np.arange(96).reshape(2, 3, 4, 4), np.ones((2, 3, 2, 2), dtype=np.int64)
    ey = EF.conv2d(ember.tensor(x), ember.tensor(w), stride=2)
    ty = TF.conv2d(torch.tensor(x), torch.tensor(w), stride=2)
    assert ey.dtype == ember.int64 and ey.tolist() == ty.tolist()
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((2, 3, 5, 5)).astype("float32"), rng.standard_normal((4, 3, 3, 3)).astype("float32")
    for name in ("float16", "bfloat16"):
        tx, tw = (torch.tensor(v).to(getattr(torch, name)).requires_grad_() for v in (a, b))
        ex, ew = (ember.tensor(v).to(getattr(ember, name)).requires_grad_() for v in (a, b))
        ty, ey = TF.conv2d(tx, tw, padding=1), EF.conv2d(ex, ew, padding=1)
        ty.sum().backward()
        ey.sum().backward()
        assert_close(ey.float(), ty.float(), rtol=1e-2, atol=1e-2)
        assert ey.dtype == getattr(ember, name) and ew.grad.dtype == ey.dtype
        assert_close(ex.grad.float(), tx.grad.float(), rtol=2e-2, atol=2e-2)
        assert_close(ew.grad.float(), tw.grad.float(), rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("grad_of", ["input", "weight"])
@pytest.mark.host_only(reason="the message names torch.cuda.FloatTensor")
def test_conv_saved_tensor_version_check(grad_of):
    """As PyTorch's ConvolutionBackward0, both input and weight are saved whichever gradient is needed:
    modifying either in place fails backward's version check."""
    def run(lib, F, modify_saved):
        x = lib.ones(1, 2, 4, 4, requires_grad=grad_of == "input")
        w = lib.ones(2, 2, 3, 3, requires_grad=grad_of == "weight")
        y = F.conv2d(x, w)
        saved, other = (w, x) if grad_of == "input" else (x, w)
        with lib.no_grad():
            (saved if modify_saved else other).add_(1)
        y.sum().backward()
        return (x if grad_of == "input" else w).grad
    raises_like(lambda: run(torch, TF, True), lambda: run(ember, EF, True))
    raises_like(lambda: run(torch, TF, False), lambda: run(ember, EF, False))


def test_conv_batch_chunks_match(monkeypatch):
    """Past CHUNK_COLUMNS_BYTES the columns are built a few images at a time: same values and grads."""
    from ember._ops.nn import conv as nn_conv
    monkeypatch.setattr(nn_conv, "CHUNK_COLUMNS_BYTES", 2000)
    _run_both("conv2d", (5, 4, 6, 5), (4, 2, 3, 3), 4, dict(padding=1, groups=2))
    _run_both("conv2d", (5, 3, 6, 5), (2, 3, 3, 2), 2, dict(stride=2))
    _run_both("conv_transpose2d", (5, 3, 4, 3), (3, 2, 3, 3), 2, dict(stride=2, output_padding=1))


def test_torch_convolution():
    rng = np.random.default_rng(11)
    tx, ex = _pair((2, 2, 5, 4), rng)
    tw, ew = _pair((3, 2, 3, 3), rng)
    tb, eb = _pair((3,), rng)
    for transposed, w_t, w_e, b_t, b_e in ((False, tw, ew, tb, eb), (True, tw.transpose(0, 1), ew.transpose(0, 1),
                                                                     None, None)):
        args = ([2, 1], [1, 1], [1, 1], transposed, [1, 0] if transposed else [0, 0], 1)
        ty, ey = torch.convolution(tx, w_t, b_t, *args), ember.convolution(ex, w_e, b_e, *args)
        assert_close(ey, ty, rtol=1e-4, atol=1e-5)
    raises_like(lambda: torch.convolution(tx[0], tw, None, [1], [1], [1], False, [0], 1),
                lambda: ember.convolution(ex[0], ew, None, [1], [1], [1], False, [0], 1))
