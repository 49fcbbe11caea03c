"""More reference vectors for DPMSolverMultistepScheduler and UniPCMultistepScheduler: the variants
and keys that tools/make_scheduler_vectors.py's grid does not reach.

Uses tools/make_scheduler_vectors.py's machinery unchanged (the real diffusers classes from a
source checkout, the analytic stand-in model, every randn draw recorded through diffusers'
randn_tensor and checked by a bit-for-bit replay) and writes the same format (see
sampler/src/test/resources/vectors/schedulers/README.md) to
sampler/src/test/resources/vectors/schedulers/multistep-extra/<ClassName>.json.gz, read by
MultistepExtraParityTest with SchedulerParityTest's checks and tolerances.

Float32 log/exp/expm1 (and numpy's power): by the project's decision (scheduler vectors README,
"Decision (lead)") the Java schedulers compute them correctly rounded. Each case runs as
make_scheduler_vectors.py's run_case runs it: (a) with its CorrectlyRounded replacements (the
case's values), (b) as installed (an "installed" object where it differs), the same recorded noise.

Grid (10 and 25 steps unless said; "triples" = (linear, leading, offset 1, epsilon),
(scaled_linear, trailing, offset 1, v_prediction), (squaredcos_cap_v2, linspace, offset 0, sample)):

  DPMSolverMultistep  variants dpmpp-1, dpmpp-3, dpmpp-2m-heun, dpmpp-1-sde, dpmpp-2m-sde-heun,
                      dpmpp-3-sde x triples x {10, 25} steps; dpmpp-3 and dpmpp-3-sde with 1, 2, 3
                      steps; lambda_min_clipped -5.1 (squaredcos_cap_v2) and -3.0 (linear, which
                      it clips) x {leading, trailing, linspace} for dpmpp-2m and dpmpp-3-sde;
                      use_karras_sigmas with final_sigmas_type sigma_min, and with solver order 3
                      (25 steps), on each beta schedule; euler_at_final and lower_order_final false
                      with order 3 (10 and 25 steps); rescale_betas_zero_snr with dpmpp-3,
                      dpmpp-2m-heun, dpmpp-3-sde, karras; the aliases algorithm_type deis (with
                      final_sigmas_type zero, which diffusers rejects, and sigma_min) and
                      solver_type bh2; shape [1,4,8,8] for dpmpp-3 and dpmpp-3-sde.
  UniPCMultistep      variants bh2-1, bh1-1, bh1-2, bh2-3, bh1-3, and with predict_x0 false
                      bh2-2-eps, bh1-2-eps, bh2-3-eps x triples x {10, 25} steps; bh2-3 with 1, 2,
                      3 steps; final_sigmas_type sigma_min with and without use_karras_sigmas;
                      use_karras_sigmas with sigma_min 0.05 / sigma_max 50; disable_corrector
                      [0, 2, 5]; lower_order_final false (order 3); rescale_betas_zero_snr (bh2-3,
                      bh1-2, karras); the alias solver_type midpoint; shapes [1,1,1,199],
                      [1,1,1,200] (either side of torch's einsum switch to BLAS at K*numel = 400)
                      and [1,4,8,8] for bh2-3, bh1-3 and bh2-3-eps.

Run from the repository root with Debian's python3 (torch 1.13, numpy, scipy 1.10):

  /usr/bin/python3 tools/make_multistep_extra_vectors.py /tmp/diffusers-src \\
      --commit 58eb52c0803ea9af3abec60841c2a093bdf1f951
"""
import argparse
import importlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import diffusers_src  # noqa: E402
import make_scheduler_vectors as msv  # noqa: E402

OUT_DIR = os.path.join(msv.ROOT, "sampler", "src", "test", "resources", "vectors", "schedulers", "multistep-extra")
DPM = "DPMSolverMultistepScheduler"
UNIPC = "UniPCMultistepScheduler"
TRIPLES = [("linear", "leading", 1, "epsilon"), ("scaled_linear", "trailing", 1, "v_prediction"),
           ("squaredcos_cap_v2", "linspace", 0, "sample")]
DPM_VARIANTS = {
    "dpmpp-1": {"algorithm_type": "dpmsolver++", "solver_order": 1},
    "dpmpp-2m": {"algorithm_type": "dpmsolver++", "solver_order": 2},
    "dpmpp-3": {"algorithm_type": "dpmsolver++", "solver_order": 3},
    "dpmpp-2m-heun": {"algorithm_type": "dpmsolver++", "solver_order": 2, "solver_type": "heun"},
    "dpmpp-1-sde": {"algorithm_type": "sde-dpmsolver++", "solver_order": 1},
    "dpmpp-2m-sde-heun": {"algorithm_type": "sde-dpmsolver++", "solver_order": 2, "solver_type": "heun"},
    "dpmpp-3-sde": {"algorithm_type": "sde-dpmsolver++", "solver_order": 3},
}
UNIPC_VARIANTS = {
    "bh2-1": {"solver_type": "bh2", "solver_order": 1},
    "bh1-1": {"solver_type": "bh1", "solver_order": 1},
    "bh1-2": {"solver_type": "bh1", "solver_order": 2},
    "bh2-2": {"solver_type": "bh2", "solver_order": 2},
    "bh2-3": {"solver_type": "bh2", "solver_order": 3},
    "bh1-3": {"solver_type": "bh1", "solver_order": 3},
    "bh2-2-eps": {"solver_type": "bh2", "solver_order": 2, "predict_x0": False},
    "bh1-2-eps": {"solver_type": "bh1", "solver_order": 2, "predict_x0": False},
    "bh2-3-eps": {"solver_type": "bh2", "solver_order": 3, "predict_x0": False},
}


def grid():
    specs = []

    def add(cls, variant, vkeys, beta, spacing, offset, pred, n, extra=None, keys=None, shape=None):
        cfg = msv.base(cls, beta, spacing, offset, pred, dict(vkeys, **(keys or {})))
        sid = msv.make_id(cls, variant, beta, spacing, offset, pred, n, extra)
        if shape:
            sid += "/shape=" + "x".join(str(d) for d in shape)
        specs.append({"id": sid, "class": cls, "variant": variant, "config": cfg, "n": n, "group": "extra",
                      "with_steps": True, "step_kwargs": {}, "shape": shape or msv.SHAPE})

    for cls, table, skip in ((DPM, DPM_VARIANTS, {"dpmpp-2m"}), (UNIPC, UNIPC_VARIANTS, {"bh2-2"})):
        for variant, vk in table.items():
            if variant in skip:
                continue  # in the main vectors
            for beta, spacing, offset, pred in TRIPLES:
                for n in (10, 25):
                    add(cls, variant, vk, beta, spacing, offset, pred, n)

    d = DPM_VARIANTS
    for variant in ("dpmpp-3", "dpmpp-3-sde"):
        for n in (1, 2, 3):
            add(DPM, variant, d[variant], "linear", "leading", 1, "epsilon", n)
    for variant in ("dpmpp-2m", "dpmpp-3-sde"):
        for spacing, offset in (("leading", 1), ("trailing", 1), ("linspace", 0)):
            add(DPM, variant, d[variant], "squaredcos_cap_v2", spacing, offset, "epsilon", 10,
                "lambda_min_clipped=-5.1", {"lambda_min_clipped": -5.1})
            add(DPM, variant, d[variant], "linear", spacing, offset, "v_prediction", 10,
                "lambda_min_clipped=-3.0", {"lambda_min_clipped": -3.0})
    for beta in msv.BETAS:
        add(DPM, "dpmpp-2m", d["dpmpp-2m"], beta, "leading", 1, "epsilon", 10,
            "use_karras_sigmas,final_sigmas_type=sigma_min",
            {"use_karras_sigmas": True, "final_sigmas_type": "sigma_min"})
        for variant in ("dpmpp-3", "dpmpp-3-sde"):
            add(DPM, variant, d[variant], beta, "trailing", 1, "epsilon", 25, "use_karras_sigmas",
                {"use_karras_sigmas": True})
    for n in (10, 25):
        for extra, keys in (("euler_at_final", {"euler_at_final": True}),
                            ("lower_order_final=false", {"lower_order_final": False})):
            add(DPM, "dpmpp-3", d["dpmpp-3"], "scaled_linear", "leading", 1, "epsilon", n, extra, keys)
            add(DPM, "dpmpp-3-sde", d["dpmpp-3-sde"], "linear", "trailing", 1, "v_prediction", n, extra, keys)
    for variant in ("dpmpp-3", "dpmpp-2m-heun", "dpmpp-3-sde"):
        add(DPM, variant, d[variant], "scaled_linear", "trailing", 1, "v_prediction", 10, "rescale_betas_zero_snr",
            {"rescale_betas_zero_snr": True})
    add(DPM, "dpmpp-3", d["dpmpp-3"], "scaled_linear", "trailing", 1, "v_prediction", 10,
        "rescale_betas_zero_snr,use_karras_sigmas", {"rescale_betas_zero_snr": True, "use_karras_sigmas": True})
    # deis is read as dpmsolver++, but diffusers checks final_sigmas_type against the name given
    add(DPM, "deis", {"algorithm_type": "deis", "solver_order": 2}, "linear", "leading", 1, "epsilon", 10)
    add(DPM, "deis", {"algorithm_type": "deis", "solver_order": 2}, "linear", "leading", 1, "epsilon", 10,
        "final_sigmas_type=sigma_min", {"final_sigmas_type": "sigma_min"})
    add(DPM, "dpmpp-2m-bh2", {"algorithm_type": "dpmsolver++", "solver_order": 2, "solver_type": "bh2"},
        "linear", "leading", 1, "epsilon", 10)
    for variant in ("dpmpp-3", "dpmpp-3-sde"):
        add(DPM, variant, d[variant], "scaled_linear", "leading", 1, "epsilon", 25, shape=[1, 4, 8, 8])

    u = UNIPC_VARIANTS
    for n in (1, 2, 3):
        add(UNIPC, "bh2-3", u["bh2-3"], "linear", "leading", 1, "epsilon", n)
    for variant in ("bh2-2", "bh2-3"):
        for beta in msv.BETAS:
            add(UNIPC, variant, u[variant], beta, "trailing", 1, "epsilon", 10, "final_sigmas_type=sigma_min",
                {"final_sigmas_type": "sigma_min"})
            add(UNIPC, variant, u[variant], beta, "leading", 1, "v_prediction", 10,
                "use_karras_sigmas,final_sigmas_type=sigma_min",
                {"use_karras_sigmas": True, "final_sigmas_type": "sigma_min"})
        add(UNIPC, variant, u[variant], "scaled_linear", "leading", 1, "epsilon", 10,
            "use_karras_sigmas,sigma_min=0.05,sigma_max=50",
            {"use_karras_sigmas": True, "sigma_min": 0.05, "sigma_max": 50.0})
    add(UNIPC, "bh2-3", u["bh2-3"], "linear", "leading", 1, "epsilon", 10, "disable_corrector=[0,2,5]",
        {"disable_corrector": [0, 2, 5]})
    for variant in ("bh2-3", "bh1-3"):
        add(UNIPC, variant, u[variant], "scaled_linear", "trailing", 1, "epsilon", 10, "lower_order_final=false",
            {"lower_order_final": False})
    for variant in ("bh2-3", "bh1-2"):
        add(UNIPC, variant, u[variant], "scaled_linear", "trailing", 1, "v_prediction", 10, "rescale_betas_zero_snr",
            {"rescale_betas_zero_snr": True})
    add(UNIPC, "bh2-3", u["bh2-3"], "scaled_linear", "trailing", 1, "v_prediction", 10,
        "rescale_betas_zero_snr,use_karras_sigmas", {"rescale_betas_zero_snr": True, "use_karras_sigmas": True})
    add(UNIPC, "midpoint", {"solver_type": "midpoint", "solver_order": 2}, "linear", "leading", 1, "epsilon", 10)
    for variant in ("bh2-3", "bh1-3", "bh2-3-eps"):
        for shape in ([1, 1, 1, 199], [1, 1, 1, 200], [1, 4, 8, 8]):
            add(UNIPC, variant, u[variant], "scaled_linear", "leading", 1, "epsilon", 25, shape=shape)
    return specs


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("diffusers_src", help="diffusers source checkout (repo root, its src/, or src/diffusers)")
    ap.add_argument("--commit", help="diffusers commit to record (default: git rev-parse, or DIFFUSERS_COMMIT)")
    ap.add_argument("--out", default=OUT_DIR)
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
    for cls in (DPM, UNIPC):
        mod = importlib.import_module("diffusers.schedulers." + msv.MODULES[cls])
        classes[cls] = getattr(mod, cls)
        mods.append(mod)
        if hasattr(mod, "randn_tensor"):
            mod.randn_tensor = tape
    cr = msv.CorrectlyRounded(mods)
    print("correctly rounded replacements: %s" % msv.check_replacements(cr))
    specs = grid()
    ids = [s["id"] for s in specs]
    if len(ids) != len(set(ids)):
        raise SystemExit("duplicate case ids: %s" % sorted({i for i in ids if ids.count(i) > 1})[:5])
    os.makedirs(a.out, exist_ok=True)
    print("diffusers %s at %s (commit %s), torch %s, numpy %s" % (version, pkg, commit, torch.__version__,
                                                                 np.__version__))
    default_shape = msv.SHAPE
    for cls in (DPM, UNIPC):
        cases = []
        for s in specs:
            if s["class"] != cls:
                continue
            s["cls_obj"] = classes[cls]
            msv.SHAPE = s["shape"]
            try:
                cases.append(msv.run_case(s, tape, cr))
            finally:
                msv.SHAPE = default_shape
        doc = {
            "source": "diffusers %s %s (%s), tools/make_multistep_extra_vectors.py, torch %s, float64"
                      % (commit, cls, version, torch.__version__),
            "model": msv.MODEL_FORMULA,
            "facts": msv.FACTS.of(cls),
            "cases": cases,
        }
        raw = json.dumps(doc, separators=(",", ":"), allow_nan=True).encode()
        path = os.path.join(a.out, cls + ".json.gz")
        gz_len = msv.write_gz(path, raw)
        errors = sum(1 for c in cases if c["error"] is not None)
        print("%-32s %4d cases (%d raised in diffusers), %d bytes gzipped -> %s"
              % (cls, len(cases), errors, gz_len, os.path.relpath(path, msv.ROOT)))
        for c in cases:
            if c["error"] is not None:
                print("    error: %s at %s: %s" % (c["id"], c["error_at"], c["error"][:120]))


if __name__ == "__main__":
    main()
