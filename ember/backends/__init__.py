"""torch.backends: which libraries ember's build has and the switches programs set on them."""
from . import cpu, cuda, cudnn, mkl, mkldnn, mps, openmp, opt_einsum  # noqa: F401
