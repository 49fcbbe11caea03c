"""Train the demo model (class-conditional UNet2DModel on the generated shapes data set).

Recipe: v-prediction, squaredcos_cap_v2 schedule (1000 steps), per-timestep loss weight chosen by
--loss-weighting (see LOSS_WEIGHTINGS), integer timesteps drawn by --t-sampling, label dropout to the
null class 9, AdamW with linear warm-up then constant (or cosine) learning rate, gradient clipping,
EMA of weights.
Evaluation: 90 samples (10 per class) with DDIM-50 (diffusers semantics, leading spacing,
steps_offset 1, set_alpha_to_one false, eta 0, no x0 clipping by default: see --eval-clip) and
classifier-free guidance 3 using the EMA weights, scored with tools/checker.py.

Determinism: batch k uses demo_data.make_batch(seed, k, batch) and a per-step generator seeded
from (seed, k) for timesteps, noise and label dropout, so --resume continues exactly.

Checkpoints are written in split form (each file well under 16 MiB for the demo config, so that a
GPU machine can send them back): OUT/ckpt_model.pt (format, config, args, step, elapsed time,
model, EMA, curve, RNG states: everything but the optimizer; tools/export.py reads it) and
OUT/ckpt_opt.pt ({"format": "demo-train-v1-opt", "step", "optimizer"}; a bare optimizer state dict
is accepted too). --resume continues from OUT; --resume-from DIR continues from the checkpoint in
DIR (split files, or a legacy single ckpt_latest.pt) and writes to OUT.

Example (CPU smoke test):  /usr/bin/python3 tools/train.py --device cpu --threads 2 --minutes 1 --out /tmp/run
Example (GPU):             python3 tools/train.py --device cuda --minutes 10 --out "$OUT/run"
Example (resume a GPU run on CPU, 2 steps; prints which training arguments differ):
    /usr/bin/python3 tools/train.py --device cpu --threads 1 --batch 8 --max-steps 3044 --resume-from tools/checkpoints/gpu-run1 --out /tmp/cont --no-final-eval
"""
import argparse
import copy
import json
import math
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import checker  # noqa: E402
import demo_data  # noqa: E402
import diffusion  # noqa: E402
import pngio  # noqa: E402
import unet  # noqa: E402

DEFAULT_CONFIG = os.path.join(os.path.dirname(HERE), "models", "demo", "config.json")
CKPT_NAME = "ckpt_latest.pt"          # legacy single-file checkpoint (read only)
CKPT_MODEL = "ckpt_model.pt"          # everything but the optimizer
CKPT_OPT = "ckpt_opt.pt"              # the optimizer state
SPLIT_LIMIT = 16 * 1024 * 1024        # each split file should stay below this (transfer limit)

# --loss-weighting: weight on the per-image v-MSE as a function of snr = a / (1 - a).
# In x0 terms v-MSE = (snr + 1) * x0-MSE, so "min-snr" is min(snr, gamma) * x0-MSE, which
# vanishes at high noise (weight 8e-4 at t = 981), where the sampler decides the layout.
LOSS_WEIGHTINGS = {
    "min-snr": "min(snr, gamma) / (snr + 1)   (diffusers' min-SNR for v; ~0 at high noise)",
    "min-snr-floor": "max(min(snr, gamma), 1) / (snr + 1)   (plain v-MSE for snr <= 1, min-SNR above)",
    "v": "1   (plain v-MSE)",
}
T_SAMPLINGS = ("uniform", "high-noise")
# arguments that define the training trajectory (compared on resume); values assumed for checkpoints
# written before an argument existed
TRAINING_ARGS = ("seed", "batch", "lr", "min_lr_frac", "warmup", "lr_schedule", "total_steps", "weight_decay",
                 "beta2", "clip", "ema", "p_uncond", "loss_weighting", "snr_gamma", "t_sampling", "t_high_frac",
                 "t_high_min")
OLD_ARG_DEFAULTS = {"loss_weighting": "min-snr", "t_sampling": "uniform", "t_high_frac": 0.25, "t_high_min": 700}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory for checkpoints, curve.jsonl, sample grids")
    ap.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = leave default)")
    ap.add_argument("--minutes", type=float, default=10.0,
                    help="wall-clock budget of THIS invocation, including evaluations and checkpoints")
    ap.add_argument("--max-steps", type=int, default=0, help="stop at this global step (0 = no limit)")
    ap.add_argument("--resume", action="store_true",
                    help="continue from the checkpoint in OUT (ckpt_model.pt + ckpt_opt.pt, or legacy ckpt_latest.pt), if present")
    ap.add_argument("--resume-from", metavar="DIR",
                    help="continue from the checkpoint in DIR (split files or legacy ckpt_latest.pt; a file path "
                         "to ckpt_latest.pt or ckpt_model.pt also works); results go to --out")
    ap.add_argument("--config", default=DEFAULT_CONFIG)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr-frac", type=float, default=0.1, help="cosine: final lr = lr * this")
    ap.add_argument("--warmup", type=int, default=500, help="linear warm-up steps")
    ap.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant")
    ap.add_argument("--total-steps", type=int, default=0, help="length of the cosine decay (required for cosine)")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient norm clipping")
    ap.add_argument("--ema", type=float, default=0.999, help="EMA decay (with warm-up min(d, (1+n)/(10+n)))")
    ap.add_argument("--p-uncond", type=float, default=0.1, help="label dropout probability (to class 9)")
    ap.add_argument("--loss-weighting", choices=sorted(LOSS_WEIGHTINGS), default="min-snr-floor",
                    help="per-timestep weight of the v-MSE: " + "; ".join("%s = %s" % kv for kv in sorted(LOSS_WEIGHTINGS.items())))
    ap.add_argument("--snr-gamma", type=float, default=5.0,
                    help="gamma of the min-snr weightings; 0 = plain v MSE whatever --loss-weighting says")
    ap.add_argument("--t-sampling", choices=T_SAMPLINGS, default="uniform",
                    help="uniform: t uniform in [0, 999]; high-noise: with probability --t-high-frac t is drawn "
                         "uniformly from [--t-high-min, 999] instead")
    ap.add_argument("--t-high-frac", type=float, default=0.25)
    ap.add_argument("--t-high-min", type=int, default=700)
    ap.add_argument("--bf16", choices=("auto", "on", "off"), default="auto", help="bf16 autocast (cuda only)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the training model (torch 2.x, experimental)")
    ap.add_argument("--ckpt-every-minutes", type=float, default=5.0)
    ap.add_argument("--eval-every-minutes", type=float, default=5.0)
    ap.add_argument("--eval-steps", type=int, default=50)
    ap.add_argument("--eval-guidance", type=float, default=3.0)
    ap.add_argument("--eval-per-class", type=int, default=10)
    ap.add_argument("--eval-clip", choices=("off", "x0", "x0-eps"), default="off",
                    help="x0 clipping in the DDIM evaluation: off (the shipped scheduler config); x0 = diffusers "
                         "clip_sample with the unclipped eps (what gpu-run1 used: breaks with CFG 3); x0-eps = clip and "
                         "re-derive eps (use_clipped_model_output)")
    ap.add_argument("--eval-seed", type=int, default=20240601)
    ap.add_argument("--no-final-eval", action="store_true")
    ap.add_argument("--log-every-seconds", type=float, default=30.0)
    return ap.parse_args(argv)


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def lr_at(step, a):
    if a.warmup > 0 and step < a.warmup:
        return a.lr * (step + 1) / a.warmup
    if a.lr_schedule == "cosine":
        span = max(1, a.total_steps - a.warmup)
        p = min(1.0, (step - a.warmup) / span)
        return a.lr * (a.min_lr_frac + (1 - a.min_lr_frac) * 0.5 * (1 + math.cos(math.pi * p)))
    return a.lr


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)
    size = os.path.getsize(path)
    if size >= SPLIT_LIMIT:
        log("warning: %s is %.1f MiB (>= 16 MiB)" % (path, size / 2 ** 20))


def loss_weights(acp, weighting, gamma):
    """Per-timestep weight [T] (float64) of the per-image v-MSE."""
    snr = acp.double() / (1 - acp.double())
    if gamma <= 0 or weighting == "v":
        return torch.ones_like(snr)
    if weighting == "min-snr":
        return torch.clamp(snr, max=gamma) / (snr + 1)
    if weighting == "min-snr-floor":
        return torch.clamp(torch.clamp(snr, max=gamma), min=1.0) / (snr + 1)
    raise ValueError("unknown loss weighting %r" % weighting)


def torch_load(path, dev):
    try:
        return torch.load(path, map_location=dev, weights_only=False)
    except TypeError:
        return torch.load(path, map_location=dev)


def find_checkpoint(where):
    """(model_path, opt_path or None) for a directory or a file; None if there is no checkpoint."""
    if os.path.isdir(where):
        split = os.path.join(where, CKPT_MODEL)
        single = os.path.join(where, CKPT_NAME)
        if os.path.exists(split) and (not os.path.exists(single) or os.path.getmtime(split) >= os.path.getmtime(single)):
            return split, os.path.join(where, CKPT_OPT)
        if os.path.exists(single):
            return single, None
        return None
    if not os.path.exists(where):
        return None
    if os.path.basename(where) == CKPT_MODEL:
        return where, os.path.join(os.path.dirname(where), CKPT_OPT)
    return where, None


class Trainer:
    def __init__(self, a):
        self.a = a
        self.dev = torch.device(a.device)
        self.cuda = self.dev.type == "cuda"
        if a.threads > 0:
            torch.set_num_threads(a.threads)
        if self.cuda:
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
            torch.backends.cudnn.benchmark = True
        if a.bf16 == "on" and not self.cuda:
            raise SystemExit("--bf16 on needs a cuda device")
        self.bf16 = self.cuda and a.bf16 != "off"
        if a.lr_schedule == "cosine" and a.total_steps <= 0:
            raise SystemExit("--lr-schedule cosine needs --total-steps")
        with open(a.config) as f:
            self.config = json.load(f)
        torch.manual_seed(a.seed)
        self.model = unet.UNet2DModel(self.config).to(self.dev)
        self.ema = copy.deepcopy(self.model).eval()
        for p in self.ema.parameters():
            p.requires_grad_(False)
        opt_kw = dict(lr=a.lr, betas=(0.9, a.beta2), weight_decay=a.weight_decay)
        self.opt = None
        if self.cuda:
            try:
                self.opt = torch.optim.AdamW(self.model.parameters(), fused=True, **opt_kw)
            except (TypeError, RuntimeError, ValueError):
                self.opt = None
        if self.opt is None:
            self.opt = torch.optim.AdamW(self.model.parameters(), **opt_kw)
        acp = diffusion.alphas_cumprod()
        self.acp = acp.to(self.dev)
        w = loss_weights(acp, a.loss_weighting, a.snr_gamma)
        self.loss_w = w.to(torch.float32).to(self.dev)
        if not (0 <= a.t_high_min < diffusion.NUM_TRAIN_TIMESTEPS and 0 <= a.t_high_frac <= 1):
            raise SystemExit("--t-high-min must be in [0, 999] and --t-high-frac in [0, 1]")
        self.sqrt_a = acp.sqrt().to(self.dev)
        self.sqrt_1ma = (1 - acp).sqrt().to(self.dev)
        self.gen = torch.Generator(device=self.dev)
        self.step = 0
        self.elapsed_before = 0.0  # seconds spent in earlier invocations
        self.curve = []
        self.train_model = self.model
        if a.compile and hasattr(torch, "compile"):
            self.train_model = torch.compile(self.model)
        self.stop_requested = False
        self.ema_params = list(self.ema.parameters())
        self.model_params = list(self.model.parameters())

    # ---- state -----------------------------------------------------------------------------
    def state(self, elapsed_now):
        """(model part, optimizer part) of a checkpoint."""
        st = {
            "format": "demo-train-v1",
            "config": self.config,
            "args": vars(self.a),
            "step": self.step,
            "elapsed_seconds": self.elapsed_before + elapsed_now,
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict(),
            "curve": self.curve,
            "torch_version": torch.__version__,
            "device_type": self.dev.type,
            "rng_cpu": torch.get_rng_state(),
            "rng_step_gen": self.gen.get_state(),
        }
        if self.cuda:
            st["rng_cuda"] = torch.cuda.get_rng_state(self.dev)
        opt = {"format": "demo-train-v1-opt", "step": self.step, "optimizer": self.opt.state_dict()}
        return st, opt

    def save(self, out_dir, elapsed_now):
        st, opt = self.state(elapsed_now)
        # optimizer first, model file last: a crash in between leaves a step mismatch that load() reports
        save_atomic(opt, os.path.join(out_dir, CKPT_OPT))
        save_atomic(st, os.path.join(out_dir, CKPT_MODEL))

    def load(self, model_path, opt_path=None):
        st = torch_load(model_path, self.dev)
        if st.get("format") != "demo-train-v1":
            raise SystemExit("not a demo-train-v1 checkpoint: %s" % model_path)
        if opt_path is None:
            if "optimizer" not in st:
                raise SystemExit("%s has no optimizer state and no %s was given" % (model_path, CKPT_OPT))
            opt_sd = st["optimizer"]
        else:
            if not os.path.exists(opt_path):
                raise SystemExit("optimizer state %s missing (split checkpoint needs both %s and %s)"
                                 % (opt_path, CKPT_MODEL, CKPT_OPT))
            o = torch_load(opt_path, self.dev)
            if isinstance(o, dict) and o.get("format") == "demo-train-v1-opt":
                if int(o["step"]) != int(st["step"]):
                    raise SystemExit("%s is for step %s but %s for step %s" % (opt_path, o["step"], model_path, st["step"]))
                opt_sd = o["optimizer"]
            elif isinstance(o, dict) and "state" in o and "param_groups" in o:
                opt_sd = o  # bare optimizer state dict (gpu-run1); check Adam's step counter instead
                steps = {int(v["step"]) for v in o["state"].values() if "step" in v}
                if steps and steps != {int(st["step"])}:
                    raise SystemExit("%s has Adam step %s but %s is at step %s" % (opt_path, sorted(steps), model_path, st["step"]))
            else:
                raise SystemExit("not an optimizer checkpoint: %s" % opt_path)
        self.model.load_state_dict(st["model"])
        self.ema.load_state_dict(st["ema"])
        # keep this optimizer's implementation flags (a CUDA run saves fused=True, which a CPU
        # optimizer cannot use; torch 1.13 does not know some of the keys of torch 2.x)
        own = [{k: g[k] for k in ("fused", "foreach", "capturable", "differentiable") if k in g}
               for g in self.opt.param_groups]
        self.opt.load_state_dict(opt_sd)
        for g, keep in zip(self.opt.param_groups, own):
            for k in ("fused", "foreach", "capturable", "differentiable"):
                if k in keep:
                    g[k] = keep[k]
                else:
                    g.pop(k, None)
        for s in self.opt.state.values():  # Adam's step counter: CPU float32 unless fused/capturable
            if "step" in s and torch.is_tensor(s["step"]):
                want = self.dev if any(g.get("fused") or g.get("capturable") for g in self.opt.param_groups) else "cpu"
                s["step"] = s["step"].to(want, torch.float32)
        self.step = int(st["step"])
        self.elapsed_before = float(st["elapsed_seconds"])
        self.curve = list(st["curve"])
        torch.set_rng_state(st["rng_cpu"].cpu())
        saved_type = st.get("device_type", "cuda" if "rng_cuda" in st else "cpu")
        if self.cuda and "rng_cuda" in st:
            torch.cuda.set_rng_state(st["rng_cuda"].cpu(), self.dev)
        if saved_type == self.dev.type:
            # (the step generator is re-seeded every step, so its state only matters for bit-equal files)
            self.gen.set_state(st["rng_step_gen"].cpu())
        old = dict(OLD_ARG_DEFAULTS)
        old.update(st.get("args", {}))
        now = vars(self.a)
        diff = ["%s %r -> %r" % (k, old.get(k), now.get(k)) for k in TRAINING_ARGS if old.get(k) != now.get(k)]
        if diff:
            log("note: training arguments differ from the checkpoint's (not an exact continuation): " + "; ".join(diff))
    # ---- one step --------------------------------------------------------------------------
    def train_step(self):
        a, k = self.a, self.step
        x0, labels = demo_data.make_batch(a.seed, k, a.batch, self.dev)
        self.gen.manual_seed(demo_data.batch_seed(a.seed, k, stream=1))
        n = a.batch
        t = torch.randint(0, diffusion.NUM_TRAIN_TIMESTEPS, (n,), generator=self.gen, device=self.dev)
        noise = torch.randn(x0.shape, generator=self.gen, device=self.dev)
        drop = torch.rand((n,), generator=self.gen, device=self.dev) < a.p_uncond
        if a.t_sampling == "high-noise":  # drawn after the uniform stream, which stays unchanged
            hi = torch.randint(a.t_high_min, diffusion.NUM_TRAIN_TIMESTEPS, (n,), generator=self.gen, device=self.dev)
            use = torch.rand((n,), generator=self.gen, device=self.dev) < a.t_high_frac
            t = torch.where(use, hi, t)
        labels = torch.where(drop, torch.full_like(labels, demo_data.NULL_CLASS), labels)
        sa = self.sqrt_a[t].view(n, 1, 1, 1)
        s1 = self.sqrt_1ma[t].view(n, 1, 1, 1)
        xt = sa * x0 + s1 * noise
        v = sa * noise - s1 * x0
        lr = lr_at(k, a)
        for g in self.opt.param_groups:
            g["lr"] = lr
        if self.bf16:
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
                out = self.train_model(xt, t, labels)
        else:
            out = self.train_model(xt, t, labels)
        per = ((out.float() - v) ** 2).mean(dim=(1, 2, 3))
        loss = (per * self.loss_w[t]).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if a.clip > 0:
            torch.nn.utils.clip_grad_norm_(self.model_params, a.clip)
        self.opt.step()
        self.step += 1
        d = min(a.ema, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            if hasattr(torch, "_foreach_mul_"):
                torch._foreach_mul_(self.ema_params, d)
                torch._foreach_add_(self.ema_params, self.model_params, alpha=1 - d)
            else:
                for e, p in zip(self.ema_params, self.model_params):
                    e.mul_(d).add_(p, alpha=1 - d)
        return loss.detach()

    # ---- evaluation ------------------------------------------------------------------------
    def evaluate(self, tag):
        a = self.a
        labels = torch.arange(9).repeat_interleave(a.eval_per_class)
        g = torch.Generator()
        g.manual_seed(a.eval_seed)
        noise = torch.randn((labels.numel(), 3, 32, 32), generator=g).to(self.dev)
        imgs = diffusion.ddim_sample(self.ema, labels.to(self.dev), noise, num_steps=a.eval_steps,
                                     guidance=a.eval_guidance, clip_sample=a.eval_clip != "off",
                                     use_clipped_model_output=a.eval_clip == "x0-eps")
        pred = checker.check(imgs.cpu())
        fid = (pred == labels).double().mean().item()
        per_class = [(pred[labels == c] == c).double().mean().item() for c in range(9)]
        pngio.save_grid(os.path.join(a.out, "samples_latest.png"), imgs, ncol=a.eval_per_class)
        pngio.save_grid(os.path.join(a.out, "samples_step%07d.png" % self.step), imgs, ncol=a.eval_per_class)
        return fid, per_class

    # ---- main loop -------------------------------------------------------------------------
    def run(self):
        a = self.a
        os.makedirs(a.out, exist_ok=True)
        ckpt_path = os.path.join(a.out, CKPT_MODEL)
        src = a.resume_from or (a.out if a.resume else None)
        if src is not None:
            found = find_checkpoint(src)
            if found is None and a.resume_from:
                raise SystemExit("--resume-from %s: no %s or %s there" % (src, CKPT_MODEL, CKPT_NAME))
            if found is not None:
                self.load(*found)
                log("resumed from %s%s at step %d (%.1f min elapsed before)"
                    % (found[0], " + " + found[1] if found[1] else "", self.step, self.elapsed_before / 60))
            else:
                log("no checkpoint in %s, starting fresh" % src)
        # rewrite the curve file from the checkpoint's curve (drops entries logged after it)
        curve_path = os.path.join(a.out, "curve.jsonl")
        with open(curve_path, "w") as f:
            for e in self.curve:
                f.write(json.dumps(e) + "\n")
        nparams = sum(p.numel() for p in self.model.parameters())
        log("device %s bf16 %s torch %s threads %d params %d batch %d step %d budget %.2f min"
            % (self.dev, self.bf16, torch.__version__, torch.get_num_threads(), nparams, a.batch, self.step, a.minutes))

        def on_signal(signum, frame):
            self.stop_requested = True
            log("signal %d: stopping after this step" % signum)
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

        t0 = time.time()
        deadline = t0 + a.minutes * 60.0
        last_log = last_ckpt = last_eval = t0
        loss_sum = torch.zeros((), device=self.dev)
        loss_n = 0
        step_time = None  # seconds per training step, measured after warm-up, excluding evals
        eval_time = None
        start_step = self.step
        warm_steps = 3  # first steps (lazy init, cudnn autotune, compilation) are not timed
        timer = {"t": None, "s": None}
        compiled_checked = False
        last_eval_step = None

        def sync():
            if self.cuda:
                torch.cuda.synchronize(self.dev)

        def reset_timer():
            sync()
            timer["t"], timer["s"] = time.time(), self.step

        def add_curve(entry):
            self.curve.append(entry)
            with open(curve_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

        def do_eval():
            nonlocal eval_time, last_eval_step
            last_eval_step = self.step
            sync()
            te = time.time()
            fid, per_class = self.evaluate("")
            eval_time = time.time() - te
            el = self.elapsed_before + time.time() - t0
            add_curve({"elapsed_min": round(el / 60, 4), "step": self.step, "loss": None,
                       "fidelity": fid, "per_class": per_class, "eval_seconds": round(eval_time, 2)})
            log("eval step %d fidelity %.3f per-class %s (%.1fs)"
                % (self.step, fid, " ".join("%.1f" % p for p in per_class), eval_time))

        def do_ckpt():
            self.save(a.out, time.time() - t0)

        def reserve_seconds():
            """Time to keep for the final evaluation + checkpoint."""
            if a.no_final_eval:
                ev = 0.0
            elif eval_time is not None:
                ev = 1.2 * eval_time
            elif step_time is not None:
                # eval = eval_steps forwards of 2*90 images; a forward ~ 1/2 of a training step (generous)
                ev = a.eval_steps * 0.5 * step_time * max(1.0, 2 * 9 * a.eval_per_class / a.batch) + 5
            else:
                ev = 10.0
            return ev + 5.0 + 2 * (step_time or 0.0)

        while True:
            now = time.time()
            if self.stop_requested:
                break
            if a.max_steps and self.step >= a.max_steps:
                break
            if now + reserve_seconds() >= deadline:
                break
            try:
                loss = self.train_step()
            except Exception:
                if self.train_model is not self.model and not compiled_checked:
                    log("torch.compile failed; falling back to eager")
                    self.train_model = self.model
                    self.opt.zero_grad(set_to_none=True)
                    continue
                raise
            compiled_checked = True
            loss_sum += loss
            loss_n += 1
            done = self.step - start_step
            if done == warm_steps:
                reset_timer()
            elif step_time is None and timer["s"] is not None and self.step - timer["s"] >= 5:
                sync()
                step_time = (time.time() - timer["t"]) / (self.step - timer["s"])
            now = time.time()
            if now - last_log >= a.log_every_seconds:
                ls = loss_sum.item() / max(1, loss_n)
                if timer["s"] is not None and self.step > timer["s"]:
                    step_time = (time.time() - timer["t"]) / (self.step - timer["s"])
                    reset_timer()
                el = self.elapsed_before + now - t0
                rate = ("%.1f steps/s  %.0f img/s" % (1 / step_time, a.batch / step_time)) if step_time else "warm-up"
                log("step %d  loss %.4f  lr %.2e  %s  elapsed %.1f min"
                    % (self.step, ls, lr_at(self.step, a), rate, el / 60))
                add_curve({"elapsed_min": round(el / 60, 4), "step": self.step, "loss": ls, "fidelity": None})
                loss_sum.zero_()
                loss_n = 0
                last_log = now
            if now - last_eval >= a.eval_every_minutes * 60:
                do_eval()
                last_eval = time.time()
                if timer["s"] is not None:
                    reset_timer()
            if time.time() - last_ckpt >= a.ckpt_every_minutes * 60:
                do_ckpt()
                last_ckpt = time.time()
                log("checkpoint step %d -> %s" % (self.step, ckpt_path))
                if timer["s"] is not None:
                    reset_timer()

        if loss_n > 0:
            el = self.elapsed_before + time.time() - t0
            add_curve({"elapsed_min": round(el / 60, 4), "step": self.step,
                       "loss": loss_sum.item() / loss_n, "fidelity": None})
        do_ckpt()  # save first, in case the evaluation is interrupted
        log("checkpoint step %d -> %s" % (self.step, ckpt_path))
        if not a.no_final_eval and not self.stop_requested and last_eval_step != self.step:
            do_eval()
            do_ckpt()
        el = self.elapsed_before + time.time() - t0
        log("done: step %d, %.2f min total training time, this run %.2f min"
            % (self.step, el / 60, (time.time() - t0) / 60))


def main(argv=None):
    Trainer(parse_args(argv)).run()


if __name__ == "__main__":
    main()
