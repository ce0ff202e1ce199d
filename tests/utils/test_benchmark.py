"""torch.utils.benchmark against PyTorch: Measurement statistics and repr, Compare's tables, the helpers,
the Fuzzer's parameter draws, Timer's methods."""
import random
import re

import pytest
import torch.utils.benchmark as tb

import ember
import ember.utils.benchmark as eb


def _strip_address(text):
    return re.sub(r"<[\w.]+\.Measurement object at 0x[0-9a-f]+>", "<Measurement>", text)


def _times(seed, n, center, spread):
    rng = random.Random(seed)
    return [center * (1 + spread * (rng.random() - 0.5)) for _ in range(n)]


def _pair(n_per_run, times, **spec):
    spec.setdefault("stmt", "x + y")
    spec.setdefault("setup", "pass")
    t = tb.Measurement(n_per_run, list(times), tb.TaskSpec(**spec))
    e = eb.Measurement(n_per_run, list(times), eb.TaskSpec(**spec))
    return t, e


CASES = [
    (100, _times(0, 10, 2e-6, 0.05), {}),
    (1, _times(1, 1, 3e-3, 0.0), {"label": "one"}),
    (10, _times(2, 3, 7e-9 * 10, 0.5), {"sub_label": "float"}),
    (1000, _times(3, 50, 1.5, 0.8), {"label": "L", "sub_label": "s", "description": "n=4", "num_threads": 4}),
    (7, _times(4, 8, 4.2e-5, 0.3), {"stmt": "a = 1\nb = a + 1", "setup": "import math\nx = 1"}),
    (3, _times(5, 20, 9e-4, 0.15), {"setup": "x = torch.ones(3)", "env": "A", "description": "big"}),
]


@pytest.mark.parametrize("n_per_run,times,spec", CASES)
def test_measurement_stats_and_repr(n_per_run, times, spec):
    t, e = _pair(n_per_run, times, **spec)
    assert e.median == pytest.approx(t.median, rel=1e-12)
    assert e.mean == pytest.approx(t.mean, rel=1e-12)
    assert e.iqr == pytest.approx(t.iqr, rel=1e-9, abs=1e-18)
    assert e.times == t.times
    assert e.significant_figures == t.significant_figures
    assert e.has_warnings == t.has_warnings
    assert e.meets_confidence(0.2) == t.meets_confidence(0.2)
    assert e.title == t.title and e.as_row_name == t.as_row_name and e.env == t.env
    assert e.stmt == t.stmt and e.num_threads == t.num_threads
    assert _strip_address(repr(e)) == _strip_address(repr(t))


def test_measurement_merge():
    t1, e1 = _pair(10, [1e-5, 2e-5], label="a")
    t2, e2 = _pair(5, [3e-5], label="a")
    t3, e3 = _pair(5, [3e-5], label="b")
    tm, em = tb.Measurement.merge([t1, t2, t3]), eb.Measurement.merge([e1, e2, e3])
    assert [(m.number_per_run, m.raw_times, m.label) for m in em] == \
        [(m.number_per_run, m.raw_times, m.label) for m in tm]


@pytest.mark.parametrize("t", [3e-10, 1e-9, 2.5e-8, 1e-6, 9.99e-6, 4e-4, 1e-3, 0.5, 2.0, 1000.0])
def test_select_unit(t):
    assert eb.select_unit(t) == tb.select_unit(t)


@pytest.mark.parametrize("x,n", [(3.14159, 2), (3.14159, 4), (123456.0, 3), (0.000123456, 2), (-98.76, 1),
                                 (1.0, 1), (999.9, 3)])
def test_trim_sigfig(x, n):
    assert eb.trim_sigfig(x, n) == tb.trim_sigfig(x, n)


def test_small_helpers():
    for u in ("ns", "us", "ms", "s"):
        assert eb.unit_to_english(u) == tb.unit_to_english(u)
    assert eb.ordered_unique([3, 1, 3, 2, 1]) == tb.ordered_unique([3, 1, 3, 2, 1])
    with pytest.raises(AssertionError):
        eb.trim_sigfig(1.0, 1.5)
    with eb.set_torch_threads(3):
        assert ember.get_num_threads() == 3


def _grid(lib, seed=0):
    """Measurements over labels, sub_labels, descriptions, thread counts; some cells missing."""
    rng = random.Random(seed)
    out = []
    for label in ("Add", "Matmul"):
        for threads in (1, 4):
            for sub in ("float", "int", "a longer sub label"):
                for desc in ("n=1", "n=64", "n=4096"):
                    if (sub, desc) == ("int", "n=64") and threads == 4:
                        continue  # NOTE: a missing cell
                    center = {"n=1": 3e-6, "n=64": 4e-5, "n=4096": 2e-3}[desc] * (3 if label == "Matmul" else 1)
                    times = [center * (1 + 0.3 * (rng.random() - 0.5)) for _ in range(rng.choice([2, 5, 12]))]
                    spec = lib.TaskSpec(stmt="f(x)", setup="pass", label=label, sub_label=sub,
                                               description=desc, num_threads=threads)
                    out.append(lib.Measurement(10, times, spec))
    return out


@pytest.mark.parametrize("options", [(), ("trim",), ("colorize",), ("rowwise",), ("warnings",),
                                     ("trim", "colorize", "warnings")])
@pytest.mark.parametrize("seed", [0, 1])
def test_compare_layout(options, seed):
    tables = []
    for lib in (tb, eb):
        c = lib.Compare(_grid(lib, seed))
        if "trim" in options:
            c.trim_significant_figures()
        if "colorize" in options:
            c.colorize()
        if "rowwise" in options:
            c.colorize(rowwise=True)
        if "warnings" in options:
            c.highlight_warnings()
        tables.append(str(c))
    assert tables[1] == tables[0]


def test_compare_envs_and_replicates(capsys):
    tables = []
    for lib in (tb, eb):
        ms = []
        for env in ("before", "after-change"):
            for rep in range(2):  # NOTE: replicates of one TaskSpec are merged
                for desc in ("small", "large"):
                    spec = lib.TaskSpec(stmt="y = x.sum()", setup="x = 1", label="Sum", description=desc,
                                               env=env)
                    ms.append(lib.Measurement(4, _times(rep + len(env), 6, 5e-7 if desc == "small" else 8e-4, 0.1),
                                              spec))
        ms.append(lib.Measurement(1, [1e-3], lib.TaskSpec(stmt="z", setup="pass", description="d")))  # label None
        lib.Compare(ms).print()
        tables.append(capsys.readouterr().out)
    assert tables[1] == tables[0]


def test_compare_rejects_non_measurements():
    with pytest.raises(ValueError, match="Expected an instance of `Measurement`"):
        eb.Compare([1])


def test_timer_methods():
    x = ember.ones(8)
    timer = eb.Timer("y = x * 2", globals={"x": x}, label="mul", sub_label="f32", description="8", num_threads=2)
    m = timer.timeit(50)
    assert m.number_per_run == 50 and len(m.raw_times) == 1 and m.num_threads == 2
    m = timer.blocked_autorange(min_run_time=0.02)
    assert sum(m.raw_times) >= 0.02 and m.label == "mul" and m.description == "8"
    m = timer.adaptive_autorange(threshold=0.5, min_run_time=0.01, max_run_time=0.5)
    assert len(m.raw_times) >= 1
    calls = []
    timer.blocked_autorange(callback=lambda n, t: calls.append((n, t)), min_run_time=0.01)
    assert calls and all(isinstance(n, int) for n, _ in calls)
    # NOTE: torch is in the globals by default, as in PyTorch
    assert eb.Timer("torch.ones(2)").timeit(3).number_per_run == 3
    with pytest.raises(NotImplementedError):
        timer.repeat()
    with pytest.raises(NotImplementedError):
        timer.autorange()
    with pytest.raises(ValueError, match="global_setup is C\\+\\+ only"):
        eb.Timer("pass", global_setup="#include <x>")
    with pytest.raises(ValueError, match="Currently only a `str` stmt"):
        eb.Timer(lambda: 1)
    with pytest.raises(ValueError, match="Invalid language"):
        eb.Timer("pass", language="rust")
    with pytest.raises(OSError, match="Valgrind is not supported"):
        timer.collect_callgrind()
    with pytest.raises(ValueError, match="repeats"):
        timer.collect_callgrind(repeats=0)


def test_timer_stmt_cleanup():
    stmt = """
        a = 1
        b = a + 1
    """
    for lib in (tb, eb):
        assert lib.Timer(stmt)._task_spec.stmt == "a = 1\nb = a + 1"


def test_function_counts():
    def make(lib):
        a = lib.FunctionCounts((lib.FunctionCount(10, "f"), lib.FunctionCount(5, "g" * 100)), inclusive=False,
                               _linewidth=80)
        b = lib.FunctionCounts((lib.FunctionCount(3, "f"), lib.FunctionCount(2, "dictobject.c:lookdict_unicode")),
                               inclusive=False, _linewidth=80)
        r = [a + b, a - b, a * 2, (a + b).denoise(), a.transform(lambda fn: fn[:1]), a.filter(lambda fn: fn == "f")]
        return [_strip_counts(repr(x)) for x in r] + [(a + b).sum(), len(a), tuple(a[0])]
    assert make(eb) == make(tb)


def _strip_counts(text):
    return re.sub(r"<[\w.]+\.FunctionCounts object at 0x[0-9a-f]+>", "<FunctionCounts>", text)


def _fuzz_spec(lib):
    params = [lib.FuzzedParameter("k0", minval=1, maxval=1024, distribution="loguniform"),
              lib.FuzzedParameter("k1", minval=2, maxval=16, distribution="uniform"),
              lib.FuzzedParameter("scale", minval=0.5, maxval=2.0, distribution="uniform"),
              lib.FuzzedParameter("d", minval=1, maxval=2, distribution="uniform", strict=True)]
    tensors = [lib.FuzzedTensor("x", size=("k0", "k1"), steps=(1, 2), dim_parameter="d", max_elements=4096,
                                probability_contiguous=0.3)]
    return lib.Fuzzer(parameters=params, tensors=tensors, constraints=[lambda p: p["k1"] != 3], seed=123)


def test_fuzzer_parameters_match_torch():
    tf, ef = _fuzz_spec(tb), _fuzz_spec(eb)
    for (tt, tp, tparams), (et, ep, eparams) in zip(tf.take(12), ef.take(12)):
        assert eparams == tparams
        assert et["x"].shape == tuple(tt["x"].shape)
        assert et["x"].stride() == tt["x"].stride()
        assert ep["x"]["is_contiguous"] == tp["x"]["is_contiguous"]
        assert ep["x"]["numel"] == tp["x"]["numel"] and ep["x"]["steps"] == tp["x"]["steps"]
    assert ef.rejection_rate == tf.rejection_rate


def test_fuzzer_errors():
    with pytest.raises(AssertionError, match="Unknown distribution"):
        eb.FuzzedParameter("a", 1, 2, distribution="normal")
    with pytest.raises(ValueError, match="Duplicate names"):
        eb.Fuzzer([eb.FuzzedParameter("a", 1, 2, "uniform")], [eb.FuzzedTensor("a", size=(2,))])
    # NOTE: PyTorch 2.13 rejects a dict distribution that sums to one (its check is inverted), and numpy
    # rejects one that does not: custom distributions cannot be drawn from in either library
    for lib in (tb, eb):
        with pytest.raises(AssertionError, match="Distribution is not normalized"):
            lib.FuzzedParameter("a", distribution={1: 0.5, 2: 0.5})
    for lib in (tb, eb):
        with pytest.raises(ValueError, match="ParameterAlias cycle"):
            lib.Fuzzer._resolve_aliases({"a": lib.ParameterAlias("b"), "b": lib.ParameterAlias("a")})
        assert lib.Fuzzer._resolve_aliases({"a": lib.ParameterAlias("b"), "b": 3}) == {"a": 3, "b": 3}
    never = eb.Fuzzer([eb.FuzzedParameter("a", 1, 2, "uniform")], [], constraints=[lambda p: False], seed=0)
    with pytest.raises(ValueError, match="Failed to generate"):
        next(never.take(1))
