"""Diffusers-compatibility proof: diffusers' own UNet2DModel vs tools/unet.py on the shipped weights.

Imports the real `diffusers.models.unets.unet_2d.UNet2DModel` from a diffusers *source checkout*
(nothing of diffusers is copied into this repository), builds it with `UNet2DModel.from_config`
from models/demo/config.json, loads diffusion_pytorch_model.safetensors (read with
tools/safetensors_io.py) with `load_state_dict(strict=True)`, runs fixed inputs through it and
through tools/unet.py, and prints the max abs and relative L2 differences.

Only torch (Debian's 1.13 is enough), numpy and the standard library are needed: the diffusers
import machinery (stub modules for its hub dependencies, a bare `diffusers` package over the
checkout) is tools/diffusers_src.py, shared with tools/make_scheduler_vectors.py.

  git --git-dir=<diffusers bare repo> archive HEAD src | tar -x -C /tmp/diffusers-src
  /usr/bin/python3 tools/diffusers_parity.py /tmp/diffusers-src          # or .../src, or .../src/diffusers
  /usr/bin/python3 tools/diffusers_parity.py /tmp/diffusers-src --scheduler   # + DDIMScheduler step parity
"""
import argparse
import importlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import torch  # noqa: E402

import diffusers_src  # noqa: E402
from diffusers_src import STUBBED, TORCH_SHIMS  # noqa: E402


def import_diffusers(src):
    """Register `diffusers` as a bare package at the checkout (tools/diffusers_src.py) and import
    UNet2DModel from its module file."""
    pkg, version = diffusers_src.register(src)
    if not os.path.isfile(os.path.join(pkg, "models", "unets", "unet_2d.py")):
        raise SystemExit("no diffusers UNet2DModel under %s (looked for models/unets/unet_2d.py)" % pkg)
    mod = importlib.import_module("diffusers.models.unets.unet_2d")
    return mod.UNet2DModel, pkg, version


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
    commit = diffusers_src.commit_of(a.diffusers_src, pkg, a.commit)
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
