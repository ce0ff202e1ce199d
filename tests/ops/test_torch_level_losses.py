"""torch.<loss>(...) at the top level (not nn.functional) called without `reduction`: PyTorch 2.13 leaves the loss
unreduced there, and ember must give the same shapes and values."""
import numpy as np
import pytest
import torch

import ember

torch.manual_seed(0)
_X, _Z, _S = torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4).sign()
CASES = {
    "hinge_embedding_loss": (_X, _S),
    "kl_div": (_X, _Z.abs()),
    "margin_ranking_loss": (_X[:, 0], _Z[:, 0], _S[:, 0]),
    "cosine_embedding_loss": (_X, _Z, _S[:, 0]),
    "binary_cross_entropy_with_logits": (_X, _Z.sigmoid()),
    "triplet_margin_loss": (_X, _Z, _S),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("reduction", [None, 0, 1, 2])
def test_top_level_loss_default_and_explicit_reduction_as_torch(name, reduction):
    args = CASES[name]
    kw = {} if reduction is None else {"reduction": reduction}
    expected = getattr(torch, name)(*args, **kw)
    got = getattr(ember, name)(*[ember.from_numpy(a.numpy()) for a in args], **kw)
    assert tuple(got.shape) == tuple(expected.shape)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
