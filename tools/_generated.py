"""Writing a generated docs file, or checking that it is fresh (shared by the tools that generate docs)."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_or_check(path, text, command, check):
    """Write `text` to `path`, or with `check` return 1 (and say so) when the file differs from it."""
    name = os.path.relpath(path, ROOT)
    if check:
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{name} is stale: run `{command}`", file=sys.stderr)
            return 1
        print(f"{name} is up to date")
        return 0
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {name}")
    return 0
