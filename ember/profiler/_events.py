"""The profiler's results, as torch.autograd.profiler_util has them: FunctionEvent (one op call or
record_function range, with its nested children), FunctionEventAvg (the events of one key summed) and
EventList (a list of either, with table(), key_averages(), export_chrome_trace()). Times are microseconds."""
import enum
import json

from ._table import build_table, format_time


class DeviceType(enum.IntEnum):
    """torch.autograd.DeviceType: where an event ran (ember's events are CPU events)."""
    CPU = 0
    CUDA = 1


class Interval:
    """An event's [start, end] in microseconds."""

    def __init__(self, start, end):
        self.start = start
        self.end = end

    def elapsed_us(self):
        """end - start."""
        return self.end - self.start

    def __repr__(self):
        return f"Interval(start={self.start}, end={self.end})"


class _Formatted:
    """The *_str views of the times, as PyTorch's FormattedTimesMixin gives them."""

    @property
    def cpu_time_str(self):
        return format_time(self.cpu_time)

    @property
    def cpu_time_total_str(self):
        return format_time(self.cpu_time_total)

    @property
    def self_cpu_time_total_str(self):
        return format_time(self.self_cpu_time_total)

    @property
    def device_time_str(self):
        return format_time(self.device_time)

    @property
    def device_time_total_str(self):
        return format_time(self.device_time_total)

    @property
    def self_device_time_total_str(self):
        return format_time(self.self_device_time_total)

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    @property
    def device_time(self):
        return 0.0 if self.count == 0 else self.device_time_total / self.count

    @property
    def cuda_time(self):
        return self.device_time

    @property
    def cuda_time_total(self):
        return self.device_time_total

    @property
    def self_cuda_time_total(self):
        return self.self_device_time_total


class FunctionEvent(_Formatted):
    """One profiled range: an op call ("aten::mm") or a record_function block, with its children."""

    def __init__(self, id, name, thread, start_us, end_us, fwd_thread=None, input_shapes=None, stack=None,
                 scope=0, use_device=None, cpu_memory_usage=0, device_memory_usage=0, is_async=False,
                 is_remote=False, sequence_nr=-1, node_id=-1, device_type=DeviceType.CPU, device_index=0,
                 is_legacy=False, flops=None, trace_name=None, is_user_annotation=False, overload_name=""):
        self.id = id
        self.node_id = node_id
        self.name = name
        self.overload_name = overload_name
        self.trace_name = trace_name
        self.time_range = Interval(start_us, end_us)
        self.thread = thread
        self.fwd_thread = fwd_thread
        self.count = 1
        self.cpu_children = []
        self.cpu_parent = None
        self.input_shapes = input_shapes
        self.concrete_inputs = None
        self.kwinputs = None
        self.stack = stack if stack is not None else []
        self.scope = scope
        self.use_device = use_device
        self.cpu_memory_usage = cpu_memory_usage
        self.device_memory_usage = device_memory_usage
        self.is_async = is_async
        self.is_remote = is_remote
        self.sequence_nr = sequence_nr
        self.device_type = device_type
        self.device_index = device_index
        self.is_legacy = is_legacy
        self.flops = flops if flops is not None else 0
        self.is_user_annotation = is_user_annotation
        self.self_cpu_percent = -1
        self.total_cpu_percent = -1
        self.total_device_percent = -1

    @classmethod
    def started(cls, id, name, thread, start_us, trace_name, input_shapes, stack, use_device, is_user_annotation):
        """An event the recorder opens. NOTE: the profiler's per-op cost: only the fields that differ from the
        class defaults below are set."""
        e = cls.__new__(cls)
        e.id = id
        e.name = name
        e.thread = thread
        e.time_range = Interval(start_us, None)
        e.trace_name = trace_name
        e.input_shapes = input_shapes
        e.stack = stack
        e.use_device = use_device
        e.is_user_annotation = is_user_annotation
        e.cpu_children = []
        return e

    # NOTE: defaults of the events the recorder makes (FunctionEvent.started); __init__ sets every field
    node_id = -1
    overload_name = ""
    fwd_thread = None
    count = 1
    cpu_parent = None
    concrete_inputs = None
    kwinputs = None
    scope = 0
    cpu_memory_usage = 0
    device_memory_usage = 0
    is_async = False
    is_remote = False
    sequence_nr = -1
    device_type = DeviceType.CPU
    device_index = 0
    is_legacy = False
    flops = 0
    self_cpu_percent = -1
    total_cpu_percent = -1
    total_device_percent = -1

    @property
    def kernels(self):
        return []

    def append_cpu_child(self, child):
        """Record `child` as a range nested directly in this one."""
        self.cpu_children.append(child)

    def set_cpu_parent(self, parent):
        """Record the range this one is nested in."""
        self.cpu_parent = parent

    @property
    def key(self):
        return self.name

    @property
    def cpu_time_total(self):
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def device_time_total(self):
        return 0

    @property
    def self_device_time_total(self):
        return 0

    @property
    def self_cpu_memory_usage(self):
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    @property
    def self_device_memory_usage(self):
        return self.device_memory_usage - sum(c.device_memory_usage for c in self.cpu_children)

    @property
    def self_cuda_memory_usage(self):
        return self.self_device_memory_usage

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} device_type={self.device_type} "
                f"node_id={self.node_id} cpu_time={self.cpu_time_str} start_us={self.time_range.start} "
                f"end_us={self.time_range.end} cpu_children={[c.id for c in self.cpu_children]} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage} "
                f"is_legacy={self.is_legacy} scope={self.scope}>")


class FunctionEventAvg(_Formatted):
    """The events of one key (name, and input shapes or stack when grouped by them), summed."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.use_device = None
        self.cpu_time_total = 0
        self.device_time_total = 0
        self.self_cpu_time_total = 0
        self.self_device_time_total = 0
        self.input_shapes = None
        self.overload_name = None
        self.stack = None
        self.scope = None
        self.cpu_memory_usage = 0
        self.device_memory_usage = 0
        self.self_cpu_memory_usage = 0
        self.self_device_memory_usage = 0
        self.cpu_children = None
        self.cpu_parent = None
        self.device_type = DeviceType.CPU
        self.is_legacy = False
        self.flops = 0
        self.is_user_annotation = False

    def add(self, other):
        """Add `other` (a FunctionEvent or FunctionEventAvg of the same key) into this one; returns self."""
        if self.key is None:
            self.key = other.key
            self.node_id = other.node_id
            self.is_async = other.is_async
            self.is_remote = other.is_remote
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.overload_name = other.overload_name
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.scope = other.scope
            self.device_type = other.device_type
            self.is_legacy = other.is_legacy
            self.use_device = other.use_device
            self.is_user_annotation = other.is_user_annotation
        if other.key != self.key:
            raise AssertionError(f"Expected keys to match, but got {self.key} vs {other.key}")
        self.cpu_time_total += other.cpu_time_total
        self.device_time_total += other.device_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.self_device_time_total += other.self_device_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.device_memory_usage += other.device_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        self.self_device_memory_usage += other.self_device_memory_usage
        self.count += other.count
        self.flops += other.flops
        return self

    def __iadd__(self, other):
        return self.add(other)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} self_device_time={self.self_device_time_total_str} "
                f"device_time={self.device_time_str} input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage} device_memory_usage={self.device_memory_usage}>")


class EventList(list):
    """A list of FunctionEvent or FunctionEventAvg with PyTorch's summaries."""

    def __init__(self, *args, **kwargs):
        self._use_device = kwargs.pop("use_device", None)
        self._profile_memory = kwargs.pop("profile_memory", False)
        self._with_flops = kwargs.pop("with_flops", False)
        super().__init__(*args, **kwargs)
        self._tree_built = True

    def _build_tree(self):
        """Parents and children are linked as events are recorded; kept for API parity."""

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """The events as PyTorch's text table, sorted by the attribute `sort_by` (descending)."""
        return build_table(self, sort_by=sort_by, header=header, row_limit=row_limit,
                           max_src_column_width=max_src_column_width, max_name_column_width=max_name_column_width,
                           max_shapes_column_width=max_shapes_column_width, with_flops=self._with_flops,
                           profile_memory=self._profile_memory, top_level_events_only=top_level_events_only,
                           time_unit=time_unit)

    def export_chrome_trace(self, path):
        """Write the events to `path` as a Chrome trace (a JSON array of complete events, as PyTorch's
        EventList writes it)."""
        with open(path, "w") as f:
            json.dump([trace_event(e, pid="CPU functions") for e in self], f)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write each event's stack (outermost first, ';'-joined) and its `metric` as an integer, one a line
        (the flame-graph format PyTorch writes; events need with_stack=True)."""
        with open(path, "w") as f:
            for e in self:
                if e.stack:
                    f.write(";".join(reversed(e.stack)) + " " + str(int(getattr(e, metric))) + "\n")

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0, group_by_overload_name=False):
        """One FunctionEventAvg per event name (and input shapes / top stack frames when grouped by them), in
        order of first appearance."""
        stats = {}
        for e in self:
            key = [str(e.key), str(e.node_id), str(e.device_type), str(e.is_legacy), str(e.is_user_annotation)]
            if group_by_overload_name:
                key.append(e.overload_name)
            if group_by_input_shapes:
                key.append(str(e.input_shapes))
            if group_by_stack_n > 0:
                key += e.stack[:group_by_stack_n]
            stats.setdefault(tuple(key), FunctionEventAvg()).add(e)
        avg = EventList(stats.values(), use_device=self._use_device, profile_memory=self._profile_memory,
                        with_flops=self._with_flops)
        for a in avg:
            a.stack = a.stack[:group_by_stack_n]
            if not group_by_input_shapes:
                a.input_shapes = ""
            if not group_by_overload_name:
                a.overload_name = ""
        return avg

    def total_average(self):
        """All events summed into one FunctionEventAvg keyed "Total"."""
        total = FunctionEventAvg()
        for e in self:
            total.add(e)
            total.key = None
        total.key = "Total"
        return total

    def __str__(self):
        return self.table()


def trace_event(e, pid):
    """One Chrome trace "complete" event for `e`."""
    args = {}
    if e.input_shapes:
        args["Input Dims"] = e.input_shapes
    if e.stack:
        args["Call stack"] = ";".join(e.stack)
    return {"ph": "X", "cat": "user_annotation" if e.is_user_annotation else "cpu_op", "name": e.trace_name or e.name,
            "pid": pid, "tid": e.thread, "ts": e.time_range.start, "dur": e.time_range.elapsed_us(), "args": args}
