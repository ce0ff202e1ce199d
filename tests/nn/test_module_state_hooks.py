"""nn.Module state_dict / load_state_dict hooks and load_state_dict(strict=False, assign=True), against torch."""
import pytest
import torch

import ember


def _pair():
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
    return build(ember), build(torch)


def _record(calls):
    return lambda *args: calls.append(args)


def _shape(args):
    """A library-neutral trace of hook arguments: types for modules, values for the rest."""
    out = []
    for a in args:
        if hasattr(a, "_modules"):
            out.append(type(a).__name__)
        elif isinstance(a, dict):
            out.append(sorted(k for k in a if not k.startswith("_")))
        elif isinstance(a, tuple) and hasattr(a, "missing_keys"):
            out.append((list(a.missing_keys), list(a.unexpected_keys)))
        else:
            out.append(a)
    return out


def test_state_dict_pre_and_post_hooks_match_torch():
    traces = []
    for m in _pair():
        calls = []
        h1 = m[1].register_state_dict_pre_hook(_record(calls))
        h2 = m.register_state_dict_post_hook(_record(calls))
        sd = m.state_dict(keep_vars=True)
        traces.append([_shape(c) for c in calls])
        assert calls[1][2] == "" and calls[1][3] == {"version": 1} and calls[1][1] is sd
        h1.remove()
        h2.remove()
        m.state_dict()
        assert len(calls) == 2
    assert traces[0] == traces[1] == [["BatchNorm1d", "1.", True],
                                      ["Sequential", sorted(_pair()[1].state_dict()), "", ["version"]]]


def test_state_dict_post_hook_must_edit_in_place_and_private_hook_may_replace():
    for lib, m in zip((ember, torch), _pair()):
        h = m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: {"x": 1})
        with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
            m.state_dict()
        h.remove()

        def edit(mod, sd, prefix, meta):
            sd[prefix + "extra"] = lib.ones(1)
        m[0].register_state_dict_post_hook(edit)
        assert "0.extra" in m.state_dict()
        m._register_state_dict_hook(lambda mod, sd, prefix, meta: {"replaced": True})
        assert m.state_dict() == {"replaced": True}
        with pytest.raises(RuntimeError, match="Cannot register the same function as the state dict post hook"):
            m._register_state_dict_hook(edit)


def test_load_state_dict_pre_hook_sees_and_edits_each_modules_dict():
    traces = []
    for lib, m in zip((ember, torch), _pair()):
        calls = []

        def rename(module, sd, prefix, meta, strict, missing, unexpected, errors):
            calls.append((type(module).__name__, sorted(sd), prefix, meta.get("version"), strict))
            if prefix + "w" in sd:
                sd[prefix + "weight"] = sd.pop(prefix + "w")
        m[0].register_load_state_dict_pre_hook(rename)
        plain = []
        m._register_load_state_dict_pre_hook(lambda *a: plain.append(len(a)))
        sd = m.state_dict()
        sd["0.w"] = sd.pop("0.weight") * 0 + 2
        result = m.load_state_dict(sd)
        assert not result.missing_keys and not result.unexpected_keys
        assert m[0].weight.detach().numpy().tolist() == [[2.0, 2.0]] * 3
        assert "0.w" in sd  # the caller's dict is not edited
        assert plain == [7]
        traces.append(calls)
    assert traces[0] == traces[1]
    assert traces[0][0][:3] == ("Linear", ["0.bias", "0.w"], "0.")


def test_load_state_dict_post_hook_can_clear_incompatible_keys():
    traces = []
    for m in _pair():
        calls = []

        def forgive(module, keys):
            calls.append((type(module).__name__, list(keys.missing_keys), list(keys.unexpected_keys)))
            keys.missing_keys.clear()
        m.register_load_state_dict_post_hook(forgive)
        h = m[1].register_load_state_dict_post_hook(lambda module, keys: calls.append("bn"))
        sd = dict(m.state_dict())
        del sd["1.running_var"]
        sd["stray"] = sd["0.bias"]
        with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "stray"'):
            m.load_state_dict(sd)
        assert m.load_state_dict(sd, strict=False) == ([], ["stray"])
        h.remove()
        m.register_load_state_dict_post_hook(lambda module, keys: 1)
        with pytest.raises(AssertionError, match="are not expected to return new values"):
            m.load_state_dict(sd, strict=False)
        traces.append(calls)
    assert traces[0] == traces[1]
    assert traces[0][:2] == ["bn", ("Sequential", ["1.running_var"], ["stray"])]


def test_unexpected_and_missing_keys_match_torch():
    results = []
    for m in _pair():
        sd = dict(m.state_dict())
        sd.pop("0.bias")
        sd["0.nope"] = sd["0.weight"]
        sd["2.weight"] = sd["0.weight"]
        sd["1.running_mean.x"] = sd["0.weight"]
        results.append(tuple(map(list, m.load_state_dict(sd, strict=False))))
    assert results[0] == results[1]


@pytest.mark.parametrize("requires_grad", [True, False])
def test_assign_keeps_the_loaded_tensors(requires_grad):
    for lib, m in zip((ember, torch), _pair()):
        m[0].weight.requires_grad_(requires_grad)
        src = {k: v.clone() + 1 for k, v in m.state_dict().items()}
        src["0.bias"] = lib.nn.Parameter(src["0.bias"], requires_grad=not requires_grad)
        m.load_state_dict(src, assign=True)
        assert m[0].weight is not src["0.weight"] and m[0].weight.data_ptr() == src["0.weight"].data_ptr()
        assert isinstance(m[0].weight, lib.nn.Parameter) and m[0].weight.requires_grad == requires_grad
        assert m[0].bias is src["0.bias"] and m[0].bias.requires_grad  # keeps the model's requires_grad
        assert m[1].running_mean is src["1.running_mean"]
        assert m.state_dict()["1.num_batches_tracked"].item() == 1


def test_assign_with_strict_false_and_a_shape_mismatch():
    for m in _pair():
        sd = {"0.weight": m[0].weight.detach()[:2]}
        with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
            m.load_state_dict(sd, strict=False, assign=True)
        keys = m.load_state_dict({"0.bias": m[0].bias.detach() * 0}, strict=False, assign=True)
        # NOTE: no _metadata: BatchNorm treats the dict as pre-version-2 and fills num_batches_tracked
        assert keys.missing_keys == ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var"]
        assert float(m[0].bias.sum()) == 0.0
