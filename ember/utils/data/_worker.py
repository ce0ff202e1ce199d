"""The DataLoader worker process: its loop, its seeding, and the exception wrapper it sends back."""
import dataclasses
import os
import queue
import random
import sys
import traceback

import ember

from ... import _state

# NOTE: how often a blocked get() looks up whether the other side (a worker, or the main process
# for a worker) is still alive; torch polls every 5 s, a killed worker is reported sooner here.
STATUS_CHECK_INTERVAL = 0.5


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """What get_worker_info() returns inside a worker process."""
    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = "multiprocessing"


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process with its traceback text."""

    def __init__(self, exc_info=None, where="in background"):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise the original exception type with the worker's traceback in its message."""
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)  # NOTE: KeyError's str() would repr() a plain message
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # NOTE: a type whose constructor wants other arguments
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    def __repr__(self):
        return self


@dataclasses.dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """A worker's IterableDataset replica ran dry."""
    worker_id: int


@dataclasses.dataclass(frozen=True)
class _ResumeIteration:
    """Sent to persistent workers at a new epoch; echoed back once the worker restarted its fetcher."""
    seed: object = None


def _numpy_seed(base_seed, worker_id):
    """torch's per-worker numpy seed: four words of a SeedSequence over the worker id and base seed."""
    import numpy as np
    words = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return np.random.SeedSequence(words).generate_state(4)


def _seed_worker(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    import numpy as np
    np.random.seed(_numpy_seed(base_seed, worker_id))
    return seed


def worker_loop(fetcher_class, dataset, auto_collation, collate_fn, drop_last, index_queue, data_queue,
                done_event, base_seed, init_fn, worker_id, num_workers, parent_pid):
    """Fetch the batches whose indices arrive on index_queue; put (task id, batch) on data_queue."""
    def make_fetcher():
        return fetcher_class(dataset, auto_collation, collate_fn, drop_last)

    try:
        seed = _seed_worker(base_seed, worker_id)
        _state.local.worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                              dataset=dataset)
        init_error = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher()
        except Exception:
            init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        ended = False
        while True:
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set() or os.getppid() != parent_pid:
                    break  # NOTE: shut down, or the main process died: do not outlive it
                continue
            if isinstance(task, _ResumeIteration):
                data_queue.put((task, None))
                ended = False
                fetcher = make_fetcher()
                continue
            if task is None:  # the main process asks this worker to stop
                break
            if done_event.is_set() or ended:
                continue  # NOTE: shutting down, or this replica ran dry: drop the task
            idx, index = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    data, ended = _IterableDatasetStopIteration(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            data_queue.put((idx, data))
            del data
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        # NOTE: the main process no longer reads: exit without flushing what is left in the pipe.
        data_queue.cancel_join_thread()
        data_queue.close()
