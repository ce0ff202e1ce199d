"""torch.fft against PyTorch: every transform with n=/s=, dim=, each norm, real and complex inputs —
values, dtypes, gradients (real and complex inputs, PyTorch's convention for complex gradients) and
errors; fftfreq/rfftfreq, fftshift/ifftshift."""
import zlib

import numpy as np
import pytest
import torch

import ember
from tests._device import DEVICE, host

TRANSFORMS_1D = ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft")
TRANSFORMS_2D = ("fft2", "ifft2", "rfft2", "irfft2", "hfft2", "ihfft2")
TRANSFORMS_ND = ("fftn", "ifftn", "rfftn", "irfftn", "hfftn", "ihfftn")
REAL_ONLY = ("rfft", "ihfft", "rfft2", "ihfft2", "rfftn", "ihfftn")
NORMS = (None, "backward", "ortho", "forward")


def _array(rng, shape, complex_):
    a = rng.standard_normal(shape)
    return a + 1j * rng.standard_normal(shape) if complex_ else a


def _sizes(name, size):
    if size is None:
        return {}
    if name in TRANSFORMS_1D:
        return {"n": size}
    return {"s": (size, size) if name in TRANSFORMS_2D else (size,)}


def _pair(a, dtype, requires_grad=False):
    t = torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    e = ember.tensor(a, dtype=getattr(ember, dtype), device=DEVICE, requires_grad=requires_grad)
    return t, e


def _np(e):
    return host(e.detach()).numpy()


def _cases():
    for name in TRANSFORMS_1D + TRANSFORMS_2D + TRANSFORMS_ND:
        for complex_ in (False, True):
            if complex_ and name in REAL_ONLY:
                continue
            for size in (None, 3, 8):
                for norm in NORMS:
                    yield name, complex_, size, norm


@pytest.mark.parametrize("name,complex_,size,norm", list(_cases()))
def test_transform_values_dtypes_and_gradients(name, complex_, size, norm):
    rng = np.random.default_rng(zlib.crc32(repr((name, complex_, size, norm)).encode()))  # NOTE: not hash(): per process
    shape = (3, 4, 5) if name in TRANSFORMS_ND else (4, 6)
    dtype = "complex128" if complex_ else "float64"
    t_x, e_x = _pair(_array(rng, shape, complex_), dtype, requires_grad=True)
    kw = dict(_sizes(name, size), norm=norm)
    t_y = getattr(torch.fft, name)(t_x, **kw)
    e_y = getattr(ember.fft, name)(e_x, **kw)
    assert tuple(e_y.shape) == tuple(t_y.shape) and str(e_y.dtype) == str(t_y.dtype)
    np.testing.assert_allclose(_np(e_y), t_y.detach().resolve_conj().numpy(), rtol=1e-10, atol=1e-10)
    cot = _array(rng, tuple(t_y.shape), t_y.is_complex())
    t_cot, e_cot = _pair(cot, str(t_y.dtype).split(".")[1])
    (t_g,) = torch.autograd.grad(t_y, t_x, t_cot)
    (e_g,) = ember.autograd.grad(e_y, e_x, e_cot)
    assert str(e_g.dtype) == str(t_g.dtype)
    np.testing.assert_allclose(_np(e_g), t_g.resolve_conj().numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ("fft", "rfft", "irfft", "fft2", "irfftn"))
def test_second_order_gradients(name):
    """Each backward is itself a transform (its adjoint), so gradients of gradients match too."""
    rng = np.random.default_rng(0)
    t_x, e_x = _pair(rng.standard_normal((4, 6)), "float64", requires_grad=True)
    t_y, e_y = getattr(torch.fft, name)(t_x), getattr(ember.fft, name)(e_x)
    w = _array(rng, tuple(t_y.shape), t_y.is_complex())
    t_w, e_w = _pair(w, str(t_y.dtype).split(".")[1])
    (t_g,) = torch.autograd.grad((t_y * t_w).abs().sum(), t_x, create_graph=True)
    (e_g,) = ember.autograd.grad((e_y * e_w).abs().sum(), e_x, create_graph=True)
    (t_gg,) = torch.autograd.grad(t_g.pow(2).sum(), t_x)
    (e_gg,) = ember.autograd.grad(e_g.pow(2).sum(), e_x)
    np.testing.assert_allclose(_np(e_gg), t_gg.numpy(), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("dtype", ("float32", "float64", "complex64", "int64", "bool"))
@pytest.mark.parametrize("name", ("fft", "ifft", "irfft", "hfft", "fftn"))
def test_result_dtypes_follow_the_input(name, dtype):
    a = np.arange(6).reshape(2, 3) % 2
    t = getattr(torch.fft, name)(torch.tensor(a).to(getattr(torch, dtype)))
    e = getattr(ember.fft, name)(ember.tensor(a, device=DEVICE).to(getattr(ember, dtype)))
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(e), t.resolve_conj().numpy(), rtol=1e-5, atol=1e-5)


def test_grad_fn_names_are_pytorch_s():
    x = ember.randn(4, requires_grad=True)
    z = ember.randn(4).to(ember.complex64).requires_grad_()
    assert type(ember.fft.fft(x).grad_fn).__name__ == "FftR2CBackward0"
    assert type(ember.fft.rfft(x).grad_fn).__name__ == "FftR2CBackward0"
    assert type(ember.fft.fft(z).grad_fn).__name__ == "FftC2CBackward0"
    assert type(ember.fft.irfft(z).grad_fn).__name__ == "FftC2RBackward0"


ERRORS = [
    ("fft", lambda m, x: m.fft.fft(x, n=0)),
    ("norm", lambda m, x: m.fft.fft(x, norm="bad")),
    ("dim", lambda m, x: m.fft.fft(x, dim=2)),
    ("s and dim", lambda m, x: m.fft.fftn(x, s=(3,), dim=(0, 1))),
    ("unique dims", lambda m, x: m.fft.fftn(x, dim=(0, 0))),
    ("rfft complex", lambda m, x: m.fft.rfft(x.to(m.complex64))),
    ("rfftn complex", lambda m, x: m.fft.rfftn(x.to(m.complex64))),
    ("ihfft complex", lambda m, x: m.fft.ihfft(x.to(m.complex64))),
    ("ihfft2 complex", lambda m, x: m.fft.ihfft2(x.to(m.complex64))),
    ("half", lambda m, x: m.fft.fft(x.half())),
    ("too many sizes", lambda m, x: m.fft.fftn(x, s=(2, 3, 4))),
    ("0-d", lambda m, x: m.fft.fft(x[0, 0])),
    ("1-d fft2", lambda m, x: m.fft.fft2(x[0])),
    ("not a tensor", lambda m, x: m.fft.fft([1.0, 2.0])),
]


@pytest.mark.parametrize("case", [c[0] for c in ERRORS])
def test_errors_as_pytorch(case):
    call = dict(ERRORS)[case]
    with pytest.raises(Exception) as t_err:
        call(torch, torch.randn(4, 6))
    with pytest.raises(type(t_err.value)) as e_err:
        call(ember, ember.randn(4, 6, device=DEVICE))
    assert str(e_err.value).split("\n")[0] == str(t_err.value).split("\n")[0]


@pytest.mark.parametrize("n", (1, 2, 5, 8))
@pytest.mark.parametrize("dtype", (None, "float64"))
def test_frequencies(n, dtype):
    kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    ekw = {} if dtype is None else {"dtype": getattr(ember, dtype)}
    for name in ("fftfreq", "rfftfreq"):
        t = getattr(torch.fft, name)(n, 0.1, **kw)
        e = getattr(ember.fft, name)(n, 0.1, device=DEVICE, **ekw)
        assert str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(_np(e), t.numpy(), rtol=1e-6)


@pytest.mark.parametrize("dim", (None, 0, 1, (0, 1), -1))
def test_shifts(dim):
    a = np.arange(35.0).reshape(5, 7)
    for name in ("fftshift", "ifftshift"):
        t = getattr(torch.fft, name)(torch.tensor(a), dim=dim)
        e = getattr(ember.fft, name)(ember.tensor(a, device=DEVICE), dim=dim)
        np.testing.assert_array_equal(_np(e), t.numpy())


def test_out_argument():
    x = np.random.default_rng(0).standard_normal(8)
    t_out, e_out = torch.empty(5, dtype=torch.complex128), ember.empty(5, dtype=ember.complex128, device=DEVICE)
    torch.fft.rfft(torch.tensor(x), out=t_out)
    r = ember.fft.rfft(ember.tensor(x, device=DEVICE), out=e_out)
    assert r is e_out
    np.testing.assert_allclose(_np(e_out), t_out.numpy())


# --- windows, stft and istft ----------------------------------------------------------------------------
WINDOWS = ("hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window")


@pytest.mark.parametrize("name", WINDOWS)
@pytest.mark.parametrize("length", (0, 1, 2, 5, 8))
@pytest.mark.parametrize("periodic", (True, False))
@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_windows(name, length, periodic, dtype):
    t = getattr(torch, name)(length, periodic, dtype=getattr(torch, dtype))
    e = getattr(ember, name)(length, periodic, dtype=getattr(ember, dtype), device=DEVICE)
    assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(e), t.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", WINDOWS[:4])
@pytest.mark.parametrize("dtype", ("float16", "bfloat16"))
def test_half_windows_are_torch_to_the_bit(name, dtype):
    """PyTorch computes these windows step by step in the dtype itself (constants rounded to it first); a
    window computed in float64 and rounded once is off by ulps in most elements of a long one."""
    for length in (2, 5, 64, 1000, 3000):
        for periodic in (True, False):
            t = getattr(torch, name)(length, periodic, dtype=getattr(torch, dtype))
            e = getattr(ember, name)(length, periodic, dtype=getattr(ember, dtype), device=DEVICE)
            np.testing.assert_array_equal(_np(e.double()), t.double().numpy(), err_msg=f"{length} {periodic}")


@pytest.mark.parametrize("dtype", ("float16", "bfloat16"))
def test_half_kaiser_window_reads_rounded_positions(dtype):
    """kaiser's positions are arange's in the dtype (bfloat16 rounds them above 256): within an ulp."""
    t = torch.kaiser_window(3000, dtype=getattr(torch, dtype)).double().numpy()
    e = _np(ember.kaiser_window(3000, dtype=getattr(ember, dtype), device=DEVICE).double())
    np.testing.assert_allclose(e, t, rtol=2 ** -9 if dtype == "float16" else 2 ** -7, atol=0)


def test_window_parameters_and_errors():
    np.testing.assert_allclose(_np(ember.hamming_window(6, True, 0.5, 0.3)), torch.hamming_window(6, True, 0.5, 0.3),
                               rtol=1e-6)
    np.testing.assert_allclose(_np(ember.kaiser_window(6, False, 5.0)), torch.kaiser_window(6, False, 5.0), rtol=1e-6)
    for call in (lambda m: m.hann_window(4, dtype=m.int64), lambda m: m.hann_window(-1)):
        with pytest.raises(RuntimeError) as t_err:
            call(torch)
        with pytest.raises(RuntimeError) as e_err:
            call(ember)
        assert str(e_err.value) == str(t_err.value)


STFT_CASES = [dict(n_fft=16), dict(n_fft=16, hop_length=5), dict(n_fft=16, win_length=12), dict(n_fft=16, center=False),
              dict(n_fft=16, normalized=True), dict(n_fft=16, onesided=False), dict(n_fft=15, hop_length=3),
              dict(n_fft=16, pad_mode="constant")]


@pytest.mark.filterwarnings("ignore:A window was not provided")
@pytest.mark.parametrize("shape", ((100,), (3, 64)))
@pytest.mark.parametrize("windowed", (False, True))
@pytest.mark.parametrize("case", range(len(STFT_CASES)))
def test_stft_and_istft(shape, windowed, case):
    """stft's values and gradients, and istft's round trip (where PyTorch allows it), as PyTorch's."""
    kw = STFT_CASES[case]
    rng = np.random.default_rng(case)
    a = rng.standard_normal(shape)
    wl = kw.get("win_length", kw["n_fft"])
    t_w = torch.hann_window(wl, dtype=torch.float64) if windowed else None
    e_w = ember.hann_window(wl, dtype=ember.float64, device=DEVICE) if windowed else None
    t_x, e_x = _pair(a, "float64", requires_grad=True)
    t_s = torch.stft(t_x, window=t_w, return_complex=True, **kw)
    e_s = ember.stft(e_x, window=e_w, return_complex=True, **kw)
    assert tuple(e_s.shape) == tuple(t_s.shape) and str(e_s.dtype) == str(t_s.dtype)
    np.testing.assert_allclose(_np(e_s), t_s.detach().numpy(), rtol=1e-9, atol=1e-9)
    cot = _array(rng, tuple(t_s.shape), True)
    t_c, e_c = _pair(cot, "complex128")
    (t_g,) = torch.autograd.grad(t_s, t_x, t_c)
    (e_g,) = ember.autograd.grad(e_s, e_x, e_c)
    np.testing.assert_allclose(_np(e_g), t_g.numpy(), rtol=1e-9, atol=1e-9)
    if not windowed or "pad_mode" in kw:
        return
    ikw = dict(kw, length=shape[-1])
    try:
        t_i = torch.istft(t_s.detach(), window=t_w, **ikw)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="window overlap add min"):
            ember.istft(e_s.detach(), window=e_w, **ikw)
        return
    e_i = ember.istft(e_s.detach(), window=e_w, **ikw)
    np.testing.assert_allclose(_np(e_i), t_i.numpy(), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(_np(e_i), a, rtol=1e-9, atol=1e-9)  # NOTE: the round trip is lossless


def test_stft_arguments_as_pytorch():
    x_t, x_e = torch.randn(100), ember.randn(100, device=DEVICE)
    with pytest.raises(RuntimeError, match="requires the return_complex parameter"):
        ember.stft(x_e, 16, window=ember.hann_window(16, device=DEVICE))
    with pytest.warns(UserWarning, match="A window was not provided"):
        ember.stft(x_e, 16, return_complex=True)
    with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
        e = ember.stft(x_e, 16, window=ember.hann_window(16, device=DEVICE), return_complex=False)
    t = torch.stft(x_t, 16, window=torch.hann_window(16), return_complex=False)
    assert tuple(e.shape) == tuple(t.shape) and str(e.dtype) == str(t.dtype)
    with pytest.raises(RuntimeError, match="expected a 1D window tensor of size equal to win_length=16"):
        ember.stft(x_e, 16, window=ember.hann_window(12, device=DEVICE), return_complex=True)
    assert tuple(x_e.stft(16, window=ember.hann_window(16, device=DEVICE), return_complex=True).shape) == (9, 26)


@pytest.mark.parametrize("name", ("fft", "rfft", "irfft", "fft2", "ihfftn"))
def test_non_contiguous_and_zero_d_inputs(name):
    a = np.random.default_rng(1).standard_normal((5, 4))
    t_x, e_x = _pair(a, "float64", requires_grad=True)
    t_y = getattr(torch.fft, name)(t_x.t())  # NOTE: a transposed (non-contiguous) input
    e_y = getattr(ember.fft, name)(e_x.t())
    np.testing.assert_allclose(_np(e_y), t_y.detach().resolve_conj().numpy(), rtol=1e-10, atol=1e-10)
    cot = _array(np.random.default_rng(2), tuple(t_y.shape), t_y.is_complex())
    t_c, e_c = _pair(cot, str(t_y.dtype).split(".")[1])
    np.testing.assert_allclose(_np(ember.autograd.grad(e_y, e_x, e_c)[0]), torch.autograd.grad(t_y, t_x, t_c)[0].numpy(),
                               rtol=1e-10, atol=1e-10)
    t0, e0 = torch.fft.fftn(torch.tensor(2.0)), ember.fft.fftn(ember.tensor(2.0, device=DEVICE))
    assert str(e0.dtype) == str(t0.dtype) and tuple(e0.shape) == () and _np(e0) == t0.numpy()
