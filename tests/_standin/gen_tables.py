"""Makes cupy/_names.txt and cupy/_signatures.txt from the CuPy mirror (run once by hand; not at import)."""
import sys
if sys.argv[1:] == ["names"]:
    import ast, subprocess, sys
    src = subprocess.check_output(["git", "-C", "/work/.mirror/cupy+cupy/repo", "show", "HEAD:cupy/__init__.py"], text=True)
    names = set()
    def walk(body):
        for n in body:
            if isinstance(n, (ast.Import, ast.ImportFrom)):
                for a in n.names:
                    src = f"numpy:{a.name}" if isinstance(n, ast.ImportFrom) and n.module == "numpy" else ""
                    names.add((a.asname or a.name.split(".")[0], src))
            elif isinstance(n, ast.Assign):
                for t in n.targets:
                    for x in ast.walk(t):
                        if isinstance(x, ast.Name): names.add((x.id, ''))
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                names.add((n.target.id, ''))
            elif isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                names.add((n.name, ''))
            elif isinstance(n, (ast.If, ast.Try)):
                walk(n.body); walk(getattr(n, "orelse", [])); walk(getattr(n, "finalbody", []))
                for h in getattr(n, "handlers", []): walk(h.body)
    walk(ast.parse(src).body)
    d = {}
    for k, v in names: d[k] = d.get(k) or v
    names = sorted(f"{k} {v}".strip() for k, v in d.items() if not k.startswith("_") or k == "__version__")
    print("# CuPy's top-level public names: every import, assignment and def in cupy/__init__.py of the CuPy")
    print("# mirror (15.0.0a1), found with an ast walk, leading-underscore names dropped. Made once by")
    print("# tests/_standin/gen_tables.py; not regenerated at import. `name numpy:orig` = re-exported NumPy object.")
    for x in names: print(x)
else:
    import ast, subprocess
    R = "/work/.mirror/cupy+cupy/repo"
    def show(p):
        try: return subprocess.check_output(["git", "-C", R, "show", "HEAD:" + p], text=True, stderr=subprocess.DEVNULL)
        except subprocess.CalledProcessError: return None
    def defs(mod):
        src = show(mod.replace(".", "/") + ".py") or show(mod.replace(".", "/") + "/__init__.py")
        if src is None: return {}
        out = {}
        for n in ast.parse(src).body:
            if isinstance(n, ast.FunctionDef):
                a = n.args
                ps = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
                if a.kwarg: ps.append("**")
                out[n.name] = ps
        return out
    def table(pkg_init, prefix):
        tree = ast.parse(show(pkg_init))
        res = {}
        cache = {}
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("cupy"):
                d = cache.setdefault(n.module, defs(n.module))
                for a in n.names:
                    if a.name in d: res[prefix + (a.asname or a.name)] = d[a.name]
            if isinstance(n, ast.FunctionDef) and n.col_offset == 0:
                a = n.args
                ps = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs] + (["**"] if a.kwarg else [])
                res[prefix + n.name] = ps
        return res
    res = table("cupy/__init__.py", "")
    for sub in ("linalg", "random", "fft"):
        res.update(table(f"cupy/{sub}/__init__.py", sub + "."))
    print("# CuPy's parameter names per function (python-level defs only; Cython ones are absent): made once")
    print("# by tests/_standin/gen_tables.py: an ast walk of cupy/__init__.py (and linalg, random, fft) of the CuPy mirror, following each")
    print("# `from cupy.X import name` to X's def. Format: name: param param ... (** = takes **kwargs).")
    for k in sorted(res): print(f"{k}: {' '.join(res[k])}")
