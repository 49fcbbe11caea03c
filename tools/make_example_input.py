"""Write the demo model's example forward input and PyTorch's output for it (used by `bin/sampler demo`).

models/demo/example-input.safetensors:    "sample" F32 [9,3,32,32], "timestep" F32 [9], "class_labels" I64 [9]
    (exactly these tensors: the Java CLI rejects unknown tensor names): nine data set images, one per
    class 0..8 (demo_data.make_batch(--seed, 0, 9, labels=0..8)), noised to --t with the training
    schedule, x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps, eps = torch.randn from
    torch.Generator().manual_seed(--noise-seed).
models/demo/example-expected.safetensors: "sample" F32 [9,3,32,32], the float32 forward of tools/unet.py
    (math attention, softmax in float32) on that input; __metadata__ names its source, the model's
    SHA-256, and how well the one-step x0 estimate reads back (checker classes).

  /usr/bin/python3 tools/make_example_input.py            # models/demo, t = 500
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import torch  # noqa: E402

import checker  # noqa: E402
import demo_data  # noqa: E402
import diffusion  # noqa: E402
import safetensors_io  # noqa: E402
import unet  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models", "demo"))
    ap.add_argument("--out-dir", help="where to write the two files (default: --model-dir)")
    ap.add_argument("--seed", type=int, default=2024, help="data set stream of the nine images")
    ap.add_argument("--noise-seed", type=int, default=500)
    ap.add_argument("--t", type=int, default=500, help="integer training timestep 0..999")
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    out_dir = a.out_dir or a.model_dir
    if not 0 <= a.t < diffusion.NUM_TRAIN_TIMESTEPS:
        raise SystemExit("--t must be in [0, 999]")

    labels = torch.arange(9, dtype=torch.int64)
    x0, _ = demo_data.make_batch(a.seed, 0, 9, "cpu", labels)
    acp = diffusion.alphas_cumprod()
    at = acp[a.t]
    eps = torch.randn(x0.shape, generator=torch.Generator().manual_seed(a.noise_seed), dtype=torch.float32)
    sample = (at.sqrt() * x0 + (1 - at).sqrt() * eps).contiguous()
    timestep = torch.full((9,), float(a.t), dtype=torch.float32)

    unet.Attention.use_sdpa = False
    model = unet.load_model_dir(a.model_dir)
    with torch.no_grad():
        out = model(sample, timestep, labels).float().contiguous()
    with open(os.path.join(a.model_dir, "scheduler_config.json")) as f:
        ptype = json.load(f).get("prediction_type", "epsilon")
    if ptype == "v_prediction":
        x0_hat = at.sqrt() * sample - (1 - at).sqrt() * out
    else:
        x0_hat = (sample - (1 - at).sqrt() * out) / at.sqrt()
    read_back = checker.check(x0_hat.clamp(-1, 1)).tolist()
    x0_mse = (x0_hat - x0).pow(2).mean().item()

    model_file = os.path.join(a.model_dir, "diffusion_pytorch_model.safetensors")
    rel_dir = os.path.relpath(os.path.abspath(a.model_dir), ROOT)
    common = {
        "source": "tools/make_example_input.py",
        "model_dir": rel_dir,
        "model_sha256": safetensors_io.sha256_file(model_file),
        "data": "demo_data.make_batch(seed=%d, index=0, n=9, labels=0..8)" % a.seed,
        "noise": "torch.randn([9,3,32,32], generator=torch.Generator().manual_seed(%d))" % a.noise_seed,
        "timestep": str(a.t),
        "alphas_cumprod_t": repr(at.item()),
        "schedule": "squaredcos_cap_v2, 1000 steps (tools/diffusion.py)",
    }
    os.makedirs(out_dir, exist_ok=True)
    in_path = os.path.join(out_dir, "example-input.safetensors")
    exp_path = os.path.join(out_dir, "example-expected.safetensors")
    safetensors_io.save_file({"sample": sample, "timestep": timestep, "class_labels": labels}, in_path, common)
    meta = dict(common)
    meta.update({
        "producer": "PyTorch %s, tools/unet.py float32, math attention (softmax float32)" % torch.__version__,
        "input_file": os.path.basename(in_path),
        "input_sha256": safetensors_io.sha256_file(in_path),
        "prediction_type": ptype,
        "x0_estimate_mse": "%.5f" % x0_mse,
        "x0_estimate_checker_classes": json.dumps(read_back),
        "expected_max_abs": "%.4f" % out.abs().max().item(),
    })
    safetensors_io.save_file({"sample": out}, exp_path, meta)
    print("wrote %s and %s: t=%d, one-step x0 estimate mse %.5f, checker reads %s (labels 0..8)"
          % (in_path, exp_path, a.t, x0_mse, read_back))


if __name__ == "__main__":
    main()
