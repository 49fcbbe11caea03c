"""Imports the real diffusers code from a diffusers *source checkout* without its hub dependencies.

Shared by tools/diffusers_parity.py (UNet2DModel, DDIMScheduler) and tools/make_scheduler_vectors.py
(the noise schedulers). Nothing of diffusers is copied into this repository: the checkout is read
where it lies.

Only torch (Debian's 1.13 is enough), numpy and the standard library are needed (scipy too, for
the schedulers that use it): third-party packages that diffusers' import chain names but that
these checks never use (huggingface_hub, safetensors, filelock, regex, tqdm, ...) are replaced by
stub modules in sys.modules, and `packaging.version` by a minimal implementation. The diffusers
package __init__ (a lazy module that checks installed dependency versions) is bypassed:
`diffusers` is registered as a bare package pointing at the checkout, and its submodules import
normally from there. Subpackages whose __init__ imports every sibling (models.unets,
models.transformers, schedulers) are registered as bare packages over their real directories, so
that only the module asked for and its own imports load.

  register(src) -> (package dir, version)     then importlib.import_module("diffusers....")
  commit_of(src, pkg, explicit=None)         the checkout's commit (git, or a DIFFUSERS_COMMIT file)
"""
import importlib
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import types

import torch

STUBBED = []  # names of the stub modules that were installed


# ---- stubs --------------------------------------------------------------------------------------
class _Placeholder:
    """Stands for any name taken from a stub module. Used as a decorator (with one callable argument)
    it returns the argument unchanged; any other call raises. Subclassing it is allowed."""

    _stub_name = "?"

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):
            return args[0]
        if cls.__dict__.get("_is_stub", False):
            raise RuntimeError("%s is a stub (not available in this parity check)" % cls._stub_name)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        pass


def _placeholder(qualname):
    return type(qualname.rsplit(".", 1)[-1], (_Placeholder,), {"_stub_name": qualname, "_is_stub": True})


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        obj = _placeholder(self.__name__ + "." + name)
        setattr(self, name, obj)
        return obj


def _install_stub(name, package=False):
    if name in sys.modules:
        return sys.modules[name]
    mod = _StubModule(name)
    mod.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=package)
    mod.__file__ = None
    if package:
        mod.__path__ = []
    sys.modules[name] = mod
    if "." in name:
        parent, child = name.rsplit(".", 1)
        setattr(sys.modules[parent], child, mod)
    STUBBED.append(name)
    return mod


def _available(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


class _Version:
    """Minimal packaging.version.Version: release numbers and pre-release flag, ordered."""

    def __init__(self, s):
        s = str(s)
        m = re.match(r"^\s*v?(\d+(?:\.\d+)*)(.*)$", s)
        if not m:
            raise ValueError("invalid version %r" % s)
        self.release = tuple(int(x) for x in m.group(1).split("."))
        rest = m.group(2)
        self.is_prerelease = bool(re.match(r"^[.-]?(a|b|rc|alpha|beta|dev|pre)", rest))
        self.is_devrelease = "dev" in rest
        self.base_version = ".".join(str(x) for x in self.release)
        self.public = s.split("+")[0]
        self.local = s.split("+")[1] if "+" in s else None
        r = self.release + (0,) * (3 - len(self.release))
        self.major, self.minor, self.micro = r[0], r[1], r[2]
        self._s = s

    def _key(self):
        r = self.release
        while len(r) > 1 and r[-1] == 0:
            r = r[:-1]
        return (r, 0 if self.is_prerelease else 1)

    def __str__(self):
        return self._s

    def __repr__(self):
        return "<Version(%r)>" % self._s

    def __hash__(self):
        return hash(self._key())

    def _o(self, other):
        return other if isinstance(other, _Version) else _Version(other)

    def __eq__(self, o):
        return self._key() == self._o(o)._key()

    def __lt__(self, o):
        return self._key() < self._o(o)._key()

    def __le__(self, o):
        return self._key() <= self._o(o)._key()

    def __gt__(self, o):
        return self._key() > self._o(o)._key()

    def __ge__(self, o):
        return self._key() >= self._o(o)._key()


def install_stubs():
    """Stubs for the third-party modules that diffusers' import chain (up to UNet2DModel and the
    schedulers) names but that are not installed here."""
    stub_packages = {
        "huggingface_hub": ["huggingface_hub.utils", "huggingface_hub.constants", "huggingface_hub.file_download",
                            "huggingface_hub.errors", "huggingface_hub.utils._runtime"],
        "safetensors": ["safetensors.torch"],
        "filelock": [],
        "regex": [],
        "tqdm": ["tqdm.auto"],
    }
    for top, subs in stub_packages.items():
        if _available(top):
            continue
        _install_stub(top, package=True)
        for s in subs:
            _install_stub(s, package=True)
    hub = sys.modules.get("huggingface_hub")
    if isinstance(hub, _StubModule):
        hub.__version__ = "0.99.0"
        hub.constants.HF_HOME = os.path.join("/tmp", "hf-home-stub")
        hub.constants.HF_HUB_CACHE = os.path.join("/tmp", "hf-home-stub", "hub")
        hub.constants.HF_HUB_OFFLINE = True
        hub.constants.HF_HUB_DISABLE_TELEMETRY = True
        hub.constants.HUGGINGFACE_CO_RESOLVE_ENDPOINT = "https://stub.invalid"
        hub.constants.ENDPOINT = "https://stub.invalid"
        hub.constants.HF_TOKEN_PATH = "/tmp/hf-home-stub/token"
        hub.utils.is_jinja_available = lambda: False
    if not _available("packaging"):
        pk = _install_stub("packaging", package=True)
        ver = _install_stub("packaging.version")
        ver.Version = _Version
        ver.parse = _Version
        ver.InvalidVersion = ValueError
        pk.version = ver


TORCH_SHIMS = []  # torch attributes added for newer diffusers (missing in torch 1.13)


def shim_torch():
    """torch 1.13 lacks backends that diffusers references at import time (torch.xpu, torch.mps):
    add unavailable stand-ins (is_available() False, device_count() 0)."""
    for name in ("xpu", "mps"):
        if not hasattr(torch, name):
            m = _StubModule("torch." + name)
            m.is_available = lambda: False
            m.device_count = lambda: 0
            setattr(torch, name, m)
            TORCH_SHIMS.append("torch." + name)
    import torch.distributed as dist
    if not hasattr(dist, "device_mesh"):  # used in a type annotation (torch >= 2.2)
        dm = _StubModule("torch.distributed.device_mesh")
        dist.device_mesh = dm
        TORCH_SHIMS.append("torch.distributed.device_mesh")
    for name in ("float8_e4m3fn", "float8_e5m2"):  # a default argument of ModelMixin.enable_layerwise_casting
        if not hasattr(torch, name):
            setattr(torch, name, _placeholder("torch." + name))
            TORCH_SHIMS.append("torch." + name)


def find_package(src):
    """The diffusers package directory under `src` (repo root, its src/, or src/diffusers)."""
    cand = [src, os.path.join(src, "diffusers"), os.path.join(src, "src", "diffusers")]
    pkg = next((c for c in cand if os.path.isfile(os.path.join(c, "configuration_utils.py"))
                and os.path.isdir(os.path.join(c, "schedulers"))), None)
    if pkg is None:
        raise SystemExit("no diffusers source under %s (looked for src/diffusers/configuration_utils.py)" % src)
    return os.path.abspath(pkg)


def _bare_package(name, directory):
    """Registers `name` as a package over `directory` without running its __init__."""
    u = types.ModuleType(name)
    u.__path__ = [directory]
    u.__file__ = os.path.join(directory, "__init__.py")
    u.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    u.__spec__.submodule_search_locations = u.__path__
    sys.modules[name] = u
    if "." in name:
        parent, child = name.rsplit(".", 1)
        setattr(sys.modules[parent], child, u)
    STUBBED.append(name + " (bare package: __init__ skipped)")
    return u


def register(src):
    """Installs the stubs and shims and registers `diffusers` (and the subpackages whose __init__
    imports everything) as bare packages at the checkout. Idempotent. Returns (package dir,
    version string from its __init__.py)."""
    pkg = find_package(src)
    init_text = open(os.path.join(pkg, "__init__.py")).read()
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', init_text, re.M)
    version = m.group(1) if m else "unknown"
    d = sys.modules.get("diffusers")
    if d is not None and getattr(d, "__path__", None) == [pkg]:
        return pkg, version
    install_stubs()
    shim_torch()
    d = types.ModuleType("diffusers")
    d.__path__ = [pkg]
    d.__file__ = os.path.join(pkg, "__init__.py")
    d.__spec__ = importlib.machinery.ModuleSpec("diffusers", None, is_package=True)
    d.__spec__.submodule_search_locations = [pkg]
    d.__version__ = version
    sys.modules["diffusers"] = d
    STUBBED.append("diffusers (bare package: lazy __init__ skipped)")
    # diffusers.dependency_versions_check requires installed *distributions* of filelock, requests,
    # numpy (importlib.metadata) at import time; replaced by a no-op (it checks nothing used here)
    dvc = types.ModuleType("diffusers.dependency_versions_check")
    dvc.dep_version_check = lambda pkg, hint=None: None
    dvc.__spec__ = importlib.machinery.ModuleSpec(dvc.__name__, None)
    sys.modules[dvc.__name__] = dvc
    STUBBED.append(dvc.__name__ + " (no-op dep_version_check)")
    # diffusers.quantizers/__init__ imports every quantizer backend (torchao needs torch.float8_*
    # dtypes, torch >= 2.1); the model needs only the names. Stub package over the real directory,
    # so that quantizers.quantization_config (QuantizationMethod) still loads from the checkout.
    q = _install_stub("diffusers.quantizers", package=True)
    q.__path__ = [os.path.join(pkg, "quantizers")]
    q.__spec__.submodule_search_locations = q.__path__
    # schedulers/__init__ is a lazy module over every scheduler (torchsde, scipy checks);
    # models/unets/__init__ and models/transformers/__init__ import every model variant (and their
    # loaders, hooks, distributed code): bare packages over the real directories instead, so that
    # only the requested module's own chain is imported
    _bare_package("diffusers.schedulers", os.path.join(pkg, "schedulers"))
    importlib.import_module("diffusers.models")
    for sub in ("unets", "transformers"):
        _bare_package("diffusers.models." + sub, os.path.join(pkg, "models", sub))
    return pkg, version


def git_commit(pkg):
    try:
        out = subprocess.run(["git", "-C", pkg, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            return out.stdout.strip()
    except OSError:
        pass
    return None


def commit_of(src, pkg, explicit=None):
    """The diffusers commit: `explicit`, else git rev-parse in the checkout, else a DIFFUSERS_COMMIT
    file in `src` or next to the package; None if unknown."""
    if explicit:
        return explicit
    c = git_commit(pkg)
    if c:
        return c
    for p in (os.path.join(src, "DIFFUSERS_COMMIT"), os.path.join(os.path.dirname(pkg), "..", "DIFFUSERS_COMMIT")):
        if os.path.exists(p):
            return open(p).read().strip()
    return None
