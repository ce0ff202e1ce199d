"""torch.backends.openmp: ember's own kernels are Python over NumPy, without OpenMP."""


def is_available():
    """False: ember has no OpenMP kernels of its own."""
    return False
