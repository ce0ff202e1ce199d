"""torch.utils.benchmark: Timer, Measurement, Compare, the Fuzzer, and Callgrind's result types.

ember times Python statements only (no C++ Timer) and cannot collect Callgrind counts (OSError, as PyTorch
where Valgrind is unsupported).
"""
from .utils.common import *  # noqa: F401,F403
from .utils.compare import *  # noqa: F401,F403
from .utils.fuzzer import *  # noqa: F401,F403
from .utils.timer import *  # noqa: F401,F403
from .utils.valgrind_wrapper.timer_interface import *  # noqa: F401,F403
