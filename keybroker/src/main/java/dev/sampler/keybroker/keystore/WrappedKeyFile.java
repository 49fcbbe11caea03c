package dev.sampler.keybroker.keystore;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sampler.keybroker.ResourcePath;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.Set;

/**
 * The on-disk form of a data key: JWE compact serialization (RFC 7516) with {@code "alg":"dir"},
 * {@code "enc":"A256GCM"}, where the content-encryption key is the KEK itself, so the AES-GCM runs
 * inside the token. The protected header names the KEK ({@code kid}), the resource and the key's
 * version ({@code sampler-resource}, {@code sampler-key-version}); being the AAD, it binds the
 * ciphertext to them, so a file copied to another resource's name does not open.
 *
 * <pre>
 * BASE64URL({"alg":"dir","enc":"A256GCM","kid":KEK,"sampler-resource":"repo/type/tag","sampler-key-version":N})
 *   + ".." + BASE64URL(iv, 12 bytes) + "." + BASE64URL(ciphertext) + "." + BASE64URL(tag, 16 bytes)
 * </pre>
 */
public final class WrappedKeyFile {
  /** Largest file accepted (a key of {@link #MAX_KEY_BYTES} is far below). */
  public static final int MAX_FILE_BYTES = 16 * 1024;
  /** Largest data key accepted. */
  public static final int MAX_KEY_BYTES = 1024;

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> HEADER_MEMBERS = Set.of("alg", "enc", "kid", "sampler-resource",
      "sampler-key-version");
  private static final Base64.Encoder B64U = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64U_DEC = Base64.getUrlDecoder();
  private static final SecureRandom RANDOM = new SecureRandom();

  private WrappedKeyFile() {}

  /**
   * Encrypts {@code key} under {@code kek} for {@code resource} version {@code version}.
   *
   * @return the JWE compact text (ASCII)
   * @throws StoreException when the token fails
   */
  public static String seal(Kek kek, ResourcePath resource, int version, byte[] key) throws StoreException {
    if (key.length == 0 || key.length > MAX_KEY_BYTES) {
      throw new IllegalArgumentException("data key must be 1 to " + MAX_KEY_BYTES + " bytes");
    }
    ObjectNode h = JSON.createObjectNode();
    h.put("alg", "dir");
    h.put("enc", "A256GCM");
    h.put("kid", kek.label());
    h.put("sampler-resource", resource.path());
    h.put("sampler-key-version", version);
    String protectedHeader = B64U.encodeToString(h.toString().getBytes(StandardCharsets.UTF_8));
    byte[] iv = new byte[12];
    RANDOM.nextBytes(iv);
    byte[] out = kek.seal(iv, protectedHeader.getBytes(StandardCharsets.US_ASCII), key);
    int ctLen = out.length - 16;
    String text = protectedHeader + ".." + B64U.encodeToString(iv) + "."
        + B64U.encodeToString(Arrays.copyOf(out, ctLen)) + "."
        + B64U.encodeToString(Arrays.copyOfRange(out, ctLen, out.length));
    return text;
  }

  /**
   * Decrypts a file's text, checking that its header names {@code kek}, {@code resource} and
   * {@code version}.
   *
   * @return the data key bytes (the caller zeroes them)
   * @throws StoreException naming what does not match or does not verify
   */
  public static byte[] open(Kek kek, ResourcePath resource, int version, String text) throws StoreException {
    String where = "keystore: wrapped key " + resource.path() + " v" + version;
    if (text.length() > MAX_FILE_BYTES) {
      throw new StoreException(where + " is larger than " + MAX_FILE_BYTES + " bytes");
    }
    String[] p = text.strip().split("\\.", -1);
    if (p.length != 5 || !p[1].isEmpty()) {
      throw new StoreException(where + " is not JWE compact text with an empty encrypted key (5 parts, alg dir)");
    }
    JsonNode h;
    byte[] iv;
    byte[] ct;
    byte[] tag;
    try {
      h = JSON.readTree(B64U_DEC.decode(p[0]));
      iv = B64U_DEC.decode(p[2]);
      ct = B64U_DEC.decode(p[3]);
      tag = B64U_DEC.decode(p[4]);
    } catch (IOException | IllegalArgumentException e) {
      throw new StoreException(where + ": a part is not base64url or the header is not JSON", e);
    }
    if (h == null || !h.isObject()) {
      throw new StoreException(where + ": protected header is not a JSON object");
    }
    for (Iterator<String> it = h.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      if (!HEADER_MEMBERS.contains(name)) {
        throw new StoreException(where + ": unknown protected header member '" + name + "'");
      }
    }
    if (!"dir".equals(h.path("alg").asText(null)) || !"A256GCM".equals(h.path("enc").asText(null))) {
      throw new StoreException(where + ": header must have alg dir and enc A256GCM");
    }
    if (!kek.label().equals(h.path("kid").asText(null))) {
      throw new StoreException(where + " is wrapped under key '" + h.path("kid").asText("?")
          + "', but this broker's KEK is '" + kek.label() + "'");
    }
    if (!resource.path().equals(h.path("sampler-resource").asText(null))
        || !h.path("sampler-key-version").isInt() || h.path("sampler-key-version").asInt() != version) {
      throw new StoreException(where + ": its header names another resource or version (file moved or copied?)");
    }
    if (iv.length != 12 || tag.length != 16 || ct.length == 0 || ct.length > MAX_KEY_BYTES) {
      throw new StoreException(where + ": iv must be 12 bytes, tag 16 bytes, ciphertext 1 to " + MAX_KEY_BYTES);
    }
    byte[] in = Arrays.copyOf(ct, ct.length + 16);
    System.arraycopy(tag, 0, in, ct.length, 16);
    return kek.open(iv, p[0].getBytes(StandardCharsets.US_ASCII), in);
  }
}
