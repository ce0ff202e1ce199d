"""torch.autograd.profiler: the older profiler API over the same recorder as torch.profiler (ember's op
calls, record_function ranges and autograd nodes, timed on the host), and the NVTX/ITT range emitters,
which do nothing in ember (no NVTX or ITT library)."""
from ..profiler._events import DeviceType, EventList, FunctionEvent, FunctionEventAvg
from ..profiler._profile import ProfilerActivity, kineto_available, write_trace
from ..profiler._record_function import record_function
from ..profiler._recorder import Recorder

__all__ = ["profile", "record_function", "emit_nvtx", "emit_itt", "EventList", "FunctionEvent",
           "FunctionEventAvg", "DeviceType", "ProfilerActivity", "kineto_available"]


class profile:
    """Context manager that records the ops run inside it; results in `function_events`, `table()`,
    `key_averages()`, `export_chrome_trace()`. use_cuda/use_device mark events with that device (ember
    times device ops on the host)."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None,
                 post_processing_timeout_s=None, activity_filters=None):
        self.enabled = enabled
        if not enabled:
            return
        self.use_device = "cuda" if use_cuda else use_device
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cpu = use_cpu
        self.entered = False
        self._recorder = None
        self._function_events = None

    def __enter__(self):
        if not self.enabled:
            return None
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._recorder = Recorder(self.record_shapes, self.profile_memory, self.with_stack, self.use_device,
                                  self.with_flops)
        self._recorder.start()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if not self.enabled:
            return
        recorder, self._recorder = self._recorder, None
        recorder.stop()
        recorder.finish()
        self._function_events = EventList(recorder.events, use_device=self.use_device,
                                          profile_memory=self.profile_memory, with_flops=self.with_flops)

    @property
    def function_events(self):
        """The recorded events (an empty EventList before the profile has run)."""
        if self._function_events is None:
            return EventList()
        return self._function_events

    def __repr__(self):
        return "<unfinished torch.autograd.profile>" if self._function_events is None else repr(self.function_events)

    def __str__(self):
        return "<unfinished torch.autograd.profile>" if self._function_events is None else self.table()

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """The events as PyTorch's text table (see EventList.table)."""
        return self.function_events.table(sort_by=sort_by, row_limit=row_limit,
                                          max_src_column_width=max_src_column_width,
                                          max_name_column_width=max_name_column_width,
                                          max_shapes_column_width=max_shapes_column_width, header=header,
                                          top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path):
        """Write the events to `path` as Chrome trace JSON ({"traceEvents": [...], ...})."""
        write_trace(self.function_events, path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write the events' stacks in flame-graph format (needs with_stack=True)."""
        self.function_events.export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """The events averaged by name (and input shapes / stack frames when grouped by them)."""
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def total_average(self):
        """All events summed into one FunctionEventAvg."""
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        """The sum of every event's self CPU time, in microseconds."""
        return self.function_events.self_cpu_time_total


class emit_nvtx:
    """Context manager that would emit NVTX ranges for nvprof/Nsight; ember emits none (no NVTX)."""

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled = enabled
        self.entered = False
        self.record_shapes = record_shapes

    def __enter__(self):
        if not self.enabled:
            return None
        if self.entered:
            raise RuntimeError("NVTX annotation context manager is not reentrant")
        self.entered = True
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        return None


class emit_itt(emit_nvtx):
    """Context manager that would emit Intel ITT ranges for VTune; ember emits none (no ITT)."""

    def __enter__(self):
        if not self.enabled:
            return None
        if self.entered:
            raise RuntimeError("ITT annotation context manager is not reentrant")
        self.entered = True
        return self
