package dev.sampler.integrity.sealed;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** The associated data of a sealed file: the UTF-8 bytes of the plaintext file's name. */
final class AssociatedData {
  private AssociatedData() {}

  /**
   * @throws IllegalArgumentException if the name is empty or not encodable as UTF-8 (an unpaired
   *     surrogate)
   */
  static byte[] of(String fileName) {
    Objects.requireNonNull(fileName, "fileName");
    if (fileName.isEmpty()) {
      throw new IllegalArgumentException("fileName (the associated data) must not be empty");
    }
    try {
      ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .encode(CharBuffer.wrap(fileName));
      byte[] out = new byte[b.remaining()];
      b.get(out);
      return out;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("fileName (the associated data) is not valid Unicode (unpaired surrogate)");
    }
  }
}
