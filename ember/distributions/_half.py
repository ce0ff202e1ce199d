"""What HalfNormal and HalfCauchy share: |X| for X symmetric about 0 with scale `scale`."""
import math

from . import constraints
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform


class HalfDistribution(TransformedDistribution):
    """|X| with X ~ `_symmetric`(0, scale); a subclass names `_symmetric` and its own moments."""
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _symmetric = None

    def __init__(self, scale, validate_args=None):
        super().__init__(self._symmetric(0, scale, validate_args=False), AbsTransform(),
                         validate_args=validate_args)

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        from .. import zeros_like
        return zeros_like(self.scale)

    def log_prob(self, value):
        from .. import where
        if self._validate_args:
            self._validate_sample(value)
        value = self._as_value(value)
        return where(value >= 0, self.base_dist.log_prob(value) + math.log(2), -math.inf)

    def _as_value(self, value):
        return value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)
