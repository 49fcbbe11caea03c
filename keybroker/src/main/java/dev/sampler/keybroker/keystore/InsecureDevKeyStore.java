package dev.sampler.keybroker.keystore;

import dev.sampler.keybroker.ResourcePath;
import java.io.BufferedReader;
import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * DEVELOPMENT ONLY: data keys held in this process's memory, as read from standard input at start.
 * No HSM protects them; the broker logs a warning naming this store when it starts with it. Each
 * key has version 1.
 *
 * <p>Input: one key per line, {@code repo/type/tag BASE64}, ended by an empty line or the end of
 * input.
 */
public final class InsecureDevKeyStore implements DataKeyStore {
  /** Most keys read. */
  public static final int MAX_KEYS = 1024;
  /** Longest input line. */
  private static final int MAX_LINE = 4096;

  private final Map<String, byte[]> keys;

  private InsecureDevKeyStore(Map<String, byte[]> keys) {
    this.keys = keys;
  }

  /**
   * Reads keys from {@code in} until an empty line or its end.
   *
   * @throws StoreException naming the line (by number) that is not {@code repo/type/tag BASE64};
   *     the line's content is not repeated
   */
  public static InsecureDevKeyStore read(BufferedReader in) throws StoreException {
    Map<String, byte[]> keys = new LinkedHashMap<>();
    int lineNo = 0;
    try {
      for (String line; (line = in.readLine()) != null && !line.isBlank(); ) {
        lineNo++;
        if (line.length() > MAX_LINE) {
          throw new StoreException("keystore dev-software: stdin line " + lineNo + " is longer than " + MAX_LINE);
        }
        String[] parts = line.strip().split("\\s+");
        if (parts.length != 2) {
          throw new StoreException("keystore dev-software: stdin line " + lineNo
              + " must be 'repo/type/tag BASE64' (two fields)");
        }
        ResourcePath r;
        try {
          r = ResourcePath.parse(parts[0]);
        } catch (IllegalArgumentException e) {
          throw new StoreException("keystore dev-software: stdin line " + lineNo + ": " + e.getMessage());
        }
        byte[] key;
        try {
          key = Base64.getDecoder().decode(parts[1]);
        } catch (IllegalArgumentException e) {
          throw new StoreException("keystore dev-software: stdin line " + lineNo + ": key is not standard base64");
        }
        if (key.length == 0 || key.length > WrappedKeyFile.MAX_KEY_BYTES) {
          throw new StoreException("keystore dev-software: stdin line " + lineNo + ": key must be 1 to "
              + WrappedKeyFile.MAX_KEY_BYTES + " bytes");
        }
        if (keys.putIfAbsent(r.path(), key) != null) {
          throw new StoreException("keystore dev-software: stdin line " + lineNo + ": resource given twice");
        }
        if (keys.size() > MAX_KEYS) {
          throw new StoreException("keystore dev-software: more than " + MAX_KEYS + " keys on stdin");
        }
      }
    } catch (IOException e) {
      throw new StoreException("keystore dev-software: reading stdin failed: " + e.getMessage(), e);
    }
    return new InsecureDevKeyStore(keys);
  }

  /** How many keys it holds. */
  public int size() {
    return keys.size();
  }

  @Override
  public String description() {
    return "dev-software: " + keys.size() + " key(s) from stdin held in process memory (INSECURE, development only)";
  }

  @Override
  public Optional<DataKey> fetch(ResourcePath resource) {
    byte[] k = keys.get(resource.path());
    return k == null ? Optional.empty() : Optional.of(new DataKey(resource, 1, k.clone()));
  }

  /** Zeroes every key. */
  @Override
  public void close() {
    keys.values().forEach(k -> Arrays.fill(k, (byte) 0));
  }
}
