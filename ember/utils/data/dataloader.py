"""torch.utils.data.DataLoader: batches from a dataset through a sampler and a collate_fn.

NOTE: with num_workers > 0, worker processes (ember/utils/data/_worker.py) fetch batches as torch's do:
one index queue per worker fed round robin, prefetch_factor tasks per worker in flight, one result
queue, and a reorder buffer so that batches come back in sampler order (or as they come, with
in_order=False). Batches cross the process boundary pickled through
the result queue; a CPU tensor of 1 MB or more in shared memory (_worker.SHARED_MEMORY_MIN_BYTES)."""
import contextlib
import functools
import itertools
import math
import multiprocessing
import queue
import time
import warnings
from multiprocessing import resource_tracker

import ember

from ... import _state
from ._collate import default_collate, default_convert
from . import _worker
from ._worker import WorkerInfo
from .dataset import IterableDataset
from .datapipes import _graph
from .datapipes.datapipe import IterDataPipe, MapDataPipe
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert", "WorkerInfo"]


_SHUTDOWN_JOIN_TIMEOUT = 5.0


def _sharding_worker_init_fn(worker_init_fn, world_size, rank_id, worker_id):
    """A worker's init over a DataPipe: take this worker's shard of the graph, then the user's init."""
    info = get_worker_info()
    # NOTE: shards across ranks first, then across a rank's workers, as torch numbers them.
    _graph.apply_sharding(info.dataset, info.num_workers * world_size, worker_id * world_size + rank_id)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def _seed_datapipe(datapipe, generator):
    """Seed the random pipes of a DataPipe graph from one seed drawn from generator (torch's shared seed);
    returns the seed."""
    seed = int(ember.empty((), dtype=ember.int64).random_(generator=generator).item())
    shared = ember.Generator()
    shared.manual_seed(seed)
    _graph.apply_random_seed(datapipe, shared)
    return seed


def get_worker_info():
    """The current worker's WorkerInfo, or None in the main process."""
    return _state.local.worker_info


class _DatasetKind:
    Map = 0
    Iterable = 1


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: None forever (the dataset decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if callable(getattr(self.dataset, "__getitems__", None)):
            data = self.dataset.__getitems__(index)
        else:
            data = [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(index)):
            raise StopIteration
        return self.collate_fn(data)


def _make_fetcher(loader):
    kind = _IterableFetcher if loader._dataset_kind == _DatasetKind.Iterable else _MapFetcher
    return kind(loader.dataset, loader._auto_collation, loader.collate_fn, loader.drop_last)


class _BaseDataLoaderIter:
    def __init__(self, loader):
        # NOTE: no reference back to the loader: a persistent iterator would make a cycle with it, and
        # a cycle collected by the GC closes the worker queues before __del__ could stop the workers.
        self._dataset = loader.dataset
        self._generator = loader.generator
        if isinstance(self._dataset, IterDataPipe):
            _seed_datapipe(self._dataset, loader.generator)
        self._dataset_kind = loader._dataset_kind
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory and not ember.cuda.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=3)
        self._sampler_iter = iter(self._index_sampler)
        # NOTE: drawn as torch draws it (so the global RNG advances the same number of times).
        self._base_seed = int(ember.empty((), dtype=ember.int64).random_(generator=loader.generator).item())
        self._num_yielded = 0
        self._len_called = loader._IterableDataset_len_called

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._index_sampler)

    def _reset(self, loader):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._len_called = loader._IterableDataset_len_called

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable and self._len_called is not None
                and self._num_yielded > self._len_called):
            warnings.warn(f"Length of IterableDataset {self._dataset} was reported to be {self._len_called}"
                          f"(when accessing len(dataloader)), but {self._num_yielded} samples have been "
                          "fetched. ", stacklevel=2)
        return data

    def __getstate__(self):
        raise NotImplementedError("{} cannot be pickled", type(self).__name__)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        if loader.timeout != 0:
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._fetcher = _make_fetcher(loader)

    def _next_data(self):
        return self._fetcher.fetch(next(self._sampler_iter))


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """num_workers > 0: worker processes fetch batches; they come back in sampler order."""

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._timeout = loader.timeout
        self._persistent_workers = loader.persistent_workers
        self._in_order = loader.in_order
        context = loader.multiprocessing_context or multiprocessing
        self._shutdown = True  # NOTE: until the workers exist, so that __del__ after a failure is quiet
        self._worker_result_queue = context.Queue()
        self._done_event = context.Event()
        self._index_queues, self._workers = [], []
        fetcher_class = _IterableFetcher if self._dataset_kind == _DatasetKind.Iterable else _MapFetcher
        worker_init_fn = loader.worker_init_fn
        if isinstance(self._dataset, (IterDataPipe, MapDataPipe)):
            worker_init_fn = functools.partial(_sharding_worker_init_fn, worker_init_fn, 1, 0)
        # NOTE: started before the workers, so that they share it (see _worker.SHARED_MEMORY_MIN_BYTES).
        resource_tracker.ensure_running()
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()  # NOTE: a dead worker must not block our exit
                worker = context.Process(target=_worker.worker_loop, args=(
                    fetcher_class, self._dataset, loader._auto_collation, loader.collate_fn, loader.drop_last,
                    index_queue, self._worker_result_queue, self._done_event, self._base_seed,
                    worker_init_fn, worker_id, self._num_workers))
                worker.daemon = True
                worker.start()
                self._index_queues.append(index_queue)
                self._workers.append(worker)
        finally:
            self._shutdown = False
            if len(self._workers) < self._num_workers:
                self._shutdown_workers()
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader)
        self._send_idx = 0  # the next task to hand out
        self._rcvd_idx = 0  # the next task to return
        self._task_info = {}  # task -> (worker,) while outstanding, (worker, data) once arrived early
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._worker_tasks = [0] * self._num_workers  # tasks sent to each worker and not yet returned
        self._worker_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            seed = None
            if isinstance(self._dataset, IterDataPipe):  # NOTE: a new shared seed each epoch, as torch
                seed = int(ember.empty((), dtype=ember.int64).random_(generator=self._generator).item())
            for index_queue in self._index_queues:
                index_queue.put(_worker._ResumeIteration(seed))
            waiting = self._num_workers
            while waiting > 0:  # NOTE: results of the last epoch still in the pipe are dropped here
                idx, _ = self._get_data()
                if isinstance(idx, _worker._ResumeIteration):
                    waiting -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_put_index(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        max_tasks = self._prefetch_factor * self._num_workers
        for _ in range(self._num_workers):
            worker_id = next(self._worker_cycle)
            if self._workers_status[worker_id] and (
                    self._in_order or self._worker_tasks[worker_id] < max_tasks // sum(self._workers_status)):
                break  # NOTE: out of order, a worker gets a task only while it has room (as torch)
        else:
            return  # every worker is done (their IterableDataset replicas ran dry)
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._worker_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _try_get_data(self, timeout):
        try:
            return True, self._worker_result_queue.get(timeout=timeout)
        except queue.Empty:
            pass
        failed = [w for w, up in zip(self._workers, self._workers_status) if up and not w.is_alive()]
        if failed:
            pids = ", ".join(str(w.pid) for w in failed)
            self._shutdown_workers()
            raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly")
        return False, None

    def _get_data(self):
        if self._timeout > 0:
            deadline = time.monotonic() + self._timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
                ok, data = self._try_get_data(min(left, _worker.STATUS_CHECK_INTERVAL))
                if ok:
                    return data
        while True:
            ok, data = self._try_get_data(_worker.STATUS_CHECK_INTERVAL)
            if ok:
                return data

    def _next_data(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                # NOTE: a task sent to a worker that has since run dry: it will never come back
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                return self._process_data(data, worker_id)
            if self._shutdown:
                raise StopIteration
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _worker._IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if idx not in self._task_info:
                continue  # NOTE: a stale result (it cannot happen after _reset; kept defensive)
            if idx != self._rcvd_idx:
                if not self._in_order:  # NOTE: delivered now; _rcvd_idx skips it later
                    return self._process_data(data, self._task_info.pop(idx)[0], advance=False)
                self._task_info[idx] += (data,)  # NOTE: early; kept until its turn comes
                continue
            return self._process_data(data, self._task_info.pop(idx)[0])

    def _process_data(self, data, worker_id, advance=True):
        self._rcvd_idx += advance
        self._worker_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _mark_worker_as_unavailable(self, worker_id, shutdown=False):
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self):
        """Stop and join every worker (terminating stragglers); safe to call twice."""
        if self._shutdown:
            return
        self._shutdown = True
        try:
            self._done_event.set()
            status = getattr(self, "_workers_status", [True] * len(self._workers))
            for worker_id in range(len(self._workers)):
                if status[worker_id]:
                    self._index_queues[worker_id].put(None)
            # NOTE: keep reading while the workers flush what they fetched and exit: their last
            # batches are unpickled here, which frees their shared memory blocks.
            deadline = time.monotonic() + _SHUTDOWN_JOIN_TIMEOUT
            while any(w.is_alive() for w in self._workers) and time.monotonic() < deadline:
                self._drain_results()
            for worker in self._workers:
                if worker.is_alive():
                    worker.terminate()
                worker.join(timeout=_SHUTDOWN_JOIN_TIMEOUT)
            self._drain_results()
            for index_queue in self._index_queues:
                index_queue.close()
        finally:
            for worker in self._workers:
                if worker.is_alive():
                    worker.kill()
            self._worker_result_queue.cancel_join_thread()
            self._worker_result_queue.close()

    def _drain_results(self):
        with contextlib.suppress(Exception):  # NOTE: empty, or its pipe already closed by the GC
            while True:
                self._worker_result_queue.get(timeout=0.02)

    def __del__(self):
        if not getattr(self, "_shutdown", True):  # NOTE: False only once the workers were started
            self._shutdown_workers()


class DataLoader:
    """Iterate over `dataset` in batches (torch's DataLoader), in worker processes if num_workers > 0."""

    _DataLoader__initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = _DatasetKind.Iterable
            if isinstance(dataset, IterDataPipe):
                if shuffle is not None:  # NOTE: DataLoader(shuffle=...) toggles the pipe's Shufflers
                    dataset = self.dataset = _graph.apply_shuffle_settings(dataset, shuffle=shuffle)
            elif shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = _DatasetKind.Map

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")

        if sampler is None:
            if self._dataset_kind == _DatasetKind.Iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._DataLoader__initialized = True
        self._IterableDataset_len_called = None
        self._iterator = None

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers <= 0:
                raise ValueError("multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError("multiprocessing_context option "
                                     f"should specify a valid start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("multiprocessing_context option should be a valid context "
                                "object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        self._multiprocessing_context = context

    def __setattr__(self, attr, value):
        if self._DataLoader__initialized and attr in (
                "batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None or self._iterator._shutdown:
                # NOTE: a persistent iterator whose workers were shut down (an error) starts afresh
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self):
        if self._dataset_kind == _DatasetKind.Iterable:
            length = self._IterableDataset_len_called = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

