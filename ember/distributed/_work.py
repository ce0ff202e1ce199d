"""Work: the handle an async_op=True collective returns."""
import os
import time

from ._mpi import departed
from ._types import DistBackendError


_SPIN = int(os.environ.get("EMBER_DISTRIBUTED_SPIN", "256"))
_GRACE = 1.0  # seconds a request may still complete after a rank it waits for has exited


def wait_for(request, deadline, what, group=None):
    """Drive an engine request to completion, raising DistBackendError once `deadline` (time.monotonic()) passes.

    NOTE: MPI's non-blocking operations make progress only inside MPI calls, so this loop polls Test: that is
    the progress engine and the timeout in one (a blocking MPI call could not be interrupted). Measured with
    MPICH 5 between 2 processes: as fast as Wait for 1-400 MB allreduces, and faster than a blocking Allreduce
    for tiny ones. After EMBER_DISTRIBUTED_SPIN polls (256) it yields the core between polls."""
    if request.test():
        return
    checks = 0
    gone_since = None
    next_look = 0.0
    while not request.test():
        checks += 1
        if checks > _SPIN:  # NOTE: let a rank sharing this core run (more ranks than cores: the tests, laptops)
            os.sched_yield()
        if checks & 255:
            continue
        now = time.monotonic()
        if now > deadline:
            raise DistBackendError(f"{what} timed out: not every rank of the group reached it within the "
                                   "process group's timeout. The group is unusable now (the operation cannot be "
                                   "cancelled); end the job.")
        if group is not None and now >= next_look:  # NOTE: a few looks a second for ranks that exited
            next_look = now + 0.05
            gone = departed() & set(group._ranks)
            if gone and gone_since is None:
                gone_since = now
            elif gone and now - gone_since > _GRACE:
                raise DistBackendError(f"{what}: rank(s) {sorted(gone)} exited while this rank waited for them")


class Work:
    """A collective in flight: wait() completes it (the result is then in the tensors), is_completed() asks."""

    def __init__(self, request, finish, tensors, deadline, what, group=None):
        self._request = request
        self._finish = finish
        self._tensors = tensors
        self._deadline = deadline
        self._what = what
        self._group = group
        self._done = False
        self._error = None
        _track(self)

    def _complete(self, deadline):
        if self._done:
            if self._error is not None:
                raise self._error
            return
        try:
            wait_for(self._request, deadline, self._what, self._group)
            if self._finish is not None:
                self._finish()
        except BaseException as error:
            self._error = error
            if self._group is not None:
                self._group._broken = error
            raise
        finally:
            self._done = True

    def wait(self, timeout=None):
        """Block until the operation is complete (its result written into the tensors); returns True."""
        deadline = self._deadline if timeout is None else time.monotonic() + _seconds(timeout)
        self._complete(deadline)
        return True

    def is_completed(self):
        """Whether the operation has finished (this call also lets the engine make progress)."""
        if self._done:
            return True
        if self._request.test():
            self._complete(self._deadline)
            return True
        return False

    def is_success(self):
        """Whether it completed without an error (waits for it first)."""
        try:
            self.wait()
        except Exception:
            return False
        return True

    def exception(self):
        """The error the operation ended with, or None."""
        return self._error

    def result(self):
        """The output tensors (waits for them first)."""
        self.wait()
        return list(self._tensors)

    def synchronize(self):
        """Wait for the operation (ember's engines have no separate device streams to order)."""
        self.wait()

    def source_rank(self):
        """For a recv from any source: the rank the message came from."""
        self.wait()
        return self._request.source()

    def get_future(self):
        """A torch.futures.Future of result(), completed once the operation is (waiting on it waits for it)."""
        from ..futures import from_engine  # NOTE: late: ember.futures is a sibling package of ember.distributed
        return from_engine(self.is_completed, self.result)


_in_flight = []


def _track(work):
    """Keep `work` alive until it completes, and complete those that have.

    NOTE: PyTorch lets a program drop an async Work (Join.notify_join_context's is, in PyTorch's own example):
    the engine still writes into the buffers, so they must outlive the Python handle, and the result still
    reaches the tensor."""
    still = []
    for other in _in_flight:
        try:
            if not other.is_completed():
                still.append(other)
        except Exception:  # NOTE: its error is kept on the Work and the group; whoever waits on it sees it
            pass
    still.append(work)
    _in_flight[:] = still


def _seconds(timeout):
    return timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
