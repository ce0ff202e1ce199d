"""The NCCL engine (CuPy's cupy.cuda.nccl): collectives on contiguous 1-D CUDA arrays, one GPU per rank."""
from .. import _backends


def _backend():
    return _backends.get("cuda")


def available():
    """Whether CuPy with NCCL is installed and sees a GPU."""
    backend = _backend()
    return backend.is_available() and backend.nccl() is not None


class NCCLEngine:
    on_host = False
    name = "nccl"

    @classmethod
    def create(cls, control, device_id=None):
        raise RuntimeError("NCCL engine: not yet implemented")
