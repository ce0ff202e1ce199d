"""Shared helpers for tests/nn: copy weights from a torch module into an ember one, compare."""
import numpy as np
import torch

import ember


def to_ember(t, requires_grad=None):
    """A torch tensor's values as an ember tensor (same dtype)."""
    arr = t.detach().cpu().numpy().copy()
    e = ember.from_numpy(arr)
    if requires_grad if requires_grad is not None else t.requires_grad:
        e.requires_grad_(True)
    return e


def copy_weights(t_module, e_module):
    """Load torch's state_dict into the ember module (the oracle and ember then hold equal weights)."""
    e_module.load_state_dict({k: to_ember(v) for k, v in t_module.state_dict().items()})


def assert_close(e, t, rtol=1e-5, atol=1e-6):
    assert isinstance(e, ember.Tensor), type(e)
    assert str(e.dtype) == str(t.dtype), (e.dtype, t.dtype)
    assert tuple(e.shape) == tuple(t.shape), (tuple(e.shape), tuple(t.shape))
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def raises_like(t_fn, e_fn, match_message=True):
    """Both calls raise; same exception type (and message unless told otherwise)."""
    try:
        t_fn()
    except Exception as t_exc:  # noqa: BLE001
        try:
            e_fn()
            if ember.cuda.is_available():
                ember.cuda.synchronize()  # NOTE: a device-side check surfaces at the next synchronisation
        except Exception as e_exc:  # noqa: BLE001
            assert type(e_exc).__name__ == type(t_exc).__name__, (e_exc, t_exc)
            if match_message:
                assert str(e_exc) == str(t_exc).replace("torch.nn.modules", "ember.nn.modules")
            return e_exc
        raise AssertionError(f"torch raised {t_exc!r}; ember did not")
    raise AssertionError("torch did not raise")
