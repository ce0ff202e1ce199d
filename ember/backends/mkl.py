"""torch.backends.mkl: ember calls no MKL routines of its own (NumPy picks its BLAS)."""


def is_available():
    """False: ember has no MKL kernels (PyTorch's CPU build has them)."""
    return False
