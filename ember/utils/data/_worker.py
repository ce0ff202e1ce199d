"""The DataLoader worker process: its loop, its seeding, and the exception wrapper it sends back."""
import dataclasses
import os
import pickle
import queue
import random
import sys
import traceback
from multiprocessing import reduction, shared_memory

import numpy as np

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


# NOTE: batches cross to the main process pickled through the result queue; a CPU tensor of at least
# this many bytes goes through a shared memory block instead (one copy in, one copy out, no pipe):
# 23 ms instead of 62 ms for a 19 MB batch (see the workers report). The blocks are registered with
# the resource tracker that the main process shares with its workers, so a block that a crash leaves
# behind is unlinked when the main process exits.
SHARED_MEMORY_MIN_BYTES = 1 << 20


def _reduce_tensor(tensor):
    """ForkingPickler reducer, in workers only: a large CPU tensor travels in shared memory."""
    data = tensor._data
    if tensor.device.type != "cpu" or data.nbytes < SHARED_MEMORY_MIN_BYTES:
        return tensor.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    block = shared_memory.SharedMemory(create=True, size=data.nbytes)
    try:
        type(data)(data.shape, data.dtype, buffer=block.buf)[...] = data
        return (_rebuild_from_shared_memory, (block.name, data.shape, data.dtype, tensor.requires_grad))
    finally:
        block.close()


def _rebuild_from_shared_memory(name, shape, dtype, requires_grad):
    """Main process: copy a worker's tensor out of its shared memory block, then free the block."""
    from ..._creation import from_array
    block = shared_memory.SharedMemory(name=name)
    try:
        view = np.ndarray(shape, dtype, buffer=block.buf)
        data = view.copy()
        del view
    finally:
        block.close()
        block.unlink()
    return from_array(data, device="cpu", requires_grad=requires_grad)


def _numpy_seed(base_seed, worker_id):
    """torch's per-worker numpy seed: four words of a SeedSequence over the worker id and base seed."""
    words = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]
    return np.random.SeedSequence(words).generate_state(4)


def _seed_worker(base_seed, worker_id):
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    np.random.seed(_numpy_seed(base_seed, worker_id))
    return seed


def worker_loop(fetcher_class, dataset, auto_collation, collate_fn, drop_last, index_queue, data_queue,
                done_event, base_seed, init_fn, worker_id, num_workers):
    """Fetch the batches whose indices arrive on index_queue; put (task id, batch) on data_queue."""
    def make_fetcher():
        return fetcher_class(dataset, auto_collation, collate_fn, drop_last)

    # NOTE: the parent as the worker starts (the main process, or a forkserver); when it changes, the
    # parent died and the worker exits rather than outlive it.
    parent_pid = os.getppid()
    try:
        reduction.ForkingPickler.register(ember.Tensor, _reduce_tensor)
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
                if task.seed is not None:  # NOTE: a DataPipe's random pipes reseeded for the new epoch
                    from .datapipes import _graph
                    shared = ember.Generator()
                    shared.manual_seed(task.seed)
                    _graph.apply_random_seed(dataset, shared)
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
    if os.getppid() != parent_pid:
        # NOTE: nobody reads any more: exit without flushing what is left for the pipe. Otherwise the
        # main process drains the queue while the workers exit (their batches free their blocks).
        data_queue.cancel_join_thread()
        data_queue.close()
