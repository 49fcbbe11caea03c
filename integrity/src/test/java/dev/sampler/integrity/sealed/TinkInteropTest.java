package dev.sampler.integrity.sealed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.StreamingAead;
import com.google.crypto.tink.streamingaead.AesGcmHkdfStreamingKey;
import com.google.crypto.tink.streamingaead.PredefinedStreamingAeadParameters;
import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import com.google.crypto.tink.util.SecretBytes;
import dev.sampler.integrity.crypto.Crypto;
import dev.sampler.integrity.crypto.CryptoProvider;
import dev.sampler.integrity.crypto.NativeCrypto;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The format is Tink's: files Tink's own {@code AesGcmHkdfStreaming} (parameters {@code
 * AES256_GCM_HKDF_1MB}) encrypts unseal here, and files sealed here decrypt with Tink, at the sizes
 * where segmentation can go wrong.
 */
class TinkInteropTest {
  static final int F = SealedFormat.FIRST_PLAINTEXT_SEGMENT_BYTES;
  static final int P = SealedFormat.PLAINTEXT_SEGMENT_BYTES;
  static final String NAME = "diffusion_pytorch_model.safetensors";
  /** Empty, one byte, one segment exactly and around it, two segments exactly (2 MiB file), several. */
  static final int[] SIZES = {0, 1, F - 1, F, F + 1, F + P, F + 3 * P + 4321};

  @TempDir Path tmp;

  static StreamingAead tink(DataKey key) throws Exception {
    byte[] raw = key.copyBytes(InsecureKeyAccess.get());
    AesGcmHkdfStreamingKey k = AesGcmHkdfStreamingKey.create(
        PredefinedStreamingAeadParameters.AES256_GCM_HKDF_1MB, SecretBytes.copyFrom(raw, InsecureSecretKeyAccess.get()));
    java.util.Arrays.fill(raw, (byte) 0);
    return AesGcmHkdfStreaming.create(k);
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  @Test
  void unseal_filesTinkEncrypted_roundTrip() throws Exception {
    CryptoProvider crypto = NativeCrypto.require();
    DataKey key = DataKey.generate();
    StreamingAead tink = tink(key);
    for (int size : SIZES) {
      byte[] plain = random(size, size);
      Path f = tmp.resolve("tink-" + size);
      try (OutputStream out = tink.newEncryptingStream(Files.newOutputStream(f), NAME.getBytes(StandardCharsets.UTF_8))) {
        out.write(plain);
      }
      assertEquals(SealedFormat.sealedSize(size), Files.size(f), "Tink's size for " + size);
      for (int threads : new int[] {1, 2}) {
        try (UnsealedBytes u = Unsealer.unseal(f, key, NAME, threads, DigestPlan.none(), crypto)) {
          assertArrayEquals(plain, u.segment().toArray(ValueLayout.JAVA_BYTE), "size " + size + ", threads " + threads);
        }
      }
    }
  }

  @Test
  void tinkDecrypt_filesSealedHere_roundTrip() throws Exception {
    CryptoProvider crypto = NativeCrypto.require();
    DataKey key = DataKey.generate();
    StreamingAead tink = tink(key);
    for (int size : SIZES) {
      byte[] plain = random(size, 100 + size);
      Path f = tmp.resolve("ours-" + size);
      Sealer.seal(MemorySegment.ofArray(plain), f, key, NAME, crypto);
      try (InputStream in = tink.newDecryptingStream(Files.newInputStream(f), NAME.getBytes(StandardCharsets.UTF_8))) {
        assertArrayEquals(plain, in.readAllBytes(), "size " + size);
      }
    }
  }

  @Test
  void tinkDecrypt_jdkSealedFile_roundTrips() throws Exception {
    DataKey key = DataKey.generate();
    byte[] plain = random(F + P + 77, 5);
    Path f = tmp.resolve("jdk");
    Sealer.seal(MemorySegment.ofArray(plain), f, key, NAME, Crypto.jdk());
    try (InputStream in = tink(key).newDecryptingStream(Files.newInputStream(f), NAME.getBytes(StandardCharsets.UTF_8))) {
      assertArrayEquals(plain, in.readAllBytes());
    }
  }

  @Test
  void tinkDecrypt_otherFileName_fails() throws Exception {
    DataKey key = DataKey.generate();
    Path f = tmp.resolve("x");
    Sealer.seal(MemorySegment.ofArray(random(100, 1)), f, key, NAME, NativeCrypto.require());
    assertThrows(IOException.class, () -> {
      try (InputStream in = tink(key).newDecryptingStream(Files.newInputStream(f), "config.json".getBytes(StandardCharsets.UTF_8))) {
        in.readAllBytes();
      }
    });
  }
}
