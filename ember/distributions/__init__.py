"""torch.distributions: probability distributions with sampling (reparameterised where PyTorch has it),
log-densities, moments and KL divergences, all on ember's Tensor ops so gradients flow to the parameters."""
from . import constraints, kl, utils
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Categorical", "Chi2", "Dirichlet", "Distribution", "Exponential", "ExponentialFamily",
    "Gamma", "Laplace", "MultivariateNormal", "Normal",
    "Uniform", "constraints", "kl", "kl_divergence", "register_kl", "utils",
]
