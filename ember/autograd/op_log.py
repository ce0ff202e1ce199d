"""A log of the primitive ops that ran, with the Python stack of each call: what torch.utils.checkpoint's debug
mode shows when a recomputation differs from the forward (PyTorch logs its dispatcher's operators there).

While `recording()` is active every `Primitive.apply` appends one entry; ops an op runs inside itself (its
backward, an op composed of others) are not logged again.
"""
import contextlib
import os
import traceback

from .. import _state
from .._tensor import Tensor

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SHORT = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64", "complex64": "c64",
          "complex128": "c128", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64", "uint8": "u8",
          "bool": "b8"}


class OpLog:
    """The entries of one recording: `lines` ("$2: f32[3] = ember.Sin($1)") and `stacks` (each call's frames
    outside ember, as "file:line:function" strings, innermost last)."""

    def __init__(self):
        self.lines = []
        self.stacks = []
        self._names = {}  # id(tensor) -> its $number (tensors kept alive so that ids are not reused)
        self._alive = []

    def name(self, t):
        key = id(t)
        if key not in self._names:
            self._names[key] = f"${len(self._names)}"
            self._alive.append(t)
        return self._names[key]


@contextlib.contextmanager
def recording(log):
    """Append every primitive call inside this block to `log` (an OpLog)."""
    prev = _state.op_log
    _state.op_log = log
    try:
        yield log
    finally:
        _state.op_log = prev


def logged(cls, args, apply):
    """Run the op (apply(cls, args)) with the log paused inside it, then log it."""
    log = _state.op_log
    if type(log) is not OpLog:  # NOTE: another recorder in the slot (selective checkpointing's) runs the call itself
        return log.run_op(cls, args, apply)
    _state.op_log = None
    try:
        out = apply(cls, args)
    finally:
        _state.op_log = log
    args_text = ", ".join(log.name(a) if isinstance(a, Tensor) else _param(a) for a in args)
    outs = out if isinstance(out, tuple) else (out,)
    names = ", ".join(log.name(o) for o in outs if isinstance(o, Tensor))
    metas = ", ".join(_meta(o) for o in outs if isinstance(o, Tensor))
    log.lines.append(f"{names}: {metas} = ember.{cls.__name__}({args_text})")
    log.stacks.append([f"{f.filename}:{f.lineno}:{f.name}" for f in traceback.extract_stack()[:-1]
                       if not f.filename.startswith(_PACKAGE)])
    return out


def _meta(t):
    return f"{_SHORT.get(t.dtype.name, t.dtype.name)}[{', '.join(str(s) for s in t.shape)}]"


def _param(a):
    if isinstance(a, (tuple, list)):
        return "[" + ", ".join(_param(x) for x in a) + "]"
    return repr(a)
