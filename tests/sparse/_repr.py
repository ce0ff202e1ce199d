"""Comparing a sparse tensor's repr with PyTorch's (on the CPU) from any test device."""
from tests._device import DEVICE


def assert_same_repr(e, t):
    """repr(e) as repr(t); on the CUDA stand-in the device suffix is expected too, and since it moves the
    line breaks, the texts are compared with their whitespace collapsed."""
    text, expected = repr(e), repr(t)
    if DEVICE == "cuda":
        assert "device='cuda:0'" in text

        def norm(s):
            return " ".join(s.replace("device='cuda:0',", "").replace(", device='cuda:0'", "").split())
        assert norm(text) == norm(expected)
    else:
        assert text == expected
