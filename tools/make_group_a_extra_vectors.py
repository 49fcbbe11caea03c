"""Extra scheduler reference vectors for options the main grid does not reach (group A classes).

tools/make_scheduler_vectors.py covers the core grid; this script adds cases, in the same format
and with the same machinery (it imports that script and calls its `run_case`, so the recording,
the noise replay check, the correctly rounded log/exp run and the case layout are identical), for
options of DDPM, DDIM, Euler,
Euler ancestral, Heun and LMS that the grid leaves out: DDIM use_clipped_model_output and
clip_sample_range, DDPM fixed_small_log with other schedules and the "trailing" step counts for
which numpy's arange yields n + 1 timesteps (ending at -1), Euler final_sigmas_type "sigma_min",
Karras sigmas with explicit sigma_min/sigma_max, continuous timesteps with epsilon, log_linear
with other spacings and step counts, Heun clip_sample, and LMS runs short enough that
scipy.integrate.quad has to bisect (a float32 integrand over a tiny sigma interval).

Output: sampler/src/test/resources/vectors/schedulers_extra/GroupAExtra.json.gz, read by
GroupAExtraParityTest (which runs every case through SchedulerParityTest's checks).

  /usr/bin/python3 tools/make_group_a_extra_vectors.py /tmp/diffusers-src \
      --commit 58eb52c0803ea9af3abec60841c2a093bdf1f951
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
import make_scheduler_vectors as msv  # noqa: E402

OUT = os.path.join(ROOT, "sampler", "src", "test", "resources", "vectors", "schedulers_extra", "GroupAExtra.json.gz")

LIN = {"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02}
SL = {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}
COS = {"beta_schedule": "squaredcos_cap_v2"}


def specs():
    out = []

    def add(cls, name, keys, n, step_kwargs=None):
        cfg = dict(keys, _class_name=cls, num_train_timesteps=keys.get("num_train_timesteps", 1000))
        out.append({"id": "%s/extra/%s/steps=%d" % (cls, name, n), "class": cls, "variant": None, "config": cfg,
                    "n": n, "group": "extra-a", "with_steps": True, "step_kwargs": step_kwargs or {}})

    lead = {"timestep_spacing": "leading", "steps_offset": 1}
    trail = {"timestep_spacing": "trailing", "steps_offset": 1}
    # DDIM
    for pred in ("epsilon", "v_prediction", "sample"):
        for eta in (0.0, 0.7):
            add("DDIMScheduler", "clipped-output/%s/eta=%s" % (pred, eta),
                dict(LIN, clip_sample=True, clip_sample_range=0.5, prediction_type=pred, **lead), 10,
                {"eta": eta, "use_clipped_model_output": True})
    add("DDIMScheduler", "no-alpha-one/trailing", dict(SL, set_alpha_to_one=False, clip_sample=False, **trail), 10)
    for n in (61,):  # np.arange(1000, 0, -1000/n) has n + 1 values: the last timestep is -1
        add("DDIMScheduler", "trailing-extra-step", dict(LIN, clip_sample=False, **trail), n)
        add("DDPMScheduler", "trailing-extra-step", dict(LIN, clip_sample=False, **trail), n)
    # DDPM
    for var in ("fixed_small", "fixed_small_log", "fixed_large"):
        add("DDPMScheduler", "%s/cosine-v/clip=0.5" % var,
            dict(COS, variance_type=var, prediction_type="v_prediction", clip_sample=True, clip_sample_range=0.5,
                 **lead), 10)
        add("DDPMScheduler", "%s/scaled-sample" % var, dict(SL, variance_type=var, prediction_type="sample",
                                                           clip_sample=False, **trail), 7)
    # Euler
    for beta_name, beta in (("linear", LIN), ("scaled_linear", SL), ("cosine", COS)):
        add("EulerDiscreteScheduler", "final-sigma-min/%s" % beta_name, dict(beta, final_sigmas_type="sigma_min",
                                                                             **lead), 10)
        add("EulerDiscreteScheduler", "karras-min-max/%s" % beta_name,
            dict(beta, use_karras_sigmas=True, sigma_min=0.05, sigma_max=12.0, **trail), 10)
    add("EulerDiscreteScheduler", "continuous-epsilon", dict(SL, timestep_type="continuous", **lead), 10)
    for n in (1, 2, 25):
        add("EulerDiscreteScheduler", "log-linear/leading-v", dict(SL, interpolation_type="log_linear",
                                                                   prediction_type="v_prediction", **lead), n)
        add("EulerDiscreteScheduler", "karras/linspace", dict(COS, use_karras_sigmas=True,
                                                              timestep_spacing="linspace", steps_offset=1), n)
    add("EulerDiscreteScheduler", "karras-log-linear-sigma-min", dict(LIN, use_karras_sigmas=True,
                                                                      interpolation_type="log_linear",
                                                                      final_sigmas_type="sigma_min", **trail), 12)
    add("EulerDiscreteScheduler", "rescale-karras", dict(SL, rescale_betas_zero_snr=True, use_karras_sigmas=True,
                                                          **trail), 10)
    add("EulerDiscreteScheduler", "trailing-extra-step", dict(LIN, **trail), 61)
    # Euler ancestral
    for n in (1, 2, 61):
        add("EulerAncestralDiscreteScheduler", "trailing-v", dict(COS, prediction_type="v_prediction", **trail), n)
    add("EulerAncestralDiscreteScheduler", "rescale-leading-eps", dict(SL, rescale_betas_zero_snr=True, **lead), 10)
    # Heun
    add("HeunDiscreteScheduler", "clip-sample/sample", dict(LIN, clip_sample=True, clip_sample_range=0.5,
                                                           prediction_type="sample", **lead), 10)
    add("HeunDiscreteScheduler", "clip-sample/v", dict(SL, clip_sample=True, prediction_type="v_prediction",
                                                      **trail), 10)
    add("HeunDiscreteScheduler", "karras-min-max", dict(SL, use_karras_sigmas=True, sigma_min=0.05, sigma_max=8.0,
                                                        **lead), 10)
    for n in (1, 2, 25):
        add("HeunDiscreteScheduler", "karras/cosine-linspace", dict(COS, use_karras_sigmas=True,
                                                                   timestep_spacing="linspace", steps_offset=1), n)
    add("HeunDiscreteScheduler", "trailing-extra-step", dict(LIN, **trail), 61)
    # LMS: cosine, linspace, 2 steps: the last interval is [0.0064, 0] next to sigma 157, where the
    # float32 integrand is a staircase and quad bisects (63 evaluations instead of 21)
    for karras in (False, True):
        for n in (2, 3):
            add("LMSDiscreteScheduler", "cosine-linspace/karras=%s" % karras,
                dict(COS, use_karras_sigmas=karras, timestep_spacing="linspace", steps_offset=1), n)
    for n in (1, 4, 5, 25):
        add("LMSDiscreteScheduler", "scaled-leading-v", dict(SL, prediction_type="v_prediction", **lead), n)
    add("LMSDiscreteScheduler", "karras-trailing", dict(LIN, use_karras_sigmas=True, **trail), 30)
    add("LMSDiscreteScheduler", "trailing-extra-step", dict(LIN, **trail), 61)
    return out


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
    tu = importlib.import_module("diffusers.utils.torch_utils")
    tape = msv.NoiseTape(tu.randn_tensor)
    classes = {}
    mods = []
    for cls, modname in msv.MODULES.items():
        mod = importlib.import_module("diffusers.schedulers." + modname)
        classes[cls] = getattr(mod, cls)
        mods.append(mod)
        if hasattr(mod, "randn_tensor"):
            mod.randn_tensor = tape
    # the main script's correctly rounded log/exp/pow run (the lead's decision), when it has one
    extra = []
    if hasattr(msv, "CorrectlyRounded"):
        cr = msv.CorrectlyRounded(mods)
        print("correctly rounded replacements: %s" % msv.check_replacements(cr))
        extra = [cr]
    cases = []
    for s in specs():
        s["cls_obj"] = classes[s["class"]]
        cases.append(msv.run_case(s, tape, *extra))
    ids = [c["id"] for c in cases]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate case ids")
    doc = {
        "source": "diffusers %s (%s) group A classes, tools/make_group_a_extra_vectors.py (machinery of "
                  "tools/make_scheduler_vectors.py), torch %s, float64" % (commit, version, torch.__version__),
        "model": msv.MODEL_FORMULA,
        "cases": cases,
    }
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    raw = json.dumps(doc, separators=(",", ":"), allow_nan=True).encode()
    size = msv.write_gz(a.out, raw)
    errors = sum(1 for c in cases if c["error"] is not None)
    print("wrote %s: %d cases (%d where diffusers raised), %d bytes gzipped" % (a.out, len(cases), errors, size))


if __name__ == "__main__":
    main()
