"""torch.profiler.profile: records ember's op calls (one event per primitive op, named as PyTorch's
dispatcher names it), record_function ranges and the autograd engine's nodes, steps through a schedule
and hands each finished trace to on_trace_ready. Difference from PyTorch: CPU wall times of ember's Python
op calls (no device kernels, no Kineto); ops ember composes in Python (F.linear is an addmm, F.relu a relu)
appear as the primitives they run; memory counts the bytes of the arrays each op's outputs own (no frees)."""
import enum
import gzip
import json
import os
import socket
import time
import warnings

from ._events import EventList, trace_event
from ._record_function import record_function
from ._recorder import Recorder


class ProfilerActivity(enum.Enum):
    """torch.profiler.ProfilerActivity: which activities a profile records (ember records CPU ops)."""
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What a schedule asks of the profiler at a step."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4


def supported_activities():
    """The activities ember can profile: {ProfilerActivity.CPU} (CUDA ops are timed on the host as CPU)."""
    return {ProfilerActivity.CPU}


def kineto_available():
    """True: traces are exported in Kineto's Chrome trace format."""
    return True


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A schedule: skip `skip_first` steps, then cycles of `wait` idle, `warmup` and `active` recorded steps
    (`repeat` cycles, 0: no limit); the last active step of a cycle is RECORD_AND_SAVE."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} (need >= 0), "
            f"active={active} (need > 0), repeat={repeat} (need >= 0), skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def schedule_fn(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:  # NOTE: the first cycle starts without its wait
            step += wait
        if repeat > 0 and step / cycle >= repeat:
            return ProfilerAction.NONE
        at = step % cycle
        if at < wait:
            return ProfilerAction.NONE
        if at < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if at < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return schedule_fn


def _always_record(step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False, use_python_export=False):
    """An on_trace_ready handler writing each trace to `dir_name` as "<worker>.<time_ns>.pt.trace.json"
    (worker: "<hostname>_<pid>" unless given; ".gz" added with use_gzip)."""
    def handler_fn(prof):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, file_name))
    return handler_fn


def write_trace(events, path, metadata=None):
    """Write `events` to `path` (gzip-compressed when it ends in ".gz") as a Kineto-format Chrome trace."""
    pid = os.getpid()
    trace = {"schemaVersion": 1, "deviceProperties": [], "displayTimeUnit": "ms",
             "baseTimeNanoseconds": 0, "traceName": path}
    trace.update(metadata or {})
    trace["traceEvents"] = [trace_event(e, pid) for e in events]
    text = json.dumps(trace)
    if path.endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        with open(path, "w") as f:
            f.write(text)


_A = ProfilerAction
# NOTE: what happens between the action of one step and the next (None: the profile stops), as PyTorch's
# action map says; a name is a method of profile, a string a warning
_TRANSITIONS = {
    (_A.NONE, _A.RECORD): ["_start_trace"],
    (_A.NONE, _A.RECORD_AND_SAVE): ["_start_trace"],
    (_A.WARMUP, _A.NONE): ["Incorrect schedule: WARMUP followed by NONE", "_start_trace", "_stop_trace"],
    (_A.WARMUP, _A.RECORD): ["_start_trace"],
    (_A.WARMUP, _A.RECORD_AND_SAVE): ["_start_trace"],
    (_A.RECORD, _A.NONE): ["Incorrect schedule: RECORD followed by NONE", "_stop_trace"],
    (_A.RECORD, _A.WARMUP): ["Incorrect schedule: RECORD followed by WARMUP", "_stop_trace"],
    (_A.RECORD_AND_SAVE, _A.NONE): ["_stop_trace", "_trace_ready"],
    (_A.RECORD_AND_SAVE, _A.WARMUP): ["_stop_trace", "_trace_ready"],
    (_A.RECORD_AND_SAVE, _A.RECORD): ["_stop_trace", "_trace_ready", "_start_trace"],
    (_A.RECORD_AND_SAVE, _A.RECORD_AND_SAVE): ["_stop_trace", "_trace_ready", "_start_trace"],
    (_A.WARMUP, None): ["_start_trace", "_stop_trace"],
    (_A.RECORD, None): ["_stop_trace", "_trace_ready"],
    (_A.RECORD_AND_SAVE, None): ["_stop_trace", "_trace_ready"],
}


class profile:
    """Profiler context manager (start()/stop()/step() for use without `with`)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        chosen = set()
        for item in activities if activities is not None else supported_activities():
            chosen.update(item.keys() if isinstance(item, dict) else [item])
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning,
                          stacklevel=2)
            if use_cuda:
                chosen.add(ProfilerActivity.CUDA)
            else:
                chosen.discard(ProfilerActivity.CUDA)
        if not chosen:
            raise AssertionError("No valid profiler activities found")
        self.activities = chosen
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.use_device = "cuda" if ProfilerActivity.CUDA in chosen else None
        self.schedule = schedule if schedule else _always_record
        self.record_steps = bool(schedule)
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn = None
        self.current_action = self.schedule(self.step_num)
        if self.current_action == ProfilerAction.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler and must not be "
                             "returned by a user-provided schedule")
        self._recorder = None
        self._events = None
        self._metadata = {}

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        self.stop()

    def start(self):
        """Begin profiling (at the schedule's action for the current step)."""
        self._transit(ProfilerAction.NONE, self.current_action)
        self._open_step()

    def stop(self):
        """End profiling; a trace being recorded is finished (and handed to on_trace_ready)."""
        self._close_step()
        self._transit(self.current_action, None)

    def step(self):
        """Mark the end of a training step: move to the schedule's action for the next one."""
        self._close_step()
        prev = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit(prev, self.current_action)
        self._open_step()

    def _open_step(self):
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def _close_step(self):
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None

    def _transit(self, prev, current):
        for action in _TRANSITIONS.get((prev, current), ()):
            if action.startswith("_"):
                getattr(self, action)()
            else:
                warnings.warn(action, stacklevel=3)

    def _start_trace(self):
        self._recorder = Recorder(self.record_shapes, self.profile_memory, self.with_stack, self.use_device,
                                  self.with_flops)
        self._recorder.start()

    def _stop_trace(self):
        recorder, self._recorder = self._recorder, None
        if recorder is None:
            return
        recorder.stop()
        recorder.finish()
        self._events = EventList(recorder.events, use_device=self.use_device, profile_memory=self.profile_memory,
                                 with_flops=self.with_flops)

    def _trace_ready(self):
        if self.on_trace_ready:
            self.on_trace_ready(self)

    # --- results -------------------------------------------------------------------------------------------
    def events(self):
        """The events of the last finished trace (an EventList of FunctionEvent)."""
        if self._events is None:
            raise AssertionError("Expected profiler to be initialized")
        return self._events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """The events averaged by name (and input shapes / stack frames / overload when grouped by them)."""
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path):
        """Write the last trace to `path` as Chrome trace JSON ({"traceEvents": [...], ...})."""
        write_trace(self.events(), path, self._metadata)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Write the events' stacks in flame-graph format (needs with_stack=True)."""
        self.events().export_stacks(path, metric)

    def add_metadata(self, key, value):
        """Add a string entry to the exported trace's top level."""
        self._metadata[key] = value

    def add_metadata_json(self, key, value):
        """Add an entry (a JSON string) to the exported trace's top level."""
        self._metadata[key] = json.loads(value)
