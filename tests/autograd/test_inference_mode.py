"""inference_mode for real: inference tensors (Tensor.is_inference, torch.is_inference), the mode's flags
and forms (context, decorator with and without parentheses, mode=False, nesting), and PyTorch's refusals
outside the mode: writing in place, saving for backward, requires_grad=True; views and detach of inference
tensors are inference tensors. Every case runs on torch and on ember (autograd_compare)."""
import threading

import pytest

import ember
from autograd_compare import same, same_error


def _made_inside(torch):
    with torch.inference_mode():
        return torch.ones(3)


# --- which tensors are inference tensors ----------------------------------------------------------------
def test_tensors_made_inside_are_inference_tensors():
    def fn(torch):
        x = torch.ones(3, requires_grad=True)
        with torch.inference_mode():
            made = [torch.ones(2), torch.tensor([1.0, 2.0]), torch.arange(3), x * 2, x.clone(), x + 1,
                    torch.zeros(2).add_(1), torch.randn(2).exp()]
            flags = [t.is_inference() for t in made]
            views_of_normal = [x.detach().is_inference(), x[0].is_inference(), x.view(3).is_inference()]
        return flags, views_of_normal, x.is_inference(), (x * 2).requires_grad, made[3].requires_grad
    same(fn)


def test_views_and_detach_of_an_inference_tensor_are_inference_tensors():
    def fn(torch):
        a = _made_inside(torch)
        return (a[:2].is_inference(), a.view(3, 1).is_inference(), a.detach().is_inference(),
                a.t().is_inference(), a.clone().is_inference(), a.exp().is_inference(), torch.is_inference(a),
                torch.is_inference(torch.ones(1)))
    same(fn)


def test_normal_tensors_outside_and_under_inference_mode_false():
    def fn(torch):
        with torch.inference_mode():
            with torch.inference_mode(False):
                inner = torch.ones(2)
            after = torch.ones(2)
        return inner.is_inference(), after.is_inference(), torch.ones(1).is_inference()
    same(fn)


def test_inference_tensors_keep_their_values_and_compute_outside():
    def fn(torch):
        a = _made_inside(torch)
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x + a  # NOTE: add saves nothing, so an inference operand is allowed in a tracked op
        y.sum().backward()
        return a * 3, y, x.grad, (a * 2).is_inference()
    same(fn)


# --- the mode's flags and forms ----------------------------------------------------------------------------
def test_flags_inside_outside_and_nested():
    def fn(torch):
        states = [(torch.is_inference_mode_enabled(), torch.is_grad_enabled())]
        with torch.inference_mode():
            states.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
            with torch.inference_mode(False):
                states.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
            with torch.no_grad():
                states.append((torch.is_inference_mode_enabled(), torch.ones(1).is_inference()))
            states.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
        with torch.no_grad():
            with torch.inference_mode(False):
                states.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
            with torch.inference_mode(mode=True):
                states.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
            states.append(torch.is_grad_enabled())
        states.append((torch.is_inference_mode_enabled(), torch.is_grad_enabled()))
        return states
    same(fn)


def test_flags_restored_after_an_exception():
    def fn(torch):
        try:
            with torch.inference_mode():
                raise ValueError("boom")
        except ValueError:
            pass
        return torch.is_inference_mode_enabled(), torch.is_grad_enabled(), torch.ones(1).is_inference()
    same(fn)


def test_decorator_forms():
    def fn(torch):
        @torch.inference_mode
        def bare():
            return torch.is_inference_mode_enabled(), torch.ones(1).is_inference()

        @torch.inference_mode()
        def called():
            return torch.is_inference_mode_enabled(), torch.ones(1).is_inference()

        @torch.inference_mode(False)
        def off():
            return torch.is_inference_mode_enabled(), torch.ones(1).is_inference()

        @torch.inference_mode()
        def gen():
            yield torch.is_inference_mode_enabled()
            yield torch.ones(1).is_inference()

        g = gen()
        first = next(g)
        between = torch.is_inference_mode_enabled()
        return bare(), called(), off(), first, between, next(g), bare.__name__, torch.is_inference_mode_enabled()
    same(fn)


def test_mode_attribute_and_clone():
    def fn(torch):
        on, off = torch.inference_mode(), torch.inference_mode(mode=False)
        with on.clone():
            cloned = torch.is_inference_mode_enabled()
        return on.mode, off.mode, off.clone().mode, cloned
    same(fn)


def test_the_mode_is_per_thread():
    seen = []
    with ember.inference_mode():
        t = threading.Thread(target=lambda: seen.append((ember.is_inference_mode_enabled(),
                                                         ember.ones(1).is_inference(), ember.is_grad_enabled())))
        t.start()
        t.join()
        inside = ember.ones(1).is_inference()
    assert seen == [(False, False, True)] and inside


# --- refusals outside the mode --------------------------------------------------------------------------------
def _custom_saving(torch):
    class Saver(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(y)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g, None
    return Saver.apply(torch.ones(2, requires_grad=True), _made_inside(torch)[:2])


REFUSALS = {
    "add_": lambda torch: _made_inside(torch).add_(1),
    "add_ under no_grad": lambda torch: torch.no_grad()(lambda: _made_inside(torch).add_(1))(),
    "mul_ tensor": lambda torch: _made_inside(torch).mul_(torch.ones(3)),
    "copy_ into": lambda torch: _made_inside(torch).copy_(torch.zeros(3)),
    "view add_": lambda torch: _made_inside(torch)[:2].add_(1),
    "fill_": lambda torch: _made_inside(torch).fill_(2.0),
    "zero_": lambda torch: _made_inside(torch).zero_(),
    "setitem": lambda torch: _made_inside(torch).__setitem__(0, 5.0),
    "saved by mul": lambda torch: torch.ones(3, requires_grad=True) * _made_inside(torch),
    "saved in place": lambda torch: (torch.ones(3, requires_grad=True) * 2).mul_(_made_inside(torch)),
    "saved by a custom Function": lambda torch: _custom_saving(torch),
    "requires_grad_": lambda torch: _made_inside(torch).requires_grad_(),
    "requires_grad =": lambda torch: setattr(_made_inside(torch), "requires_grad", True),
    "Parameter": lambda torch: torch.nn.Parameter(_made_inside(torch)),
    "_version": lambda torch: _made_inside(torch)._version,
    "_version inside": lambda torch: torch.inference_mode()(lambda: torch.ones(1)._version)(),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_refusals_outside_the_mode(case):
    same_error(REFUSALS[case])


def test_write_lands_before_the_refusal():
    """PyTorch refuses when bumping the version counter, after the data was written; so does ember."""
    def fn(torch):
        a = _made_inside(torch)
        try:
            a.add_(1)
        except RuntimeError:
            pass
        return a
    same(fn)


def test_allowed_inside_the_mode_and_without_saving():
    def fn(torch):
        a = _made_inside(torch)
        with torch.inference_mode():
            a.add_(1)
            a[0] = 7.0
            a.requires_grad_()
        b = _made_inside(torch)
        normal = torch.zeros(3).add_(b)  # an inference operand into a normal tensor
        x = torch.ones(3, requires_grad=True)
        leaf_use = (a * 2).sum()  # mul saves the scalar only (for a's gradient)
        leaf_use.backward()
        b.requires_grad_(False)
        return a, a.requires_grad, a.grad, normal, (x + b).requires_grad
    same(fn)


def test_inference_tensor_inside_the_mode_can_be_used_under_no_grad():
    def fn(torch):
        a = _made_inside(torch)
        with torch.no_grad():
            return (a * 2 + 1).is_inference(), a.sum()
    same(fn)


# --- known gaps -------------------------------------------------------------------------------------------------
def test_enable_grad_inside_inference_mode_records_nothing():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        with torch.inference_mode():
            with torch.enable_grad():
                y = x * 2
                on = torch.is_grad_enabled()
        return y.requires_grad, y.is_inference(), on
    same(fn)


def test_grad_mode_reported_through_nested_modes_inside_inference_mode():
    def fn(torch):
        seen = []
        x = torch.ones(2, requires_grad=True)
        with torch.inference_mode():
            seen.append(torch.is_grad_enabled())
            with torch.enable_grad():
                seen.append(torch.is_grad_enabled())
                with torch.inference_mode(False):
                    seen += [torch.is_grad_enabled(), torch.is_inference_mode_enabled(), (x * 2).requires_grad]
                with torch.no_grad():
                    seen.append(torch.is_grad_enabled())
                    with torch.inference_mode(False):
                        seen += [torch.is_grad_enabled(), (x * 2).requires_grad]
                torch.set_grad_enabled(False)
                seen.append(torch.is_grad_enabled())
                with torch.set_grad_enabled(True):
                    seen += [torch.is_grad_enabled(), (x * 2).requires_grad]
            seen.append(torch.is_grad_enabled())
        seen += [torch.is_grad_enabled(), (x * 2).requires_grad]
        return seen
    same(fn)


def test_view_made_inside_inference_mode_keeps_requires_grad():
    def fn(torch):
        x = torch.ones(3, requires_grad=True)
        with torch.inference_mode():
            v = x[:2]
        return v.requires_grad, v.is_inference(), v.is_leaf, v.grad_fn is None
    same(fn)


@pytest.mark.parametrize("case", ["write_view_outside", "write_inside_then_read_grad_fn"])
def test_view_made_inside_inference_mode_refuses_ambiguous_writes(case):
    def fn(torch):
        x = torch.ones(3, requires_grad=True) * 1
        with torch.inference_mode():
            v = x[:2]
            if case == "write_inside_then_read_grad_fn":
                v.mul_(2)
        if case == "write_view_outside":
            v.mul_(2)
        return v.grad_fn
    same_error(fn)


def test_copies_saves_casts_and_modules():
    def fn(torch):
        import copy
        import io
        a = _made_inside(torch)
        buf = io.BytesIO()
        torch.save(a, buf)
        buf.seek(0)
        linear = torch.nn.Linear(2, 2)
        with torch.inference_mode():
            y = linear(torch.ones(1, 2))
        return (torch.load(buf).is_inference(), copy.deepcopy(a).is_inference(), a.to(torch.float64).is_inference(),
                a.float().is_inference(), a.cpu().is_inference(), y.is_inference(), y.requires_grad,
                linear.weight.is_inference())
    same(fn)
