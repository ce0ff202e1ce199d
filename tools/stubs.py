"""Writes ember/_tensor.pyi: Tensor's methods made visible to readers and tools.

    python tools/stubs.py           regenerate ember/_tensor.pyi (also: make stubs)
    python tools/stubs.py --check   exit 1 when the committed stub is stale
    python tools/stubs.py --stdout  print the stub instead of writing it

Why: DESIGN.md asks that "Tensor's methods are visible to a reader and an IDE (declared or
stubbed), not only attached at import". Its "one op, one place" keeps an op's forward, backward and
spec in one class under ember/_ops/, and `register` binds it as `Tensor.<name>` when the op's module
is imported, so most of Tensor's methods are attached at import time from some thirty files. The stub is how a reader and an
IDE follow them: it declares every attribute of `ember.Tensor` (methods, in-place methods, operator
dunders, properties) with its signature, the first line of its docstring and, above each, the file
and line that defines it (`# ember/_ops/ternary.py:96` above `lerp_`). A type checker reads the .pyi instead of
ember/_tensor.py, so the stub also declares the module's other names (`Size`, `broadcast_shapes`,
`sum_to`, ... and the private helpers other ember modules import).

How: it is generated from the runtime objects after `import ember`, so it cannot drift from what
`import ember` builds (tests/test_stubs.py regenerates it in memory and compares). Each attribute is
traced through the binding machinery to the op's own definition:
- `__wrapped__` (functools.wraps: the argument guards, `runs_on_its_device`) is followed;
- a registry wrapper's `_applies` names the Primitive class it runs;
- a function made by a factory (`<locals>` in its qualified name) is named by what it closes over:
  its one Primitive class, else its one function (the machinery's own helpers, such as
  `apply_inplace` and `is_number`, do not count); where that is ambiguous, the factory's function.
Signatures are `inspect.signature`'s. A registry wrapper's is `(self, *args, **kwargs)`; its
primitive's `forward` gives the real one: the operands (positional only: the wrapper takes them by
position) and then forward's parameters. Where no signature can be read: `(self, *args, **kwargs)`.
Defaults that are plain literals are written out; others as `...`. No type annotations are
invented. The output is sorted, names files relative to the repository root and holds no addresses,
so it is the same on every run and machine. The tool needs only the standard library and ember.
"""
import argparse
import ast
import functools
import inspect
import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # NOTE: this checkout's ember, also from a plain clone with numpy installed
sys.path.insert(0, os.path.join(ROOT, "tools"))

from _generated import write_or_check  # noqa: E402

OUTPUT = os.path.join(ROOT, "ember", "_tensor.pyi")
COMMAND = "python tools/stubs.py"
MODULE = "ember._tensor"

# NOTE: module-level helpers of the binding machinery: a factory's closure holds them beside the op it
# wraps (apply_inplace, compute_dtype, is_number), so they never name the op.
PLUMBING = ("ember/_ops/_registry.py", "ember/_ops/_guards.py", "ember/_ops/_binary_checks.py",
            "ember/_arguments.py", "ember/_device.py", "ember/autograd/function.py")

# class machinery, not attributes a user reaches
SKIPPED = frozenset(("__module__", "__doc__", "__slots__", "__weakref__", "__dict__", "__qualname__",
                     "__firstlineno__", "__static_attributes__"))

LITERALS = (int, float, complex, bool, str, bytes, type(None))
GENERIC = "(self, *args, **kwargs)"


# --- where a definition lives -------------------------------------------------------------------------
def _package_root():
    import ember
    return os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))


def _relative(path):
    rel = os.path.relpath(os.path.abspath(path), _package_root())
    return None if rel.startswith("..") else rel.replace(os.sep, "/")


@functools.lru_cache(maxsize=None)
def _source_lines(path):
    """For the file at `path`: (qualified name -> first line, decorators included, of each class statement;
    name -> line of each top-level assignment)."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    classes, assigned = {}, {}

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                first = min([child.lineno] + [d.lineno for d in child.decorator_list])
                classes.setdefault(prefix + child.name, first)
                walk(child, prefix + child.name + ".")
            elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                walk(child, prefix + child.name + ".<locals>.")
            else:
                walk(child, prefix)
    walk(tree, "")
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, node.lineno)
    return classes, assigned


def _module_file(module):
    path = getattr(module, "__file__", None)
    return path if path and path.endswith(".py") and _relative(path) else None


def _bound_at(cls, module):
    """The first line of `module` that assigns `cls` to a top-level name, or None."""
    path = _module_file(module)
    if path is None:
        return None
    assigned = _source_lines(path)[1]
    lines = sorted(assigned[name] for name, value in vars(module).items() if value is cls and name in assigned)
    return (path, lines[0]) if lines else None


def _class_site(cls):
    """(file, line) of the class statement; for a class a factory makes (type(...)), the line that binds
    it in the module that asks for it (`Sin = pointwise("sin", ...)` in unary_trig.py, though the class's
    __module__ is the factory's); else its forward's first line."""
    own = sys.modules.get(cls.__module__)
    path = _module_file(own)
    if path is not None and cls.__qualname__ in _source_lines(path)[0]:
        return path, _source_lines(path)[0][cls.__qualname__]
    modules = [own] + [sys.modules[name] for name in sorted(sys.modules)
                       if name.startswith("ember.") and sys.modules[name] is not own]
    for module in modules:
        site = _bound_at(cls, module)
        if site is not None:
            return site
    code = getattr(getattr(cls, "forward", None), "__code__", None)
    return (code.co_filename, code.co_firstlineno) if code is not None else (None, None)


def location(obj):
    """'ember/_ops/ternary.py:89' for a function or class defined in ember, else None."""
    if isinstance(obj, type):
        path, line = _class_site(obj)
        rel = _relative(path) if path else None
        return f"{rel}:{line}" if rel and line else None
    code = getattr(obj, "__code__", None)
    if code is None:
        return None
    rel = _relative(code.co_filename)
    return f"{rel}:{code.co_firstlineno}" if rel else None


def _is_primitive(obj):
    return isinstance(obj, type) and getattr(obj, "_primitive", False) and hasattr(obj, "forward")


def _is_plumbing(fn):
    return "<locals>" not in fn.__qualname__ and location(fn) is not None and location(fn).split(":")[0] in PLUMBING


def _closed_over(fn):
    """What a factory-made function wraps: its one Primitive class, else its one function, else None."""
    cells = []
    for cell in fn.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:  # an empty cell
            pass
    classes = [c for c in cells if _is_primitive(c)]
    if len(classes) == 1:
        return classes[0]
    if classes:
        return None
    functions = [c for c in cells if isinstance(c, types.FunctionType) and c is not fn and not _is_plumbing(c)]
    return functions[0] if len(functions) == 1 else None


def definition(obj):
    """The function or class that defines `obj` (a function bound on Tensor), found through the wrappers."""
    seen = set()
    while isinstance(obj, types.FunctionType) and id(obj) not in seen:
        seen.add(id(obj))
        obj = inspect.unwrap(obj)
        applies = getattr(obj, "_applies", None)
        if _is_primitive(applies):
            return applies
        if "<locals>" not in obj.__qualname__:
            return obj
        inner = _closed_over(obj)
        if inner is None:
            return obj
        obj = inner
    return obj


# --- signatures ---------------------------------------------------------------------------------------
class _Text:
    """A default as it is written in the stub (inspect formats defaults with repr)."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def _default_text(value):
    """A literal default written out when it reads back as itself; `...` otherwise (objects, sentinels)."""
    def plain(v):
        if isinstance(v, (tuple, frozenset)):
            return all(plain(x) for x in v)
        return type(v) in LITERALS
    if plain(value):
        text = repr(value)
        try:
            same = ast.literal_eval(text) == value
        except (ValueError, SyntaxError):
            same = False
        if same and len(text) <= 60:
            return _Text(text)
    return _Text("...")


def _plain(sig):
    """`sig` without annotations, with stub-ready defaults."""
    params = [p.replace(annotation=p.empty, default=p.default if p.default is p.empty else _default_text(p.default))
              for p in sig.parameters.values()]
    return sig.replace(parameters=params, return_annotation=sig.empty)


def _is_generic(sig):
    """(self, *args, **kwargs), (*args, **kwargs) or (self, *args): a wrapper's, saying nothing."""
    params = list(sig.parameters.values())
    if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    return bool(params) and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)


def _from_forward(cls, keywords):
    """A method's signature from its primitive's forward(ctx, *operands, *params): the operands by position
    (the registry's wrappers take them so), then the parameters, by name too where the wrapper takes
    keywords (it merges them by forward's names)."""
    try:
        params = list(inspect.signature(cls.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        return None
    inputs = cls.inputs if isinstance(cls.inputs, int) else 1
    if len(params) < inputs or any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        return None
    out = [p.replace(kind=p.POSITIONAL_ONLY) for p in params[:inputs]]
    rest = params[inputs:]
    out += [p.replace(kind=p.POSITIONAL_OR_KEYWORD if keywords else p.POSITIONAL_ONLY) for p in rest]
    return inspect.Signature(out)


def _as_method(sig, name):
    """The first parameter is the instance: called `self` (a function bound as a method may call it input)."""
    params = list(sig.parameters.values())
    if name == "__new__":
        return sig
    if params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        if params[0].name != "self" and all(p.name != "self" for p in params[1:]):
            params[0] = params[0].replace(name="self")
        if len(params) == 1 or params[1].kind != params[1].POSITIONAL_ONLY:  # NOTE: (self, /) reads as (self)
            params[0] = params[0].replace(kind=params[0].POSITIONAL_OR_KEYWORD)
    else:
        params.insert(0, inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD))
    return sig.replace(parameters=params)


def _read_signature(fn, target):
    """inspect's signature of `fn`; a registry wrapper's from its primitive's forward; None if unreadable."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    if _is_generic(sig) and _is_primitive(target):
        keywords = any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values())
        derived = _from_forward(target, keywords)
        if derived is not None:
            sig = derived
    return sig


def signature(fn, target, method=True, outplace=None):
    """The stub's signature text for `fn`, a function bound on a class (or a module-level one). An in-place
    method that only passes its arguments on (`(self, *args, **kwargs)`) takes what its out-of-place form
    `outplace` takes, but `out=`."""
    sig = _read_signature(fn, target)
    if (sig is None or _is_generic(sig)) and outplace is not None:
        plain = _read_signature(outplace, definition(outplace))
        if plain is not None and not _is_generic(plain):
            sig = plain.replace(parameters=[p for p in plain.parameters.values() if p.name != "out"])
    if sig is None:
        return GENERIC if method else "(*args, **kwargs)"
    sig = _plain(sig)
    if method:
        sig = _as_method(sig, getattr(fn, "__name__", ""))
    return str(sig)


# --- the stub's text ------------------------------------------------------------------------------------
def _first_line(doc):
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return None


def _docstring(text, indent):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'{indent}"""{escaped}"""'


def _doc_of(obj, target):
    return _first_line(getattr(obj, "__doc__", None)) or (
        _first_line(getattr(target, "__doc__", None)) if target is not obj else None)


def _def(name, fn, indent, method=True, decorator=None, sig=None, doc=None, outplace=None):
    """`def name(...)` with its location above and its docstring's first line as its body."""
    target = definition(fn) if isinstance(fn, types.FunctionType) else fn
    where = location(target) or location(fn)
    lines = [f"{indent}# {where}" if where else f"{indent}# (no source)"]
    if decorator:
        lines.append(f"{indent}{decorator}")
    if sig is None:
        sig = signature(fn, target, method, outplace) if callable(fn) else GENERIC
    doc = doc or _doc_of(fn, target)
    if doc:
        lines += [f"{indent}def {name}{sig}:", _docstring(doc, indent + "    ")]
    else:
        lines.append(f"{indent}def {name}{sig}: ...")
    return lines


def _property(name, prop, indent):
    """A property: its getter's location and docstring, and its setter and deleter where it has them."""
    lines = _def(name, prop.fget, indent, decorator="@property", sig="(self)", doc=_first_line(prop.__doc__))
    if prop.fset is not None:
        lines += [f"{indent}@{name}.setter", f"{indent}def {name}(self, value): ..."]
    if prop.fdel is not None:
        lines += [f"{indent}@{name}.deleter", f"{indent}def {name}(self): ..."]
    return lines


def _value_type(value):
    return type(value).__name__ if type(value) in LITERALS + (tuple, list, dict, frozenset, set) else "Any"


def class_stub(cls, indent=""):
    """The stub of `cls`: every attribute its own __dict__ defines, sorted by name."""
    bases = ", ".join(b.__name__ for b in cls.__bases__ if b is not object)
    lines = [f"{indent}# {location(cls) or '(no source)'}", f"{indent}class {cls.__name__}{f'({bases})' if bases else ''}:"]
    inner = indent + "    "
    doc = _first_line(cls.__doc__)
    if doc:
        lines.append(_docstring(doc, inner))
    for name in sorted(cls.__dict__):
        if name in SKIPPED:
            continue
        value = cls.__dict__[name]
        lines.append("")
        if isinstance(value, types.MemberDescriptorType):  # a __slots__ field
            lines.append(f"{inner}{name}: Any")
        elif isinstance(value, property):
            lines += _property(name, value, inner)
        elif isinstance(value, staticmethod):
            lines += _def(name, value.__func__, inner, method=name == "__new__",
                          decorator=None if name == "__new__" else "@staticmethod")
        elif isinstance(value, classmethod):
            lines += _def(name, value.__func__, inner, decorator="@classmethod")
        elif callable(value):
            outplace = cls.__dict__.get(name[:-1]) if name.endswith("_") and not name.endswith("__") else None
            lines += _def(name, value, inner, outplace=outplace if isinstance(outplace, types.FunctionType) else None)
        else:
            lines.append(f"{inner}{name}: {_value_type(value)}")
    return lines


def _imported_names(module):
    """The names `module`'s top level binds by import (they belong to other modules' stubs)."""
    with open(module.__file__, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def module_stub(module):
    """The stub of `module`: every name its top level defines (not imports), sorted; classes in full."""
    imported = _imported_names(module)
    doc = _first_line(module.__doc__)
    out = ["# Generated by tools/stubs.py from the runtime objects after `import ember`; do not edit:",
           f"# run `{COMMAND}` (or `make stubs`). Above each name: the file and line that define it.",
           *([_docstring(doc, "")] if doc else []), "from typing import Any"]
    for name in sorted(vars(module)):
        value = vars(module)[name]
        if name in imported or (name.startswith("__") and name.endswith("__")) or isinstance(value, types.ModuleType):
            continue
        out.append("")
        if isinstance(value, type):
            out += ["", *class_stub(value)]
            out.append("")
        elif isinstance(value, types.FunctionType):
            out += _def(name, value, "", method=False)
        else:
            out.append(f"{name}: {_value_type(value)}")
    return "\n".join(out).replace("\n\n\n\n", "\n\n\n").rstrip("\n") + "\n"


def generate():
    """The text of ember/_tensor.pyi for the ember importable here."""
    import ember  # noqa: F401  (binds every op onto Tensor)
    return module_stub(sys.modules[MODULE])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when ember/_tensor.pyi is stale")
    parser.add_argument("--stdout", action="store_true", help="print the stub instead of writing it")
    args = parser.parse_args(argv)
    if args.stdout:
        sys.stdout.write(generate())
        return 0
    return write_or_check(OUTPUT, generate(), COMMAND, args.check)


if __name__ == "__main__":
    sys.exit(main())
