"""torch's runtime switches and eager helpers (issue 15) against PyTorch: threads, deterministic algorithms,
warn_always, autocast state, set_default_tensor_type, sym_*, cond, while_loop, fork/wait, DLPack, from_file."""
import warnings

import numpy as np
import pytest
import torch

import ember
from _core_helpers import same


@pytest.fixture(autouse=True)
def restore_switches():
    """Every test leaves both libraries' switches as it found them."""
    saved = [(lib, lib.get_deterministic_debug_mode(), lib.is_warn_always_enabled(), lib.get_num_threads(),
              {d: (lib.is_autocast_enabled(d), lib.get_autocast_dtype(d)) for d in ("cpu", "cuda")},
              lib.is_autocast_cache_enabled(), lib.get_default_dtype()) for lib in (torch, ember)]
    yield
    for lib, mode, always, threads, autocast, cache, dtype in saved:
        lib.set_deterministic_debug_mode(mode)
        lib.set_warn_always(always)
        lib.set_num_threads(threads)
        for d, (enabled, dt) in autocast.items():
            lib.set_autocast_enabled(d, enabled)
            lib.set_autocast_dtype(d, dt)
        lib.set_autocast_cache_enabled(cache)
        lib.set_default_dtype(dtype)
    # NOTE: PyTorch's eager torch.cond/while_loop trace through torch.compile, which turns off the distributions'
    # argument validation process-wide; later tests compare validation errors against torch
    torch.distributions.Distribution.set_default_validate_args(True)


def test_threads():
    same(lambda t: (t.set_num_threads(3), t.get_num_threads(), t.init_num_threads()))
    same(lambda t: t.set_num_threads(0))
    assert ember.get_num_interop_threads() >= 1


def test_deterministic_switches():
    def run(t):
        out = [t.are_deterministic_algorithms_enabled(), t.get_deterministic_debug_mode()]
        t.use_deterministic_algorithms(True, warn_only=True)
        out += [t.are_deterministic_algorithms_enabled(), t.is_deterministic_algorithms_warn_only_enabled(),
                t.get_deterministic_debug_mode()]
        t.set_deterministic_debug_mode("error")
        out += [t.get_deterministic_debug_mode(), t.is_deterministic_algorithms_warn_only_enabled()]
        t.set_deterministic_debug_mode(0)
        return out + [t.are_deterministic_algorithms_enabled()]
    same(run)
    same(lambda t: t.set_deterministic_debug_mode("bad"))
    same(lambda t: t.set_deterministic_debug_mode(5))
    same(lambda t: t.set_deterministic_debug_mode(1.5))
    same(lambda t: t.use_deterministic_algorithms(1))


def test_warn_always_and_small_switches():
    same(lambda t: (t.is_warn_always_enabled(), t.set_warn_always(True), t.is_warn_always_enabled(),
                    t.compiled_with_cxx11_abi(), t.thread_safe_generator(),
                    t.prepare_multiprocessing_environment("x")))
    assert ember.set_flush_denormal(True) is False  # NOTE: NumPy cannot flush denormals
    assert ember.get_file_path("a", "b").endswith("a/b")


def test_autocast_state():
    def run(t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = [t.get_autocast_dtype("cpu"), t.get_autocast_dtype("cuda"), t.get_autocast_cpu_dtype(),
                   t.get_autocast_gpu_dtype(), t.get_autocast_ipu_dtype(), t.get_autocast_xla_dtype(),
                   t.is_autocast_enabled(), t.is_autocast_enabled("cpu"), t.is_autocast_cpu_enabled(),
                   t.is_autocast_ipu_enabled(), t.is_autocast_xla_enabled(), t.is_autocast_cache_enabled()]
            t.set_autocast_enabled("cpu", True)
            t.set_autocast_dtype("cpu", t.float16)
            t.set_autocast_enabled(True)
            t.set_autocast_cache_enabled(False)
            out += [t.is_autocast_enabled("cpu"), t.get_autocast_dtype("cpu"), t.is_autocast_enabled(),
                    t.is_autocast_cache_enabled(), t.clear_autocast_cache()]
            t.set_autocast_cpu_enabled(False)
            t.set_autocast_gpu_dtype(t.bfloat16)
            out += [t.is_autocast_enabled("cpu"), t.get_autocast_dtype("cuda")]
            out += [t.autocast_increment_nesting(), t.autocast_decrement_nesting()]
            return out
    same(run)
    same(lambda t: t.get_autocast_dtype("foo"))
    with pytest.warns(DeprecationWarning, match=r"torch.get_autocast_cpu_dtype\(\) is deprecated"):
        ember.get_autocast_cpu_dtype()


def test_set_default_tensor_type():
    def run(t):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t.set_default_tensor_type(t.DoubleTensor)
            a = t.tensor([1.]).dtype
            t.set_default_tensor_type("torch.FloatTensor")
            return a, t.tensor([1.]).dtype, t.get_default_dtype()
    same(run)
    same(lambda t: t.set_default_tensor_type(t.LongTensor))
    with pytest.warns(UserWarning, match="set_default_tensor_type\\(\\) is deprecated"):
        ember.set_default_tensor_type(ember.FloatTensor)


def test_sym_functions():
    same(lambda t: (t.sym_int(3.7), t.sym_int(-3.7), t.sym_float(3), t.sym_max(2, 3.), t.sym_max(4, 3),
                    t.sym_min(2, 3.), t.sym_not(True), t.sym_sqrt(4), t.sym_sum([1, 2, 3.]), t.sym_sum([1, 2]),
                    t.sym_ite(True, 1, 2), t.sym_fresh_size(3), t.sym_constrain_range(3, min=0, max=5),
                    t.sym_constrain_range_for_size(3)))
    same(lambda t: t.sym_constrain_range(3, min=4))
    same(lambda t: t.sym_constrain_range_for_size(-1))
    same(lambda t: t.sym_max(t.tensor(2), 3), messages="expected (<class 'numpy.integer'>, <class 'numpy.floating'>")


def test_cond_and_while_loop():
    same(lambda t: t.cond(t.tensor(True), lambda x: x + 1, lambda x: x - 1, (t.ones(2),)))
    same(lambda t: t.cond(False, lambda x: x + 1, lambda x: x - 1, [t.ones(2)]))
    same(lambda t: t.cond(t.tensor([True, False], device="cpu"), lambda: 1, lambda: 2))
    same(lambda t: t.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 2), (t.tensor(0), t.ones(2))))

    def grad(t):
        x = t.ones(2, requires_grad=True)
        t.cond(t.tensor(1.), lambda a: (a * 3).sum(), lambda a: a.sum(), (x,)).backward()
        return x.grad
    same(grad)


def test_fork_and_wait():
    same(lambda t: t.wait(t.fork(lambda x, y: x + y, t.ones(2), y=2)))
    future = ember.fork(lambda: 1 / 0)
    assert future.done()
    with pytest.raises(ZeroDivisionError):
        ember.wait(future)


def test_dlpack():
    """On the CPU (NumPy's DLPack; the CuPy stand-in has none)."""
    a = np.arange(3.)
    t = ember.from_dlpack(a)
    t[0] = 5
    assert a[0] == 5 and t.dtype == ember.float64
    e = ember.from_dlpack(torch.arange(4, dtype=torch.int32))
    assert e.tolist() == [0, 1, 2, 3] and e.dtype == ember.int32
    assert torch.from_dlpack(ember.ones(2, 2, device="cpu")).tolist() == [[1., 1.], [1., 1.]]
    assert ember.from_dlpack(ember.to_dlpack(ember.arange(3, device="cpu"))).tolist() == [0, 1, 2]


def test_from_file(tmp_path):
    path = str(tmp_path / "data.bin")
    np.arange(6, dtype=np.float32).tofile(path)
    same(lambda t: t.from_file(path, size=4, dtype=t.float32))
    same(lambda t: t.from_file(path, size=7, dtype=t.float32))
    shared = ember.from_file(path, shared=True, size=6, dtype=ember.float32)
    shared[0] = 42
    assert np.fromfile(path, dtype=np.float32)[0] == 42


def test_classproperty():
    class A:
        @ember.classproperty
        def name(cls):
            return cls.__name__
    assert A.name == "A" and A().name == "A"
