"""Known answers for the float32 kernels the Java multistep schedulers reproduce bit for bit
(sampler/src/main/java/dev/sampler/engine/schedule/Float32Math.java and SmallLuSolve.java), taken
from the libraries diffusers runs on here: Debian's torch 1.13 (its CPU log/exp/expm1 are
libsleef 3.5's 1-ulp functions; linspace; cumprod), numpy 1.24 (float32 np.log, its own SIMD loop)
and torch.linalg.solve over OpenBLAS 0.3.21.

Writes sampler/src/test/resources/vectors/float32/kernels.json.gz (read by Float32MathTest and
SmallLuSolveTest):

  {"source": ..., "log": {"x": [...], "torch": [...], "numpy": [...]},
   "exp": {"x": [...], "torch": [...]}, "expm1": {"x": [...], "torch": [...]},
   "linspace": [{"start", "end", "steps", "values"}], "cumprod": [{"x", "values"}],
   "solve": [{"a": [[...]], "b": [...], "strided": bool, "x": [...]}]}

Every float32 value is written as the float64 number it equals (Python repr; NaN and Infinity as
Python's json writes them). The inputs are seeded random values over every binade plus the
ranges the schedulers use and the special values; torch's functions are applied to 0-dim tensors
(the schedulers' case), which run the same SLEEF function as larger tensors.

  /usr/bin/python3 tools/make_kernel_vectors.py
"""
import gzip
import io
import json
import os

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "sampler", "src", "test", "resources", "vectors", "float32", "kernels.json.gz")


def f32list(a):
    return [float(v) for v in np.asarray(a, dtype=np.float32).tolist()]


def pos_floats(rng, n, lo_exp, hi_exp):
    e = rng.integers(lo_exp + 127, hi_exp + 127, n).astype(np.uint32)
    m = rng.integers(0, 1 << 23, n).astype(np.uint32)
    return ((e << 23) | m).view(np.float32)


def zero_d(fn, xs):
    return [float(fn(torch.tensor(float(v), dtype=torch.float32)).item()) for v in xs]


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(20240607)
    special = np.array([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan, -1.0, np.finfo(np.float32).tiny, 1e-45,
                        np.finfo(np.float32).max], dtype=np.float32)
    log_x = np.concatenate([special, pos_floats(rng, 1500, -126, 128), rng.uniform(0, 1, 1500).astype(np.float32),
                            rng.integers(1, 1 << 23, 100).astype(np.uint32).view(np.float32)])
    exp_x = np.concatenate([special, np.array([-104.0, -103.99, 100.0, 100.01, 88.72283172607421875,
                                               -16.635532333438687426013570], dtype=np.float32),
                            rng.uniform(-110, 105, 1000).astype(np.float32), rng.uniform(-30, 0, 1500).astype(np.float32),
                            -pos_floats(rng, 300, -40, 5), pos_floats(rng, 300, -40, 5)])
    with np.errstate(all="ignore"):
        numpy_log = np.log(log_x)
    doc = {
        "source": "tools/make_kernel_vectors.py: torch %s (CPU capability %s, libsleef), numpy %s, "
                  "torch.linalg.solve float32 over the system LAPACK (OpenBLAS)"
                  % (torch.__version__, torch.backends.cpu.get_cpu_capability()
                     if hasattr(torch.backends, "cpu") else "AVX2", np.__version__),
        "log": {"x": f32list(log_x), "torch": zero_d(torch.log, log_x), "numpy": f32list(numpy_log)},
        "exp": {"x": f32list(exp_x), "torch": zero_d(torch.exp, exp_x)},
        "expm1": {"x": f32list(exp_x), "torch": zero_d(torch.expm1, exp_x)},
        "linspace": [],
        "cumprod": [],
        "solve": [],
    }
    for start, end, steps in [(0.0001, 0.02, 1000), (0.00085 ** 0.5, 0.012 ** 0.5, 1000), (0.0001, 0.02, 100),
                              (0.0001, 0.02, 2), (0.0001, 0.02, 15), (0.0001, 0.02, 16), (0.0001, 0.02, 33),
                              (0.0015, 0.0195, 2000), (1e-5, 0.3, 37), (0.0, 999.0, 1000)]:
        v = torch.linspace(start, end, steps, dtype=torch.float32)
        doc["linspace"].append({"start": start, "end": end, "steps": steps, "values": f32list(v.numpy())})
    for betas in (torch.linspace(0.0001, 0.02, 1000, dtype=torch.float32),
                  torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, 1000, dtype=torch.float32) ** 2):
        a = 1.0 - betas
        doc["cumprod"].append({"x": f32list(a.numpy()), "values": f32list(torch.cumprod(a, dim=0).numpy())})
    # UniPC's systems: R = [r^0; r^1; r^2] of rks = [r1, (r2,) 1] with negative r_k
    for _ in range(120):
        r1 = np.float32(-rng.uniform(0.2, 3.0))
        r2 = np.float32(-rng.uniform(0.2, 6.0))
        b = torch.tensor(rng.uniform(-1, 1, 3).astype(np.float32))
        rks2 = torch.stack([torch.tensor(r1), torch.ones(())])
        r_2 = torch.stack([torch.pow(rks2, 0), torch.pow(rks2, 1)])
        rks3 = torch.stack([torch.tensor(r1), torch.tensor(r2), torch.ones(())])
        r_3 = torch.stack([torch.pow(rks3, 0), torch.pow(rks3, 1), torch.pow(rks3, 2)])
        for a_, b_, strided in ((r_2, b[:2], False), (r_3, b, False), (r_3[:-1, :-1], b[:2], True)):
            x = torch.linalg.solve(a_, b_)
            doc["solve"].append({"a": [f32list(row) for row in a_.numpy()], "b": f32list(b_.numpy()),
                                 "strided": strided, "x": f32list(x.numpy())})
    raw = json.dumps(doc, separators=(",", ":"), allow_nan=True).encode()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    with open(OUT, "wb") as f:
        f.write(buf.getvalue())
    cr_log = np.array([np.float32(np.log(np.float64(v))) if v > 0 else np.nan for v in log_x])
    print("%s: %d log, %d exp/expm1 inputs, %d linspace, %d cumprod, %d solves; %d bytes"
          % (os.path.relpath(OUT, ROOT), len(log_x), len(exp_x), len(doc["linspace"]), len(doc["cumprod"]),
             len(doc["solve"]), len(buf.getvalue())))
    print("  torch log differs from the correctly rounded value for %d inputs, numpy log for %d"
          % (int(np.sum(np.array(doc["log"]["torch"], dtype=np.float32)[log_x > 0] != cr_log[log_x > 0])),
             int(np.sum(numpy_log[log_x > 0] != cr_log[log_x > 0]))))


if __name__ == "__main__":
    main()
