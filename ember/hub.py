"""torch.hub: importable; loading models from GitHub or URLs is not available in ember (it would run a
repository's hubconf.py written for PyTorch's own modules), and each loader raises NotImplementedError
saying what to do instead. The cache directory functions work."""
import os

_NO_HUB = ("torch.hub.{} is not available in ember: download the weights yourself, build the model from its Python "
           "class and load the state_dict with torch.load (ember reads PyTorch's checkpoint files)")
_dir = None


def get_dir():
    """The hub cache directory: set_dir's, or $TORCH_HOME/hub (default ~/.cache/torch/hub), as PyTorch's."""
    if _dir is not None:
        return _dir
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "torch")
    return os.path.join(os.path.expanduser(home), "hub")


def set_dir(d):
    """Set the hub cache directory."""
    global _dir
    _dir = os.path.expanduser(d)


def load(repo_or_dir, model, *args, **kwargs):
    """Raises NotImplementedError (see the module docstring)."""
    raise NotImplementedError(_NO_HUB.format("load"))


def list(github, force_reload=False, skip_validation=False, trust_repo=None, verbose=True):  # noqa: A001
    """Raises NotImplementedError (see the module docstring)."""
    raise NotImplementedError(_NO_HUB.format("list"))


def help(github, model, force_reload=False, skip_validation=False, trust_repo=None):  # noqa: A001
    """Raises NotImplementedError (see the module docstring)."""
    raise NotImplementedError(_NO_HUB.format("help"))


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False,
                             file_name=None, weights_only=False):
    """Raises NotImplementedError (see the module docstring)."""
    raise NotImplementedError(_NO_HUB.format("load_state_dict_from_url"))


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Raises NotImplementedError (see the module docstring)."""
    raise NotImplementedError(_NO_HUB.format("download_url_to_file"))
