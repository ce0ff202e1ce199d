"""The modules programs import even when they do not depend on them (issue 15): torch.jit passes its
functions and modules through (warning once), torch.compile returns its callable, torch.onnx and
torch.hub import and refuse with NotImplementedError where they cannot do the work."""
import warnings

import pytest
import torch

import ember
from ember import jit


class Net(ember.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = ember.nn.Linear(3, 2)

    @ember.jit.export
    def twice(self, x):
        return 2 * self.fc(x)

    @ember.jit.ignore
    def debug(self, x):
        return x.sum()

    @ember.jit.ignore(drop=True)
    def dropped(self, x):
        return x

    @ember.jit.unused
    def unused(self, x):
        return x

    def forward(self, x):
        if not ember.jit.is_scripting() and not ember.jit.is_tracing():
            x = ember.jit.annotate(ember.Tensor, x)
        return self.fc(x)


def test_script_and_trace_return_what_they_are_given_and_warn_once():
    net = Net()
    x = ember.randn(4, 3)
    jit._warned.clear()
    with pytest.warns(UserWarning, match="torch.jit.script: ember has no TorchScript compiler"):
        scripted = ember.jit.script(net)
    assert scripted is net and ember.equal(scripted(x), net(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ember.jit.script(net.twice) == net.twice  # NOTE: the second time is silent
    with pytest.warns(UserWarning, match="torch.jit.trace"):
        assert ember.jit.trace(net, x) is net
    assert ember.jit.trace_module(net, {"forward": x}) is net
    assert ember.equal(net.twice(x), 2 * net(x)) and net.debug(x).shape == ()
    assert not isinstance(net, ember.jit.ScriptModule)
    assert ember.jit.fork(lambda a: a + 1, 1).wait() == 2 and ember.jit.wait(ember.jit.fork(len, [1, 2])) == 2
    with ember.jit.optimized_execution(False):
        assert ember.jit.freeze(net) is net


def test_jit_archives_refuse_clearly(tmp_path):
    with pytest.raises(NotImplementedError, match="TorchScript archive"):
        ember.jit.save(Net(), tmp_path / "m.pt")
    with pytest.raises(NotImplementedError, match="TorchScript archive"):
        ember.jit.load(tmp_path / "m.pt")


def test_compile_returns_the_callable():
    def f(x):
        return x * 2
    assert ember.compile(f) is f
    assert ember.compile(mode="reduce-overhead", fullgraph=True)(f) is f
    net = Net()
    assert ember.compile(net) is net
    # NOTE: PyTorch's compiled function computes the same values (the contract ember keeps by not compiling)
    assert torch.equal(torch.compile(lambda x: x * 2)(torch.ones(2)), torch.ones(2) * 2)


def test_onnx_and_hub_import_and_refuse_clearly():
    assert ember.onnx.is_in_onnx_export() is False
    assert ember.onnx.TrainingMode.EVAL == torch.onnx.TrainingMode.EVAL.value
    with pytest.raises(NotImplementedError, match="torch.onnx.export"):
        ember.onnx.export(Net(), (ember.randn(1, 3),), "net.onnx")
    with pytest.raises(NotImplementedError, match="torch.hub.load is not available"):
        ember.hub.load("pytorch/vision", "resnet18")
    with pytest.raises(NotImplementedError, match="load_state_dict_from_url"):
        ember.hub.load_state_dict_from_url("https://example.com/w.pth")
    assert ember.hub.get_dir() == torch.hub.get_dir()
