"""Noise schedule and DDIM sampler with diffusers semantics (DDIMScheduler, eta = 0).

Schedule: "squaredcos_cap_v2" (betas_for_alpha_bar, cosine, max_beta 0.999) computed in Python
float64, stored as float32; alphas_cumprod = cumprod(1 - betas) in float32 (as diffusers does).

clip_sample is OFF in the shipped scheduler config. diffusers' DDIMScheduler clips the x0
estimate but (unless step(use_clipped_model_output=True)) keeps the eps derived from the
*unclipped* x0, so x_prev = sqrt(a_prev) clip(x0) + sqrt(1 - a_prev) eps no longer matches x_t;
with classifier-free guidance 3 the guided x0 overshoots [-1, 1] by a lot (background ~ -3) and
every clipped step pushes the difference back into x through eps: background and the off
channels brighten step after step, giving frame-filling, wrongly coloured blobs (gpu-run1, DDIM-50,
CFG 3, 90 samples: 34 % class fidelity with clipping, 100 % without; see tools/README.md,
"Training notes"). Both variants are bit-exact with diffusers' DDIMScheduler
(tools/diffusers_parity.py --scheduler).
"""
import math

import torch

NUM_TRAIN_TIMESTEPS = 1000
SCHEDULER_CONFIG = {
    "_class_name": "DDPMScheduler",
    "_diffusers_version": "0.31.0",
    "num_train_timesteps": NUM_TRAIN_TIMESTEPS,
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "beta_schedule": "squaredcos_cap_v2",
    "trained_betas": None,
    "variance_type": "fixed_small",
    "clip_sample": False,
    "clip_sample_range": 1.0,
    "prediction_type": "v_prediction",
    "thresholding": False,
    "dynamic_thresholding_ratio": 0.995,
    "sample_max_value": 1.0,
    "timestep_spacing": "leading",
    "steps_offset": 1,
    "rescale_betas_zero_snr": False,
    "set_alpha_to_one": False,
}


def betas_squaredcos_cap_v2(n=NUM_TRAIN_TIMESTEPS, max_beta=0.999):
    def alpha_bar(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), max_beta) for i in range(n)]
    return torch.tensor(betas, dtype=torch.float32)


def alphas_cumprod(n=NUM_TRAIN_TIMESTEPS):
    return torch.cumprod(1.0 - betas_squaredcos_cap_v2(n), dim=0)


def ddim_timesteps(num_inference_steps, num_train=NUM_TRAIN_TIMESTEPS, steps_offset=1):
    """'leading' spacing: arange(steps) * (T // steps), reversed, + steps_offset (int64)."""
    ratio = num_train // num_inference_steps
    return torch.arange(num_inference_steps - 1, -1, -1, dtype=torch.int64) * ratio + steps_offset


@torch.no_grad()
def ddim_sample(model, labels, noise, num_steps=50, guidance=3.0, null_class=9, acp=None,
                steps_offset=1, set_alpha_to_one=False, clip_sample=None, clip_range=1.0,
                prediction_type="v_prediction", use_clipped_model_output=False):
    """Deterministic DDIM (eta 0) with classifier-free guidance.

    One forward per step on [x; x] with labels [c; null]: out = u + g * (c - u).
    guidance None -> purely conditional, single forward.
    clip_sample None -> SCHEDULER_CONFIG["clip_sample"] (False). use_clipped_model_output as in
    diffusers' DDIMScheduler.step: re-derive eps from the clipped x0 (keeps the update consistent).
    """
    if clip_sample is None:
        clip_sample = SCHEDULER_CONFIG["clip_sample"]
    dev = noise.device
    if acp is None:
        acp = alphas_cumprod()
    acp = acp.to(torch.float32)
    final = torch.tensor(1.0) if set_alpha_to_one else acp[0]
    ratio = NUM_TRAIN_TIMESTEPS // num_steps
    ts = ddim_timesteps(num_steps, NUM_TRAIN_TIMESTEPS, steps_offset)
    x = noise.to(torch.float32)
    n = x.shape[0]
    labels = labels.to(dev).long()
    if guidance is not None:
        lab2 = torch.cat([labels, torch.full_like(labels, null_class)])
    for t in ts.tolist():
        tt = torch.full((n if guidance is None else 2 * n,), t, dtype=torch.int64, device=dev)
        if guidance is None:
            out = model(x, tt, labels).float()
        else:
            o = model(torch.cat([x, x]), tt, lab2).float()
            c, u = o[:n], o[n:]
            out = u + guidance * (c - u)
        prev = t - ratio
        a_t = acp[t]
        a_prev = acp[prev] if prev >= 0 else final
        b_t = 1 - a_t
        if prediction_type == "v_prediction":
            x0 = (a_t ** 0.5) * x - (b_t ** 0.5) * out
            eps = (a_t ** 0.5) * out + (b_t ** 0.5) * x
        elif prediction_type == "epsilon":
            x0 = (x - b_t ** 0.5 * out) / a_t ** 0.5
            eps = out
        else:
            raise ValueError("prediction_type %r" % prediction_type)
        if clip_sample:
            x0 = x0.clamp(-clip_range, clip_range)
            if use_clipped_model_output:
                eps = (x - (a_t ** 0.5) * x0) / (b_t ** 0.5)
        x = (a_prev ** 0.5) * x0 + ((1 - a_prev) ** 0.5) * eps
    return x
