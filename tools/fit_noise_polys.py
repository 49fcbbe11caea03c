"""Fit the float32 polynomial coefficients of NoiseStream's v2 Gaussian conversion (rng/).

Prints Java constants (hex float literals) for dev.sampler.rng.NormalTransform:
  log:  ln(1+f) = f + f^2 P(f),                P of degree 8, f in [0x3f3504f3 - 1, 2*0x3f3504f3 - 1]
  sin:  sin(pi/2 f) = f (S0 + w (S1 + w (S2 + w S3))),  w = f^2, f in [-1/2, 1/2], S0 = pi/2 (hi + lo)
  cos:  cos(pi/2 f) = 1 + w (C0 + w (C1 + w (C2 + w C3)))
Each is a discrete minimax fit of the RELATIVE error of the function (not of the polynomial) on
4000 Chebyshev points, solved as a linear program (scipy's HiGHS) on the correction to a least-
squares start so that HiGHS's ~1e-7 tolerances do not limit the result. Coefficients are rounded
to float32 one at a time, lowest power first, refitting the others after each rounding (so the
later ones absorb the earlier ones' rounding). Function values come from mpmath at 120 bits.

Run: /usr/bin/python3 tools/fit_noise_polys.py   (numpy, scipy >= 1.6, mpmath; about 20 s)
The Java test NormalTransformTest measures the resulting accuracy against StrictMath.
"""
import numpy as np
import mpmath as mp
from scipy.optimize import linprog

mp.mp.prec = 120
POINTS = 4000


def f32(x):
    return float(np.float32(x))


def java_hex(x):
    """A float32 value as a Java hex float literal."""
    if x == 0:
        return "0.0f"
    m, e = float(x).hex().split("p")
    m = m.rstrip("0").rstrip(".")
    return m + "p" + e + "f"


def lp_minimax(basis, target, weight):
    """min_c max_i |weight_i (basis_i . c - target_i)|."""
    a = basis * weight[:, None]
    y = target * weight
    c, *_ = np.linalg.lstsq(a, y, rcond=None)
    for _ in range(3):
        e = a @ c - y
        s = np.max(np.abs(e))
        if s == 0:
            break
        colscale = np.max(np.abs(a), axis=0)
        a_s = a / colscale / s
        e_s = e / s
        n = a.shape[1]
        ones = -np.ones((len(y), 1))
        res = linprog(np.r_[np.zeros(n), 1.0],
                      A_ub=np.vstack([np.hstack([a_s, ones]), np.hstack([-a_s, ones])]),
                      b_ub=np.r_[-e_s, e_s], bounds=[(None, None)] * n + [(0, None)], method="highs")
        if res.status != 0:
            raise RuntimeError(res.message)
        c = c + res.x[:n] / colscale
    return c


def fit_rounded(xs, target, weight, powers, fixed=None):
    """Sequentially rounded float32 minimax coefficients for sum c_p x^p ~ target."""
    fixed = dict(fixed or {})
    for p in powers:
        if p in fixed:
            continue
        free = [q for q in powers if q not in fixed]
        basis = np.array([[x ** q for q in free] for x in xs])
        rest = target - sum(v * xs ** q for q, v in fixed.items())
        fixed[p] = f32(lp_minimax(basis, rest, weight)[0])
    approx = sum(fixed[q] * xs ** q for q in powers)
    return [fixed[q] for q in powers], float(np.max(np.abs((approx - target) * weight)))


def cheb(lo, hi):
    k = np.arange(POINTS)
    return 0.5 * (lo + hi) + 0.5 * (hi - lo) * np.cos(np.pi * (k + 0.5) / POINTS)


def main():
    # log: m in [SQRT_HALF, 2 SQRT_HALF) with SQRT_HALF = float bits 0x3f3504f3.
    sqrt_half = float(np.frombuffer(np.array([0x3F3504F3], dtype=np.uint32).tobytes(), dtype=np.float32)[0])
    xs = cheb(sqrt_half - 1, 2 * sqrt_half - 1)
    xs = xs[np.abs(xs) > 1e-12]
    ln1p = np.array([float(mp.log1p(mp.mpf(x))) for x in xs])
    tgt = np.array([float((mp.log1p(mp.mpf(x)) - x) / mp.mpf(x) ** 2) for x in xs])
    coef, err = fit_rounded(xs, tgt, xs ** 2 / np.abs(ln1p), list(range(9)))
    print("// log: ln(1+f) = f + f^2 P(f); max relative error of the polynomial %.3e" % err)
    for i, c in enumerate(coef):
        print("private static final float L%d = %s; // %.9g" % (i, java_hex(c), c))

    ws = cheb(0.0, 0.25)
    half_pi = mp.pi / 2
    sin_t = np.array([float(mp.sin(half_pi * mp.sqrt(w)) / mp.sqrt(w)) for w in ws])
    s0_hi = f32(half_pi)
    s0_lo = f32(half_pi - s0_hi)
    coef, err = fit_rounded(ws, sin_t, 1 / np.abs(sin_t), [0, 1, 2, 3], fixed={0: float(half_pi)})
    print("// sin(pi/2 f) = f (S0 + w S(w)); S0 = pi/2 = S0_HI + S0_LO; max relative error %.3e" % err)
    print("private static final float S0_HI = %s; // %.9g" % (java_hex(s0_hi), s0_hi))
    print("private static final float S0_LO = %s; // %.9g" % (java_hex(s0_lo), s0_lo))
    for i, c in enumerate(coef[1:], start=1):
        print("private static final float S%d = %s; // %.9g" % (i, java_hex(c), c))

    cos_v = np.array([float(mp.cos(half_pi * mp.sqrt(w))) for w in ws])
    cos_t = np.array([float((mp.cos(half_pi * mp.sqrt(w)) - 1) / w) for w in ws])
    coef, err = fit_rounded(ws, cos_t, ws / np.abs(cos_v), [0, 1, 2, 3])
    print("// cos(pi/2 f) = 1 + w C(w); max relative error %.3e" % err)
    for i, c in enumerate(coef):
        print("private static final float C%d = %s; // %.9g" % (i, java_hex(c), c))


if __name__ == "__main__":
    main()
