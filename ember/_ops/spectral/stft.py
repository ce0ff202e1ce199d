"""torch.stft and torch.istft, composed of Tensor ops (so their gradients come from the ops'):
the short-time Fourier transform cuts the signal into overlapping frames (Tensor.unfold), weights each by
the window and takes its DFT (fft.py); the inverse takes each frame's inverse DFT, weights it by the window
again, adds the frames back where they overlap (F.fold, "overlap-add") and divides by the sum of the
squared windows there, which undoes both weightings when the window overlaps itself enough (PyTorch checks
that the sum never comes near zero: the NOLA condition)."""
import warnings

from ..pointwise.complex import Complex, view_as_real
from .._registry import bind
from ..shape.join import cat
from . import fft as _fft

_NO_WINDOW = ("A window was not provided. A rectangular window will be applied,which is known to cause spectral "
              "leakage. Other windows such as torch.hann_window or torch.hamming_window are recommended to reduce "
              "spectral leakage.To suppress this warning and use a rectangular window, explicitly set "
              "`window=torch.ones(n_fft, device=<device>)`.")
_NO_WINDOW_INVERSE = ("A window was not provided. A rectangular window will be applied.Please provide the same "
                      "window used by stft to make the inversion lossless.To suppress this warning and use a "
                      "rectangular window, explicitly set `window=torch.ones(n_fft, device=<device>)`.")
_DEPRECATED_REAL = ("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                    "complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you can "
                    "still call torch.view_as_real on the complex output to recover the old return format.")


def _window_of(window, win_length, n_fft, like, name, warning):
    """The window as n_fft points: win_length of them centred, zeros around them (ones without a window)."""
    if window is None:
        warnings.warn(warning, UserWarning, stacklevel=3)
        window = like.new_ones(win_length, dtype=like.real.dtype if like.is_complex() else like.dtype)
    elif window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{name}: expected a 1D window tensor of size equal to win_length={win_length}, but got "
                           f"window with size {list(window.shape)}")
    if win_length < n_fft:
        left = (n_fft - win_length) // 2
        window = cat((window.new_zeros(left), window, window.new_zeros(n_fft - left - win_length)))
    return window


def _lengths(n_fft, hop_length, win_length, name):
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if n_fft <= 0:
        raise RuntimeError(f"{name}: expected 0 < n_fft, but got n_fft={n_fft}")
    if hop_length <= 0:
        raise RuntimeError(f"{name}: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{name}: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    return hop_length, win_length


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """The short-time Fourier transform of a signal (L,) or a batch (B, L): (B?, n_freq, n_frames) complex,
    frame t covering input[t * hop_length : t * hop_length + n_fft] (after padding n_fft // 2 on each side
    when center)."""
    from ...nn.functional import pad
    if return_complex is None and not input.is_complex() and not (window is not None and window.is_complex()):
        raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will further "
                           "require that return_complex=True in a future PyTorch release.")
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D tensor")
    hop_length, win_length = _lengths(n_fft, hop_length, win_length, "stft")
    batched = input.dim() == 2
    x = input if batched else input.unsqueeze(0)
    if center:
        x = pad(x.unsqueeze(1), (n_fft // 2, n_fft // 2), mode=pad_mode).squeeze(1)
    if not 0 < n_fft <= x.shape[-1]:
        raise RuntimeError(f"stft: expected 0 < n_fft < {x.shape[-1]}, but got n_fft={n_fft}")
    w = _window_of(window, win_length, n_fft, input, "stft", _NO_WINDOW)
    frames = x.unfold(-1, n_fft, hop_length) * w  # (B, n_frames, n_fft)
    if onesided is None:
        onesided = not (frames.is_complex())
    norm = "ortho" if normalized else "backward"
    spectrum = (_fft.rfft if onesided else _fft.fft)(frames, dim=-1, norm=norm).transpose(1, 2)
    if not batched:
        spectrum = spectrum.squeeze(0)
    if not return_complex:
        warnings.warn(_DEPRECATED_REAL, UserWarning, stacklevel=2)
        return view_as_real(spectrum)
    return spectrum


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """The inverse of stft: each frame's inverse DFT, windowed, overlap-added and divided by the overlap-added
    squared window (the NOLA condition: that sum must not vanish anywhere in the kept signal)."""
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor.")
    hop_length, win_length = _lengths(n_fft, hop_length, win_length, "istft")
    batched = input.dim() == 3
    spectrum = input if batched else input.unsqueeze(0)
    n_frames = spectrum.shape[-1]
    if onesided is None:
        onesided = spectrum.shape[-2] != n_fft
    norm = "ortho" if normalized else "backward"
    columns = spectrum.transpose(1, 2)
    frames = _fft.irfft(columns, n=n_fft, dim=-1, norm=norm) if onesided and not return_complex else \
        _fft.ifft(columns, n=n_fft, dim=-1, norm=norm)
    w = _window_of(window, win_length, n_fft, frames, "istft", _NO_WINDOW_INVERSE)
    total = n_fft + hop_length * (n_frames - 1)
    frames = (frames * w).transpose(1, 2)  # (B, n_fft, n_frames)
    if frames.is_complex():
        signal = Complex.apply(_overlap_add(frames.real, total, hop_length), _overlap_add(frames.imag, total, hop_length))
    else:
        signal = _overlap_add(frames, total, hop_length)
    squared = w.abs().pow(2) if w.is_complex() else w * w
    envelope = _overlap_add(squared.reshape(1, n_fft, 1).expand(1, n_fft, n_frames), total, hop_length)[0]
    start = n_fft // 2 if center else 0
    end = total if length is None else start + length
    if length is None and center:
        end = total - n_fft // 2
    signal, envelope = signal[:, start:end], envelope[start:end]
    if envelope.numel() and envelope.abs().min().item() < 1e-11:
        raise RuntimeError(f"istft(...): window overlap add min: {envelope.abs().min().item():g}")
    signal = signal / envelope
    if length is not None and signal.shape[-1] < length:
        signal = cat((signal, signal.new_zeros(signal.shape[0], length - signal.shape[-1])), -1)
    return signal if batched else signal.squeeze(0)


def _overlap_add(frames, total, hop_length):
    """(B, n_fft, n_frames) frames added into (B, total) signals, frame t starting at t * hop_length."""
    from ...nn.functional import fold
    n_fft = frames.shape[1]
    return fold(frames.contiguous(), (1, total), (1, n_fft), stride=(1, hop_length)).reshape(frames.shape[0], total)


bind("stft", stft, method=True)
bind("istft", istft, method=True)
