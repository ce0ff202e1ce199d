"""Samplers ember's tensor API lacks (gamma, binomial), drawn from ember's default generator on the host.

NOTE: ember's generator is a NumPy Generator; its standard_gamma (Marsaglia-Tsang) and binomial (BTPE) are
the textbook samplers, so the distributions reuse them instead of re-implementing them on Tensor ops. The
samples are then put on the parameters' device in their dtype, like every other ember sampler.
"""


def draw(method, *params, like, host_dtypes=None):
    """`generator.<method>(*params as host arrays)` as a tensor of `like`'s dtype and device; the params are
    passed as float64 unless `host_dtypes` names each one's dtype (binomial's counts are integers)."""
    from .. import as_tensor
    from .._random import _rng
    host_dtypes = host_dtypes or ["float64"] * len(params)
    host = [p._device.backend.to_host(p.detach()._data).astype(d) for p, d in zip(params, host_dtypes)]
    return as_tensor(getattr(_rng(None), method)(*host), dtype=like.dtype, device=like.device)
