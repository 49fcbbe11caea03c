package dev.sampler.server.auth;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Compact JWS with ES256 (RFC 7515 section 7.1, RFC 7518 section 3.4: ECDSA P-256 with SHA-256,
 * the signature as the 64-byte R || S concatenation), implemented with the JDK's {@code
 * SHA256withECDSAinP1363Format}. Only ES256 is accepted: a token naming any other {@code alg}
 * (including {@code none}) or carrying a {@code crit} header is refused before any signature work.
 */
public final class Es256Jws {
  /** Longest token accepted, in characters (HTTP/2 header lists are limited to 8 KiB anyway). */
  public static final int MAX_LENGTH = 4096;

  private static final Pattern B64URL = Pattern.compile("[A-Za-z0-9_-]*");
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

  private Es256Jws() {}

  /**
   * Verifies {@code token} against {@code key} and returns its payload as a JSON object.
   *
   * @throws AuthenticationException naming what is wrong (format, algorithm, signature); never
   *     echoing the token
   */
  public static ObjectNode verify(String token, ECPublicKey key) throws AuthenticationException {
    if (token.length() > MAX_LENGTH) {
      throw new AuthenticationException("gateway token: longer than " + MAX_LENGTH + " characters");
    }
    String[] parts = token.split("\\.", -1);
    if (parts.length != 3) {
      throw new AuthenticationException("gateway token: not a compact JWS (three base64url parts separated by dots)");
    }
    for (String p : parts) {
      if (!B64URL.matcher(p).matches()) {
        throw new AuthenticationException("gateway token: a part is not unpadded base64url");
      }
    }
    JsonNode header = json(parts[0], "header");
    if (!"ES256".equals(header.path("alg").asText(null)) || !header.get("alg").isTextual()) {
      throw new AuthenticationException("gateway token: the header's alg must be ES256");
    }
    if (header.has("crit")) {
      throw new AuthenticationException("gateway token: critical header extensions are not supported");
    }
    byte[] sig = Base64.getUrlDecoder().decode(parts[2]);
    if (sig.length != 64) {
      throw new AuthenticationException("gateway token: an ES256 signature has 64 bytes, got " + sig.length);
    }
    try {
      Signature verifier = Signature.getInstance("SHA256withECDSAinP1363Format");
      verifier.initVerify(key);
      verifier.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
      if (!verifier.verify(sig)) {
        throw new AuthenticationException("gateway token: the signature does not verify against the gateway key");
      }
    } catch (GeneralSecurityException e) {
      throw new AuthenticationException("gateway token: the signature does not verify against the gateway key");
    }
    JsonNode payload = json(parts[1], "payload");
    if (!(payload instanceof ObjectNode obj)) {
      throw new AuthenticationException("gateway token: the payload must be a JSON object");
    }
    return obj;
  }

  /**
   * Signs {@code claims} as a compact JWS with header {@code {"alg":"ES256","typ":"JWT"}} (for
   * gateways, load drivers and tests).
   *
   * @throws GeneralSecurityException if {@code key} is not an EC P-256 private key
   */
  public static String sign(Map<String, ?> claims, PrivateKey key) throws GeneralSecurityException {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    try {
      String header = b64.encodeToString("{\"alg\":\"ES256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
      String payload = b64.encodeToString(JSON.writeValueAsBytes(claims));
      Signature signer = Signature.getInstance("SHA256withECDSAinP1363Format");
      signer.initSign(key);
      signer.update((header + "." + payload).getBytes(StandardCharsets.US_ASCII));
      return header + "." + payload + "." + b64.encodeToString(signer.sign());
    } catch (IOException e) {
      throw new IllegalArgumentException("claims cannot be written as JSON", e);
    }
  }

  private static JsonNode json(String part, String what) throws AuthenticationException {
    try {
      return JSON.readTree(Base64.getUrlDecoder().decode(part));
    } catch (IOException | IllegalArgumentException e) {
      throw new AuthenticationException("gateway token: the " + what + " is not JSON");
    }
  }
}
