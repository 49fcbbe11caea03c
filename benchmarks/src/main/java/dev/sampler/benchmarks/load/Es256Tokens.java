package dev.sampler.benchmarks.load;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/**
 * Mints gateway tokens (compact JWS, ES256, RFC 7515/7519) for the load driver's tenants, the way
 * a gateway in front of the sampler would. The key pair is made per run; only its public half is
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
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    long now = System.currentTimeMillis() / 1000;
    String header = b64.encodeToString("{\"alg\":\"ES256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8));
    String claims = b64.encodeToString(("{\"sub\":\"" + tenant + "\",\"aud\":\"" + audience + "\",\"iat\":" + now
        + ",\"nbf\":" + (now - 5) + ",\"exp\":" + (now + seconds) + "}").getBytes(StandardCharsets.UTF_8));
    String input = header + "." + claims;
    Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
    s.initSign(keys.getPrivate());
    s.update(input.getBytes(StandardCharsets.US_ASCII));
    return input + "." + b64.encodeToString(s.sign());
  }
}
