"""Issue 13: one way to bind a public name. Every `ember.<name>` and `Tensor.<name>` is made public by
`bind` in ember/_ops/_registry.py, once; a second binding must say what it replaces. Checked by running
ember: what the registry recorded is compared with what the namespaces hold after `import ember`."""
import pytest

import ember
from ember import Tensor
from ember._ops import _registry
from ember._ops._registry import BOUND, CLASS_BODY, FUNCTIONS, bind, bind_method


def _where(value):
    """file:line of the code behind `value` (a function, a property's getter), for failure messages."""
    f = value.fget if isinstance(value, property) else value
    code = getattr(f, "__code__", None)
    return f"{code.co_filename}:{code.co_firstlineno}" if code is not None else repr(value)


def unbound_names():
    """Public names whose value did not come from the registry: `ember.<name>` / `Tensor.<name>` set
    directly (FUNCTIONS[...] =, Tensor.x =, setattr(Tensor, ...)), or changed after `bind` made them."""
    offenders = []
    for name, value in FUNCTIONS.items():
        entry = BOUND.get(("ember", name))
        if entry is None or entry.value is not value:
            offenders.append(f"ember.{name} ({_where(value)})")
    for name, value in Tensor.__dict__.items():
        entry = BOUND.get(("Tensor", name))
        if entry is not None:
            if entry.value is not value:
                offenders.append(f"Tensor.{name} ({_where(value)})")
        elif CLASS_BODY.get(name, CLASS_BODY) is not value:
            offenders.append(f"Tensor.{name} ({_where(value)})")
    return offenders


def test_every_public_name_comes_from_bind():
    assert unbound_names() == []


def test_registry_records_match_the_namespaces():
    """Every recorded binding is what its namespace holds, and its site is the binding's own file."""
    for (space, name), entry in BOUND.items():
        holder = FUNCTIONS if space == "ember" else Tensor.__dict__
        assert holder.get(name) is entry.value, f"{space}.{name}"
        assert "_registry.py" not in entry.site, f"{space}.{name} at {entry.site}"
        assert entry.replaced is None or (isinstance(entry.replaced, str) and entry.replaced)
    for name, value in FUNCTIONS.items():
        assert getattr(ember, name) is value, name


def test_class_body_snapshot_is_the_class_statement():
    """CLASS_BODY is taken when the registry is imported: nothing may have been bound on Tensor before."""
    for name, value in CLASS_BODY.items():
        f = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        if hasattr(f, "__code__"):
            assert f.__qualname__.startswith("Tensor."), (name, _where(f))


def test_the_dead_div_binding_is_gone():
    """`div` was bound in _ops/pointwise/arith.py and again in _functional.py; only the latter stays."""
    assert BOUND[("ember", "div")].site.startswith("ember/_functional.py")
    assert BOUND[("Tensor", "div")].site.startswith("ember/_functional.py")
    assert BOUND[("Tensor", "div_")].site.startswith("ember/_functional.py")
    assert ember.div(ember.tensor([7.0]), ember.tensor([2.0]), rounding_mode="floor").tolist() == [3.0]


@pytest.fixture
def scratch():
    """Names bound by a test, removed again afterwards."""
    names = []
    yield names
    for name in names:
        FUNCTIONS.pop(name, None)
        BOUND.pop(("ember", name), None)
        BOUND.pop(("Tensor", name), None)
        if name in Tensor.__dict__ and name not in CLASS_BODY:
            delattr(Tensor, name)


def test_a_second_binding_is_refused(scratch):
    scratch.append("_binding_probe")
    bind("_binding_probe", lambda x: x, method=True)
    with pytest.raises(RuntimeError, match=r"ember\._binding_probe is bound twice: at tests/test_binding.py:\d+"):
        bind("_binding_probe", lambda x: x)
    with pytest.raises(RuntimeError, match=r"Tensor\._binding_probe is bound twice"):
        bind_method("_binding_probe", lambda x: x)
    replacement = bind_method("_binding_probe", lambda x: x + 1, replaces="a probe replacing its first binding")
    assert Tensor._binding_probe is replacement
    assert BOUND[("Tensor", "_binding_probe")].replaced == "a probe replacing its first binding"
    assert unbound_names() == []


def test_replaces_needs_a_reason_and_something_to_replace(scratch):
    scratch.append("_binding_probe")
    with pytest.raises(RuntimeError, match="has none"):
        bind("_binding_probe", lambda x: x, replaces="nothing is bound yet")
    bind("_binding_probe", lambda x: x)
    with pytest.raises(RuntimeError, match="reason"):
        bind("_binding_probe", lambda x: x, replaces=True)


def test_a_class_statement_method_is_not_rebound_silently():
    name = next(n for n in CLASS_BODY if not n.startswith("_") and callable(CLASS_BODY[n]))
    with pytest.raises(RuntimeError, match=rf"Tensor\.{name} is bound twice: at ember/_tensor\.py \(class statement\)"):
        bind_method(name, lambda self: None)
    assert BOUND.get(("Tensor", name)) is None or BOUND[("Tensor", name)].value is Tensor.__dict__[name]


def test_the_check_can_fail(scratch):
    """A direct `Tensor.x = ...` or `FUNCTIONS[...] = ...` is what unbound_names reports."""
    scratch.append("_direct_probe")
    Tensor._direct_probe = lambda self: self
    FUNCTIONS["_direct_probe"] = lambda x: x
    found = unbound_names()
    assert any(o.startswith("Tensor._direct_probe (") and "test_binding.py" in o for o in found)
    assert any(o.startswith("ember._direct_probe (") for o in found)


def test_publish_refuses_a_name_the_module_binds_otherwise(scratch):
    scratch.append("_publish_probe")
    bind("_publish_probe", lambda x: x)
    with pytest.raises(RuntimeError, match=r"ember\._publish_probe is bound twice"):
        _registry.publish({"_publish_probe": object()})
