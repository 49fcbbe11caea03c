"""Known answers for the float32 kernels the Java multistep schedulers reproduce bit for bit
(sampler/src/main/java/dev/sampler/engine/schedule/Float32Math.java and SmallLuSolve.java), taken
from the libraries diffusers runs on here: Debian's torch 1.13 (float32 linspace and cumprod) and
torch.linalg.solve over OpenBLAS 0.3.21. (float32 log/exp/expm1 are correctly rounded in Java by
the project's decision, not torch's SLEEF kernels: nothing to record for them.)

Writes sampler/src/test/resources/vectors/float32/kernels.json.gz (read by Float32MathTest and
SmallLuSolveTest):

  {"source": ..., "linspace": [{"start", "end", "steps", "values"}], "cumprod": [{"x", "values"}],
   "solve": [{"a": [[...]], "b": [...], "strided": bool, "x": [...]}]}

Every float32 value is written as the float64 number it equals (Python repr).

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


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(20240607)
    doc = {
        "source": "tools/make_kernel_vectors.py: torch %s float32 linspace/cumprod, torch.linalg.solve "
                  "float32 over the system LAPACK (OpenBLAS)" % torch.__version__,
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
    print("%s: %d linspace, %d cumprod, %d solves; %d bytes"
          % (os.path.relpath(OUT, ROOT), len(doc["linspace"]), len(doc["cumprod"]), len(doc["solve"]),
             len(buf.getvalue())))

if __name__ == "__main__":
    main()
