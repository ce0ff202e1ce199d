"""torch.profiler.record_function (also torch.autograd.profiler.record_function): a named range in the
profile; nothing at all while no profiler runs."""
import functools

from ._recorder import current


class record_function:
    """Context manager and decorator: the block (or each call) is one event named `name` in the profile,
    with the ops it runs nested inside it."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self.record = None
        self._recorder = None

    def __enter__(self):
        recorder = current()
        if recorder is not None:
            self._recorder = recorder
            self.record = recorder.begin(self.name, user=True)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if not self.run_callbacks_on_exit:
            return
        recorder, self._recorder = self._recorder, None
        if recorder is not None and self.record is not None:
            recorder.end(self.record)

    def _call_end_callbacks_on_future(self, fut):
        """End the range when `fut` completes (PyTorch's async form); returns a future of fut's value."""
        self.run_callbacks_on_exit = False
        recorder, self._recorder = self._recorder, None

        def done(f):
            if recorder is not None and self.record is not None:
                recorder.end(self.record)
            return f.wait()
        return fut.then(done)

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)
        return wrapped
