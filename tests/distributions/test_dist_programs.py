"""Small PyTorch programs that use torch.distributions, run unchanged on torch and on ember: the parameter
trajectories must agree step for step (the sampled parts are fed the same numbers)."""
import numpy as np
import pytest
import torch

import ember
from dist_compare import arr

R = np.random.default_rng(13)
DATA = R.standard_normal((64, 3)) * 2 + 1
EPS = R.standard_normal((10, 4, 2))
ACTIONS = R.integers(0, 3, (10, 8))
REWARDS = R.standard_normal((10, 8))
INIT = [R.standard_normal(s) * 0.3 for s in [(4, 3), (4,), (3, 2), (3,)]]


def _fit_gaussian(torch):
    """Maximum likelihood of a diagonal Gaussian by Adam on -log_prob (Independent Normal)."""
    D = torch.distributions
    data = torch.tensor(DATA, dtype=torch.float64)
    loc = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    log_scale = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([loc, log_scale], lr=0.1)
    for _ in range(20):
        opt.zero_grad()
        loss = -D.Independent(D.Normal(loc, log_scale.exp()), 1).log_prob(data).mean()
        loss.backward()
        opt.step()
    return loc.detach(), log_scale.detach(), loss.detach()


def _vae_step(torch):
    """The VAE pattern: a reparameterised Normal sample through a linear decoder, plus KL to the prior."""
    D = torch.distributions
    torch.manual_seed(0)
    enc = torch.nn.Linear(3, 4).double()
    dec = torch.nn.Linear(2, 3).double()
    with torch.no_grad():
        for p, v in zip(list(enc.parameters()) + list(dec.parameters()), INIT):
            p.copy_(torch.tensor(v))
    x = torch.tensor(DATA[:4])
    opt = torch.optim.SGD(list(enc.parameters()) + list(dec.parameters()), lr=0.05)
    for step in range(10):
        opt.zero_grad()
        h = enc(x)
        q = D.Normal(h[:, :2], torch.nn.functional.softplus(h[:, 2:]) + 1e-3)
        z = q.loc + q.scale * torch.tensor(EPS[step])          # rsample with fixed noise
        recon = D.Normal(dec(z), 1.0).log_prob(x).sum(-1)
        kl = D.kl_divergence(q, D.Normal(torch.zeros_like(q.loc), torch.ones_like(q.scale))).sum(-1)
        loss = (kl - recon).mean()
        loss.backward()
        opt.step()
    return [p.detach() for p in list(enc.parameters()) + list(dec.parameters())] + [loss.detach()]


def _reinforce(torch):
    """REINFORCE with a Categorical policy and an entropy bonus (actions fixed, as if sampled)."""
    D = torch.distributions
    logits = torch.zeros(8, 3, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([logits], lr=0.5)
    for step in range(10):
        opt.zero_grad()
        pi = D.Categorical(logits=logits)
        log_p = pi.log_prob(torch.tensor(ACTIONS[step]))
        loss = -(log_p * torch.tensor(REWARDS[step])).mean() - 0.01 * pi.entropy().mean()
        loss.backward()
        opt.step()
    return [logits.detach(), loss.detach()]


@pytest.mark.parametrize("program", [_fit_gaussian, _vae_step, _reinforce])
def test_program_trajectories_match_torch(program):
    for got, want in zip(program(ember), program(torch)):
        np.testing.assert_allclose(arr(got), arr(want), rtol=1e-9, atol=1e-11)
