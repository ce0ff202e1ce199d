"""torch.profiler: time the ops a program runs (ember's primitive op calls, record_function ranges and the
autograd engine's nodes, on the host clock), as tables, event lists and Chrome traces."""
from ._events import DeviceType
from ._profile import (ProfilerAction, ProfilerActivity, kineto_available, profile, schedule,
                       supported_activities, tensorboard_trace_handler)
from ._record_function import record_function
from . import itt, profiler

__all__ = ["profile", "schedule", "supported_activities", "tensorboard_trace_handler", "ProfilerAction",
           "ProfilerActivity", "kineto_available", "DeviceType", "record_function"]
