"""torch.autograd.graph.saved_tensors_hooks, save_on_cpu and disable_saved_tensors_hooks, against PyTorch:
which tensors the pack hook sees (and how), when unpack runs, nesting, errors, and gradients (first and
second order) through the hooks."""
import pytest
import torch

import ember
from autograd_compare import same, same_error
from ember.autograd import graph as ember_graph


def _logging_hooks(lib, log, pack=lambda t: t.detach(), unpack=lambda p: p):
    """A hook pair that records what it sees: for pack, the tensor's shape, requires_grad, grad_fn name and
    whether grad mode is on; for unpack, the shape it returns."""
    def pack_hook(t):
        log.append(("pack", tuple(t.shape), t.requires_grad, type(t.grad_fn).__name__ if t.grad_fn else None,
                    lib.is_grad_enabled()))
        return pack(t)

    def unpack_hook(p):
        out = unpack(p)
        log.append(("unpack", tuple(out.shape)))
        return out
    return lib.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook)


def test_pack_sees_saved_inputs_and_outputs_and_unpack_runs_in_backward():
    def fn(lib):
        log = []
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with _logging_hooks(lib, log):
            y = (a * b).exp()  # mul saves both factors, exp its output
        forward = list(log)
        y.sum().backward()
        return forward, log[len(forward):], a.grad, b.grad
    same(fn)


def test_python_numbers_are_not_shown_to_the_pack_hook():
    def fn(lib):
        log = []
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        with _logging_hooks(lib, log):
            y = (a * 3.0 + 1).pow(2)
        y.sum().backward()
        return log, a.grad
    same(fn)


def test_custom_function_saved_tensors_go_through_the_hooks():
    def fn(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                x, = ctx.saved_tensors
                return 3 * g * x * x
        log = []
        a = lib.tensor([1.0, -2.0], requires_grad=True)
        with _logging_hooks(lib, log):
            y = Cube.apply(a)
        y.sum().backward()
        return log, a.grad
    same(fn)


def test_only_the_innermost_pair_applies_and_the_outer_comes_back():
    def fn(lib):
        outer, inner = [], []
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        with _logging_hooks(lib, outer):
            y1 = a.sin()
            with _logging_hooks(lib, inner):
                y2 = a.cos()
            y3 = a.exp()
        (y1 + y2 + y3).sum().backward()
        return outer, inner, a.grad
    same(fn)


def test_hooks_stay_with_what_was_saved_after_the_block():
    def fn(lib):
        log = []
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        with _logging_hooks(lib, log):
            y = a.sigmoid()
        log.append("block ended")
        y.sum().backward()
        return log, a.grad
    same(fn)


def test_unpack_runs_on_every_read_and_backward_twice_is_refused():
    def fn(lib):
        calls = []
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda p: calls.append(1) or p):
            y = (a * b).sum()
        y.backward(retain_graph=True)
        y.backward()
        return len(calls), a.grad, b.grad
    same(fn)

    def twice(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda p: p):
            y = (a * a).sum()
        y.backward()
        y.backward()
    same_error(twice)


@pytest.mark.parametrize("pack", ["detach", "clone"])
def test_double_backward_through_unpacked_tensors(pack):
    """The unpacked tensor takes the saved one's place in the graph (its grad_fn, or its leaf's
    accumulator), even when unpack_hook gives back a tensor out of the graph."""
    def fn(lib):
        x = lib.tensor([1.0, 2.0, -0.5], requires_grad=True)
        w = lib.tensor([0.3, -0.7, 1.1], requires_grad=True)
        p = (lambda t: t.detach()) if pack == "detach" else (lambda t: t.detach().clone())
        with lib.autograd.graph.saved_tensors_hooks(p, lambda q: q):
            h = (x * w).tanh()
            y = (h * h * x).sum()
        gx, gw = lib.autograd.grad(y, (x, w), create_graph=True)
        hx, hw = lib.autograd.grad((gx * gx).sum() + gw.sum(), (x, w))
        return gx, gw, hx, hw
    same(fn, grad_fn=False)


def test_pack_hook_runs_without_grad_and_unpack_with_the_backward_mode():
    def fn(lib):
        modes = []
        a = lib.tensor([1.0, 2.0], requires_grad=True)

        def pack(t):
            modes.append(("pack", lib.is_grad_enabled()))
            return t.detach()

        def unpack(p):
            modes.append(("unpack", lib.is_grad_enabled()))
            return p
        with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
            y = a.exp().sum()
        g, = lib.autograd.grad(y, a, create_graph=True)
        return modes, g
    same(fn, grad_fn=False)


def test_a_copy_made_by_the_pack_hook_survives_later_in_place_writes():
    """With hooks PyTorch checks no versions: what unpack gives back is used (here, the old values)."""
    def fn(lib):
        a = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        h = a * 1
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach().clone(), lambda p: p):
            y = h.sin()
        with lib.no_grad():
            h.add_(1.0)
        y.sum().backward()
        return a.grad
    same(fn)


@pytest.mark.host_only(reason="the message names the tensor type")
def test_an_alias_of_a_saved_tensor_written_in_place_raises():
    """NOTE: a deliberate difference: PyTorch skips the version check when hooks are set and gives a
    gradient from the new values (its docs call it undefined behaviour). ember checks where it can, where
    the unpacked tensor shares the saved one's version counter, and raises the version error instead of
    returning that silently wrong gradient."""
    def fn(lib):
        a = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        h = a * 1
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda p: p):
            y = h.sin()
        h.mul_(2.0)
        y.sum().backward()
        return a.grad
    fn(torch)  # PyTorch: no error
    with pytest.raises(RuntimeError, match=r"one of the variables needed for gradient computation has been "
                                           r"modified by an inplace operation: \[torch.FloatTensor \[3\]\], which is "
                                           r"output 0 of Mul, is at version 1; expected version 0 instead"):
        fn(ember)


@pytest.mark.parametrize("op", ["sin_", "mul_", "pow_", "div_"])
def test_in_place_op_that_saves_its_input_under_hooks(op):
    def fn(lib):
        a = lib.tensor([0.1, 0.2, 0.3], requires_grad=True)
        b = lib.tensor([0.5, 1.5, 2.5], requires_grad=True)
        args = {"sin_": (), "mul_": (b,), "pow_": (b,), "div_": (b,)}[op]
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda p: p):
            y = getattr(a * 2, op)(*args).exp()
        y.sum().backward()
        return a.grad, b.grad
    same(fn)


@pytest.mark.host_only(reason="the message names the tensor type")
def test_version_check_without_hooks_still_raises():
    def fn(lib):
        a = lib.tensor([0.1, 0.2], requires_grad=True)
        h = a * 1
        y = h.sin()
        h.mul_(2.0)
        y.sum().backward()
    same_error(fn)


def test_unpack_must_return_a_tensor():
    def fn(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: 1, lambda p: p):
            y = a.exp().sum()
        y.backward()
    same_error(fn)


def test_pack_hook_may_not_modify_its_input_in_place():
    def fn(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        h = a * a
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t.add_(1), lambda p: p):
            h.exp()
    same_error(fn)


# --- disable_saved_tensors_hooks ---------------------------------------------------------------------
def test_registering_inside_disable_raises_its_message():
    def fn(lib):
        with lib.autograd.graph.disable_saved_tensors_hooks("hooks are off here"):
            with lib.autograd.graph.save_on_cpu():
                pass
    assert same_error(fn) == "hooks are off here"


def test_disabling_while_hooks_are_registered_raises():
    def fn(lib):
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: p):
            with lib.autograd.graph.disable_saved_tensors_hooks("not while hooks are set"):
                pass
    same_error(fn)


def test_nested_disable_restores_the_outer_message_and_then_nothing():
    def fn(lib):
        graph = lib.autograd.graph
        seen = []
        with graph.disable_saved_tensors_hooks("outer"):
            with graph.disable_saved_tensors_hooks("inner"):
                pass
            try:
                with graph.saved_tensors_hooks(lambda t: t, lambda p: p):
                    pass
            except RuntimeError as e:
                seen.append(str(e))
        with graph.saved_tensors_hooks(lambda t: t, lambda p: p):
            seen.append("allowed again")
        return seen
    same(fn)


# --- save_on_cpu ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("pin_memory", [False, True])
def test_save_on_cpu_on_cpu_tensors_gives_the_same_gradients(pin_memory):
    def fn(lib):
        lib.manual_seed(0)
        x = lib.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], requires_grad=True)
        w = lib.tensor([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.2]], requires_grad=True)
        with lib.autograd.graph.save_on_cpu(pin_memory=pin_memory):
            y = (x @ w).relu().pow(2).sum()
        y.backward()
        return x.grad, w.grad
    same(fn)


@pytest.mark.host_only(reason="names the device")
def test_save_on_cpu_packs_the_device_and_a_host_tensor():
    def fn(lib):
        hooks = lib.autograd.graph.save_on_cpu()
        t = lib.tensor([1.0, 2.0])
        device, packed = hooks.pack_hook(t)
        back = hooks.unpack_hook((device, packed))
        return str(device), packed.device.type, packed is t, back
    same(fn)


@pytest.mark.parametrize("pin_memory", [False, True])
def test_save_on_cpu_moves_device_tensors_to_the_host_and_back(pin_memory):
    """On a cuda tensor (the CuPy stand-in here): saved on the host, back on the device for backward."""
    if not ember.cuda.is_available():
        pytest.skip("needs ember on cuda (EMBER_TEST_DEVICE=cuda runs it on the CuPy stand-in)")
    packed_devices, unpacked_devices = [], []
    hooks = ember.autograd.graph.save_on_cpu(pin_memory=pin_memory)

    def pack(t):
        out = hooks.pack_hook(t)
        packed_devices.append((out[1].device.type, out[1].is_pinned()))
        return out

    def unpack(p):
        out = hooks.unpack_hook(p)
        unpacked_devices.append(out.device.type)
        return out
    x = ember.tensor([0.1, 0.2, 0.3], device="cuda", requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = (x.sin() * x).sum()
    y.backward()
    tx = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    (tx.sin() * tx).sum().backward()
    assert packed_devices and set(packed_devices) == {("cpu", pin_memory)}
    assert set(unpacked_devices) == {"cuda"}
    assert x.grad.device.type == "cuda"
    assert torch.allclose(torch.tensor(x.grad.cpu().tolist()), tx.grad)


def test_no_hooks_keeps_the_plain_saved_entries():
    """Without hooks, nodes keep tensors (or SavedOutput) as before: nothing is wrapped."""
    a = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (a * a).exp()
    for node in (y.grad_fn, y.grad_fn.next_functions[0][0]):
        assert node._saved and all(type(e[0]) is not ember_graph.SavedWithHooks for e in node._saved)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t, lambda p: p):
        z = a.exp()
    assert all(type(e[0]) is ember_graph.SavedWithHooks for e in z.grad_fn._saved)
