"""torch.nn: modules, parameters, functional, init and utils."""
from . import functional, init, utils  # noqa: F401
from . import attention, grad  # noqa: F401
from .modules import *  # noqa: F401,F403
from . import parallel  # noqa: F401
from .parallel import DataParallel  # noqa: F401
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
