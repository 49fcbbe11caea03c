"""Write UNet forward reference vectors (for the engine's parity tests) as a safetensors file.

Tensors: "sample" f32 [N,3,H,W] (standard normal from --seed), "timestep" f32 [N],
"class_labels" i64 [N], "expected" f32 [N,3,H,W] (float32 forward of tools/unet.py).
__metadata__: source, torch version, model file SHA-256, config SHA-256, and the float32
reference's own error measured against a float64 forward of the same weights and inputs.

  /usr/bin/python3 tools/make_reference_vectors.py                      # models/demo, batch 4
  /usr/bin/python3 tools/make_reference_vectors.py --batch 1 \
      --out sampler/src/test/resources/vectors/unet_demo_forward_b1.safetensors
  /usr/bin/python3 tools/export.py --random-init 7 --out /tmp/rand7
  /usr/bin/python3 tools/make_reference_vectors.py --model-dir /tmp/rand7 --out .../unet_random7_forward.safetensors
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import torch  # noqa: E402

import safetensors_io  # noqa: E402
import unet  # noqa: E402

DEFAULT_OUT = os.path.join(ROOT, "sampler", "src", "test", "resources", "vectors", "unet_demo_forward.safetensors")


def default_timesteps(n):
    """Spread over [0, 999]; the middle entry gets +0.5 (non-integer); n=4 -> [0, 333, 666.5, 999]."""
    if n == 1:
        return [437.5]
    ts = [float(round(999 * i / (n - 1))) for i in range(n)]
    ts[n // 2] += 0.5
    return ts


def default_labels(n):
    """Last entry is the null class 9; the others cycle 0, 4, 8, 3, 7, ..."""
    if n == 1:
        return [3]
    return [(4 * i) % 9 for i in range(n - 1)] + [9]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models", "demo"))
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--timesteps", help="comma-separated floats (default: spread over [0,999])")
    ap.add_argument("--labels", help="comma-separated ints (default: includes the null class 9)")
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args(argv)
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    n = a.batch
    ts = [float(x) for x in a.timesteps.split(",")] if a.timesteps else default_timesteps(n)
    labels = [int(x) for x in a.labels.split(",")] if a.labels else default_labels(n)
    if len(ts) != n or len(labels) != n:
        raise SystemExit("need %d timesteps and labels" % n)

    unet.Attention.use_sdpa = False  # plain math attention (softmax in float32)
    model = unet.load_model_dir(a.model_dir)
    cfg = model.config
    g = torch.Generator().manual_seed(a.seed)
    sample = torch.randn((n, cfg["in_channels"], cfg.get("sample_size", 32), cfg.get("sample_size", 32)),
                         generator=g, dtype=torch.float32)
    timestep = torch.tensor(ts, dtype=torch.float32)
    class_labels = torch.tensor(labels, dtype=torch.int64)
    with torch.no_grad():
        expected = model(sample, timestep, class_labels).float()
        m64 = unet.load_model_dir(a.model_dir, dtype=torch.float64)
        exp64 = m64(sample.double(), timestep.double(), class_labels)
    diff = (expected.double() - exp64).abs()
    st_path = os.path.join(a.model_dir, "diffusion_pytorch_model.safetensors")
    meta = {
        "source": "tools/make_reference_vectors.py",
        "torch_version": torch.__version__,
        "model_dir": os.path.relpath(os.path.abspath(a.model_dir), ROOT),
        "model_sha256": safetensors_io.sha256_file(st_path),
        "config_sha256": safetensors_io.sha256_file(os.path.join(a.model_dir, "config.json")),
        "sample_seed": str(a.seed),
        "sample_generator": "torch.Generator().manual_seed(seed); torch.randn(shape, float32)",
        "timesteps": json.dumps(ts),
        "class_labels": json.dumps(labels),
        "attention": "math (softmax float32)",
        "f32_vs_f64_max_abs": "%.3e" % diff.max().item(),
        "f32_vs_f64_rms": "%.3e" % diff.pow(2).mean().sqrt().item(),
        "expected_max_abs": "%.4f" % expected.abs().max().item(),
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    safetensors_io.save_file({"sample": sample, "timestep": timestep, "class_labels": class_labels,
                              "expected": expected.contiguous()}, a.out, meta)
    print("wrote %s: N=%d timesteps %s labels %s; f32 vs f64 max abs %s rms %s"
          % (a.out, n, ts, labels, meta["f32_vs_f64_max_abs"], meta["f32_vs_f64_rms"]))


if __name__ == "__main__":
    main()
