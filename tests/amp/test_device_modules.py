"""torch.cpu / torch.xpu / torch.mps / torch.mtia: the answers device-selection code reads, against PyTorch."""
import pytest
import torch

import ember


def _outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as err:  # NOTE: the exception's type and message are what is compared
        return (type(err).__name__, str(err))


def test_cpu_module():
    for lib in (ember, torch):
        cpu = lib.cpu
        assert cpu.is_available() is True and cpu.device_count() == 1 and cpu.current_device() == "cpu"
        assert cpu.synchronize() is None and cpu.set_device("cpu") is None and cpu.is_initialized()
        s = cpu.current_stream()
        assert isinstance(s, cpu.Stream) and s.wait_stream(cpu.Stream()) is None
        with cpu.stream(cpu.Stream()) as inside:
            assert inside is None and cpu.current_stream() is not s
        assert cpu.current_stream() is s
        e = cpu.Event()
        assert e.query() is True and e.record() is None and e.wait() is None and e.synchronize() is None
        assert isinstance(cpu.StreamContext(s), cpu.StreamContext)


@pytest.mark.parametrize("module", ["xpu", "mps", "mtia"])
def test_absent_accelerators(module):
    e, t = getattr(ember, module), getattr(torch, module)
    assert e.is_available() is t.is_available() is False
    assert e.device_count() == t.device_count() == 0
    names = [n for n in ("current_device", "synchronize", "manual_seed", "empty_cache", "is_initialized", "init",
                         "get_rng_state", "set_device", "current_stream", "memory_allocated", "seed",
                         "initial_seed", "is_bf16_supported", "get_device_name") if hasattr(t, n)]
    for name in names:
        args = (0,) if name in ("manual_seed", "set_device", "get_device_name") else ()
        assert _outcome(getattr(e, name), *args) == _outcome(getattr(t, name), *args), name


def test_device_selection_idiom():
    def pick(lib):
        if lib.cuda.is_available():
            return "cuda"
        if lib.backends.mps.is_available() if hasattr(lib.backends, "mps") else lib.mps.is_available():
            return "mps"
        if lib.xpu.is_available():
            return "xpu"
        return "cpu"
    if ember.cuda.is_available():
        pytest.skip("ember has cuda here (the stand-in)")
    assert pick(ember) == pick(torch) == "cpu"
