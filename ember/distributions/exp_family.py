"""torch.distributions.ExponentialFamily: densities p(x; t) = exp(<t(x), theta> - F(theta) + k(x))."""
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """Base of exponential-family distributions. A subclass gives its natural parameters, log normaliser F and
    mean carrier measure; entropy then follows from the Bregman divergence of F (its gradient by autograd)."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def entropy(self):
        """-E[k(x)] + F(theta) - <theta, grad F(theta)>."""
        from .. import autograd
        params = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*params)
        grads = autograd.grad(log_normalizer.sum(), params, create_graph=True)
        result = -self._mean_carrier_measure + log_normalizer
        for param, grad in zip(params, grads):
            result = result - (param * grad).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
