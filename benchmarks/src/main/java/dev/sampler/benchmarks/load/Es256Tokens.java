package dev.sampler.benchmarks.load;

import dev.sampler.server.auth.Es256Jws;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Mints gateway tokens (compact JWS, ES256, RFC 7515/7519) for the load driver's tenants, the way
 * a gateway in front of the sampler would, with the server's own {@link Es256Jws#sign}. The key pair is made per run; only its public half is
 * written (into the server's config).
 */
final class Es256Tokens {
  private final KeyPair keys;
  private final String audience;

  Es256Tokens(String audience) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    this.keys = g.generateKeyPair();
    this.audience = audience;
  }

  /** The public key as PEM (SubjectPublicKeyInfo). */
  String publicKeyPem() {
    return "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(
            keys.getPublic().getEncoded())
        + "\n-----END PUBLIC KEY-----\n";
  }

  /** A token for {@code tenant} valid for {@code seconds}. */
  String mint(String tenant, long seconds) throws Exception {
    long now = System.currentTimeMillis() / 1000;
    Map<String, Object> claims = new LinkedHashMap<>();
    claims.put("sub", tenant);
    claims.put("aud", audience);
    claims.put("iat", now);
    claims.put("nbf", now - 5);
    claims.put("exp", now + seconds);
    return Es256Jws.sign(claims, keys.getPrivate());
  }
}
