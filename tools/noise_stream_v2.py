"""Independent implementation of rng/'s NoiseStream (replay mode, conversion v2), for cross-checks.

Written from the definition in rng/README.md ("Noise: the exact conversion") and SP 800-90A Rev. 1
(CTR_DRBG, AES-256, Block_Cipher_df), not from the Java code. AES comes from pyca/cryptography;
every float32 operation is computed exactly with fractions and rounded once to nearest even, so
nothing depends on numpy or the FPU.

  /usr/bin/python3 tools/noise_stream_v2.py --seed-tag 7 --tenant tenant-a --request req-1 \
      --index 0 1 2 3 16 17 18 19 16384 16385

prints each requested float of the stream as 8 hex digits (its IEEE 754 bits). --seed-tag T uses
the 32-byte seed of NoiseStreamTest.seed(T): byte i = (T * 31 + i) mod 256; --seed-hex gives any
seed. NoiseStreamTest pins these values.
"""
import argparse
import hashlib
import math
import struct
from fractions import Fraction

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

REQUEST = 65536

# ---- SP 800-90A CTR_DRBG, AES-256, with Block_Cipher_df, no prediction resistance ----


def aes(key, block):
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def inc(v):
    return ((int.from_bytes(v, "big") + 1) % (1 << 128)).to_bytes(16, "big")


def bcc(key, data):
    chain = bytes(16)
    for i in range(0, len(data), 16):
        chain = aes(key, bytes(a ^ b for a, b in zip(chain, data[i:i + 16])))
    return chain


def block_cipher_df(inp, n):
    s = struct.pack(">II", len(inp), n) + inp + b"\x80"
    s += bytes(-len(s) % 16)
    k = bytes(range(32))
    temp = b""
    i = 0
    while len(temp) < 48:
        temp += bcc(k, struct.pack(">I", i) + bytes(12) + s)
        i += 1
    key, x = temp[:32], temp[32:48]
    out = b""
    while len(out) < n:
        x = aes(key, x)
        out += x
    return out[:n]


class CtrDrbg:
    def __init__(self, entropy, nonce, personalization):
        self.key, self.v = bytes(32), bytes(16)
        self.update(block_cipher_df(entropy + nonce + personalization, 48))

    def update(self, provided):
        temp = b""
        v = self.v
        for _ in range(3):
            v = inc(v)
            temp += aes(self.key, v)
        temp = bytes(a ^ b for a, b in zip(temp, provided))
        self.key, self.v = temp[:32], temp[32:]

    def generate(self, n):
        enc = Cipher(algorithms.AES(self.key), modes.ECB()).encryptor()
        v = int.from_bytes(self.v, "big")
        counters = b"".join(((v + i) % (1 << 128)).to_bytes(16, "big") for i in range(1, n // 16 + 1))
        out = enc.update(counters) + enc.finalize()
        self.v = ((v + n // 16) % (1 << 128)).to_bytes(16, "big")
        self.update(bytes(48))
        return out[:n]


# ---- binary32 arithmetic, exact then rounded once (round to nearest, ties to even) ----


def rn32(x):
    """The float32 nearest to the nonzero rational x, as a Python float."""
    sign = -1 if x < 0 else 1
    x = abs(x)
    e = x.numerator.bit_length() - x.denominator.bit_length()
    if Fraction(2) ** e > x:
        e -= 1
    assert e >= -126, "subnormal results do not occur in the conversion"
    m = x * Fraction(2) ** (23 - e)  # in [2^23, 2^24)
    n = m.numerator // m.denominator
    rem = m - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2 == 1):
        n += 1
    return sign * float(Fraction(n) * Fraction(2) ** (e - 23))


def _zero_sum_sign(p_is_neg_zero, c):
    # IEEE 754: an exact zero sum is +0 in round-to-nearest unless both addends are -0.
    return -0.0 if (p_is_neg_zero and c == 0 and math.copysign(1, c) < 0) else 0.0


def mul(a, b):
    if a == 0 or b == 0:
        return math.copysign(0.0, math.copysign(1, a) * math.copysign(1, b))
    return rn32(Fraction(a) * Fraction(b))


def add(a, b):
    s = Fraction(a) + Fraction(b)
    if s == 0:
        return _zero_sum_sign(a == 0 and math.copysign(1, a) < 0, b)
    return rn32(s)


def fma(a, b, c):
    s = Fraction(a) * Fraction(b) + Fraction(c)
    if s == 0:
        p_neg_zero = (a == 0 or b == 0) and math.copysign(1, a) * math.copysign(1, b) < 0
        return _zero_sum_sign(p_neg_zero, c)
    return rn32(s)


def sqrt(a):
    # Correctly rounded: math.sqrt is correctly rounded in double, and rounding that to float32
    # again is innocuous for sqrt (53 >= 2 * 24 + 2).
    if a == 0:
        return a
    return rn32(Fraction(math.sqrt(a)))


def bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def from_bits(i):
    return struct.unpack("<f", struct.pack("<I", i & 0xFFFFFFFF))[0]


def h(s):
    return float.fromhex(s)


L = [h(x) for x in ("-0x1.fffff8p-2", "0x1.55555p-2", "-0x1.000438p-2", "0x1.99a41cp-3", "-0x1.5423e8p-3",
                    "0x1.226c84p-3", "-0x1.0f5208p-3", "0x1.0875p-3", "-0x1.38138ep-4")]
LN2_HI, LN2_LO = h("0x1.62e43p-1"), h("-0x1.05c61p-29")
S0_HI, S0_LO, S1, S2, S3 = (h(x) for x in ("0x1.921fb6p+0", "-0x1.777a5cp-25", "-0x1.4abbbep-1",
                                           "0x1.465facp-4", "-0x1.2db5cep-8"))
C0, C1, C2, C3 = (h(x) for x in ("-0x1.3bd3ccp+0", "0x1.03c1bp-2", "-0x1.55b2b6p-6", "0x1.d4f7eep-11"))


def pair(a, c):
    """(z0, z1) of the words a, c (unsigned 32-bit ints)."""
    u1 = add(mul(float(a >> 8), 2.0 ** -24), mul(float((((a & 0xFF) << 8) | (c & 0xFF)) + 1), 2.0 ** -40))
    ix = bits(u1)
    k = (ix - 0x3F3504F3) >> 23  # Python's >> on a (possibly negative) int is arithmetic
    f = add(from_bits(ix - (k << 23)), -1.0)
    p = fma(f, L[8], L[7])
    for i in range(6, -1, -1):
        p = fma(p, f, L[i])
    y = fma(mul(f, f), p, f)
    kf = float(k)
    ln = fma(kf, LN2_HI, fma(kf, LN2_LO, y))
    r = sqrt(mul(ln, -2.0))
    g = c >> 8
    q = (g + (1 << 21)) >> 22
    fr = mul(float(g - (q << 22)), 2.0 ** -22)
    w = mul(fr, fr)
    s = fma(fr, S0_HI, mul(fr, fma(fma(fma(w, S3, S2), w, S1), w, S0_LO)))
    co = fma(fma(fma(fma(w, C3, C2), w, C1), w, C0), w, 1.0)
    cos, sin = [(co, s), (-s, co), (-co, -s), (s, -co)][q & 3]
    return mul(r, cos), mul(r, sin)


def float_at(stream_bytes, index):
    block, k = divmod(index, 32)
    base = block * 128
    j = k % 16
    a = int.from_bytes(stream_bytes[base + 4 * j:base + 4 * j + 4], "little")
    c = int.from_bytes(stream_bytes[base + 64 + 4 * j:base + 64 + 4 * j + 4], "little")
    return pair(a, c)[0 if k < 16 else 1]


def personalization(tenant, request_id):
    t, r = tenant.encode(), request_id.encode()
    return b"dev.sampler.rng.NoiseStream/v2\x00" + struct.pack(">I", len(t)) + t + struct.pack(">I", len(r)) + r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed-tag", type=int)
    ap.add_argument("--seed-hex")
    ap.add_argument("--tenant", required=True)
    ap.add_argument("--request", required=True)
    ap.add_argument("--index", type=int, nargs="+", required=True)
    args = ap.parse_args()
    if args.seed_hex:
        seed = bytes.fromhex(args.seed_hex)
    else:
        seed = bytes((args.seed_tag * 31 + i) % 256 for i in range(32))
    assert len(seed) >= 32, "this script instantiates at 256-bit strength only"
    ps = personalization(args.tenant, args.request)
    nonce = hashlib.sha256(b"dev.sampler.rng.NoiseStream/replay-nonce/v2\x00" + ps).digest()[:16]
    drbg = CtrDrbg(seed, nonce, ps)
    need = max(args.index) // 32 * 128 + 128
    stream = b""
    while len(stream) < need:
        stream += drbg.generate(REQUEST)
    print(" ".join("%08x" % bits(float_at(stream, i)) for i in args.index))


if __name__ == "__main__":
    main()
