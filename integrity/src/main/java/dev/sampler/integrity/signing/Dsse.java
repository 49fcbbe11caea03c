package dev.sampler.integrity.signing;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The constants of the model-signing format and the DSSE pre-authentication encoding (PAE) its
 * signatures cover.
 */
final class Dsse {
  static final String BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";
  static final String PAYLOAD_TYPE = "application/vnd.in-toto+json";
  static final String STATEMENT_TYPE = "https://in-toto.io/Statement/v1";
  static final String PREDICATE_TYPE = "https://model_signing/signature/v1.0";
  /** The v0.2 predicate: per-file subjects, no root digest, signed over {@link #legacyPae}. */
  static final String LEGACY_PREDICATE_TYPE = "https://model_signing/Digests/v0.1";

  private Dsse() {}

  /**
   * DSSE v1 PAE: {@code "DSSEv1" SP len(type) SP type SP len(payload) SP payload}, lengths as
   * decimal byte counts, the payload exactly as carried in the envelope.
   */
  static byte[] pae(String payloadType, byte[] payload) {
    byte[] type = payloadType.getBytes(StandardCharsets.UTF_8);
    byte[] head = ("DSSEv1 " + type.length + " " + payloadType + " " + payload.length + " ")
        .getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[head.length + payload.length];
    System.arraycopy(head, 0, out, 0, head.length);
    System.arraycopy(payload, 0, out, head.length, payload.length);
    return out;
  }

  /**
   * The encoding model_signing v0.2 signed by mistake ({@code pae_compat} upstream): a Python
   * f-string that puts the {@code repr} of the payload bytes ({@code b'...'}, escaped) where the
   * payload belongs, with "DSSEV1" in capitals. Used only to recognise such signatures and refuse
   * them with a clear message.
   */
  static byte[] legacyPae(byte[] payload) {
    String head = "DSSEV1 " + PAYLOAD_TYPE.length() + " " + PAYLOAD_TYPE + " " + payload.length + " ";
    ByteArrayOutputStream out = new ByteArrayOutputStream(head.length() + payload.length + 64);
    out.writeBytes(head.getBytes(StandardCharsets.UTF_8));
    out.writeBytes(pythonBytesRepr(payload).getBytes(StandardCharsets.US_ASCII));
    return out.toByteArray();
  }

  /** Python's {@code repr(bytes)}: {@code b'...'} (or {@code b"..."} when only that avoids escaping). */
  static String pythonBytesRepr(byte[] b) {
    boolean hasSingle = false;
    boolean hasDouble = false;
    for (byte x : b) {
      hasSingle |= x == '\'';
      hasDouble |= x == '"';
    }
    char quote = hasSingle && !hasDouble ? '"' : '\'';
    StringBuilder s = new StringBuilder(b.length + 16).append('b').append(quote);
    for (byte x : b) {
      int c = x & 0xff;
      if (c == quote || c == '\\') {
        s.append('\\').append((char) c);
      } else if (c == '\t') {
        s.append("\\t");
      } else if (c == '\n') {
        s.append("\\n");
      } else if (c == '\r') {
        s.append("\\r");
      } else if (c < 0x20 || c >= 0x7f) {
        s.append(String.format("\\x%02x", c));
      } else {
        s.append((char) c);
      }
    }
    return s.append(quote).toString();
  }
}
