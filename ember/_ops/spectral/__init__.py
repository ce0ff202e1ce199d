"""Spectral ops: the discrete Fourier transforms of torch.fft (fft.py) and the signal windows (windows.py)."""
