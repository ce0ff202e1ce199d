"""torch.distributions.HalfCauchy."""
import math

from ._half import HalfDistribution
from .cauchy import Cauchy

__all__ = ["HalfCauchy"]


class HalfCauchy(HalfDistribution):
    """|X| with X ~ Cauchy(0, scale)."""
    _symmetric = Cauchy

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(HalfCauchy, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        from .. import full
        return full(self._extended_shape(), math.inf, dtype=self.scale.dtype, device=self.scale.device)

    @property
    def variance(self):
        return self.base_dist.variance

    def _as_value(self, value):
        from .. import as_tensor
        # NOTE: as PyTorch's HalfCauchy (HalfNormal takes the value as it comes)
        return as_tensor(value, dtype=self.scale.dtype, device=self.scale.device)
