"""Cheap CPU diagnostics of a trained demo model (written for gpu-run1; see tools/README.md, "Training notes").

Sub-commands (all single-threaded by default, few images):
  x0      what the model predicts for x0 from pure noise at high t (cond / uncond), compared with
          the optimal prediction at snr -> 0, the class-mean image E[x0 | class]
  loss    v-MSE and x0-MSE per timestep bucket on real noised data (conditional labels), next to
          the x0-MSE of the trivial class-mean predictor
  sample  fidelity of a few samples (DDIM with eta, DDPM) for one sampler setting;
          --start-t T starts from real images noised to T (SDEdit style) instead of pure noise
          (separates the high-noise regime from the rest)

  nice -n 10 /usr/bin/python3 tools/diagnose.py x0 --ckpt tools/checkpoints/gpu-run1/ckpt_model.pt
  nice -n 10 /usr/bin/python3 tools/diagnose.py loss --ckpt ... --weights model
  nice -n 10 /usr/bin/python3 tools/diagnose.py sample --ckpt ... --per-class 2 --steps 50 --guidance 1
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import checker  # noqa: E402
import demo_data  # noqa: E402
import diffusion  # noqa: E402
import pngio  # noqa: E402
import unet  # noqa: E402


def load(a):
    if a.ckpt:
        try:
            st = torch.load(a.ckpt, map_location="cpu", weights_only=False)
        except TypeError:
            st = torch.load(a.ckpt, map_location="cpu")
        m = unet.UNet2DModel(st["config"])
        m.load_state_dict(st[a.weights])
        return m.eval()
    return unet.load_model_dir(a.model_dir)


def class_means(n_per_class=512, seed=999):
    """E[x0 | class] estimated from n_per_class generated images per class: [9,3,32,32]."""
    out = []
    for c in range(9):
        x, _ = demo_data.make_batch(seed, c, n_per_class, "cpu", torch.full((n_per_class,), c))
        out.append(x.mean(0))
    return torch.stack(out)


def v_to_x0(acp, t, x, v):
    a = acp[t].view(-1, 1, 1, 1)
    return a.sqrt() * x - (1 - a).sqrt() * v


@torch.no_grad()
def cmd_x0(a, model):
    acp = diffusion.alphas_cumprod()
    mu = class_means()
    g = torch.Generator().manual_seed(a.seed)
    noise = torch.randn((9, 3, 32, 32), generator=g)
    labels = torch.arange(9)
    res = {}
    grids = []
    for t in a.t:
        tt = torch.full((9,), t, dtype=torch.int64)
        xc = v_to_x0(acp, tt, noise, model(noise, tt, labels))
        xu = v_to_x0(acp, tt, noise, model(noise, tt, torch.full((9,), 9)))
        xg = v_to_x0(acp, tt, noise, model(noise, tt, torch.full((9,), 9)) + 3 * (model(noise, tt, labels)
                                                                                 - model(noise, tt, torch.full((9,), 9))))
        row = {}
        for name, x0 in (("cond", xc), ("uncond", xu), ("cfg3", xg)):
            row[name] = {
                "mse_vs_class_mean": round((x0 - mu).pow(2).mean().item(), 4),
                "mean": round(x0.mean().item(), 3),
                "min": round(x0.min().item(), 2), "max": round(x0.max().item(), 2),
                "frac_bright(max ch > 0)": round((x0.max(1).values > 0).double().mean().item(), 3),
            }
        res[t] = row
        grids += [xc, xg]
        print("t=%d" % t, json.dumps(row))
    print("class-mean image: mean %.3f, frac_bright %.3f, mse(0) of predicting the class mean itself"
          % (mu.mean().item(), (mu.max(1).values > 0).double().mean().item()))
    print("mse of predicting the unconditional mean instead of the class mean: %.4f"
          % (mu - mu.mean(0, keepdim=True)).pow(2).mean().item())
    if a.out:
        pngio.save_grid(a.out, torch.cat([mu] + grids), ncol=9, scale=3)
        print("grid rows: class means, then per t: cond x0, cfg3 x0 ->", a.out)


@torch.no_grad()
def cmd_loss(a, model):
    acp = diffusion.alphas_cumprod()
    mu = class_means()
    snr = acp.double() / (1 - acp.double())
    nb = len(a.at) if a.at else a.buckets
    width = diffusion.NUM_TRAIN_TIMESTEPS // nb
    print("bucket      w(minsnr5)  v-MSE   x0-MSE  x0-MSE(class mean)  weighted")
    rows = []
    for b in range(nb):
        x0, labels = demo_data.make_batch(a.seed, 1000 + b, a.n, "cpu")
        g = torch.Generator().manual_seed(a.seed * 1000 + b)
        if a.at:
            t = torch.full((a.n,), a.at[b], dtype=torch.int64)
            torch.randint(0, 2, (a.n,), generator=g)
        else:
            t = b * width + torch.randint(0, width, (a.n,), generator=g)
        eps = torch.randn(x0.shape, generator=g)
        sa = acp[t].sqrt().view(-1, 1, 1, 1)
        s1 = (1 - acp[t]).sqrt().view(-1, 1, 1, 1)
        xt = sa * x0 + s1 * eps
        v = sa * eps - s1 * x0
        out = model(xt, t, labels)
        vm = (out - v).pow(2).mean((1, 2, 3))
        x0p = sa * xt - s1 * out
        xm = (x0p - x0).pow(2).mean((1, 2, 3))
        base = (mu[labels] - x0).pow(2).mean((1, 2, 3))
        w = (torch.clamp(snr[t], max=5) / (snr[t] + 1)).float()
        lo, hi = (a.at[b], a.at[b]) if a.at else (b * width, (b + 1) * width - 1)
        r = (lo, hi, w.mean().item(), vm.mean().item(), xm.mean().item(),
             base.mean().item(), (vm * w).mean().item())
        rows.append(r)
        print("[%3d,%3d]  %.4f     %.4f  %.4f  %.4f              %.5f" % r)
    return rows


def make_sampler_ts(steps, start_t=None):
    ratio = diffusion.NUM_TRAIN_TIMESTEPS // steps
    ts = diffusion.ddim_timesteps(steps).tolist()
    if start_t is not None:
        ts = [t for t in ts if t <= start_t]
    return ts, ratio


@torch.no_grad()
def sample(model, labels, x, ts, ratio, guidance, eta=0.0, clip=True, gen=None, ddpm=False, interval=None,
           clipped_eps=False):
    """DDIM (eta) on the leading-spaced timesteps ts, or DDPM (diffusers DDPMScheduler, fixed_small).
    interval (lo, hi): guidance only for lo <= t <= hi, conditional (g = 1) elsewhere.
    clipped_eps: re-derive eps from the clipped x0 (diffusers DDIMScheduler.step(use_clipped_model_output=True))."""
    acp = diffusion.alphas_cumprod()
    final = acp[0]
    n = x.shape[0]
    lab2 = torch.cat([labels, torch.full_like(labels, 9)])
    g_all = guidance
    for t in ts:
        guidance = g_all if interval is None or interval[0] <= t <= interval[1] else 1.0
        if guidance == 1:
            out = model(x, torch.full((n,), t, dtype=torch.int64), labels)
        else:
            o = model(torch.cat([x, x]), torch.full((2 * n,), t, dtype=torch.int64), lab2)
            c, u = o[:n], o[n:]
            out = u + guidance * (c - u)
        prev = t - ratio
        a_t = acp[t]
        a_prev = acp[prev] if prev >= 0 else (torch.tensor(1.0) if ddpm else final)
        b_t = 1 - a_t
        x0 = a_t.sqrt() * x - b_t.sqrt() * out
        eps = a_t.sqrt() * out + b_t.sqrt() * x
        if clip:
            x0 = x0.clamp(-1, 1)
            if clipped_eps:
                eps = (x - a_t.sqrt() * x0) / b_t.sqrt()
        if ddpm:
            cur_a = a_t / a_prev
            cur_b = 1 - cur_a
            mean = (a_prev.sqrt() * cur_b / b_t) * x0 + (cur_a.sqrt() * (1 - a_prev) / b_t) * x
            var = ((1 - a_prev) / b_t * cur_b).clamp(min=1e-20)
            x = mean + (var.sqrt() * torch.randn(x.shape, generator=gen) if t > 0 else 0)
        else:
            var = (1 - a_prev) / b_t * (1 - a_t / a_prev)
            sigma = eta * var.sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev - sigma ** 2).sqrt() * eps
            if eta > 0:
                x = x + sigma * torch.randn(x.shape, generator=gen)
    return x


def cmd_sample(a, model):
    labels = torch.arange(9).repeat_interleave(a.per_class)
    g = torch.Generator().manual_seed(a.seed)
    noise = torch.randn((labels.numel(), 3, 32, 32), generator=g)
    acp = diffusion.alphas_cumprod()
    ts, ratio = make_sampler_ts(a.steps, a.start_t)
    x = noise
    if a.start_t is not None:
        x0, _ = demo_data.make_batch(a.seed, 0, labels.numel(), "cpu", labels)
        t0 = ts[0]
        x = acp[t0].sqrt() * x0 + (1 - acp[t0]).sqrt() * noise
    t1 = time.time()
    imgs = sample(model, labels, x, ts, ratio, a.guidance, eta=a.eta, clip=not a.no_clip, gen=g, ddpm=a.ddpm,
                  interval=tuple(a.guidance_interval) if a.guidance_interval else None, clipped_eps=a.clipped_eps)
    d = checker.check_details(imgs)
    pred = d["pred"]
    per = [(pred[labels == c] == c).double().mean().item() for c in range(9)]
    fid = (pred == labels).double().mean().item()
    cover = (imgs.max(1).values > 0).double().mean().item()
    print(json.dumps({"setting": a.tag or "", "fidelity": round(fid, 3), "per_class": [round(p, 2) for p in per],
                      "frac_bright_pixels": round(cover, 3), "steps": len(ts), "seconds": round(time.time() - t1, 1),
                      "pred": pred.tolist()}))
    if a.out:
        pngio.save_grid(a.out, imgs, ncol=max(a.per_class, 1) if a.per_class > 1 else 9, scale=3)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("x0", "loss", "sample"))
    ap.add_argument("--ckpt", help="train.py checkpoint (ckpt_model.pt / ckpt_latest.pt)")
    ap.add_argument("--weights", choices=("ema", "model"), default="ema")
    ap.add_argument("--model-dir", default=os.path.join(os.path.dirname(HERE), "models", "demo"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--out", help="PNG grid")
    ap.add_argument("--t", type=int, nargs="+", default=[999, 981, 901, 801, 601])
    ap.add_argument("--buckets", type=int, default=10)
    ap.add_argument("--at", type=int, nargs="+", help="loss: these single timesteps instead of buckets")
    ap.add_argument("--n", type=int, default=32, help="images per loss bucket")
    ap.add_argument("--per-class", type=int, default=2)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--guidance", type=float, default=3.0)
    ap.add_argument("--guidance-interval", type=int, nargs=2, metavar=("LO", "HI"),
                    help="apply --guidance only for LO <= t <= HI (g = 1 elsewhere)")
    ap.add_argument("--eta", type=float, default=0.0)
    ap.add_argument("--ddpm", action="store_true",
                    help="DDPM on the --steps leading-spaced timesteps (diffusers DDPMScheduler, fixed_small; "
                         "--steps 1000 = full DDPM)")
    ap.add_argument("--clipped-eps", action="store_true", help="with clipping, re-derive eps from the clipped x0")
    ap.add_argument("--no-clip", action="store_true")
    ap.add_argument("--start-t", type=int, help="start from real images noised to this t")
    ap.add_argument("--tag")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    unet.Attention.use_sdpa = True
    model = load(a)
    {"x0": cmd_x0, "loss": cmd_loss, "sample": cmd_sample}[a.cmd](a, model)


if __name__ == "__main__":
    main()
