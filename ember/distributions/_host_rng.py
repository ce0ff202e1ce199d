"""Samplers ember's tensor API lacks (gamma, binomial), drawn from ember's default generator on the host.

NOTE: both are PyTorch's CPU samplers (ember/_draws.py: the same numbers per seed). The samples are then put
on the parameters' device in their dtype, like every other ember sampler.
"""


def draw(method, *params, like, host_dtypes=None):
    """`generator.<method>(*params as host arrays)` as a tensor of `like`'s dtype and device; the params are
    passed as float64 unless `host_dtypes` names each one's dtype (binomial's counts are integers)."""
    from .. import as_tensor
    from .._random import _rng
    if method in ("standard_gamma", "binomial"):
        # NOTE: PyTorch's own samplers on PyTorch's generator (ember/_draws.py): the same numbers per seed.
        from .. import _draws
        from .._random import _engine
        host = [p._device.backend.to_host(p.detach()._data).astype(like.dtype.np) for p in params]
        values = getattr(_draws, method)(_engine(None), *host, like.dtype)
        return as_tensor(values, dtype=like.dtype, device=like.device)
    host_dtypes = host_dtypes or ["float64"] * len(params)
    host = [p._device.backend.to_host(p.detach()._data).astype(d) for p, d in zip(params, host_dtypes)]
    return as_tensor(getattr(_rng(None), method)(*host), dtype=like.dtype, device=like.device)
