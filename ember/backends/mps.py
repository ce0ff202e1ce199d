"""torch.backends.mps: Apple's GPUs, which ember does not drive."""


def is_available():
    return False


def is_built():
    return False
