"""Bit-exact reference values for the Java training schedules, linspace and quad, from the real libraries.

Writes sampler/src/test/resources/vectors/float32/float32_vectors.json.gz (read by
BetaScheduleTest, Float32MathTest and QuadpackTest in sampler/src/test/java/dev/sampler/engine/schedule/):

  "beta_schedules": diffusers' own DDPMScheduler (a source checkout, imported by
      tools/diffusers_src.py; nothing of diffusers is copied) built with from_config for
      beta_schedule x num_train_timesteps x rescale_betas_zero_snr: its float32 `betas` and
      `alphas_cumprod`.
  "torch_linspace": torch.linspace(start, end, n, dtype=torch.float32) for several (start, end, n).
  "cr_exp", "cr_log": float32 arguments and math.exp / math.log (glibc, float64) rounded once to
      float32: the correctly rounded float32 exp/log that the scheduler vectors are recorded with
      (tools/make_scheduler_vectors.py replaces torch's and numpy's SIMD exp/log by these).
  "scipy_quad": scipy.integrate.quad(f, a, b, epsrel=...)[0] for integrands built from IEEE
      operations only (so Java evaluates them to the same bits): QUADPACK's bisection and epsilon
      extrapolation paths, which the LMS coefficients reach only rarely. Stored as float64 values.

Every float32 value is stored as its IEEE-754 bit pattern (an unsigned 32-bit integer), so the
Java tests compare bits. The file is deterministic for a given torch build; torch's linspace
kernel is CPU-dependent (its AVX2 build is pinned here): regenerate only on a comparable x86-64 CPU and check that nothing changed.
(torch's and numpy's float32 exp/log are not recorded: by the lead's decision the Java schedulers
compute them correctly rounded instead of reproducing those SIMD kernels.)

Run from the repository root with Debian's python3 (torch 1.13, numpy 1.24, scipy 1.10):

  /usr/bin/python3 tools/make_float32_vectors.py /tmp/diffusers-src \
      --commit 58eb52c0803ea9af3abec60841c2a093bdf1f951
"""
import argparse
import gzip
import importlib
import json
import math
import random
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import scipy  # noqa: E402
from scipy import integrate  # noqa: E402

import diffusers_src  # noqa: E402

OUT = os.path.join(ROOT, "sampler", "src", "test", "resources", "vectors", "float32", "float32_vectors.json.gz")

BETAS = [
    ("linear", 0.0001, 0.02),
    ("linear", 0.00085, 0.012),
    ("scaled_linear", 0.00085, 0.012),
    ("scaled_linear", 0.0001, 0.02),
    ("squaredcos_cap_v2", None, None),
]
TRAIN_STEPS = [1, 2, 17, 33, 100, 1000]
LINSPACES = [(0.0001, 0.02, n) for n in (1, 2, 3, 15, 16, 17, 31, 32, 33, 47, 48, 49, 100, 1000)] + [
    (-3.0, 5.0, 33), (0.5, 0.1, 7), (1.0e-3, 7.0, 250), (-1.25, -2.5, 129), (2.0, 2.0, 20)]

# integrands with IEEE-exact operations only (Java's Math.sqrt, +, -, *, / give the same bits)
QUAD_FUNCTIONS = {
    "sqrt": lambda x: math.sqrt(x),
    "inv_sqrt": lambda x: 1.0 / math.sqrt(x),
    "kink": lambda x: abs(x - 1.0 / 3.0),
    "peak": lambda x: 1.0 / (1e-4 + (x - 0.3) * (x - 0.3)),
    "cubic": lambda x: ((x - 0.25) * (x - 0.5)) * (x - 0.75),
}
QUAD_CASES = [("sqrt", 0.0, 1.0), ("inv_sqrt", 0.0, 1.0), ("kink", 0.0, 1.0), ("peak", 0.0, 1.0),
              ("peak", 1.0, -2.0), ("cubic", 0.0, 1.0), ("cubic", 2.5, 0.125)]


def bits(a):
    """float32 values -> their bit patterns as Python ints."""
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    return [int(v) for v in a.view(np.uint32)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("diffusers_src", help="diffusers source checkout (repo root, its src/, or src/diffusers)")
    ap.add_argument("--commit", help="diffusers commit to record (default: git rev-parse, or DIFFUSERS_COMMIT)")
    ap.add_argument("--out", default=OUT)
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    pkg, version = diffusers_src.register(a.diffusers_src)
    commit = diffusers_src.commit_of(a.diffusers_src, pkg, a.commit)
    if commit is None:
        raise SystemExit("unknown diffusers commit: pass --commit")
    ddpm = importlib.import_module("diffusers.schedulers.scheduling_ddpm").DDPMScheduler

    schedules = []
    for name, start, end in BETAS:
        for n in TRAIN_STEPS:
            for rescale in (False, True):
                if rescale and n < 2:
                    continue  # one timestep: the rescale divides 0 by 0
                cfg = {"num_train_timesteps": n, "beta_schedule": name, "rescale_betas_zero_snr": rescale}
                if start is not None:
                    cfg.update(beta_start=start, beta_end=end)
                s = ddpm.from_config(dict(cfg, _class_name="DDPMScheduler"))
                assert s.betas.dtype == torch.float32 and s.alphas_cumprod.dtype == torch.float32
                schedules.append({"config": cfg, "betas": bits(s.betas.numpy()),
                                  "alphas_cumprod": bits(s.alphas_cumprod.numpy())})

    linspaces = [{"start": s, "end": e, "n": n, "values": bits(torch.linspace(s, e, n, dtype=torch.float32).numpy())}
                 for s, e, n in LINSPACES]

    rng = random.Random(20240531)
    exp_args = np.array([rng.uniform(-110.0, 90.0) if i % 4 == 0 else rng.uniform(-12.0, 3.0)
                         for i in range(2000)], dtype=np.float32)
    log_args = np.array([rng.uniform(0.5, 2.0) * 10.0 ** rng.randint(-40, 30) for i in range(2000)], dtype=np.float32)
    with np.errstate(over="ignore"):  # exp above float32's range rounds to inf, as intended
        cr_exp = np.array([math.exp(float(v)) for v in exp_args], dtype=np.float64).astype(np.float32)
    cr_log = np.array([math.log(float(v)) for v in log_args], dtype=np.float64).astype(np.float32)

    quads = []
    for name, a0, b0 in QUAD_CASES:
        for epsrel in (1e-4, 1.49e-8):
            quads.append({"f": name, "a": a0, "b": b0, "epsrel": epsrel,
                          "value": integrate.quad(QUAD_FUNCTIONS[name], a0, b0, epsrel=epsrel)[0]})

    doc = {
        "source": "tools/make_float32_vectors.py: diffusers %s %s (DDPMScheduler betas/alphas_cumprod), torch %s "
                  "(CPU capability %s), numpy %s, scipy %s; float32 values as IEEE-754 bit patterns"
                  % (commit, version, torch.__version__, torch.backends.cpu.get_cpu_capability()
                     if hasattr(torch.backends, "cpu") and hasattr(torch.backends.cpu, "get_cpu_capability")
                     else _capability(), np.__version__, scipy.__version__),
        "beta_schedules": schedules,
        "torch_linspace": linspaces,
        "cr_exp": {"args": bits(exp_args), "values": bits(cr_exp)},
        "cr_log": {"args": bits(log_args), "values": bits(cr_log)},
        "scipy_quad": quads,
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    raw = json.dumps(doc, separators=(",", ":")).encode()
    with open(a.out, "wb") as f:
        f.write(gzip.compress(raw, mtime=0))
    print("wrote %s (%d schedules, %d bytes gzipped)" % (a.out, len(schedules), os.path.getsize(a.out)))


def _capability():
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
