package dev.sampler.integrity.signing;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * PEM text (RFC 7468): the canonical encoding the model-signing key hint is computed over, and a
 * lenient reader that, like OpenSSL and Python's {@code cryptography}, skips any text before,
 * between and after the blocks (the upstream fixture keys start with {@code certtool} output).
 */
final class Pem {
  private static final int MAX_BLOCKS = 64;

  /** One PEM block: its label (e.g. {@code PUBLIC KEY}) and decoded bytes. */
  record Block(String label, byte[] der) {}

  private Pem() {}

  /**
   * The canonical text: BEGIN line, standard base64 in lines of 64 chars, END line, each line
   * ending in {@code \n} (what OpenSSL and {@code cryptography} write, and what the key hint
   * hashes).
   */
  static String encode(String label, byte[] der) {
    String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
  }

  /**
   * Every block in {@code text}, in order.
   *
   * @throws IllegalArgumentException naming the problem: a BEGIN without its END, an END label
   *     that differs, or a body that is not base64
   */
  static List<Block> decode(String text) {
    List<Block> out = new ArrayList<>();
    int from = 0;
    while (out.size() < MAX_BLOCKS) {
      int begin = text.indexOf("-----BEGIN ", from);
      if (begin < 0) {
        break;
      }
      int labelStart = begin + "-----BEGIN ".length();
      int labelEnd = text.indexOf("-----", labelStart);
      if (labelEnd < 0 || text.substring(labelStart, labelEnd).contains("\n")) {
        throw new IllegalArgumentException("malformed PEM BEGIN line");
      }
      String label = text.substring(labelStart, labelEnd);
      String endLine = "-----END " + label + "-----";
      int bodyStart = labelEnd + "-----".length();
      int end = text.indexOf(endLine, bodyStart);
      if (end < 0) {
        throw new IllegalArgumentException("PEM block " + dev.sampler.integrity.Untrusted.quote(label)
            + " has no matching END line");
      }
      String body = text.substring(bodyStart, end).replaceAll("[\\s]", "");
      if (body.indexOf(':') >= 0) {
        // RFC 1421 headers ("Proc-Type: 4,ENCRYPTED"): an encrypted legacy key.
        throw new IllegalArgumentException("PEM block " + dev.sampler.integrity.Untrusted.quote(label)
            + " has headers (an encrypted legacy key?); only unencrypted keys are supported");
      }
      try {
        out.add(new Block(label, Base64.getDecoder().decode(body)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("PEM block " + dev.sampler.integrity.Untrusted.quote(label)
            + " is not valid base64");
      }
      from = end + endLine.length();
    }
    return out;
  }
}
