"""torch.compiler in ember: every control returns its function unchanged and nothing is compiling."""
import torch

import ember


def test_compiler_controls():
    def f(x):
        return x + 1
    assert ember.compiler.disable(f) is f
    assert ember.compiler.disable(recursive=False)(f) is f
    assert ember.compiler.allow_in_graph(f) is f
    assert ember.compiler.assume_constant_result(f) is f
    assert ember.compiler.is_compiling() is False and ember.compiler.is_dynamo_compiling() is False
    assert ember.compiler.is_exporting() is False
    assert ember.compiler.reset() is None
    with ember.compiler.set_stance("force_eager"):
        assert ember.compiler.compile(f)(1) == 2
    assert ember.compiler.set_stance("default")(f)(1) == 2
    assert ember.compiler.list_backends() == torch.compiler.list_backends()
    assert set(ember.compiler.__all__) <= set(torch.compiler.__all__)
