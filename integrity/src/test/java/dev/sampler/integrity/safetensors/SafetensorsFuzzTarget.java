package dev.sampler.integrity.safetensors;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The safetensors fuzz target: arbitrary bytes go to {@link SafetensorsFile#parse}, which must
 * either reject them with a {@link SafetensorsException} whose message is short, printable ASCII,
 * or return a file whose invariants hold. Any other exception, or a broken invariant (an {@link
 * AssertionError}), is a finding.
 *
 * <p>Used by {@link SafetensorsFuzzTest} (JUnit/Jazzer) and by {@code bin/fuzz-safetensors}, which
 * runs Jazzer's standalone driver on {@link #fuzzerTestOneInput}.
 */
public final class SafetensorsFuzzTarget {
  enum Outcome {
    ACCEPTED,
    REJECTED
  }

  private static final String SOURCE = "<fuzz>";

  /** Skip the writer round trip for large inputs so that each execution stays fast. */
  private static final long MAX_ROUND_TRIP_ELEMENTS = 1 << 16;

  private SafetensorsFuzzTarget() {}

  /** Jazzer's standalone entry point. */
  public static void fuzzerTestOneInput(byte[] input) {
    check(input);
  }

  static Outcome check(byte[] input) {
    SafetensorsFile f;
    try {
      f = SafetensorsFile.parse(MemorySegment.ofArray(input), SOURCE);
    } catch (SafetensorsException e) {
      checkMessage(e.getMessage());
      return Outcome.REJECTED;
    }
    try {
      checkInvariants(input, f);
    } catch (SafetensorsException e) {
      throw new AssertionError("accepted file failed a read: " + e.getMessage(), e);
    }
    return Outcome.ACCEPTED;
  }

  private static void checkMessage(String m) {
    require(m != null && m.startsWith(SOURCE + ": "), "message must start with the source: " + m);
    require(m.length() <= 600, "message too long (" + m.length() + " chars)");
    for (int i = 0; i < m.length(); i++) {
      char c = m.charAt(i);
      require(c >= 0x20 && c < 0x7f, "message has unsanitized char U+" + Integer.toHexString(c));
    }
  }

  private static void checkInvariants(byte[] input, SafetensorsFile f) throws SafetensorsException {
    long n =
        MemorySegment.ofArray(input)
            .get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
    require(n >= 0 && n <= SafetensorsFile.MAX_HEADER_BYTES, "header length " + n);
    require(input[8] == '{', "header must start with '{'");
    long dataSize = input.length - 8 - n;
    List<TensorInfo> tensors = f.tensors();
    require(tensors.size() <= SafetensorsFile.MAX_TENSORS, "too many tensors");
    long covered = 0;
    Set<String> names = new HashSet<>();
    long totalElements = 0;
    for (TensorInfo t : tensors) {
      require(t.begin() == covered, "tensors not sequential at " + t);
      require(t.end() <= dataSize, "tensor out of bounds: " + t);
      require(!t.name().isEmpty() && names.add(t.name()), "empty or duplicate name " + t);
      require(Names.utf8Length(t.name()) <= SafetensorsFile.MAX_NAME_BYTES, "name too long");
      require(t.elementCount() * t.dtype().byteSize() == t.byteLength(), "size mismatch " + t);
      require(f.find(t.name()).orElseThrow().equals(t), "find disagrees for " + t);
      require(f.tensor(t.name()).equals(t), "tensor disagrees for " + t);
      MemorySegment d = f.data(t);
      require(d.byteSize() == t.byteLength() && d.isReadOnly(), "bad data slice for " + t);
      covered = t.end();
      totalElements += t.elementCount();
    }
    require(covered == dataSize, "data area " + dataSize + " covered " + covered);
    require(!f.metadata().containsKey(null), "null metadata key");

    if (totalElements > MAX_ROUND_TRIP_ELEMENTS) {
      return;
    }
    SafetensorsWriter w = SafetensorsWriter.create();
    for (Map.Entry<String, String> e : f.metadata().entrySet()) {
      w.metadata(e.getKey(), e.getValue());
    }
    for (TensorInfo t : tensors) {
      switch (t.dtype()) {
        case F32 -> w.addF32(t.name(), t.shape(), f.readFloats(t.name()));
        case F16 -> w.addF16(t.name(), t.shape(), f.readFloats(t.name()));
        case BF16 -> w.addBF16(t.name(), t.shape(), f.readFloats(t.name()));
        case I64 -> w.addI64(t.name(), t.shape(), f.readLongs(t.name()));
      }
      boolean isFloat = t.dtype() != DType.I64;
      try {
        if (isFloat) {
          f.readLongs(t.name());
        } else {
          f.readFloats(t.name());
        }
        throw new AssertionError("wrong-dtype read accepted for " + t);
      } catch (SafetensorsException expected) {
        checkMessage(expected.getMessage());
      }
    }
    SafetensorsFile again =
        SafetensorsFile.parse(MemorySegment.ofArray(w.toBytes()), "<rewritten>");
    require(again.metadata().equals(f.metadata()), "metadata changed by a rewrite");
    require(again.tensors().size() == tensors.size(), "tensor count changed by a rewrite");
    for (TensorInfo t : tensors) {
      TensorInfo u = again.tensor(t.name());
      require(
          u.dtype() == t.dtype() && Arrays.equals(u.shape(), t.shape()), "rewrite changed " + t);
      if (t.dtype() == DType.I64) {
        require(Arrays.equals(again.readLongs(t.name()), f.readLongs(t.name())), "values of " + t);
      } else {
        // Arrays.equals(float[]) treats all NaNs as equal; narrowing an exactly widened value is
        // exact.
        require(
            Arrays.equals(again.readFloats(t.name()), f.readFloats(t.name())), "values of " + t);
      }
    }
  }

  private static void require(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError(what);
    }
  }
}
