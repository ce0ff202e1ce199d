"""Anomaly detection against PyTorch: the switches (detect_anomaly, set_detect_anomaly, set_anomaly_enabled and
their queries), the forward traceback each node records while it is on, the NaN error naming the backward
function and its output, and the warning with the forward traceback before any error raised while a node
runs. Both libraries run the same test lines, so the frames of this file's tests in their tracebacks (which
end at the user's line) are equal; the frames that lead there (pytest, the helpers' two call sites) differ."""
import re
import warnings

import pytest

import ember
from autograd_compare import same, same_error

_TRIGGERED = re.compile(r" \(Triggered internally at [^)]*\)$")


@pytest.fixture(autouse=True)
def _restore():
    import torch
    yield
    torch.set_anomaly_enabled(False)
    ember.set_anomaly_enabled(False)


def outcome_and_warnings(fn, lib):
    """(exception type name or None, its message, the warning messages) of fn(lib)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn(lib)
            err = (None, None)
        except Exception as exc:  # noqa: BLE001 - compared with torch's
            err = (type(exc).__name__, str(exc))
    return err, [_TRIGGERED.sub("", str(w.message)) for w in caught if not issubclass(w.category, DeprecationWarning)]


def same_outcome(fn):
    """fn raises the same error and warns the same warnings on torch and ember (tracebacks compared by
    their frames in this file's tests)."""
    import torch
    expected = outcome_and_warnings(fn, torch)
    actual = outcome_and_warnings(fn, ember)
    expected, actual = [(err, [_user_frames(w) for w in ws]) for err, ws in (expected, actual)]
    assert actual == expected
    return expected


def _user_frames(message):
    """The message with the traceback frames outside this file's tests left out."""
    head, *frames = re.split(r"(?=  File )", message)
    return head + "".join(f for f in frames if _is_user_frame(f))


def _is_user_frame(frame):
    return __file__ in frame and ", in same_outcome\n" not in frame and ", in outcome_and_warnings\n" not in frame


def _tb(node):
    return [f for f in node.metadata["traceback_"] if _is_user_frame(f)]


# --- the switches ----------------------------------------------------------------------------------------------
def test_switches_and_queries():
    def fn(torch):
        states = [(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled())]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.autograd.detect_anomaly():
                states.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
                with torch.autograd.detect_anomaly(check_nan=False):
                    states.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
                states.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
        states.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
        torch.autograd.set_detect_anomaly(True, check_nan=False)  # takes effect at once
        states.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
        torch.autograd.set_detect_anomaly(False)
        states.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
        with torch.autograd.set_detect_anomaly(True):
            states.append(torch.is_anomaly_enabled())
        states.append(torch.is_anomaly_enabled())
        torch.set_anomaly_enabled(True, False)
        states.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
        torch.set_anomaly_enabled(False)
        states.append((torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()))
        return states
    same(fn)


def test_detect_anomaly_warns_when_made():
    def fn(torch):
        torch.autograd.detect_anomaly()
    same_outcome(fn)


def test_detect_anomaly_is_not_a_decorator():
    def fn(torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            deco = torch.autograd.detect_anomaly()
        deco(lambda: None)
    same_error(fn)


def test_state_restored_after_an_exception():
    def fn(torch):
        try:
            with torch.autograd.set_detect_anomaly(True):
                raise ValueError("boom")
        except ValueError:
            pass
        return torch.is_anomaly_enabled()
    same(fn)


# --- what nodes record -------------------------------------------------------------------------------------------
def test_nodes_record_the_forward_traceback_only_while_on():
    def fn(torch):
        x = torch.ones(2, requires_grad=True)
        before = list((x * 2).grad_fn.metadata)
        with torch.autograd.set_detect_anomaly(True):
            y = x.exp()
            z = torch.sin(y)
        after = list((x * 2).grad_fn.metadata)
        assert "in same" in y.grad_fn.metadata["traceback_"][-2]  # the whole stack, up to the caller of fn
        return before, after, _tb(y.grad_fn), _tb(z.grad_fn), y.grad_fn.metadata["traceback_"][-1]
    same(fn)


def test_traceback_of_a_custom_function_ends_at_the_users_line():
    def fn(torch):
        class Double(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2
        with torch.autograd.set_detect_anomaly(True):
            y = Double.apply(torch.ones(2, requires_grad=True))
        return _tb(y.grad_fn)
    same(fn)


# --- NaN in backward ------------------------------------------------------------------------------------------------
def test_nan_names_the_backward_function_and_output():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            x = torch.tensor([0.0, 1.0], requires_grad=True)
            y = x * torch.tensor([float("inf"), 1.0])
            (y * 0).sum().backward()
    (err, warns) = same_outcome(fn)
    assert err == ("RuntimeError", "Function 'MulBackward0' returned nan values in its 0th output.")
    assert warns[0].startswith("Error detected in MulBackward0. Traceback of forward call that caused the error:")


def test_nan_in_a_later_output():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            a = torch.tensor([1.0], requires_grad=True)
            b = torch.tensor([0.0], requires_grad=True)
            (a / b * 0).sum().backward()
    same_outcome(fn)


def test_nan_from_a_hook_on_the_output():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            x = torch.tensor([0.0], requires_grad=True)
            y = x.sqrt()
            y.register_hook(lambda g: g * float("nan"))
            y.sum().backward()
    same_outcome(fn)


def test_nan_in_the_seed():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            x = torch.tensor([1.0], requires_grad=True)
            (x * 2).backward(torch.tensor([float("nan")]))
    same_outcome(fn)


def test_node_made_before_detection_has_no_forward_information():
    def fn(torch):
        x = torch.tensor([0.0, 1.0], requires_grad=True)
        y = (x * torch.tensor([float("inf"), 1.0]) * 0).sum()
        with torch.autograd.set_detect_anomaly(True):
            y.backward()
    err, warns = same_outcome(fn)
    assert "No forward pass information available" in warns[0]


def test_check_nan_false_lets_nan_through():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True, check_nan=False):
            x = torch.tensor([0.0], requires_grad=True)
            (x.sqrt() * 0).sum().backward()
        return x.grad
    same(fn)
    same_outcome(fn)


def test_no_check_when_detection_is_off():
    def fn(torch):
        x = torch.tensor([0.0], requires_grad=True)
        (x.sqrt() * 0).sum().backward()
        return x.grad, list(x.sqrt().grad_fn.metadata)
    same(fn)
    same_outcome(fn)


# --- other errors while a node runs ---------------------------------------------------------------------------------
def test_error_in_a_custom_backward_is_preceded_by_the_forward_traceback():
    def fn(torch):
        class Bad(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                raise ValueError("boom")
        with torch.autograd.set_detect_anomaly(True):
            x = torch.ones(2, requires_grad=True)
            Bad.apply(x).sum().backward()
    err, warns = same_outcome(fn)
    assert err == ("ValueError", "boom") and warns[0].startswith("Error detected in BadBackward.")


def test_error_in_a_tensor_hook_names_the_node_of_that_tensor():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            x = torch.tensor([1.0], requires_grad=True)
            y = x * 2
            z = y * 3
            y.register_hook(lambda g: 1 / 0)
            z.sum().backward()
    same_outcome(fn)


@pytest.mark.host_only(reason="the message names the tensor type, torch.cuda.FloatTensor on cuda")
def test_version_error_hint_under_anomaly_detection():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            x = torch.tensor([1.0], requires_grad=True)
            y = x.exp()
            z = y * 1
            y.add_(1)
            z.sum().backward()
    same_outcome(fn)


def test_gradients_unchanged_when_on():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            x = torch.tensor([0.5, 2.0], requires_grad=True)
            w = torch.tensor([[1.0, -1.0], [0.5, 3.0]], requires_grad=True)
            loss = torch.tanh(w @ x).pow(2).sum()
            gx, gw = torch.autograd.grad(loss, (x, w), create_graph=True)
            gx.sum().backward()
        return gx, gw, w.grad, x.grad
    same(fn)


def test_nodes_made_by_a_backward_name_their_parent():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            x = torch.tensor([0.0, 1.0], requires_grad=True)
            y = x.sqrt()
            (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
            g.grad_fn.register_prehook(lambda go: 1 / 0)
            meta = sorted(g.grad_fn.metadata)
            parent = g.grad_fn.metadata["parent_"].name()
            g.sum().backward()
        return meta, parent
    err, warns = same_outcome(fn)
    assert err[0] == "ZeroDivisionError" and len(warns) == 2
    assert warns[1].startswith("\n\nPrevious calculation was induced by SqrtBackward0. Traceback of forward call "
                               "that induced the previous calculation:\n")


def test_parent_recorded_only_for_nodes_made_inside_a_backward():
    def fn(torch):
        with torch.autograd.set_detect_anomaly(True):
            x = torch.tensor([0.5, 1.0], requires_grad=True)
            y = x.sqrt()
            (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
            return sorted(y.grad_fn.metadata), sorted(g.grad_fn.metadata), g.grad_fn.metadata["parent_"].name()
    same(fn)


def test_sparse_gradients_are_checked_by_their_values():
    def fn(torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with torch.autograd.detect_anomaly():
                torch.manual_seed(0)
                e = torch.nn.Embedding(5, 3, sparse=True)
                e(torch.tensor([1, 2, 1])).sum().backward()
                fine = e.weight.grad.to_dense()
                e.weight.grad = None
                (e(torch.tensor([0])).sum(1) * torch.tensor([float("nan")])).sum().backward()
        return fine
    same_error(fn)
