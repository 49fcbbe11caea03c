"""Reference vectors for the Java noise schedulers, from the real diffusers scheduler classes.

Imports DDPMScheduler, DDIMScheduler, EulerDiscreteScheduler, EulerAncestralDiscreteScheduler,
HeunDiscreteScheduler, LMSDiscreteScheduler (with the real scipy.integrate), DPMSolverMultistepScheduler
and UniPCMultistepScheduler from a diffusers *source checkout* (tools/diffusers_src.py; nothing of
diffusers is copied into this repository), builds each case's scheduler with
`Class.from_config(config)` (the dict includes `_class_name`), calls `set_timesteps(n)` and runs the
sampling loop below in float64 with an analytic stand-in model. Output: one gzipped JSON file per
class, sampler/src/test/resources/vectors/schedulers/<ClassName>.json.gz, in the format of
sampler/src/test/resources/vectors/schedulers/README.md (read by SchedulerParityTest).

  model_output[i] = 0.8 * x[i] / sqrt(1 + x[i]^2) + 0.25 * sin(0.013 * t + 0.37 * i)
  x = initial_sample (float64 randn [2,1,2,2] * init_noise_sigma)
  for t in scheduler.timesteps: x = step(model(scale_model_input(x, t), t), t, x, generator=g).prev_sample

Every standard-normal draw goes through diffusers' `randn_tensor`, which is wrapped in each
scheduler module's namespace: the recording run stores each draw (per step, in order), and a
second run replays the stored draws with a differently seeded generator and different global
torch / numpy / random seeds; the script fails unless the replay reproduces every timestep,
sigma, prev_sample and pred_original_sample bit for bit and neither run's generator nor the global
RNGs advanced during the replay (so no randomness bypasses randn_tensor).

Two runs per case (the lead's decision: the Java schedulers compute float32 log/exp/expm1
correctly rounded, not as torch's SLEEF kernels):

  (a) "correctly rounded": the scheduler modules' `torch` and `np` names are proxies whose
      log / exp / expm1 (torch) and log / exp (numpy) evaluate every element with Python's math
      module in float64 and round once to the operand's dtype; torch.Tensor.log/exp/expm1 (method
      calls, e.g. Euler's log_linear `torch.linspace(...).exp()`) and numpy's ndarray `**`
      (np.set_numeric_ops; Karras' `(...) ** rho`, numpy's SVML power) likewise, with math.pow.
      The diffusers code is unchanged. A TorchFunctionMode observer sees every Python-level torch
      call during these runs and the script stops if any non-correctly-rounded torch function
      (TORCH_TRANSCENDENTAL; pow only with an exponent other than 0, 1, 2, 0.5, -1) is reached,
      or if a module reaches any other non-correctly-rounded numpy name (NP_TRANSCENDENTAL).
      Recorded, then replayed with other seeds (the noise check below).
  (b) "installed": the same case with the real torch / numpy, recording the noise anew; the
      script stops unless it drew exactly (a)'s draws, bit for bit, and raised/warned alike.

The case's timesteps, sigmas, init_noise_sigma, initial_sample and steps come from (a); where any
value of (b) differs, the case also gets "installed": {timesteps, sigmas, init_noise_sigma,
final_sample (the last prev_sample; only for cases with steps)} from (b). Before the runs,
check_replacements() proves the replacements compute the functions they replace (within 1-2 ulps
of the installed ones on random operands, same result types, IEEE special values).

Grid (per class; "variant" = DPMSolverMultistep dpmpp-2m {algorithm_type dpmsolver++,
solver_order 2}, dpmpp-2m-karras {the same + use_karras_sigmas true}, dpmpp-2m-sde
{algorithm_type sde-dpmsolver++, solver_order 2}; UniPC bh2-2 {solver_type bh2, solver_order 2};
one variant for the other classes):

  core      every variant x beta_schedule {linear (beta_start 0.0001, beta_end 0.02), scaled_linear
            (0.00085, 0.012), squaredcos_cap_v2} x (timestep_spacing, steps_offset) {(leading, 1),
            (leading, 0), (trailing, 1), (linspace, 1)} x prediction_type {epsilon, v_prediction,
            sample}; num_train_timesteps 1000, num_inference_steps 10, with steps.
  demo      every variant on models/demo/scheduler_config.json with _class_name replaced (cosine,
            v_prediction, leading, offset 1; its other keys kept, diffusers ignores the unknown
            ones) x num_inference_steps {1, 2, 7, 20, 50}, with steps.
  extras    (10 steps unless said; "lin-lead-eps" = linear/leading/offset 1/epsilon,
            "sl-trail-v" = scaled_linear/trailing/offset 1/v_prediction)
            DDIM: eta {0.5, 1.0} (a step() argument, recorded as step_kwargs) on lin-lead-eps and
              the demo config; set_alpha_to_one true on lin-lead-eps and sl-trail-v; clip_sample
              true on lin-lead-eps and the demo config; clip_sample with eta 1.0.
            DDPM: variance_type {fixed_small, fixed_small_log, fixed_large} x clip_sample {false,
              true} on lin-lead-eps, and on the demo config with clip_sample true.
            rescale_betas_zero_snr true with trailing spacing (scaled_linear, v_prediction and
              epsilon) for DDIM, DDPM, Euler, Euler ancestral, every DPM variant, UniPC.
            Euler: use_karras_sigmas true; interpolation_type log_linear; both; on each beta
              schedule with trailing/epsilon (and leading/v_prediction for karras).
            use_karras_sigmas true for Euler, Heun, LMS, DPM (dpmpp-2m, dpmpp-2m-sde), UniPC on
              each beta schedule x {leading offset 1, trailing, linspace} with epsilon.
            DPM (every variant): lower_order_final false; euler_at_final true; final_sigmas_type
              sigma_min; on lin-lead-eps and sl-trail-v.
            UniPC: lower_order_final false; disable_corrector [0]; on lin-lead-eps and sl-trail-v.
            num_train_timesteps 100 with 100 steps (and 101 steps, which diffusers' DDPM/DDIM
              reject) for DDIM, DDPM, Euler, DPM dpmpp-2m, UniPC (linear, leading and trailing).
            invalid keys (errors): beta_schedule "bogus", timestep_spacing "bogus",
              prediction_type "bogus", for every variant.
  schedule  (no "steps": timesteps, sigmas, init_noise_sigma only) every core config with
            prediction_type epsilon x num_inference_steps {1, 3, 25, 50, 999}.

Run from the repository root with Debian's python3 (torch 1.13, numpy, scipy 1.10):

  /usr/bin/python3 tools/make_scheduler_vectors.py /tmp/diffusers-src \
      --commit 58eb52c0803ea9af3abec60841c2a093bdf1f951
"""
import argparse
import contextlib
import gzip
import inspect
import io
import json
import logging
import math
import os
import random
import sys
import warnings
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import diffusers_src  # noqa: E402

OUT_DIR = os.path.join(ROOT, "sampler", "src", "test", "resources", "vectors", "schedulers")
SHAPE = [2, 1, 2, 2]
MODEL_FORMULA = ("model_output[i] = 0.8 * x[i] / sqrt(1 + x[i]^2) + 0.25 * sin(0.013 * t + 0.37 * i), "
                 "x = scale_model_input(sample, t) flattened in index order, t = float64(timestep), "
                 "evaluated left to right in float64 (Python math.sqrt / math.sin)")

MODULES = {
    "DDPMScheduler": "scheduling_ddpm",
    "DDIMScheduler": "scheduling_ddim",
    "EulerDiscreteScheduler": "scheduling_euler_discrete",
    "EulerAncestralDiscreteScheduler": "scheduling_euler_ancestral_discrete",
    "HeunDiscreteScheduler": "scheduling_heun_discrete",
    "LMSDiscreteScheduler": "scheduling_lms_discrete",
    "DPMSolverMultistepScheduler": "scheduling_dpmsolver_multistep",
    "UniPCMultistepScheduler": "scheduling_unipc_multistep",
}
VARIANTS = {
    "DPMSolverMultistepScheduler": [
        ("dpmpp-2m", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
        ("dpmpp-2m-karras", {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True}),
        ("dpmpp-2m-sde", {"algorithm_type": "sde-dpmsolver++", "solver_order": 2}),
    ],
    "UniPCMultistepScheduler": [("bh2-2", {"solver_type": "bh2", "solver_order": 2})],
}
BETAS = {
    "linear": {"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02},
    "scaled_linear": {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012},
    "squaredcos_cap_v2": {"beta_schedule": "squaredcos_cap_v2"},
}
SPACINGS = [("leading", 1), ("leading", 0), ("trailing", 1), ("linspace", 1)]
PREDICTIONS = ["epsilon", "v_prediction", "sample"]


def variants(cls):
    return VARIANTS.get(cls, [(None, {})])


# ---- noise recording ----------------------------------------------------------------------------
class TapeError(Exception):
    """The recorded noise was not used as recorded (never a diffusers error)."""


class NoiseTape:
    """Stands in for diffusers' randn_tensor in every scheduler module: records each draw (mode
    "record", drawing with the original function) or hands the recorded draws back in order
    (mode "replay", checking the requested shape and dtype)."""

    def __init__(self, original):
        self.original = original
        self.mode = None
        self.steps = []  # per step: list of (shape, dtype, tensor)
        self.cursor = None

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        if self.mode == "record":
            if not self.steps:
                raise TapeError("randn_tensor called before the first step")
            t = self.original(shape, generator=generator, device=device, dtype=dtype, layout=layout)
            self.steps[-1].append((tuple(shape), dtype, t.clone()))
            return t
        if self.mode == "replay":
            step, k = self.cursor
            rec = self.steps[step]
            if k >= len(rec):
                raise TapeError("replay: step %d asked for draw %d, only %d recorded" % (step, k, len(rec)))
            rshape, rdtype, t = rec[k]
            if tuple(shape) != rshape or dtype != rdtype:
                raise TapeError("replay: step %d draw %d is %s %s, recorded %s %s"
                                     % (step, k, tuple(shape), dtype, rshape, rdtype))
            self.cursor = (step, k + 1)
            return t.clone()
        raise TapeError("randn_tensor called outside a recorded step")


# ---- correctly rounded elementary functions (run "a") -------------------------------------------
# torch 1.13's float32 (and float64) log/exp/expm1 are SLEEF kernels and numpy 1.24's log/exp/power
# are SIMD kernels (AVX512 here): neither is correctly rounded. The Java schedulers compute these
# functions correctly rounded (float64 StrictMath/Math, rounded once to float32 where diffusers'
# operand is float32), so each case runs first with these replacements in the scheduler modules
# (the diffusers code itself unchanged) and then as installed. The replacements evaluate every
# element with Python's math module (glibc; what a Java StrictMath/Math port computes up to float64
# round-off) and round the float64 result once to the operand's dtype.
class PatchError(Exception):
    """The correctly rounded replacements were incomplete or misused (never a diffusers error)."""


def _math_elementwise(fn):
    """float -> float through `fn` (math.log / math.exp / math.expm1), with the IEEE special results
    where math raises instead: log(0) = -inf, log(x < 0) = nan, exp/expm1 overflow = inf. (Computed
    here, not by the installed function: run "a" must not reach it at all.)"""
    def f(v):
        try:
            return fn(v)
        except ValueError:
            if fn is math.log:
                return -math.inf if v == 0 else math.nan
            raise
        except OverflowError:
            if fn in (math.exp, math.expm1) and v > 0:
                return math.inf
            raise
    return f


# torch / numpy name -> the math function that replaces it in run "a"
_CR_UNARY = {
    "log": math.log,
    "exp": math.exp,
    "expm1": math.expm1,
}
# exponents for which torch's pow kernel is exact or correctly rounded (fill 1, copy, x*x, sqrt, 1/x)
EXACT_TORCH_POW = (0, 1, 2, 0.5, -1)
# Python-visible torch functions that are not correctly rounded elementary functions; in run "a"
# none of them may be reached (pow only with an exponent outside EXACT_TORCH_POW)
TORCH_TRANSCENDENTAL = {
    "log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "pow", "float_power", "sigmoid", "tanh", "sin", "cos",
    "tan", "asin", "acos", "atan", "atan2", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "asinh",
    "acosh", "atanh", "arcsinh", "arccosh", "arctanh", "erf", "erfc", "erfinv", "lgamma", "digamma", "polygamma",
    "mvlgamma", "logit", "logsumexp", "logaddexp", "logaddexp2", "logcumsumexp", "softplus", "rsqrt", "sinc", "xlogy",
    "xlog1py", "i0", "softmax", "log_softmax", "expit", "gammaln", "ndtr", "ndtri", "log_ndtr", "entr",
    "erfcx", "i0e", "i1", "i1e", "silu", "gelu", "elu", "selu", "celu", "mish", "logsigmoid",
}
# numpy functions that are not correctly rounded (SIMD / SVML kernels here); run "a" replaces
# log, exp and power and fails if a scheduler module reaches any other one
NP_TRANSCENDENTAL = {
    "log", "log2", "log10", "log1p", "exp", "exp2", "expm1", "power", "float_power", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "logaddexp",
    "logaddexp2", "cbrt", "sinc", "i0", "hypot",
}


def _torch_name(func):
    """(plain name, reflected): torch.special.expm1 -> "expm1", Tensor.log_ -> "log", __ipow__ ->
    "pow", __rpow__ -> ("pow", True) (its first argument is then the exponent)."""
    n = getattr(func, "__name__", str(func))
    reflected = False
    if n.startswith("__") and n.endswith("__"):
        n = n[2:-2]
        if n in ("rpow", "ipow"):
            reflected = n == "rpow"
            n = "pow"
    if n.startswith("special_"):
        n = n[len("special_"):]
    return (n.rstrip("_") or n), reflected


class TorchObserver(torch.overrides.TorchFunctionMode):
    """Sees every Python-level torch call (functions, Tensor methods, operators) while active and
    records the calls of TORCH_TRANSCENDENTAL functions on tensors (pow only with an exponent
    outside EXACT_TORCH_POW), as "name dtype[ ** exponent]". Numerically transparent."""

    def __init__(self):
        super().__init__()
        self.calls = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name, reflected = _torch_name(func)
        if name in TORCH_TRANSCENDENTAL:
            tensors = [a for a in list(args) + list(kwargs.values()) if isinstance(a, torch.Tensor)]
            if tensors:
                key = name + " " + ",".join(dtype_name(t) for t in tensors)
                exact = False
                if name == "pow" and not reflected and len(args) == 2 and isinstance(args[0], torch.Tensor) \
                        and isinstance(args[1], (int, float)) and not isinstance(args[1], bool):
                    exact = args[1] in EXACT_TORCH_POW and args[0].is_floating_point()
                    key += " ** %r" % (args[1],)
                elif reflected:
                    key += " (scalar ** tensor)"
                if not exact:
                    self.calls[key] = self.calls.get(key, 0) + 1
        return func(*args, **kwargs)


class CorrectlyRounded:
    """The replacements for one run "a": proxies for the `torch` and `np` names of the scheduler
    modules, torch.Tensor.log/exp/expm1 (method calls such as Euler's `torch.linspace(...).exp()`)
    and numpy's ndarray `**` (np.set_numeric_ops: Karras' `ramp-expression ** rho`). `calls` counts
    the replaced calls ("torch.exp float32", ...); `violations` the accesses of other
    non-correctly-rounded numpy names (the TorchObserver covers torch)."""

    def __init__(self, modules):
        self.modules = modules
        self.calls = {}
        self.violations = []
        self._orig_power = np.power
        self.torch_proxy = _ModuleProxy(torch, {n: self._torch_unary(n, f) for n, f in _CR_UNARY.items()},
                                        set(), self.violations)
        self.np_proxy = _ModuleProxy(np, dict({n: self._np_unary(n, f) for n, f in _CR_UNARY.items()
                                               if n in ("log", "exp")}, power=self._np_power),
                                     NP_TRANSCENDENTAL, self.violations)

    def _count(self, key):
        self.calls[key] = self.calls.get(key, 0) + 1

    def _torch_unary(self, name, fn):
        elem = _math_elementwise(fn)

        def f(input, *args, **kwargs):
            if args or kwargs or not isinstance(input, torch.Tensor) \
                    or input.dtype not in (torch.float32, torch.float64) or input.requires_grad:
                raise PatchError("torch.%s called with an unsupported signature: %r %r %r"
                                 % (name, type(input), args, kwargs))
            self._count("torch.%s %s" % (name, dtype_name(input)))
            vals = [elem(v) for v in input.detach().reshape(-1).tolist()]
            # float64 result, rounded once to the operand's dtype (round to nearest even)
            return torch.tensor(vals, dtype=torch.float64).to(input.dtype).reshape(input.shape)
        f.__name__ = name
        return f

    def _np_unary(self, name, fn):
        elem = _math_elementwise(fn)

        def f(x, *args, **kwargs):
            if args or kwargs:
                raise PatchError("np.%s called with extra arguments %r %r" % (name, args, kwargs))
            a = np.asarray(x)
            if a.dtype == np.float32:
                odt = np.float32
            elif a.dtype == np.float64 or a.dtype.kind in "iub":
                odt = np.float64  # numpy's loop for integer operands is float64 too
            else:
                raise PatchError("np.%s of dtype %s" % (name, a.dtype))
            self._count("np.%s %s" % (name, np.dtype(odt).name))
            out = np.array([elem(float(v)) for v in a.reshape(-1)], dtype=np.float64).astype(odt).reshape(a.shape)
            return out if isinstance(x, np.ndarray) else out[()]  # numpy scalar for scalar input, as numpy
        f.__name__ = name
        return f

    def _np_power(self, a, b, *out, **kwargs):
        """np.power and ndarray ** (set_numeric_ops also passes `out` for **=)."""
        if kwargs or len(out) > 1:
            raise PatchError("np.power called with %r %r" % (out, kwargs))
        rt = np.result_type(a, b)  # numpy 1.24's value-based promotion (float32 array ** 7.0 -> float32)
        if rt.kind != "f":
            return self._orig_power(a, b, *out)  # integer powers are exact
        if rt not in (np.float32, np.float64):
            raise PatchError("np.power of dtype %s" % rt)
        self._count("np.power %s" % rt.name)
        A, B = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
        vals = []
        for x, y in zip(A.reshape(-1).tolist(), B.reshape(-1).tolist()):
            try:
                vals.append(math.pow(x, y))
            except (ValueError, OverflowError):  # nan / inf / 0 cases: the same in every implementation
                v = float(np.float64(x) ** np.float64(y))  # numpy scalar arithmetic: C pow, not the ufunc
                if not (math.isnan(v) or math.isinf(v) or v == 0.0):
                    raise PatchError("math.pow(%r, %r) raised, but np.power gives %r" % (x, y, v))
                vals.append(v)
        r = np.array(vals, dtype=np.float64).astype(rt).reshape(A.shape)
        if out:
            out[0][...] = r
            return out[0]
        if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
            return r[()]
        return r

    @contextlib.contextmanager
    def active(self):
        saved_mods = [(m, m.torch, m.np) for m in self.modules]
        methods = []
        for name in _CR_UNARY:
            if name in torch.Tensor.__dict__:
                raise PatchError("torch.Tensor already defines %s in Python" % name)
            fn = self.torch_proxy._replacements[name]
            methods.append(name)  # shadows the C method of torch._C._TensorBase until deleted
            setattr(torch.Tensor, name, (lambda f: lambda self_, *a, **k: f(self_, *a, **k))(fn))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # set_numeric_ops: deprecated, still honoured
            old_ops = np.set_numeric_ops(power=self._np_power)
        for m in self.modules:
            m.torch, m.np = self.torch_proxy, self.np_proxy
        try:
            yield self
        finally:
            for m, t, n in saved_mods:
                m.torch, m.np = t, n
            for name in methods:
                delattr(torch.Tensor, name)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                np.set_numeric_ops(power=old_ops["power"])


class _ModuleProxy:
    """Stands for a module in a scheduler module's namespace: `replacements` by name, everything
    else from the real module; accessing a name in `forbidden` is recorded in `violations`."""

    def __init__(self, real, replacements, forbidden, violations):
        self._real = real
        self._replacements = replacements
        self._forbidden = forbidden
        self._violations = violations

    def __getattr__(self, name):
        if name in self._replacements:
            return self._replacements[name]
        if name in self._forbidden:
            self._violations.append("%s.%s" % (self._real.__name__, name))
        return getattr(self._real, name)


def check_replacements(cr):
    """The replacements compute the functions they replace: on random operands, each is within one
    unit in the last place of its dtype of the installed function (SLEEF's u10 kernels are within
    1 ulp of the exact value, so the correctly rounded value is too; numpy's SIMD kernels within 2:
    its float32 log is 2 ulps off near 1 here), agrees with its Tensor-method form, keeps numpy's
    result types, and gives the IEEE special values. Returns a one-line summary (how often the
    installed function differs from the correctly rounded one)."""
    rng = np.random.RandomState(20240611)
    operands = {"log": np.concatenate([rng.uniform(1e-6, 50.0, 4000), np.exp(rng.uniform(-20.0, 4.0, 4000))]),
                "exp": np.concatenate([rng.uniform(-30.0, 30.0, 4000), -np.exp(rng.uniform(-20.0, 3.0, 4000))]),
                "expm1": np.concatenate([rng.uniform(-30.0, 30.0, 4000), rng.uniform(-1e-3, 1e-3, 4000)])}
    out = []
    with cr.active():
        for name in _CR_UNARY:
            for dt in (torch.float32, torch.float64):
                x = torch.tensor(operands[name]).to(dt)
                got = getattr(cr.torch_proxy, name)(x)
                want = getattr(torch, name)(x)  # the real function (only the proxy and the method are replaced)
                ulps = _ulp_distance(got.numpy(), want.numpy())
                if not torch.equal(got, getattr(x, name)()) or got.dtype != dt or ulps > 1:
                    raise SystemExit("replacement torch.%s %s: %d ulps from the installed function" % (name, dt, ulps))
                out.append("torch.%s %s %.1f%%" % (name, dtype_name(x), 100 * float((got != want).double().mean())))
            special = torch.tensor([0.0, -0.0, -1.0, math.inf, -math.inf, math.nan, 1000.0, -1000.0])
            got, want = getattr(cr.torch_proxy, name)(special), getattr(torch, name)(special)
            if not torch.equal(torch.nan_to_num(got, 7.0), torch.nan_to_num(want, 7.0)):
                raise SystemExit("replacement torch.%s: special values %s, installed %s" % (name, got, want))
        for name in ("log", "exp"):
            f = getattr(cr.np_proxy, name)
            for dt in (np.float32, np.float64):
                x = operands[name].astype(dt)
                got, want = f(x), getattr(np, name)(x)
                if got.dtype != want.dtype or type(f(x[0])) is not type(getattr(np, name)(x[0])) \
                        or type(f(0.5)) is not type(getattr(np, name)(0.5)):
                    raise SystemExit("replacement np.%s %s: result types differ from numpy's" % (name, dt))
                ulps = _ulp_distance(got, want)
                if ulps > 2:
                    raise SystemExit("replacement np.%s %s: %d ulps from numpy" % (name, np.dtype(dt).name, ulps))
                out.append("np.%s %s %.1f%%" % (name, np.dtype(dt).name, 100 * float(np.mean(got != want))))
        base = rng.uniform(0.05, 3.0, 4000)
        got = base ** 7.0  # through set_numeric_ops
        want = cr._orig_power(base, 7.0)
        ulps = _ulp_distance(got, want)
        if ulps > 2 or got.dtype != want.dtype or got.tolist() != [math.pow(b, 7.0) for b in base.tolist()]:
            raise SystemExit("replacement ndarray ** : %d ulps from numpy, or not math.pow" % ulps)
        out.append("ndarray ** 7.0 float64 %.1f%%" % (100 * float(np.mean(got != want))))
    if not np.array_equal(base ** 7.0, want):
        raise SystemExit("the ndarray ** replacement was not removed")
    return "installed differs from correctly rounded in " + ", ".join(out)


def _ulp_distance(a, b):
    """Largest distance in units in the last place between two float32 or float64 arrays (NaN = NaN)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return 1 << 62
    it = np.int32 if a.dtype == np.float32 else np.int64
    mask = np.iinfo(it).max

    def line(x):  # sign-magnitude bits to a monotone integer line
        i = np.ascontiguousarray(x).view(it).astype(np.int64)
        return np.where(i < 0, -(i & mask), i)

    both_nan = np.isnan(a) & np.isnan(b)
    d = np.abs(line(a) - line(b))
    d[both_nan] = 0
    return int(d.max()) if d.size else 0


def model(x, t):
    tf = float(t)
    vals = x.reshape(-1).tolist()
    out = [0.8 * v / math.sqrt(1.0 + v * v) + 0.25 * math.sin(0.013 * tf + 0.37 * i) for i, v in enumerate(vals)]
    return torch.tensor(out, dtype=torch.float64).reshape(x.shape)


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def dtype_name(x):
    if isinstance(x, torch.Tensor):
        return str(x.dtype).replace("torch.", "")
    return type(x).__name__


class Facts:
    """Per class: the dtypes and types diffusers produced, warnings it logged, errors."""

    def __init__(self):
        self.d = {}

    def add(self, cls, key, value):
        self.d.setdefault(cls, {}).setdefault(key, set()).add(value)

    def of(self, cls):
        return {k: sorted(v) for k, v in sorted(self.d.get(cls, {}).items())}


FACTS = Facts()


class _LogCapture(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def captured():
    """Collects diffusers' logger warnings and Python warnings (and keeps them off stderr)."""
    handler = _LogCapture()
    lg = logging.getLogger("diffusers")
    old_prop, old_handlers = lg.propagate, list(lg.handlers)
    for h in old_handlers:
        lg.removeHandler(h)
    lg.addHandler(handler)
    lg.propagate = False
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter("always")
        try:
            yield handler.messages
        finally:
            handler.messages.extend(str(w.message) for w in ws)
            lg.removeHandler(handler)
            for h in old_handlers:
                lg.addHandler(h)
            lg.propagate = old_prop


def run_once(cls_obj, config, n, with_steps, seed, tape, mode, step_kwargs):
    """One run of a case: (result dict, error or None). mode: "record" or "replay"."""
    res = {"timesteps": None, "sigmas": [], "init_noise_sigma": None, "initial_sample": None, "steps": []}
    where = "from_config"
    try:
        sched = cls_obj.from_config(dict(config))
        where = "set_timesteps"
        sched.set_timesteps(n)
        ts = sched.timesteps
        res["timesteps"] = [float(v) for v in ts.tolist()]
        res["timesteps_dtype"] = dtype_name(ts)
        sig = getattr(sched, "sigmas", None)
        if sig is not None:
            res["sigmas"] = [float(v) for v in sig.tolist()]
            res["sigmas_dtype"] = dtype_name(sig)
        ins = sched.init_noise_sigma
        res["init_noise_sigma"] = float(ins)
        res["init_noise_sigma_type"] = dtype_name(ins) + ("" if not isinstance(ins, torch.Tensor) else "-tensor")
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(SHAPE, generator=g, dtype=torch.float64) * ins
        res["initial_sample"] = flat(x)
        res["initial_sample_dtype"] = dtype_name(x)
        if not with_steps:
            return res, None
        where = "step"
        step_gen = torch.Generator().manual_seed(seed + 1 if mode == "record" else seed + 7919)
        takes_gen = "generator" in inspect.signature(sched.step).parameters
        kwargs = dict(step_kwargs)
        if takes_gen:
            kwargs["generator"] = step_gen
        gen_state = step_gen.get_state()
        for k, t in enumerate(sched.timesteps):
            if mode == "record":
                tape.steps.append([])
            else:
                tape.cursor = (k, 0)
            xin = sched.scale_model_input(x, t)
            out = model(xin, t)
            o = sched.step(out, t, x, **kwargs)
            prev = o.prev_sample
            po = getattr(o, "pred_original_sample", None)
            st = {"timestep": float(t), "prev_sample": flat(prev),
                  "pred_original_sample": None if po is None else flat(po),
                  "_dtypes": (dtype_name(xin), dtype_name(prev), None if po is None else dtype_name(po))}
            if mode == "replay" and tape.cursor[1] != len(tape.steps[k]):
                raise TapeError("replay: step %d used %d of %d recorded draws" % (k, tape.cursor[1], len(tape.steps[k])))
            res["steps"].append(st)
            x = prev
        if mode == "replay" and not torch.equal(step_gen.get_state(), gen_state):
            raise TapeError("replay: the step generator advanced (randomness outside randn_tensor)")
        return res, None
    except (TapeError, PatchError):
        raise
    except Exception as e:  # noqa: BLE001 - any diffusers exception is a recorded "error" case
        return res, (where, type(e).__name__, str(e) or type(e).__name__)


def run_case(spec, tape, cr):
    """Runs one case (a) correctly rounded, recording the noise, (a) again replaying it, and (b) as
    installed with the same recorded draws; returns the case dict (from (a), plus "installed" from
    (b) where any recorded value differs)."""
    cls = spec["class"]
    cls_obj = spec["cls_obj"]
    seed = zlib.crc32(spec["id"].encode()) & 0x7FFFFFFF
    step_kwargs = spec.get("step_kwargs", {})
    # (a) correctly rounded log/exp/expm1/power: record
    tape.mode, tape.steps, tape.cursor = "record", [], None
    shared = tape.steps
    cr.calls = {}
    del cr.violations[:]
    observers = [TorchObserver(), TorchObserver()]
    torch.manual_seed(1234)
    np.random.seed(1234)
    random.seed(1234)
    with cr.active(), observers[0], captured() as msgs:
        res, err = run_once(cls_obj, spec["config"], spec["n"], spec["with_steps"], seed, tape, "record", step_kwargs)
    # (a) replay: different global seeds and step generator; recorded draws only
    tape.mode = "replay"
    torch.manual_seed(98765)
    np.random.seed(98765)
    random.seed(98765)
    g_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    py_state = random.getstate()
    with cr.active(), observers[1], captured():
        res2, err2 = run_once(cls_obj, spec["config"], spec["n"], spec["with_steps"], seed, tape, "replay",
                              step_kwargs)
    tape.mode = None
    if (err is None) != (err2 is None) or json.dumps(strip(res)) != json.dumps(strip(res2)):
        raise SystemExit("%s: the replay with recorded noise did not reproduce the run bit for bit" % spec["id"])
    if not torch.equal(torch.get_rng_state(), g_state) or not np.array_equal(np.random.get_state()[1], np_state) \
            or random.getstate() != py_state:
        raise SystemExit("%s: a global RNG advanced during the replay (randomness outside randn_tensor)" % spec["id"])
    # the replacements are complete: no other non-correctly-rounded torch call, no other numpy name
    leaks = sorted(set(observers[0].calls) | set(observers[1].calls)) + sorted(set(cr.violations))
    if leaks:
        raise SystemExit("%s: the correctly rounded run reached functions it does not replace: %s"
                         % (spec["id"], ", ".join(leaks)))
    for key, count in cr.calls.items():
        FACTS.add(cls, "correctly_rounded_calls", key)
        CR_CALLS.setdefault(cls, {})[key] = CR_CALLS.get(cls, {}).get(key, 0) + count

    # (b) as installed (no replacement), recording the draws anew: they must be (a)'s, bit for bit
    tape.mode, tape.steps, tape.cursor = "record", [], None
    observer_b = TorchObserver()
    torch.manual_seed(1234)
    np.random.seed(1234)
    random.seed(1234)
    with observer_b, captured() as msgs_b:
        res_b, err_b = run_once(cls_obj, spec["config"], spec["n"], spec["with_steps"], seed, tape, "record",
                                step_kwargs)
    tape.mode = None
    draws_b, tape.steps = tape.steps, shared
    if not same_draws(shared, draws_b):
        raise SystemExit("%s: the installed run drew other noise than the correctly rounded one" % spec["id"])
    if err != err_b or sorted(set(msgs)) != sorted(set(msgs_b)):
        raise SystemExit("%s: the installed run raised or warned differently: %r %r vs %r %r"
                         % (spec["id"], err, sorted(set(msgs)), err_b, sorted(set(msgs_b))))
    for key in DTYPE_KEYS:
        if res.get(key) != res_b.get(key):
            raise SystemExit("%s: %s differs between the runs: %r vs %r" % (spec["id"], key, res.get(key),
                                                                          res_b.get(key)))
    for key in observer_b.calls:
        FACTS.add(cls, "installed_non_correctly_rounded_torch_calls", key)
    installed = None
    if recorded_values(res) != recorded_values(res_b):
        installed = {"timesteps": res_b["timesteps"] if res_b["timesteps"] is not None else [],
                     "sigmas": res_b["sigmas"], "init_noise_sigma": res_b["init_noise_sigma"]}
        if spec["with_steps"] and err is None and res_b["steps"]:
            installed["final_sample"] = res_b["steps"][-1]["prev_sample"]
        INSTALLED.note(cls, spec["id"], res, res_b, installed)

    case = {"id": spec["id"], "group": spec["group"], "variant": spec.get("variant"), "config": spec["config"],
            "num_inference_steps": spec["n"]}
    if spec.get("step_kwargs"):
        case["step_kwargs"] = spec["step_kwargs"]
    case["error"] = None if err is None else err[2]
    if err is not None:
        case["error_type"] = err[1]
        case["error_at"] = err[0]
        FACTS.add(cls, "errors", "%s at %s: %s" % (err[1], err[0], err[2]))
    case["timesteps"] = res["timesteps"] if res["timesteps"] is not None else []
    case["sigmas"] = res["sigmas"]
    case["init_noise_sigma"] = res["init_noise_sigma"]
    case["shape"] = SHAPE
    case["initial_sample"] = res["initial_sample"]
    for key in ("timesteps_dtype", "sigmas_dtype", "init_noise_sigma_type", "initial_sample_dtype"):
        if key in res:
            FACTS.add(cls, key, res[key])
    if spec["with_steps"] and err is None:
        steps = []
        for k, st in enumerate(res["steps"]):
            draws = shared[k] if k < len(shared) else []
            for shp, dt, tens in draws:
                FACTS.add(cls, "noise_dtype", str(dt).replace("torch.", "") + " (tensor " + dtype_name(tens) + ")")
            xin_dt, prev_dt, po_dt = st.pop("_dtypes")
            FACTS.add(cls, "scale_model_input_dtype", xin_dt)
            FACTS.add(cls, "prev_sample_dtype", prev_dt)
            FACTS.add(cls, "pred_original_sample_dtype", str(po_dt))
            steps.append({"timestep": st["timestep"], "noise": [flat(d[2]) for d in draws],
                          "prev_sample": st["prev_sample"], "pred_original_sample": st["pred_original_sample"]})
        case["steps"] = steps
        FACTS.add(cls, "draws_per_step", str(sorted({len(s["noise"]) for s in steps})))
    elif spec["with_steps"] and err is not None and err[0] == "step":
        case["steps_before_error"] = len(res["steps"])
    for m in msgs:
        FACTS.add(cls, "warnings", m[:300])
    if msgs:
        case["warnings"] = sorted(set(m[:300] for m in msgs))
    if installed is not None:
        case["installed"] = installed
    return case


DTYPE_KEYS = ("timesteps_dtype", "sigmas_dtype", "init_noise_sigma_type", "initial_sample_dtype")
CR_CALLS = {}  # class -> {"torch.exp float32": calls in the correctly rounded runs}


def same_draws(a, b):
    """The two runs' recorded draws are the same, bit for bit (count, shape, dtype, values)."""
    if len(a) != len(b):
        return False
    for sa, sb in zip(a, b):
        if len(sa) != len(sb):
            return False
        for (sha, dta, ta), (shb, dtb, tb) in zip(sa, sb):
            if sha != shb or dta != dtb or ta.dtype != tb.dtype or not torch.equal(ta, tb):
                return False
    return True


def recorded_values(res):
    """Every value a case records: schedule, initial sample, each step's samples."""
    return json.dumps([res["timesteps"], res["sigmas"], res["init_noise_sigma"], res["initial_sample"],
                       [[s["timestep"], s["prev_sample"], s["pred_original_sample"]] for s in res["steps"]]])


def rel_err(got, want):
    """|got - want| / |want| (0 if equal, NaN = NaN; inf where want is 0 and got is not), as the test."""
    if got == want or (math.isnan(got) and math.isnan(want)):
        return 0.0
    return abs(got - want) / abs(want) if want != 0 else math.inf


def rel_l2(got, want):
    """||got - want|| / ||want||, as SchedulerParityTest.relL2."""
    d = n = 0.0
    for g, w in zip(got, want):
        if math.isnan(g) or math.isnan(w):
            if math.isnan(g) != math.isnan(w):
                return math.inf
            continue
        n += w * w
        if g != w:
            d += (g - w) * (g - w)
    return math.sqrt(d) if n == 0 or math.isinf(n) else math.sqrt(d / n)


class InstalledStats:
    """Per class: the cases whose installed run differs from the correctly rounded one, and the
    largest differences between the two (relative, as the test measures them)."""

    def __init__(self):
        self.d = {}

    def note(self, cls, cid, a, b, installed):
        s = self.d.setdefault(cls, {"cases": 0, "schedule_cases": 0, "sample_cases": 0, "worst": {}})
        s["cases"] += 1
        worst = s["worst"]

        def upd(key, v):
            if key not in worst or v > worst[key][0]:
                worst[key] = (v, cid)

        ta, tb = a["timesteps"] or [], b["timesteps"] or []
        if len(ta) != len(tb) or len(a["sigmas"]) != len(b["sigmas"]):
            raise SystemExit("%s: the installed run has another number of timesteps or sigmas" % cid)
        sched = [rel_err(y, x) for x, y in zip(ta, tb)] + [rel_err(y, x) for x, y in zip(a["sigmas"], b["sigmas"])]
        if a["init_noise_sigma"] is not None:
            sched.append(rel_err(b["init_noise_sigma"], a["init_noise_sigma"]))
        if any(v != 0 for v in sched):
            s["schedule_cases"] += 1
        upd("timesteps", max([rel_err(y, x) for x, y in zip(ta, tb)], default=0.0))
        upd("sigmas", max([rel_err(y, x) for x, y in zip(a["sigmas"], b["sigmas"])], default=0.0))
        if a["init_noise_sigma"] is not None:
            upd("init_noise_sigma", rel_err(b["init_noise_sigma"], a["init_noise_sigma"]))
        if "final_sample" in installed:
            fa = a["steps"][-1]["prev_sample"]
            v = rel_l2(installed["final_sample"], fa)
            if v != 0:
                s["sample_cases"] += 1
            upd("final_sample", v)
            upd("any_prev_sample", max(rel_l2(y["prev_sample"], x["prev_sample"])
                                       for x, y in zip(a["steps"], b["steps"])))

    def lines(self, cls):
        s = self.d.get(cls)
        if s is None:
            return ["installed = correctly rounded in every case"]
        out = ["%d cases carry \"installed\" (%d with another schedule, %d with another final sample)"
               % (s["cases"], s["schedule_cases"], s["sample_cases"])]
        for key in ("timesteps", "sigmas", "init_noise_sigma", "final_sample", "any_prev_sample"):
            if key in s["worst"]:
                v, cid = s["worst"][key]
                out.append("worst %s difference %.3e%s" % (key, v, " (%s)" % cid if v else ""))
        return out


INSTALLED = InstalledStats()


def strip(res):
    return {k: ([dict((a, b) for a, b in s.items() if a != "_dtypes") for s in v] if k == "steps" else v)
            for k, v in res.items()}


# ---- the grid -----------------------------------------------------------------------------------
def base(cls, beta, spacing, offset, pred, extra=None, ntrain=1000):
    c = {"_class_name": cls, "num_train_timesteps": ntrain}
    c.update(BETAS[beta])
    c.update({"prediction_type": pred, "timestep_spacing": spacing, "steps_offset": offset})
    if extra:
        c.update(extra)
    return c


def make_id(cls, variant, beta, spacing, offset, pred, n, extra=None):
    s = "%s/%s/%s/%s/offset=%d/steps=%d" % (cls, beta, spacing, pred, offset, n)
    if variant:
        s += "/variant=" + variant
    if extra:
        s += "/extra=" + extra
    return s


def grid(demo_config):
    specs = []

    def add(cls, variant, vkeys, beta, spacing, offset, pred, n, group, extra=None, keys=None, with_steps=True,
            step_kwargs=None, ntrain=1000):
        cfg = base(cls, beta, spacing, offset, pred, dict(vkeys, **(keys or {})), ntrain)
        sid = make_id(cls, variant, beta, spacing, offset, pred, n, extra)
        if ntrain != 1000:
            sid += "/train=%d" % ntrain
        specs.append({"id": sid, "class": cls, "variant": variant, "config": cfg, "n": n, "group": group,
                      "with_steps": with_steps, "step_kwargs": step_kwargs or {}})

    def add_cfg(cls, variant, cfg, n, group, sid, step_kwargs=None):
        specs.append({"id": sid, "class": cls, "variant": variant, "config": cfg, "n": n, "group": group,
                      "with_steps": True, "step_kwargs": step_kwargs or {}})

    def demo(cls, vkeys, **over):
        c = dict(demo_config)
        c["_class_name"] = cls
        c.update(vkeys)
        c.update(over)
        return c

    for cls in MODULES:
        for variant, vk in variants(cls):
            # core
            for beta in BETAS:
                for spacing, offset in SPACINGS:
                    for pred in PREDICTIONS:
                        add(cls, variant, vk, beta, spacing, offset, pred, 10, "core")
            # demo config x steps
            for n in (1, 2, 7, 20, 50):
                sid = "%s/demo/steps=%d" % (cls, n) + ("/variant=" + variant if variant else "")
                add_cfg(cls, variant, demo(cls, vk), n, "demo", sid)
            # invalid values: diffusers raises, Java must reject
            for key in ("beta_schedule", "timestep_spacing", "prediction_type"):
                add(cls, variant, vk, "linear", "leading", 1, "epsilon", 10, "invalid", "invalid-" + key,
                    {key: "bogus"})
            # schedule only
            for beta in BETAS:
                for spacing, offset in SPACINGS:
                    for n in (1, 3, 25, 50, 999):
                        add(cls, variant, vk, beta, spacing, offset, "epsilon", n, "schedule", with_steps=False)

    def lin_lead_eps(cls, variant, vk, extra, keys, **kw):
        add(cls, variant, vk, "linear", "leading", 1, "epsilon", kw.pop("n", 10), "extra", extra, keys, **kw)

    def sl_trail_v(cls, variant, vk, extra, keys, **kw):
        add(cls, variant, vk, "scaled_linear", "trailing", 1, "v_prediction", kw.pop("n", 10), "extra", extra, keys,
            **kw)

    # DDIM
    c = "DDIMScheduler"
    for eta in (0.5, 1.0):
        lin_lead_eps(c, None, {}, "eta=%s" % eta, {}, step_kwargs={"eta": eta})
        add_cfg(c, None, demo(c, {}), 10, "extra", "%s/demo/steps=10/extra=eta=%s" % (c, eta), {"eta": eta})
    lin_lead_eps(c, None, {}, "set_alpha_to_one", {"set_alpha_to_one": True})
    sl_trail_v(c, None, {}, "set_alpha_to_one", {"set_alpha_to_one": True})
    lin_lead_eps(c, None, {}, "clip_sample", {"clip_sample": True})
    add_cfg(c, None, demo(c, {}, clip_sample=True), 10, "extra", "%s/demo/steps=10/extra=clip_sample" % c)
    lin_lead_eps(c, None, {}, "clip_sample,eta=1.0", {"clip_sample": True}, step_kwargs={"eta": 1.0})
    # DDPM
    c = "DDPMScheduler"
    for vt in ("fixed_small", "fixed_small_log", "fixed_large"):
        lin_lead_eps(c, None, {}, "variance_type=" + vt, {"variance_type": vt})
        lin_lead_eps(c, None, {}, "variance_type=%s,clip_sample" % vt, {"variance_type": vt, "clip_sample": True})
        add_cfg(c, None, demo(c, {}, variance_type=vt, clip_sample=True), 10, "extra",
                "%s/demo/steps=10/extra=variance_type=%s,clip_sample" % (c, vt))
    # zero-SNR rescale with trailing spacing
    for cls in ("DDIMScheduler", "DDPMScheduler", "EulerDiscreteScheduler", "EulerAncestralDiscreteScheduler",
                "DPMSolverMultistepScheduler", "UniPCMultistepScheduler"):
        for variant, vk in variants(cls):
            for pred in ("v_prediction", "epsilon"):
                add(cls, variant, vk, "scaled_linear", "trailing", 1, pred, 10, "extra", "rescale_betas_zero_snr",
                    {"rescale_betas_zero_snr": True})
    # Euler sigma options
    c = "EulerDiscreteScheduler"
    for beta in BETAS:
        for extra, keys in (("use_karras_sigmas", {"use_karras_sigmas": True}),
                            ("interpolation_type=log_linear", {"interpolation_type": "log_linear"}),
                            ("use_karras_sigmas,interpolation_type=log_linear",
                             {"use_karras_sigmas": True, "interpolation_type": "log_linear"})):
            add(c, None, {}, beta, "trailing", 1, "epsilon", 10, "extra", extra, keys)
        add(c, None, {}, beta, "leading", 1, "v_prediction", 10, "extra", "use_karras_sigmas",
            {"use_karras_sigmas": True})
    # Karras sigmas for the sigma schedulers
    for cls in ("EulerDiscreteScheduler", "HeunDiscreteScheduler", "LMSDiscreteScheduler",
                "DPMSolverMultistepScheduler", "UniPCMultistepScheduler"):
        for variant, vk in variants(cls):
            if variant == "dpmpp-2m-karras":
                continue
            for beta in BETAS:
                for spacing, offset in (("leading", 1), ("trailing", 1), ("linspace", 1)):
                    if cls == "EulerDiscreteScheduler" and spacing == "trailing":
                        continue  # above
                    add(cls, variant, vk, beta, spacing, offset, "epsilon", 10, "extra", "use_karras_sigmas",
                        {"use_karras_sigmas": True})
    # DPM options
    c = "DPMSolverMultistepScheduler"
    for variant, vk in variants(c):
        for extra, keys in (("lower_order_final=false", {"lower_order_final": False}),
                            ("euler_at_final", {"euler_at_final": True}),
                            ("final_sigmas_type=sigma_min", {"final_sigmas_type": "sigma_min"})):
            lin_lead_eps(c, variant, vk, extra, keys)
            sl_trail_v(c, variant, vk, extra, keys)
    # UniPC options
    c = "UniPCMultistepScheduler"
    for variant, vk in variants(c):
        for extra, keys in (("lower_order_final=false", {"lower_order_final": False}),
                            ("disable_corrector=[0]", {"disable_corrector": [0]})):
            lin_lead_eps(c, variant, vk, extra, keys)
            sl_trail_v(c, variant, vk, extra, keys)
    # train 100 / 100 and 101 steps
    for cls in ("DDIMScheduler", "DDPMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler",
                "UniPCMultistepScheduler"):
        variant, vk = variants(cls)[0]
        for spacing in ("leading", "trailing"):
            for n in (100, 101):
                add(cls, variant, vk, "linear", spacing, 1, "epsilon", n, "extra", "edge", ntrain=100)
    return specs


def write_gz(path, raw):
    """Deterministic gzip (no name, mtime 0); returns the compressed size."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return len(buf.getvalue())


TRAIN_KEYS = ("num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "rescale_betas_zero_snr")
TRAIN_DEFAULTS = {"num_train_timesteps": 1000, "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02,
                  "rescale_betas_zero_snr": False}


def train_schedules(specs, classes):
    """betas and alphas_cumprod (float32 tensors, as the scheduler instance holds them) for every
    distinct training-schedule config among the valid cases, from DDPMScheduler; checks that every
    other class computes the same values (Euler, Euler ancestral, DPM and UniPC then set
    alphas_cumprod[-1] = 2**-24 under rescale_betas_zero_snr, recorded separately)."""
    seen = {}
    for s in specs:
        c = s["config"]
        key = tuple(c.get(k, TRAIN_DEFAULTS[k]) for k in TRAIN_KEYS)
        if key[1] not in BETAS:
            continue
        seen.setdefault(key, set()).add(s["class"])
    out = []
    for key in sorted(seen, key=lambda k: tuple(str(v) for v in k)):
        cfg = dict(zip(TRAIN_KEYS, key))
        if cfg["beta_schedule"] == "squaredcos_cap_v2":
            cfg.pop("beta_start")
            cfg.pop("beta_end")
        with captured():
            ref = classes["DDPMScheduler"].from_config(dict(cfg, _class_name="DDPMScheduler"))
        entry = {"config": cfg, "betas": flat(ref.betas), "alphas_cumprod": flat(ref.alphas_cumprod),
                 "betas_dtype": dtype_name(ref.betas), "alphas_cumprod_dtype": dtype_name(ref.alphas_cumprod)}
        tweaked = []
        for cls in sorted(seen[key]):
            if cls == "DDPMScheduler":
                continue
            with captured():
                other = classes[cls].from_config(dict(cfg, _class_name=cls))
            if not torch.equal(other.betas, ref.betas):
                raise SystemExit("%s computes other betas than DDPMScheduler for %s" % (cls, cfg))
            a, b = other.alphas_cumprod, ref.alphas_cumprod
            if torch.equal(a, b):
                continue
            if cfg["rescale_betas_zero_snr"] and torch.equal(a[:-1], b[:-1]) and float(a[-1]) == 2.0 ** -24:
                tweaked.append(cls)
                continue
            raise SystemExit("%s computes other alphas_cumprod than DDPMScheduler for %s" % (cls, cfg))
        if tweaked:
            entry["last_alphas_cumprod_2^-24_in"] = tweaked
        out.append(entry)
    return out


def check_lms_quadrature(lms_cls):
    """Proves the LMS fact in the README: get_lms_coefficient equals QUADPACK's first 21-point
    Gauss-Kronrod sum (qk21, in QUADPACK's order of summation) of the Lagrange basis evaluated in
    float32, bit for bit. Returns (coefficients checked, mismatches)."""
    # QUADPACK qk21 abscissae and Kronrod weights (netlib, public domain), xgk[10] = 0
    xgk = [0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
           0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
           0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
           0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
           0.294392862701460198131126603103866, 0.148874338981631210884826001129720, 0.0]
    wgk = [0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
           0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
           0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
           0.123491976262065851077600525932612, 0.134709217311473325928054001771707,
           0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
           0.149445554002916905664936468389821]
    f32 = np.float32
    n = bad = 0
    for beta in BETAS:
        for spacing, offset in SPACINGS:
            for steps in (1, 3, 10, 25):
                with captured():
                    s = lms_cls.from_config(base("LMSDiscreteScheduler", beta, spacing, offset, "epsilon"))
                s.set_timesteps(steps)
                sig = [f32(v) for v in s.sigmas.tolist()]
                for t in range(steps):
                    order = min(t + 1, 4)
                    for cur in range(order):
                        def f(tau):
                            p = f32(1.0)
                            for k in range(order):
                                if k != cur:
                                    p = f32(p * f32(f32(f32(tau) - sig[t - k]) / f32(sig[t - cur] - sig[t - k])))
                            return float(p)
                        a, b = float(sig[t]), float(sig[t + 1])
                        centr, hlgth = 0.5 * (a + b), 0.5 * (b - a)
                        resk = wgk[10] * f(centr)
                        for j in (1, 3, 5, 7, 9, 0, 2, 4, 6, 8):  # Gauss nodes first, then the Kronrod ones
                            absc = hlgth * xgk[j]
                            resk = resk + wgk[j] * (f(centr - absc) + f(centr + absc))
                        n += 1
                        bad += resk * hlgth != s.get_lms_coefficient(order, t, cur)
    return n, bad


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("diffusers_src", help="diffusers source checkout (repo root, its src/, or src/diffusers)")
    ap.add_argument("--commit", help="diffusers commit to record (default: git rev-parse, or DIFFUSERS_COMMIT)")
    ap.add_argument("--out", default=OUT_DIR)
    ap.add_argument("--classes", help="comma-separated subset of the classes (default: all)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)

    pkg, version = diffusers_src.register(a.diffusers_src)
    commit = diffusers_src.commit_of(a.diffusers_src, pkg, a.commit)
    if commit is None:
        raise SystemExit("unknown diffusers commit: pass --commit")
    import importlib
    tu = importlib.import_module("diffusers.utils.torch_utils")
    tape = NoiseTape(tu.randn_tensor)
    classes = {}
    mods = []
    for cls, modname in MODULES.items():
        mod = importlib.import_module("diffusers.schedulers." + modname)
        classes[cls] = getattr(mod, cls)
        mods.append(mod)
        if hasattr(mod, "randn_tensor"):
            mod.randn_tensor = tape
    # randomness must reach the schedulers only through the patched name
    for mod in mods:
        if getattr(mod, "torch", None) is not torch or getattr(mod, "np", None) is not np:
            raise SystemExit("%s does not use the names torch and np for torch and numpy" % mod.__name__)
    cr = CorrectlyRounded(mods)
    print("correctly rounded replacements: %s" % check_replacements(cr))
    with open(os.path.join(ROOT, "models", "demo", "scheduler_config.json")) as f:
        demo_config = json.load(f)
    wanted = set(a.classes.split(",")) if a.classes else set(MODULES)
    unknown = wanted - set(MODULES)
    if unknown:
        raise SystemExit("unknown classes: %s" % ", ".join(sorted(unknown)))
    specs = [s for s in grid(demo_config) if s["class"] in wanted]
    ids = [s["id"] for s in specs]
    if len(ids) != len(set(ids)):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise SystemExit("duplicate case ids: %s" % dup[:5])
    os.makedirs(a.out, exist_ok=True)
    print("diffusers %s at %s (commit %s), torch %s, numpy %s" % (version, pkg, commit, torch.__version__,
                                                                 np.__version__))
    for cls in MODULES:
        if cls not in wanted:
            continue
        cases = []
        for s in specs:
            if s["class"] != cls:
                continue
            s["cls_obj"] = classes[cls]
            cases.append(run_case(s, tape, cr))
        doc = {
            "source": "diffusers %s %s (%s), tools/make_scheduler_vectors.py, torch %s, float64"
                      % (commit, cls, version, torch.__version__),
            "model": MODEL_FORMULA,
            "facts": FACTS.of(cls),
            "cases": cases,
        }
        raw = json.dumps(doc, separators=(",", ":"), allow_nan=True).encode()
        path = os.path.join(a.out, cls + ".json.gz")
        gz_len = write_gz(path, raw)
        groups = {}
        for c in cases:
            k = c["group"] + ("/error" if c["error"] is not None else "")
            groups[k] = groups.get(k, 0) + 1
        print("%-32s %4d cases (%s), %d bytes raw, %d gzipped -> %s"
              % (cls, len(cases), ", ".join("%s %d" % kv for kv in sorted(groups.items())), len(raw),
                 gz_len, os.path.relpath(path, ROOT)))
        calls = sorted(CR_CALLS.get(cls, {}).items())
        print("    correctly rounded run: %s" % (", ".join("%s x%d" % kv for kv in calls) or "no replaced call"))
        for line in INSTALLED.lines(cls):
            print("    installed run: " + line)
        for k, v in FACTS.of(cls).items():
            if k in ("warnings", "errors"):
                for m in v:
                    print("    %s: %s" % (k, m[:200]))
            else:
                print("    %s: %s" % (k, ", ".join(v)))
    if a.classes is None:
        ts = train_schedules(specs, classes)
        doc = {"source": "diffusers %s DDPMScheduler.from_config(config).betas / .alphas_cumprod (%s), "
                         "tools/make_scheduler_vectors.py, torch %s" % (commit, version, torch.__version__),
               "schedules": ts}
        raw = json.dumps(doc, separators=(",", ":")).encode()
        path = os.path.join(a.out, "train_schedules.json.gz")
        write_gz(path, raw)
        print("train_schedules: %d training schedules, %d bytes gzipped -> %s"
              % (len(ts), os.path.getsize(path), os.path.relpath(path, ROOT)))
    if "LMSDiscreteScheduler" in wanted:
        n, bad = check_lms_quadrature(classes["LMSDiscreteScheduler"])
        if bad:
            raise SystemExit("LMS: %d of %d coefficients differ from QUADPACK qk21 with a float32 integrand" % (bad, n))
        print("LMS: all %d coefficients = QUADPACK qk21 (float32 integrand), bit for bit" % n)


if __name__ == "__main__":
    main()
