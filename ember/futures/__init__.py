"""torch.futures: Future (a value that becomes available later), collect_all and wait_all.

ember's futures have no thread of their own: a future made by Work.get_future() completes when it is waited
for or asked done() (that drives the communication engine), and callbacks chained with then() run at that
moment, on the calling thread, instead of on a PyTorch worker thread."""
import threading

__all__ = ["Future", "collect_all", "wait_all"]


class Future:
    """A value (or an error) that becomes available later; then() chains callbacks, wait() blocks for it."""

    def __init__(self, *, devices=None):
        self._finished = False
        self._value = None
        self._error = None
        self._callbacks = []
        self._driver = None  # NOTE: settle(block) of whatever completes this future (an engine request, a parent)
        self._event = threading.Event()

    @classmethod
    def __class_getitem__(cls, item):
        return cls  # NOTE: Future[Tensor] in annotations, as PyTorch's Generic

    # --- completion ---------------------------------------------------------------------------
    def _settle(self, block):
        """Let whatever completes this future make progress (wait for it with block=True); never raises."""
        if not self._finished and self._driver is not None:
            self._driver(block)
        if block and not self._finished:
            self._event.wait()  # NOTE: a plain future: another thread will set it, as in PyTorch

    def _finish(self, value, error):
        if self._finished:
            raise RuntimeError("Attempting to mark a completed Future as complete again. Note that a Future can "
                               "only be marked completed once.")
        self._value, self._error, self._finished = value, error, True
        self._driver = None
        self._event.set()
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback(self)

    def set_result(self, result):
        """Complete the future with `result`; callbacks waiting on it run now."""
        self._finish(result, None)

    def set_exception(self, result):
        """Complete the future with an error, raised by wait() and value()."""
        if not isinstance(result, BaseException):
            raise TypeError(f"set_exception expects an exception, got {type(result).__name__}")
        self._finish(None, result)

    # --- reading ------------------------------------------------------------------------------
    def done(self):
        """Whether the future has completed (with a value or an error)."""
        self._settle(False)
        return self._finished

    def wait(self):
        """Block until the future completes; returns its value or raises its error."""
        self._settle(True)
        return self.value()

    def value(self):
        """The value of a completed future (raises its error if it completed with one)."""
        if not self._finished:
            raise RuntimeError("Future.value() on a future that has not completed: call wait() first")
        if self._error is not None:
            raise self._error
        return self._value

    # --- chaining -----------------------------------------------------------------------------
    def then(self, callback):
        """A future of callback(self), run once this one completes."""
        child = Future()
        child._driver = self._settle

        def run(parent):
            try:
                result = callback(parent)
            except Exception as error:  # NOTE: PyTorch wraps the callback's error in a RuntimeError
                child.set_exception(RuntimeError(f"Got the following error when running the callback: "
                                                 f"{type(error).__name__}: {error}"))
                return
            child.set_result(result)

        self._on_finish(run)
        return child

    def add_done_callback(self, callback):
        """Run callback(self) once the future completes (at once if it has)."""
        def run(fut):
            try:
                callback(fut)
            except Exception:  # NOTE: PyTorch logs and ignores errors of done callbacks
                pass
        self._on_finish(run)

    def _on_finish(self, run):
        if self._finished:
            run(self)
        else:
            self._callbacks.append(run)

    def __repr__(self):
        return f"Future(done={self._finished})"


def collect_all(futures):
    """A future of the list `futures`, completed once every one of them has."""
    futures = list(futures)
    combined = Future()

    def drive(block):
        for fut in futures:
            fut._settle(block)
        if all(fut._finished for fut in futures) and not combined._finished:
            combined.set_result(futures)

    combined._driver = drive
    return combined


def wait_all(futures):
    """The values of `futures`, waiting for each (raises the first error)."""
    return [fut.wait() for fut in collect_all(futures).wait()]


def from_engine(is_done, finish):
    """A future completed by an engine: is_done() asks without blocking; finish() blocks and returns the value."""
    fut = Future()

    def drive(block):
        if fut._finished or not block and not is_done():
            return
        try:
            value = finish()
        except Exception as error:
            if not fut._finished:
                fut.set_exception(error)
            return
        if not fut._finished:
            fut.set_result(value)

    fut._driver = drive
    return fut
