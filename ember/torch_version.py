"""torch.torch_version: TorchVersion, the str subclass of torch.__version__ that compares as a version.

NOTE: PyTorch compares through the `packaging` library; ember parses PEP 440 versions itself (runtime
dependencies are numpy and ml_dtypes only). Comparisons with packaging's Version objects still work: they
are converted through their string."""
import re

__all__ = ["TorchVersion", "Version", "InvalidVersion"]


class InvalidVersion(ValueError):
    """A string that is not a PEP 440 version."""


_PATTERN = re.compile(
    r"^\s*v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)"
    r"(?:[-_.]?(?P<pre_l>a|b|c|rc|alpha|beta|pre|preview)[-_.]?(?P<pre_n>\d+)?)?"
    r"(?:-(?P<post_n1>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>\d+)?)?"
    r"(?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?"
    r"(?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?\s*$", re.IGNORECASE)
_PRE = {"a": "a", "alpha": "a", "b": "b", "beta": "b", "c": "rc", "rc": "rc", "pre": "rc", "preview": "rc"}
_INF, _NEG_INF = (1, ()), (-1, ())  # NOTE: sort keys above/below every real segment


class Version:
    """A PEP 440 version, ordered as the `packaging` library orders them."""

    def __init__(self, version):
        match = _PATTERN.match(str(version))
        if match is None:
            raise InvalidVersion(f"Invalid version: '{version}'")
        g = match.groupdict()
        self.epoch = int(g["epoch"] or 0)
        self.release = tuple(int(p) for p in g["release"].split("."))
        self.pre = (_PRE[g["pre_l"].lower()], int(g["pre_n"] or 0)) if g["pre_l"] else None
        post = g["post_n1"] or g["post_n2"]
        self.post = int(post or 0) if (g["post_n1"] or g["post_l"]) else None
        self.dev = int(g["dev_n"] or 0) if g["dev_l"] else None
        self.local = g["local"].lower().replace("-", ".").replace("_", ".") if g["local"] else None

    @property
    def major(self):
        return self.release[0]

    @property
    def minor(self):
        return self.release[1] if len(self.release) > 1 else 0

    @property
    def micro(self):
        return self.release[2] if len(self.release) > 2 else 0

    def _key(self):
        release = list(self.release)
        while len(release) > 1 and release[-1] == 0:
            release.pop()  # NOTE: 1.0 == 1.0.0
        if self.pre is None and self.post is None and self.dev is not None:
            pre = _NEG_INF  # NOTE: 1.0.dev0 sorts before 1.0a0
        else:
            pre = (0, self.pre) if self.pre is not None else _INF
        post = (0, self.post) if self.post is not None else _NEG_INF
        dev = (0, self.dev) if self.dev is not None else _INF
        local = _NEG_INF if self.local is None else (0, tuple(
            (1, int(p), "") if p.isdigit() else (0, 0, p) for p in self.local.split(".")))
        return self.epoch, tuple(release), pre, post, dev, local

    def __str__(self):
        text = (f"{self.epoch}!" if self.epoch else "") + ".".join(str(p) for p in self.release)
        text += f"{self.pre[0]}{self.pre[1]}" if self.pre else ""
        text += f".post{self.post}" if self.post is not None else ""
        text += f".dev{self.dev}" if self.dev is not None else ""
        return text + (f"+{self.local}" if self.local else "")

    def __repr__(self):
        return f"<Version('{self}')>"

    def __hash__(self):
        return hash(self._key())

    def _other(self, other):
        return other if isinstance(other, Version) else Version(str(other))

    def __eq__(self, other):
        return self._key() == self._other(other)._key()

    def __lt__(self, other):
        return self._key() < self._other(other)._key()

    def __le__(self, other):
        return self._key() <= self._other(other)._key()

    def __gt__(self, other):
        return self._key() > self._other(other)._key()

    def __ge__(self, other):
        return self._key() >= self._other(other)._key()


class TorchVersion(str):
    """A str that compares with strings, tuples like (2, 1) and Version objects as a version; a string that is
    not a version falls back to str comparison, as PyTorch's does."""

    __slots__ = ()

    def _convert_to_version(self, inp):
        if isinstance(inp, Version):
            return inp
        if isinstance(inp, str) or type(inp).__name__ == "Version":
            return Version(str(inp))
        if isinstance(inp, (tuple, list)):
            return Version(".".join(str(item) for item in inp))
        raise InvalidVersion(inp)

    def _cmp_wrapper(self, cmp, method):
        try:
            return getattr(Version(self), method)(self._convert_to_version(cmp))
        except InvalidVersion:
            return getattr(super(), method)(cmp)


def _comparison(method):
    def compare(self, cmp):
        return self._cmp_wrapper(cmp, method)
    compare.__name__ = method
    return compare


for _method in ("__gt__", "__lt__", "__eq__", "__ge__", "__le__"):
    setattr(TorchVersion, _method, _comparison(_method))
TorchVersion.__hash__ = str.__hash__  # NOTE: defining __eq__ drops the inherited hash
