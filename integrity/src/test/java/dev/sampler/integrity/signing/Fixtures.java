package dev.sampler.integrity.signing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.Base64;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/** The upstream model-signing fixtures (copied under src/test/resources) and helpers to edit them. */
final class Fixtures {
  static final Path ROOT = Path.of("src", "test", "resources", "model-transparency");
  static final Path TESTS = ROOT.resolve("scripts/tests");
  static final Path PUBLIC_KEY = TESTS.resolve("keys/certificate/signing-key-pub.pem");
  static final Path PRIVATE_KEY = TESTS.resolve("keys/certificate/signing-key.pem");
  static final Path CERTIFICATE = TESTS.resolve("keys/certificate/signing-key-cert.pem");
  static final Path GOLDENS = ROOT.resolve("tests/_signing/testdata/signing/TestPayload");
  /** The shipped demo model, relative to the integrity module. */
  static final Path DEMO = Path.of("..", "models", "demo");
  static final String HINT = "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e";
  static final ObjectMapper JSON = new ObjectMapper();

  private Fixtures() {}

  static PublicKey publicKey() throws Exception {
    return SigningKeys.readPublicKey(PUBLIC_KEY);
  }

  static Path dir(String name) {
    return TESTS.resolve(name);
  }

  /** Copies a directory tree (regular files and directories only). */
  static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      s.forEach(p -> {
        try {
          Path t = to.resolve(from.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(t);
          } else {
            Files.copy(p, t);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    return to;
  }

  /** The bundle with {@code edit} applied to its JSON tree. */
  static byte[] editBundle(byte[] bundle, UnaryOperator<ObjectNode> edit) throws IOException {
    ObjectNode n = (ObjectNode) JSON.readTree(bundle);
    return JSON.writeValueAsBytes(edit.apply(n));
  }

  /** The statement inside a bundle, as text. */
  static String payload(byte[] bundle) throws IOException {
    JsonNode n = JSON.readTree(bundle);
    return new String(Base64.getDecoder().decode(n.get("dsseEnvelope").get("payload").asText()),
        StandardCharsets.UTF_8);
  }

  /** The bundle with its payload replaced (re-encoded; the signature is left as it was). */
  static byte[] withPayload(byte[] bundle, String statement) throws IOException {
    return editBundle(bundle, b -> {
      ((ObjectNode) b.get("dsseEnvelope")).put("payload",
          Base64.getEncoder().encodeToString(statement.getBytes(StandardCharsets.UTF_8)));
      return b;
    });
  }
}
