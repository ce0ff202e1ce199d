"""torch.special functions at their edge values, against PyTorch."""
import numpy as np
import torch

import ember


def test_xlog1py_at_zero_nan_and_inf():
    x = [0.0, 0.0, 0.0, 1.0, 2.0, -1.0]
    y = [float("nan"), -1.0, 2.0, 0.5, -1.0, float("inf")]
    t = torch.special.xlog1py(torch.tensor(x), torch.tensor(y))
    e = ember.special.xlog1py(ember.tensor(x), ember.tensor(y))
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-6, equal_nan=True)  # NOTE: nan and inf in place
    np.testing.assert_allclose(ember.special.xlog1py(ember.tensor(x), 2.0).numpy(),
                               torch.special.xlog1py(torch.tensor(x), 2.0).numpy(), rtol=1e-6)


def test_special_softmax_and_log_softmax_are_the_functional_ones():
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    for name in ("softmax", "log_softmax"):
        t = getattr(torch.special, name)(torch.tensor(a), 1, dtype=torch.float64)
        e = getattr(ember.special, name)(ember.tensor(a), 1, dtype=ember.float64)
        assert str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)
