package dev.sampler.keybroker;

import dev.sampler.keybroker.keystore.Pkcs11Token;
import dev.sampler.keybroker.keystore.StoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.OptionalLong;
import picocli.CommandLine.Option;

/**
 * The command-line options that select a PKCS#11 token and its KEK, shared by {@code serve},
 * {@code init-kek} and {@code import}. The PIN is read from a file or an environment variable
 * named on the command line, never from the command line itself (it would show in {@code ps}).
 */
final class HsmOptions {
  @Option(names = "--hsm-library", paramLabel = "PATH",
      description = "PKCS#11 library (default: ${DEFAULT-VALUE}).")
  Path library = Pkcs11Token.DEFAULT_LIBRARY;

  @Option(names = "--hsm-token-label", paramLabel = "LABEL",
      description = "Label of the token holding the KEK (or give --hsm-slot).")
  String tokenLabel;

  @Option(names = "--hsm-slot", paramLabel = "ID", description = "Slot id of the token (instead of its label).")
  Long slot;

  @Option(names = "--pin-file", paramLabel = "FILE",
      description = "File whose first line is the token's user PIN.")
  Path pinFile;

  @Option(names = "--pin-env", paramLabel = "NAME",
      description = "Name of an environment variable holding the user PIN.")
  String pinEnv;

  @Option(names = "--kek-label", paramLabel = "LABEL", description = "Label of the KEK in the token (default: ${DEFAULT-VALUE}).")
  String kekLabel = Pkcs11Token.DEFAULT_KEK_LABEL;

  /**
   * Opens the token named by these options and logs in.
   *
   * @throws StoreException naming the step that failed
   * @throws IllegalArgumentException when the options are incomplete or contradictory
   */
  Pkcs11Token open() throws StoreException {
    Pkcs11Token.Settings s = new Pkcs11Token.Settings(library, tokenLabel,
        slot == null ? OptionalLong.empty() : OptionalLong.of(slot), kekLabel);
    return Pkcs11Token.open(s, pin());
  }

  /** Reads the PIN from the file or the environment variable. */
  private char[] pin() throws StoreException {
    if ((pinFile == null) == (pinEnv == null)) {
      throw new IllegalArgumentException("give exactly one of --pin-file and --pin-env for the token's user PIN");
    }
    if (pinEnv != null) {
      String v = System.getenv(pinEnv);
      if (v == null || v.isEmpty()) {
        throw new StoreException("hsm: environment variable " + pinEnv + " (--pin-env) is not set or empty");
      }
      return v.toCharArray();
    }
    byte[] raw;
    try {
      if (Files.size(pinFile) > 1024) {
        throw new StoreException("hsm: PIN file " + pinFile + " is larger than 1 KiB");
      }
      raw = Files.readAllBytes(pinFile);
    } catch (IOException e) {
      throw new StoreException("hsm: cannot read PIN file " + pinFile + ": " + e.getClass().getSimpleName(), e);
    }
    try {
      int end = 0;
      while (end < raw.length && raw[end] != '\n' && raw[end] != '\r') {
        end++;
      }
      if (end == 0) {
        throw new StoreException("hsm: PIN file " + pinFile + " has an empty first line");
      }
      CharBuffer cb = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(raw, 0, end));
      char[] pin = Arrays.copyOf(cb.array(), cb.limit());
      Arrays.fill(cb.array(), '\0');
      return pin;
    } finally {
      Arrays.fill(raw, (byte) 0);
    }
  }
}
