"""torch.autograd.anomaly_mode: detect_anomaly and set_detect_anomaly, for finding the op whose backward failed.

While anomaly detection is on:
- every node made records the traceback of the forward call that made it (`grad_fn.metadata["traceback_"]`),
  and a node made by a backward (create_graph=True) the node whose backward made it (`metadata["parent_"]`);
- in backward, an error raised while a node runs (its hooks, its backward, the checks of its result) is
  preceded by a warning that shows that traceback (and one more for each parent, in turn);
- with check_nan (the default), a node whose backward returns a NaN raises PyTorch's RuntimeError naming it.

As in PyTorch, the switch is one for the whole process (not per thread).
"""
import os
import traceback
import warnings

from .. import _state
from .graph import Node

ENABLED_WARNING = ("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                   "enabled for debugging.")
NO_FORWARD_INFO = ("No forward pass information available. Enable detect anomaly during forward pass for more "
                   "information.")

_EMBER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def is_anomaly_enabled():
    """torch.is_anomaly_enabled: whether anomaly detection is on."""
    return _state.anomaly_enabled


def is_anomaly_check_nan_enabled():
    """torch.is_anomaly_check_nan_enabled: whether backward checks node results for NaN (when detection is on)."""
    return _state.anomaly_check_nan


def set_anomaly_enabled(enabled, check_nan=True):
    """torch.set_anomaly_enabled: turn anomaly detection on or off at once."""
    _state.anomaly_enabled = bool(enabled)
    _state.anomaly_check_nan = bool(check_nan)
    # NOTE: a node records its forward traceback in an __init__ that exists only while detection is on:
    # making a node (every op call makes one) costs nothing extra otherwise. Node's subclasses have no
    # __init__ of their own (AccumulateGrad aside: a leaf has no forward call), so they inherit this one.
    if _state.anomaly_enabled:
        Node.__init__ = _record_forward_traceback
    elif "__init__" in Node.__dict__:
        del Node.__init__


class detect_anomaly:
    """Context manager: anomaly detection on inside (check_nan: also raise on NaN gradients), restored after.

    Warns, as PyTorch does, that it slows everything down. (PyTorch 2.13's detect_anomaly is not a
    decorator: calling it on a function raises TypeError, and so it does here.)"""

    def __init__(self, check_nan=True):
        self.prev = _state.anomaly_enabled
        self.check_nan = check_nan
        self.prev_check_nan = _state.anomaly_check_nan
        warnings.warn(ENABLED_WARNING, UserWarning, stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


class set_detect_anomaly:
    """Turn anomaly detection on or off at once; as a context manager, restore the previous state after."""

    def __init__(self, mode, check_nan=True):
        self.prev = _state.anomaly_enabled
        self.prev_check_nan = _state.anomaly_check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        pass

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)


def _record_forward_traceback(node):
    """Node.__init__ while detection is on: keep the stack of the forward call in the node's metadata.

    NOTE: the innermost frames are ember's own machinery (the op boundary, the method, the guard); they are
    left out, so the traceback ends at the user's line, as PyTorch's does (its machinery is C++)."""
    stack = traceback.extract_stack()
    end = len(stack)
    while end and stack[end - 1].filename.startswith(_EMBER_DIR):
        end -= 1
    node.metadata["traceback_"] = traceback.format_list(stack[:end])
    from .engine import current_task  # NOTE: engine imports this module
    task = current_task()
    if task is not None and task.node is not None:  # made by a backward (create_graph): the node that ran it
        node.metadata["parent_"] = task.node


def warn_error_in(node):
    """The warning PyTorch gives before an error raised while `node` runs in backward: the forward traceback."""
    stack = node.__dict__.get("_metadata", {}).get("traceback_")
    if stack:
        where = "Traceback of forward call that caused the error:\n" + "".join(stack)
    else:
        where = NO_FORWARD_INFO
    warnings.warn(f"Error detected in {node.name()}. {where}", UserWarning, stacklevel=2)
    parent = node.__dict__.get("_metadata", {}).get("parent_")
    while parent is not None:  # a node made by a backward: the forward calls behind that backward, in turn
        meta = parent.__dict__.get("_metadata", {})
        warnings.warn(f"\n\nPrevious calculation was induced by {parent.name()}. Traceback of forward call that "
                      "induced the previous calculation:\n" + "".join(meta.get("traceback_", ())),
                      UserWarning, stacklevel=2)
        parent = meta.get("parent_")


def check_nan(node, grads):
    """PyTorch's error for a node whose backward returned NaN (check_nan on): names the node and the output."""
    for i, g in enumerate(grads):
        if g is None:
            continue
        data = g._vals._data if getattr(g, "_sparse", False) else g._data  # NOTE: a sparse gradient's values
        if bool(g._device.backend.xp.isnan(data).any()):
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
