package dev.sampler.integrity.signing;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Just enough DER (X.690) to move EC keys between the JDK's encodings and the files OpenSSL and
 * Python's {@code cryptography} write: SEC1 {@code EC PRIVATE KEY}, PKCS#8 with the public key
 * embedded, SubjectPublicKeyInfo. Single-byte tags, definite lengths up to 2^31 - 1.
 */
final class Der {
  static final int INTEGER = 0x02;
  static final int BIT_STRING = 0x03;
  static final int OCTET_STRING = 0x04;
  static final int OID = 0x06;
  static final int SEQUENCE = 0x30;
  /** Context-specific, constructed, tag 0 and 1 ({@code [0]}, {@code [1]} EXPLICIT). */
  static final int CTX0 = 0xa0;
  static final int CTX1 = 0xa1;

  /** {@code id-ecPublicKey} (1.2.840.10045.2.1), tag and length included. */
  static final byte[] EC_PUBLIC_KEY_OID = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

  /** One element: its tag and the bytes of its value; {@code encoded} is the whole TLV. */
  record Tlv(int tag, byte[] value, byte[] encoded) {
    /** The elements inside a constructed value. */
    List<Tlv> children() {
      return parseAll(value);
    }
  }

  private Der() {}

  /** Parses exactly one element spanning all of {@code der}. */
  static Tlv parse(byte[] der) {
    List<Tlv> all = parseAll(der);
    if (all.size() != 1) {
      throw new IllegalArgumentException("expected one DER element, found " + all.size());
    }
    return all.get(0);
  }

  /** Parses consecutive elements spanning all of {@code der}. */
  static List<Tlv> parseAll(byte[] der) {
    List<Tlv> out = new ArrayList<>();
    int pos = 0;
    while (pos < der.length) {
      int start = pos;
      int tag = der[pos++] & 0xff;
      if ((tag & 0x1f) == 0x1f) {
        throw new IllegalArgumentException("multi-byte DER tags are not supported");
      }
      if (pos >= der.length) {
        throw new IllegalArgumentException("truncated DER length");
      }
      int first = der[pos++] & 0xff;
      long len;
      if (first < 0x80) {
        len = first;
      } else {
        int n = first & 0x7f;
        if (n == 0 || n > 4 || pos + n > der.length) {
          throw new IllegalArgumentException("unsupported DER length");
        }
        len = 0;
        for (int i = 0; i < n; i++) {
          len = (len << 8) | (der[pos++] & 0xff);
        }
      }
      if (len > der.length - pos) {
        throw new IllegalArgumentException("DER element runs past the end");
      }
      int end = pos + (int) len;
      out.add(new Tlv(tag, Arrays.copyOfRange(der, pos, end), Arrays.copyOfRange(der, start, end)));
      pos = end;
    }
    return out;
  }

  /** Encodes one element from its tag and the concatenation of {@code parts}. */
  static byte[] tlv(int tag, byte[]... parts) {
    ByteArrayOutputStream value = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      value.writeBytes(p);
    }
    byte[] v = value.toByteArray();
    ByteArrayOutputStream out = new ByteArrayOutputStream(v.length + 6);
    out.write(tag);
    int len = v.length;
    if (len < 0x80) {
      out.write(len);
    } else {
      int n = len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4;
      out.write(0x80 | n);
      for (int i = n - 1; i >= 0; i--) {
        out.write(len >>> (8 * i));
      }
    }
    out.writeBytes(v);
    Arrays.fill(v, (byte) 0); // may hold a private scalar
    return out.toByteArray();
  }

  /** A small non-negative INTEGER. */
  static byte[] smallInt(int v) {
    return tlv(INTEGER, new byte[] {(byte) v});
  }
}
