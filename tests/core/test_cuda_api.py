"""torch.cuda / torch.backends / torch.accelerator against the installed PyTorch CPU build (no CuPy here),
and, with the stand-in CuPy (tests/_standin), the with-GPU behaviour in a subprocess."""
import os
import subprocess
import sys
import warnings

import pytest
import torch

import ember

pytestmark = pytest.mark.skipif(ember.cuda.built(), reason="compares with PyTorch's CPU-only build; CuPy is here")

CALLS = ["is_available()", "device_count()", "current_device()", "set_device(0)", "set_device('cpu')",
         "set_device(-1)", "get_device_name()", "get_device_name(0)", "get_device_properties(0)",
         "get_device_capability()", "synchronize()", "manual_seed(1)", "manual_seed_all(1)", "seed()",
         "seed_all()", "initial_seed()", "get_rng_state()", "get_rng_state_all()", "empty_cache()",
         "memory_allocated()", "max_memory_allocated()", "memory_reserved()", "max_memory_reserved()",
         "memory_allocated('cuda:0')", "reset_peak_memory_stats()", "reset_max_memory_allocated()",
         "memory_stats()", "mem_get_info()", "Event()", "Event(enable_timing=True)", "Stream()",
         "current_stream()", "default_stream()", "is_initialized()", "init()", "get_arch_list()",
         "is_bf16_supported()", "device('cpu')", "memory_cached()", "ipc_collect()", "get_gencode_flags()",
         "set_stream(None)", "current_blas_handle()", "set_per_process_memory_fraction(0.5)",
         "FloatTensor(2)", "LongTensor([1])", "is_current_stream_capturing()", "stream(None).__enter__()",
         "device(0).__enter__()", "device_of(mod.zeros(1)).__enter__()"]
BACKENDS = ["cuda.is_built()", "cuda.matmul.allow_tf32", "cuda.matmul.allow_fp16_reduced_precision_reduction",
            "cuda.matmul.allow_bf16_reduced_precision_reduction", "cuda.flash_sdp_enabled()",
            "cuda.mem_efficient_sdp_enabled()", "cuda.math_sdp_enabled()", "cuda.cudnn_sdp_enabled()",
            "cuda.preferred_linalg_library().name", "cuda.preferred_blas_library().name",
            "cudnn.is_available()", "cudnn.enabled", "cudnn.benchmark", "cudnn.deterministic", "cudnn.allow_tf32",
            "cudnn.version()", "mps.is_available()", "mps.is_built()", "opt_einsum.is_available()",
            "opt_einsum.enabled", "opt_einsum.strategy", "mkldnn.enabled"]
ACCELERATOR = ["is_available()", "current_accelerator()", "current_accelerator(check_available=True)",
               "device_count()", "current_device_index()", "set_device_index(0)", "synchronize()",
               "device_index(0).__enter__()", "device_index(None).__enter__()"]


def _outcome(mod, namespace, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = eval(f"namespace.{call}", {"namespace": namespace, "mod": mod})
        except Exception as e:
            return "raises", type(e).__name__, str(e).split(" (")[0]
    kind = type(value).__name__ if value is not None else None
    plain = value if isinstance(value, (bool, int, str, list, type(None))) else None
    return "returns", kind if kind in ("bool", "int", "str", "list", "NoneType", None) else "object", plain


@pytest.mark.parametrize("call", CALLS)
def test_torch_cuda_matches_cpu_only_build(call):
    mine, theirs = _outcome(ember, ember.cuda, call), _outcome(torch, torch.cuda, call)
    if mine[0] == "raises" and "_C" in theirs[2]:
        mine = mine[:2] + (theirs[2],)  # PyTorch names its missing binding; ember's message names the same
    assert mine == theirs


@pytest.mark.parametrize("call", BACKENDS)
def test_backends_defaults_match(call):
    assert _outcome(ember, ember.backends, call) == _outcome(torch, torch.backends, call)


@pytest.mark.parametrize("call", ACCELERATOR)
def test_accelerator_matches(call):
    assert _outcome(ember, ember.accelerator, call) == _outcome(torch, torch.accelerator, call)


def test_memory_stats_is_an_empty_ordered_dict_before_cuda():
    assert type(ember.cuda.memory_stats()).__name__ == "OrderedDict" and not ember.cuda.memory_stats()


def test_cuda_manual_seed_leaves_the_host_generator_alone_without_a_gpu():
    ember.manual_seed(3)
    a = ember.rand(3)
    ember.manual_seed(3)
    ember.cuda.manual_seed_all(99)
    assert ember.equal(ember.rand(3), a)


@pytest.mark.parametrize("stmt", ["cuda.matmul.allow_tf32 = 1", "cuda.matmul.foo = 1", "cudnn.benchmark = 'x'",
                                  "cudnn.enabled = 0", "cuda.preferred_linalg_library('nonsense')"])
def test_backend_setters_refuse_like_pytorch(stmt):
    errors = []
    for ns in (torch.backends, ember.backends):
        try:
            exec(f"ns.{stmt}", {"ns": ns})
            errors.append(None)
        except Exception as e:
            errors.append(type(e))
    assert errors[0] is errors[1] and errors[0] is not None


def test_backend_flags_round_trip():
    b = ember.backends
    try:
        b.cudnn.benchmark = True
        b.cuda.matmul.allow_tf32 = True
        b.cuda.enable_flash_sdp(False)
        assert b.cudnn.benchmark and b.cuda.matmul.allow_tf32 and not b.cuda.flash_sdp_enabled()
        with b.cudnn.flags(enabled=False):
            assert b.cudnn.enabled is False
        assert b.cudnn.enabled is True
    finally:
        b.cudnn.benchmark = False
        b.cuda.matmul.allow_tf32 = False
        b.cuda.enable_flash_sdp(True)


def test_amp_without_cuda_is_a_pass_through():
    model = ember.nn.Linear(2, 1)
    opt = ember.optim.SGD(model.parameters(), lr=0.1)
    with pytest.warns(UserWarning, match="Disabling"):
        scaler = ember.cuda.amp.GradScaler()
    with pytest.warns(UserWarning, match="Disabling autocast"):
        ctx = ember.cuda.amp.autocast()
    with ctx:
        loss = model(ember.ones(1, 2)).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    before = model.weight.detach().clone()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert not ember.equal(model.weight, before) and not scaler.is_enabled()


STANDIN = os.path.join(os.path.dirname(__file__), "..", "_standin")
GPU_SCRIPT = r"""
import ember as torch
assert torch.cuda.is_available() and torch.cuda.device_count() == 2, torch.cuda.device_count()
assert isinstance(torch.cuda.get_device_name(), str)
assert isinstance(torch.cuda.get_device_capability(), tuple)
p = torch.cuda.get_device_properties(0)
assert p.total_memory >= 0 and repr(p).startswith("_CudaDeviceProperties(")
before = torch.cuda.memory_allocated()
x = torch.ones(1024, 1024, device="cuda")
assert torch.cuda.memory_allocated() > before and torch.cuda.max_memory_allocated() >= torch.cuda.memory_allocated()
assert torch.cuda.memory_stats()["allocated_bytes.all.current"] == torch.cuda.memory_allocated()
start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
start.record(); y = x * 2; end.record(); end.synchronize()
assert start.elapsed_time(end) >= 0
s = torch.cuda.Stream()
with torch.cuda.stream(s):
    z = x + 1
torch.cuda.current_stream().wait_stream(s)
torch.cuda.synchronize()
assert torch.cuda.current_device() == 0
with torch.cuda.device(1):
    assert torch.cuda.current_device() == 1
assert torch.cuda.current_device() == 0
torch.cuda.set_device("cuda:1"); assert torch.cuda.current_device() == 1; torch.cuda.set_device(0)
assert torch.accelerator.current_accelerator() == torch.device("cuda")
assert torch.accelerator.device_count() == 2
with torch.accelerator.device_index(1):
    assert torch.accelerator.current_device_index() == 1
w = torch.ones(3, device="cuda", requires_grad=True)
opt, scaler = torch.optim.SGD([w], lr=0.1), torch.cuda.amp.GradScaler()
scaler.scale((w * 2).sum()).backward()
assert scaler.is_enabled() and w.grad.sum().item() == 6 * 65536.0
scaler.step(opt); scaler.update()
assert w.grad.sum().item() == 6.0 and abs(w.sum().item() - 2.4) < 1e-5 and scaler.get_scale() == 65536.0
w.grad.fill_(float("inf")); scaler.step(opt); scaler.update()
assert abs(w.sum().item() - 2.4) < 1e-5 and scaler.get_scale() == 32768.0
assert torch.cuda.FloatTensor(2).is_cuda
torch.cuda.empty_cache()
print("ok")
"""


@pytest.mark.skipif(not os.path.isdir(os.path.join(STANDIN, "cupy")), reason="the stand-in CuPy is not here")
def test_with_standin_gpu():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.abspath(STANDIN), os.getcwd()]))
    out = subprocess.run([sys.executable, "-c", GPU_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]


def test_float32_matmul_precision_and_allow_tf32_move_together():
    import warnings

    def run(lib):
        seen = [lib.get_float32_matmul_precision()]
        for p in ("high", "medium", "highest"):
            lib.set_float32_matmul_precision(p)
            seen.append((lib.get_float32_matmul_precision(), lib.backends.cuda.matmul.allow_tf32))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.set_float32_matmul_precision("fastest")
        seen.append((lib.get_float32_matmul_precision(), len(caught)))
        return seen
    assert run(ember) == run(torch)
