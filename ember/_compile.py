"""torch.compile: returns the callable unchanged. PyTorch compiles the function's graph into fused kernels
for speed; the results are the same as running it uncompiled, which is what ember does (ember's speed comes
from NumPy/CuPy calls; there is no graph compiler). No warning: the program's results do not change."""


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,  # noqa: A001
            disable=False, **kwargs):
    """`model` unchanged; called without a model (as a decorator with arguments), a decorator that
    returns its function unchanged."""
    if model is None:
        return lambda fn: fn
    return model
