"""checkpoint(debug=True): the ops of the original forward and of the recomputation are logged (ember/autograd/
op_log.py), and a CheckpointError raised while unpacking is raised again with both logs and their stacks, in
the layout of PyTorch's message (its operators are ATen's; ember's are its primitives)."""
import contextlib

from ..autograd.op_log import OpLog, recording

_TEMPLATE = """ \
An error happened while unpacking tensors; dumping logs of latest computation
because you passed `debug=True` to `torch.utils.checkpoint.checkpoint()`.
Scroll all the way down for guidance on how to navigate these logs.

+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|        1. Stack traces of the operators that ran in the original forward     |
+------------------------------------------------------------------------------+

{forward_traces}
+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|        2. Stack traces of the operators that ran during recomputation        |
+------------------------------------------------------------------------------+

{recompute_traces}
+~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~+
|       3. Log of operators in the original forward and recomputation          |
+------------------------------------------------------------------------------+
(Scroll up to correlate stack traces with each operation listed below. This
 helps identify their source in the code.)

IMPORTANT: Differences in "detach" calls between the original forward and the
           recomputation are expected. They are introduced by the checkpointing
           mechanism and can be ignored.

Operations executed during the original forward:

{forward_ops}

Operations executed during recomputation:

{recompute_ops}

+------------------------------------------------------------------------------+
 ERROR: Detected non-determinism while running activation checkpointing

 You are seeing this error because you passed `debug=True` to checkpoint and
 tensors to be saved during the original forward and differ between those saved
 during recomputation. This can happen if different operators were ran in the
 original forward and in the recomputation.

 To identify where the mismatch may be coming from, you can do the following:

 1) Compare the operators ran during original forward and recomputation to
    see where they differ. These operators are printed above in the order they
    were executed.

 2) Review the stack trace for each operator to locate its invocation source.
    Each operator's stack trace is printed in their execution order.

 Note that the logs can be quite long. Here's how they are structured:
 (Tip: you can Ctrl-f for these headers)

 1. Stack traces of the operators that ran in the original forward
 2. Stack traces of the operators that ran during recomputation
 3. Log of operators in the original forward and recomputation
 4. Error message                                             <--- You are here
--------------------------------------------------------------------------------
"""


class DebugLogs:
    """The two logs of one debug checkpoint: `contexts()` gives (forward context, recompute context) as
    context_fn does; `explain(error)` raises the detailed CheckpointError from `error`."""

    def __init__(self):
        self.forward = None
        self.recompute = None

    def contexts(self):
        return self._recording("forward"), self._recording("recompute")

    @contextlib.contextmanager
    def _recording(self, which):
        log = OpLog()  # NOTE: a fresh log per run: the latest recomputation is the one shown
        setattr(self, which, log)
        with recording(log):
            yield

    def explain(self, error):
        from .checkpoint import CheckpointError
        forward, recompute = self.forward or OpLog(), self.recompute or OpLog()
        raise CheckpointError(_TEMPLATE.format(
            forward_traces=_traces(forward, "original"), recompute_traces=_traces(recompute, "recompute"),
            forward_ops="\n".join(forward.lines), recompute_ops="\n".join(recompute.lines))) from error


def _traces(log, label):
    out = []
    total = len(log.lines)
    for i, (line, stack) in enumerate(zip(log.lines, log.stacks)):
        out.append(f"{line}   ({i + 1} of {total} in {label})\n\n" + "".join(f"{frame}\n" for frame in stack) + "\n\n")
    return "".join(out)
