"""no_grad, enable_grad, set_grad_enabled, inference_mode (context managers, decorators, nesting);
detach, detach_ and .data."""
import pytest

import ember
from autograd_compare import same, same_error


# --- grad modes as context managers -------------------------------------------------------------------
def test_no_grad_context():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            inside = torch.is_grad_enabled()
            y = x * 2
        return inside, torch.is_grad_enabled(), y, (x * 2).requires_grad
    same(fn)


def test_view_made_under_no_grad_keeps_requires_grad():
    def fn(torch):
        x = torch.ones(2, 2, requires_grad=True)
        with torch.no_grad():
            views = [x[0], x[:1], x.view(4), x.t()]
        return views, [(v.is_leaf, v.grad_fn is None) for v in views]
    same(fn)


def test_gradient_through_a_view_made_under_no_grad_is_dropped():
    def fn(torch):
        x = torch.ones(3, requires_grad=True)
        with torch.no_grad():
            v = x[:2]
        y = v * 2
        y.sum().backward()
        return y.requires_grad, type(y.grad_fn).__name__, x.grad, v.grad
    same(fn)


def _under_no_grad(f):
    import ember
    import torch
    with torch.no_grad(), ember.no_grad():
        f()


NO_GRAD_VIEW_ERRORS = {
    "write_view_with_grad": lambda torch, x, v: v.mul_(2),
    "grad_fn_after_write_under_no_grad": lambda torch, x, v: (_under_no_grad(lambda: v.mul_(2)), v.grad_fn),
    "is_leaf_after_base_written": lambda torch, x, v: (x.mul_(2), v.is_leaf),
    "use_after_base_written": lambda torch, x, v: (x.mul_(2), v.sum()),
}


@pytest.mark.parametrize("case", list(NO_GRAD_VIEW_ERRORS))
def test_view_made_under_no_grad_refuses_ambiguous_writes(case):
    def fn(torch):
        x = torch.ones(3, requires_grad=True) * 1
        with torch.no_grad():
            v = x[:2]
        NO_GRAD_VIEW_ERRORS[case](torch, x, v)
    same_error(fn)


def test_view_of_a_leaf_made_under_no_grad_written_with_grad_raises():
    def fn(torch):
        x = torch.ones(3, requires_grad=True)
        with torch.no_grad():
            v = x[:2]
        v.mul_(2)
    same_error(fn)


def test_view_made_under_no_grad_written_under_no_grad_keeps_working():
    def fn(torch):
        x = torch.ones(3, requires_grad=True) * 1
        with torch.no_grad():
            v = x[:2]
            v.mul_(2)
        return v.requires_grad, x, (x * 2).grad_fn is not None
    same(fn)


def test_enable_grad_inside_no_grad():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        with torch.no_grad():
            with torch.enable_grad():
                y = x * 2
            z = x * 2
        y.sum().backward()
        return y, z, x.grad
    same(fn)


def test_set_grad_enabled_context_and_function():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        with torch.set_grad_enabled(False):
            a = x * 2
            with torch.set_grad_enabled(True):
                b = x * 2
        after_ctx = torch.is_grad_enabled()
        torch.set_grad_enabled(False)  # a plain call takes effect at once
        try:
            c = x * 2
            off = torch.is_grad_enabled()
        finally:
            torch.set_grad_enabled(True)
        return a, b, c, after_ctx, off, torch.is_grad_enabled()
    same(fn)


def test_inference_mode_context():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        with torch.inference_mode():
            y = x * 2
            inside = torch.is_grad_enabled()
            with torch.inference_mode(False):
                z = x * 2
        return y.requires_grad, inside, z, torch.is_grad_enabled()
    same(fn)


def test_is_inference_mode_enabled():
    def fn(torch):
        with torch.inference_mode():
            inside = torch.is_inference_mode_enabled()
        with torch.no_grad():
            under_no_grad = torch.is_inference_mode_enabled()
        return inside, under_no_grad, torch.is_inference_mode_enabled()
    same(fn)


def test_inference_mode_state_in_grad_mode_module():
    from ember.autograd.grad_mode import is_inference_mode_enabled
    import torch
    for lib, probe in ((torch, torch.is_inference_mode_enabled), (ember, is_inference_mode_enabled)):
        states = []
        with lib.inference_mode():
            states.append(probe())
            with lib.inference_mode(False):
                states.append(probe())
            states.append(probe())
        states.append(probe())
        decorated = lib.inference_mode()(probe)
        states.append(decorated())
        assert states == [True, False, True, False, True], lib.__name__


def test_nesting_restores_each_level_and_survives_exceptions():
    def fn(torch):
        states = []
        with torch.no_grad():
            states.append(torch.is_grad_enabled())
            with torch.enable_grad():
                states.append(torch.is_grad_enabled())
                with torch.set_grad_enabled(False):
                    states.append(torch.is_grad_enabled())
                    try:
                        with torch.enable_grad():
                            raise ValueError("boom")
                    except ValueError:
                        pass
                    states.append(torch.is_grad_enabled())
                states.append(torch.is_grad_enabled())
            states.append(torch.is_grad_enabled())
        states.append(torch.is_grad_enabled())
        return states
    same(fn)


def test_no_grad_context_manager_object_is_reusable():
    def fn(torch):
        ng = torch.no_grad()
        out = []
        for _ in range(2):
            with ng:
                out.append(torch.is_grad_enabled())
            out.append(torch.is_grad_enabled())
        return out
    same(fn)


# --- grad modes as decorators -----------------------------------------------------------------------
def test_no_grad_decorator_with_and_without_parentheses():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)

        @torch.no_grad()
        def f(t):
            return t * 2, torch.is_grad_enabled()

        @torch.no_grad
        def g(t):
            return t * 3, torch.is_grad_enabled()
        return f(x), g(x), f.__name__, torch.is_grad_enabled()
    same(fn)


def test_enable_grad_decorator_inside_no_grad():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)

        @torch.enable_grad()
        def f(t):
            return t * 2

        with torch.no_grad():
            y = f(x)
            z = x * 2
        return y, z
    same(fn)


def test_set_grad_enabled_decorator():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)

        @torch.set_grad_enabled(False)
        def f(t):
            return t * 2

        between = torch.is_grad_enabled()  # building the decorator must not leave grad off
        return f(x), between, (x * 2).requires_grad
    same(fn)


def test_inference_mode_decorator():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)

        @torch.inference_mode()
        def f(t):
            return t * 2

        @torch.inference_mode
        def g(t):
            return t * 3

        @torch.inference_mode(False)
        def h(t):
            return t * 4
        return f(x).requires_grad, g(x).requires_grad, h(x), torch.is_grad_enabled()
    same(fn)


def test_no_grad_decorator_on_generator():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)

        @torch.no_grad()
        def gen():
            for i in range(2):
                yield x * i, torch.is_grad_enabled()

        out = []
        for item in gen():
            out.append(item)
            out.append(torch.is_grad_enabled())
        return out
    same(fn)


def test_decorator_restores_mode_after_exception():
    def fn(torch):
        @torch.no_grad()
        def f():
            raise KeyError("x")
        try:
            f()
        except KeyError:
            pass
        return torch.is_grad_enabled()
    same(fn)


def test_no_grad_decorated_method():
    def fn(torch):
        class M:
            def __init__(self):
                self.w = torch.ones(2, requires_grad=True)

            @torch.no_grad()
            def step(self, lr):
                self.w -= lr * self.w
                return self.w.requires_grad, self.w.is_leaf

        m = M()
        return m.step(0.5), m.w
    same(fn)


# --- in-place updates of leaves under no_grad (the optimizer idiom) ------------------------------------
def test_leaf_update_under_no_grad_bumps_version_and_stays_leaf():
    def fn(torch):
        w = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        (w * w).sum().backward()
        with torch.no_grad():
            w -= 0.1 * w.grad
            w[0] = 5.0
            w[1, 1:] = 6.0
            w.mul_(2)
        w.grad.zero_()
        (w * w).sum().backward()
        return w, w.grad, w._version
    same(fn)


def test_leaf_update_under_no_grad_1d_int_index():
    def fn(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        with torch.no_grad():
            w[0] = 5.0
        return w, w._version
    same(fn)


# --- detach -----------------------------------------------------------------------------------------------
def test_detach_shares_memory_and_version_counter():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        d = y.detach()
        d[:1] = 10.0
        return y, d, d.requires_grad, d.is_leaf, d.grad_fn is None, y._version, d._version
    same(fn)


def test_detach_modification_breaks_saved_tensor():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.detach().zero_()
        y.sum().backward()
    same_error(fn)


def test_detach_stops_gradient():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * x.detach() + x
        y.sum().backward()
        return y, x.grad
    same(fn)


def test_detach_underscore_on_non_leaf():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        r = y.detach_()
        return r is y, y, y.requires_grad, y.is_leaf, y.grad_fn is None
    same(fn)


def test_detach_underscore_on_view_raises():
    def fn(torch):
        x = torch.tensor([[1.0, 2.0]], requires_grad=True)
        (x * 2)[0].detach_()
    same_error(fn)


def test_data_does_not_share_version_counter():
    def fn(torch):
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.data.mul_(2)  # invisible to autograd: no error, uses the modified value
        y.sum().backward()
        return x.grad, x.data.requires_grad, y._version
    same(fn)


def test_data_assignment_keeps_graph_identity():
    def fn(torch):
        w = torch.tensor([1.0, 2.0], requires_grad=True)
        w.data = torch.tensor([3.0, 4.0])
        (w * w).sum().backward()
        return w, w.grad, w.is_leaf
    same(fn)
