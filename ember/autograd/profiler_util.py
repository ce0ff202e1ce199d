"""torch.autograd.profiler_util: the profiler's result types (EventList, FunctionEvent, FunctionEventAvg)."""
from ..profiler._events import DeviceType, EventList, FunctionEvent, FunctionEventAvg, Interval

__all__ = ["DeviceType", "EventList", "FunctionEvent", "FunctionEventAvg", "Interval"]
