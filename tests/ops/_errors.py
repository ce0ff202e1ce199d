"""Comparing what PyTorch and ember raise: the helpers that tests/ops's refusal tests share."""
import warnings

import torch

import ember


def raised(fn):
    """The exception fn() raises, or None."""
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - compared by the caller
        return exc
    return None


def same_error(fn):
    """fn(torch) raises, and fn(ember) raises the same: the same type (PyTorch's own classes, such as
    torch.linalg.LinAlgError, by name; Python's by identity) and the same message. Warnings are silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected, got = raised(lambda: fn(torch)), raised(lambda: fn(ember))
    assert expected is not None, "torch computed"
    if type(expected).__module__ == "builtins":
        assert type(got) is type(expected), (got, expected)
    else:
        assert type(got).__name__ == type(expected).__name__, (got, expected)
    assert str(got) == str(expected)
