"""Diffusers-compatibility proof: diffusers' own UNet2DModel vs tools/unet.py on the shipped weights.

Imports the real `diffusers.models.unets.unet_2d.UNet2DModel` from a diffusers *source checkout*
(nothing of diffusers is copied into this repository), builds it with `UNet2DModel.from_config`
from models/demo/config.json, loads diffusion_pytorch_model.safetensors (read with
tools/safetensors_io.py) with `load_state_dict(strict=True)`, runs fixed inputs through it and
through tools/unet.py, and prints the max abs and relative L2 differences.

Only torch (Debian's 1.13 is enough), numpy and the standard library are needed: third-party
packages that diffusers' import chain names but that this check never uses (huggingface_hub,
safetensors, filelock, regex, tqdm, ...) are replaced by stub modules in sys.modules, and
`packaging.version` by a minimal implementation. The diffusers package __init__ (a lazy module
that checks installed dependency versions) is bypassed: `diffusers` is registered as a bare
package pointing at the checkout, and its submodules import normally from there.

  git --git-dir=<diffusers bare repo> archive HEAD src | tar -x -C /tmp/diffusers-src
  /usr/bin/python3 tools/diffusers_parity.py /tmp/diffusers-src          # or .../src, or .../src/diffusers
  /usr/bin/python3 tools/diffusers_parity.py /tmp/diffusers-src --scheduler   # + DDIMScheduler step parity
"""
import argparse
import importlib
import importlib.machinery
import json
import os
import re
import subprocess
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import torch  # noqa: E402

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


def import_diffusers(src):
    """Register `diffusers` as a bare package at the checkout (skips its lazy __init__) and import
    UNet2DModel from its module file."""
    cand = [src, os.path.join(src, "diffusers"), os.path.join(src, "src", "diffusers")]
    pkg = next((c for c in cand if os.path.isfile(os.path.join(c, "models", "unets", "unet_2d.py"))), None)
    if pkg is None:
        raise SystemExit("no diffusers source under %s (looked for src/diffusers/models/unets/unet_2d.py)" % src)
    pkg = os.path.abspath(pkg)
    init_text = open(os.path.join(pkg, "__init__.py")).read()
    m = re.search(r'^__version__\s*=\s*"([^"]+)"', init_text, re.M)
    version = m.group(1) if m else "unknown"
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
    # numpy (importlib.metadata) at import time; replaced by a no-op (it checks nothing the model uses)
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
    # models/unets/__init__ and models/transformers/__init__ import every model variant (and their
    # loaders, hooks, distributed code); register them as bare packages over the real directories
    # so that only unet_2d's own chain is imported
    importlib.import_module("diffusers.models")
    for sub in ("unets", "transformers"):
        u = types.ModuleType("diffusers.models." + sub)
        u.__path__ = [os.path.join(pkg, "models", sub)]
        u.__spec__ = importlib.machinery.ModuleSpec(u.__name__, None, is_package=True)
        u.__spec__.submodule_search_locations = u.__path__
        sys.modules[u.__name__] = u
        STUBBED.append(u.__name__ + " (bare package: __init__ skipped)")
    mod = importlib.import_module("diffusers.models.unets.unet_2d")
    return mod.UNet2DModel, pkg, version


def git_commit(pkg):
    try:
        out = subprocess.run(["git", "-C", pkg, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0:
            return out.stdout.strip()
    except OSError:
        pass
    return None


def compare(a, b):
    d = (a.double() - b.double())
    return d.abs().max().item(), (d.norm() / b.double().norm()).item()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("diffusers_src", help="diffusers source checkout (repo root, its src/, or src/diffusers)")
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models", "demo"))
    ap.add_argument("--commit", help="diffusers commit hash to report (default: git rev-parse in the checkout, "
                                     "or the DIFFUSERS_COMMIT file next to it)")
    ap.add_argument("--batch", type=int, default=6)
    ap.add_argument("--seed", type=int, default=4321)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--scheduler", action="store_true",
                    help="also compare tools/diffusion.py's DDIM (v-prediction, CFG) with diffusers' DDIMScheduler")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)

    DUNet, pkg, version = import_diffusers(a.diffusers_src)
    commit = a.commit or git_commit(pkg)
    if commit is None:
        for p in (os.path.join(a.diffusers_src, "DIFFUSERS_COMMIT"), os.path.join(os.path.dirname(pkg), "..", "DIFFUSERS_COMMIT")):
            if os.path.exists(p):
                commit = open(p).read().strip()
                break
    import safetensors_io
    import unet

    with open(os.path.join(a.model_dir, "config.json")) as f:
        config = json.load(f)
    tensors, meta = safetensors_io.load_file(os.path.join(a.model_dir, "diffusion_pytorch_model.safetensors"))
    dmodel = DUNet.from_config(config)
    missing_unexpected = dmodel.load_state_dict(tensors, strict=True)
    dmodel.eval()
    ours = unet.load_model_dir(a.model_dir)
    nd = sum(p.numel() for p in dmodel.parameters())
    no = sum(p.numel() for p in ours.parameters())

    g = torch.Generator().manual_seed(a.seed)
    n = a.batch
    sample = torch.randn((n, config["in_channels"], config["sample_size"], config["sample_size"]), generator=g)
    timestep = torch.tensor([0.0, 1.0, 250.0, 500.5, 981.0, 999.0][:n] + [float(i * 97 % 1000) for i in range(max(0, n - 6))])
    labels = torch.tensor([(i * 4) % 10 for i in range(n)], dtype=torch.int64)
    labels[-1] = 9
    print("diffusers %s at %s (commit %s)" % (version, pkg, commit or "unknown"))
    print("stub modules: %s" % (", ".join(STUBBED) or "none"))
    print("torch %s; added stand-ins: %s" % (torch.__version__, ", ".join(TORCH_SHIMS) or "none"))
    print("model dir %s: %d tensors, diffusers params %d, tools/unet.py params %d, load_state_dict(strict=True): %s"
          % (os.path.relpath(a.model_dir, ROOT), len(tensors), nd, no, missing_unexpected))
    print("inputs: batch %d, seed %d, timesteps %s, class_labels %s" % (n, a.seed, timestep.tolist(), labels.tolist()))
    results = {}
    with torch.no_grad():
        ref = dmodel(sample, timestep, class_labels=labels).sample
        for name, sdpa in (("sdpa", True), ("math", False)):
            unet.Attention.use_sdpa = sdpa
            got = ours(sample, timestep, labels)
            results["f32_" + name] = compare(got, ref)
        # integer timesteps as the sampler passes them, and a scalar timestep
        ti = timestep.round().long()
        results["f32_int_t"] = compare(ours(sample, ti, labels), dmodel(sample, ti, class_labels=labels).sample)
        results["f32_scalar_t"] = compare(ours(sample, torch.tensor(500), labels),
                                          dmodel(sample, torch.tensor(500), class_labels=labels).sample)
        dmodel64 = DUNet.from_config(config)
        dmodel64.load_state_dict(tensors, strict=True)
        dmodel64 = dmodel64.double().eval()
        ours64 = unet.load_model_dir(a.model_dir, dtype=torch.float64)
        ref64 = dmodel64(sample.double(), timestep.double(), class_labels=labels).sample
        results["f64"] = compare(ours64(sample.double(), timestep.double(), labels), ref64)
        # diffusers computes the sinusoidal timestep embedding in float32 even for a float64 model;
        # with the same float32 embedding the float64 forwards agree to rounding
        orig = unet.timestep_embedding
        unet.timestep_embedding = lambda t, dim, flip, shift, dtype=torch.float32: orig(t, dim, flip, shift, torch.float32)
        try:
            results["f64_temb_f32"] = compare(ours64(sample.double(), timestep.double(), labels), ref64)
        finally:
            unet.timestep_embedding = orig
        info = {"diffusers_f32_vs_f64": compare(ref, ref64)}
    print("output |max| %.4f" % ref.abs().max().item())
    for k, (mx, rel) in results.items():
        print("tools/unet.py vs diffusers %-13s max abs diff %.3e   relative L2 %.3e" % (k, mx, rel))
    for k, (mx, rel) in info.items():
        print("(for scale) %-28s max abs diff %.3e   relative L2 %.3e" % (k, mx, rel))

    if a.scheduler:
        scheduler_parity(ours, config, n)
    worst = max(rel for _, rel in results.values())
    if worst > 1e-5:
        raise SystemExit("FAIL: relative L2 %.3e > 1e-5" % worst)
    print("OK: tools/unet.py matches diffusers' UNet2DModel (worst relative L2 %.3e)" % worst)


def scheduler_parity(model, config, n):
    """DDIM with CFG 3: tools/diffusion.ddim_sample vs diffusers' DDIMScheduler.from_config(the shipped
    scheduler_config.json), then with clip_sample on (use_clipped_model_output False and True)."""
    import diffusion
    sched_mod = importlib.import_module("diffusers.schedulers.scheduling_ddim")
    with open(os.path.join(ROOT, "models", "demo", "scheduler_config.json")) as f:
        sc = json.load(f)
    sc.pop("variance_type", None)  # a DDPMScheduler key, ignored (with a warning) by DDIMScheduler
    g = torch.Generator().manual_seed(7)
    noise = torch.randn((3, 3, 32, 32), generator=g)
    labels = torch.tensor([0, 4, 8])
    lab2 = torch.cat([labels, torch.full_like(labels, 9)])
    variants = [(50, sc["clip_sample"], False), (25, True, False), (25, True, True)]
    for steps, clip, clipped_eps in variants:
        cfg = dict(sc, clip_sample=clip)
        sched = sched_mod.DDIMScheduler.from_config(cfg)
        sched.set_timesteps(steps)
        ours_ts = diffusion.ddim_timesteps(steps)
        with torch.no_grad():
            mine = diffusion.ddim_sample(model, labels, noise, num_steps=steps, guidance=3.0, clip_sample=clip,
                                         use_clipped_model_output=clipped_eps)
            x = noise.clone()
            for t in sched.timesteps:
                o = model(torch.cat([x, x]), t.expand(6), lab2)
                out = o[3:] + 3.0 * (o[:3] - o[3:])
                x = sched.step(out, t, x, eta=0.0, use_clipped_model_output=clipped_eps).prev_sample
        same_ts = sched.timesteps.tolist() == ours_ts.tolist()
        mx, rel = compare(mine, x)
        print("scheduler: DDIM-%d CFG 3 clip_sample=%s use_clipped_model_output=%s: timesteps %s (%d..%d), "
              "3 samples max abs diff %.3e, relative L2 %.3e"
              % (steps, clip, clipped_eps, "equal" if same_ts else "DIFFER", ours_ts[0], ours_ts[-1], mx, rel))


if __name__ == "__main__":
    main()
