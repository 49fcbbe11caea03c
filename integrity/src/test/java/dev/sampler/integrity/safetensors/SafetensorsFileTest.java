package dev.sampler.integrity.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.integrity.IntegrityException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
  @TempDir Path tmp;

  private static float[] randomFloats(SplittableRandom r, int n) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (r.nextGaussian() * 10);
    }
    return f;
  }

  @Test
  void writeThenOpen_allDtypes_roundTripsValuesAndMetadata() throws Exception {
    SplittableRandom r = new SplittableRandom(7);
    float[] f32 = randomFloats(r, 3 * 5 * 7);
    f32[0] = Float.NaN;
    f32[1] = Float.NEGATIVE_INFINITY;
    f32[2] = -0f;
    f32[3] = Float.MIN_VALUE;
    float[] f16 = randomFloats(r, 20_000); // more than one conversion chunk
    float[] bf16 = randomFloats(r, 10_001);
    long[] i64 = r.longs(33).toArray();
    Path p = tmp.resolve("m.safetensors");
    SafetensorsWriter.create()
        .metadata("format", "pt")
        .metadata("note", "é\n\"quoted\"")
        .addF32("w.f32", new long[] {3, 5, 7}, f32)
        .addF16("w.f16", new long[] {100, 200}, f16)
        .addBF16("w.bf16", new long[] {10_001}, bf16)
        .addI64("ids", new long[] {33}, i64)
        .addF32("scalar", new long[] {}, new float[] {4.5f})
        .addF32("empty", new long[] {0, 3}, new float[0])
        .write(p);

    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      assertEquals(Map.of("format", "pt", "note", "é\n\"quoted\""), f.metadata());
      assertEquals(
          List.of("empty", "ids", "scalar", "w.bf16", "w.f16", "w.f32"),
          f.tensors().stream().map(TensorInfo::name).toList(),
          "sorted by name, hence by offset");
      assertArrayEquals(f32, f.readFloats("w.f32"));
      float[] half = new float[f16.length];
      float[] brain = new float[bf16.length];
      for (int i = 0; i < f16.length; i++) {
        half[i] = Float.float16ToFloat(Float.floatToFloat16(f16[i]));
      }
      for (int i = 0; i < bf16.length; i++) {
        brain[i] = Float.intBitsToFloat(SafetensorsWriter.toBFloat16(bf16[i]) << 16);
      }
      assertArrayEquals(half, f.readFloats("w.f16"));
      assertArrayEquals(brain, f.readFloats("w.bf16"));
      assertArrayEquals(i64, f.readLongs("ids"));
      assertArrayEquals(new float[] {4.5f}, f.readFloats("scalar"));
      assertArrayEquals(new float[0], f.readFloats("empty"));
      assertArrayEquals(new long[] {100, 200}, f.tensor("w.f16").shape());
      assertEquals(20_000, f.tensor("w.f16").elementCount());
      assertEquals(40_000, f.tensor("w.f16").byteLength());
    }
  }

  @Test
  void toBytes_sameAsWrite_andDataAreaIsAligned() throws Exception {
    SafetensorsWriter w =
        SafetensorsWriter.create()
            .addF16("a", new long[] {3}, new float[] {1, 2, 3})
            .metadata("k", "v");
    Path p = tmp.resolve("a.safetensors");
    w.write(p);
    byte[] bytes = w.toBytes();
    assertArrayEquals(bytes, Files.readAllBytes(p));
    long n =
        MemorySegment.ofArray(bytes)
            .get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
    assertEquals(0, (8 + n) % 8);
    assertEquals(' ', bytes[(int) (8 + n - 1)], "padded with spaces like the Python library");
  }

  @Test
  void toBFloat16_roundsToNearestEven_andKeepsNaN() {
    assertEquals((short) 0x3f80, SafetensorsWriter.toBFloat16(1f));
    // 1 + 2^-8 is halfway between 1 and the next bfloat16: ties go to the even neighbour, 1.
    assertEquals((short) 0x3f80, SafetensorsWriter.toBFloat16(Float.intBitsToFloat(0x3f808000)));
    // 0x3f818000 is halfway between 0x3f81 (odd) and 0x3f82 (even).
    assertEquals((short) 0x3f82, SafetensorsWriter.toBFloat16(Float.intBitsToFloat(0x3f818000)));
    assertEquals((short) 0x3f81, SafetensorsWriter.toBFloat16(Float.intBitsToFloat(0x3f808001)));
    assertEquals((short) 0x7f80, SafetensorsWriter.toBFloat16(Float.POSITIVE_INFINITY));
    assertTrue(
        Float.isNaN(
            Float.intBitsToFloat(
                SafetensorsWriter.toBFloat16(Float.intBitsToFloat(0x7f800001)) << 16)));
  }

  @Test
  void data_isReadOnlyZeroCopySliceOfTheMapping() throws Exception {
    Path p = tmp.resolve("d.safetensors");
    SafetensorsWriter.create()
        .addF32("a", new long[] {2}, new float[] {1, 2})
        .addF32("b", new long[] {1}, new float[] {3})
        .write(p);
    try (SafetensorsFile f = SafetensorsFile.open(p)) {
      TensorInfo b = f.tensor("b");
      MemorySegment s = f.data(b);
      assertEquals(4, s.byteSize());
      assertTrue(s.isReadOnly());
      assertTrue(s.isMapped(), "a view of the file mapping, not a copy");
      assertEquals(
          3f, s.get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0));
      assertThrows(IllegalArgumentException.class, () -> s.set(ValueLayout.JAVA_BYTE, 0, (byte) 1));
    }
  }

  @Test
  void data_foreignTensorInfo_isRejected() throws Exception {
    byte[] bytes =
        SafetensorsWriter.create().addF32("a", new long[] {2}, new float[] {1, 2}).toBytes();
    SafetensorsFile f = SafetensorsFile.parse(MemorySegment.ofArray(bytes));
    TensorInfo forged = new TensorInfo("a", DType.F16, new long[] {4}, 0, 8);
    assertThrows(IllegalArgumentException.class, () -> f.data(forged));
    assertThrows(
        IllegalArgumentException.class,
        () -> f.data(new TensorInfo("zz", DType.F32, new long[] {1}, 0, 4)));
    assertEquals(8, f.data(new TensorInfo("a", DType.F32, new long[] {2}, 0, 8)).byteSize());
  }

  @Test
  void lookups_missingOrWrongDtype_failWithPreciseMessages() throws Exception {
    byte[] bytes =
        SafetensorsWriter.create()
            .addF32("w", new long[] {1}, new float[] {1})
            .addI64("ids", new long[] {1}, new long[] {1})
            .toBytes();
    SafetensorsFile f = SafetensorsFile.parse(MemorySegment.ofArray(bytes), "unet.safetensors");
    assertEquals(Optional.empty(), f.find("nope"));
    assertEquals("w", f.find("w").orElseThrow().name());
    assertEquals(
        "no tensor named 'nope\\u000a' in unet.safetensors",
        assertThrows(SafetensorsException.class, () -> f.tensor("nope\n")).getMessage());
    assertEquals(
        "unet.safetensors: tensor 'ids' has dtype I64; readFloats needs F32, F16 or BF16",
        assertThrows(SafetensorsException.class, () -> f.readFloats("ids")).getMessage());
    assertEquals(
        "unet.safetensors: tensor 'w' has dtype F32; readLongs needs I64",
        assertThrows(SafetensorsException.class, () -> f.readLongs("w")).getMessage());
    IntegrityException e = assertThrows(SafetensorsException.class, () -> f.readLongs("nope"));
    assertEquals("no tensor named 'nope' in unet.safetensors", e.getMessage());
  }

  @Test
  void close_thenRead_throwsIllegalState_andCloseIsIdempotent() throws Exception {
    Path p = tmp.resolve("c.safetensors");
    SafetensorsWriter.create().addF32("a", new long[] {1}, new float[] {1}).write(p);
    SafetensorsFile f = SafetensorsFile.open(p);
    MemorySegment s = f.data(f.tensor("a"));
    f.close();
    f.close();
    assertThrows(IllegalStateException.class, () -> s.get(ValueLayout.JAVA_BYTE, 0));
    assertThrows(IllegalStateException.class, () -> f.readFloats("a"));
  }

  @Test
  void open_missingFile_throwsIOException() {
    assertThrows(
        java.nio.file.NoSuchFileException.class, () -> SafetensorsFile.open(tmp.resolve("absent")));
  }

  @Test
  void dtypeParse_unknownName_namesIt() throws Exception {
    assertEquals(DType.BF16, DType.parse("BF16"));
    assertEquals(2, DType.F16.byteSize());
    assertEquals(8, DType.I64.byteSize());
    assertEquals(
        "unsupported dtype 'F8_E4M3' (supported: F32, F16, BF16, I64)",
        assertThrows(SafetensorsException.class, () -> DType.parse("F8_E4M3")).getMessage());
  }

  @Test
  void tensorInfo_isImmutableAndSelfConsistent() {
    long[] shape = {2, 3};
    TensorInfo t = new TensorInfo("x", DType.F16, shape, 4, 16);
    shape[0] = 99;
    t.shape()[1] = 99;
    assertArrayEquals(new long[] {2, 3}, t.shape());
    assertEquals(new TensorInfo("x", DType.F16, new long[] {2, 3}, 4, 16), t);
    assertEquals(new TensorInfo("x", DType.F16, new long[] {2, 3}, 4, 16).hashCode(), t.hashCode());
    assertNotEquals(new TensorInfo("x", DType.F16, new long[] {3, 2}, 4, 16), t);
    assertEquals(6, t.elementCount());
    assertEquals(12, t.byteLength());
    assertThrows(
        IllegalArgumentException.class,
        () -> new TensorInfo("x", DType.F16, new long[] {2, 3}, 4, 15));
    assertThrows(
        IllegalArgumentException.class,
        () -> new TensorInfo("x", DType.F32, new long[] {-1}, 0, 0));
    assertThrows(
        IllegalArgumentException.class, () -> new TensorInfo("", DType.F32, new long[] {}, 0, 4));
    assertThrows(
        IllegalArgumentException.class,
        () -> new TensorInfo("x", DType.F32, new long[] {1L << 62}, 0, 0));
  }

  @Test
  void writer_invalidInput_isRejectedEagerly() {
    SafetensorsWriter w = SafetensorsWriter.create().addF32("a", new long[] {1}, new float[] {1});
    assertThrows(
        IllegalArgumentException.class, () -> w.addF32("a", new long[] {1}, new float[] {1}));
    assertThrows(
        IllegalArgumentException.class, () -> w.addF32("b", new long[] {2}, new float[] {1}));
    assertThrows(
        IllegalArgumentException.class, () -> w.addF32("", new long[] {1}, new float[] {1}));
    assertThrows(
        IllegalArgumentException.class,
        () -> w.addF32("__metadata__", new long[] {1}, new float[] {1}));
    assertThrows(
        IllegalArgumentException.class,
        () -> w.addI64("x".repeat(1025), new long[] {0}, new long[0]));
    assertThrows(
        IllegalArgumentException.class, () -> w.addI64("\ud800", new long[] {0}, new long[0]));
    assertThrows(
        IllegalArgumentException.class, () -> w.addI64("neg", new long[] {-1}, new long[0]));
    w.metadata("k", "v");
    assertThrows(IllegalArgumentException.class, () -> w.metadata("k", "w"));
  }

  /**
   * Tampering: any single-byte change to the length field or header is either rejected or still
   * valid.
   */
  @Test
  void parse_everySingleByteFlipInHeader_isRejectedOrStillConsistent() {
    byte[] good =
        SafetensorsWriter.create()
            .metadata("format", "pt")
            .addF32("a", new long[] {2, 2}, new float[] {1, 2, 3, 4})
            .addF16("b", new long[] {3}, new float[] {1, 2, 3})
            .addI64("c", new long[] {1}, new long[] {5})
            .toBytes();
    int headerEnd =
        8
            + (int)
                MemorySegment.ofArray(good)
                    .get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
    int rejected = 0;
    for (int i = 0; i < headerEnd; i++) {
      for (int mask : new int[] {0x01, 0x20, 0x80}) {
        byte[] bad = good.clone();
        bad[i] ^= (byte) mask;
        if (SafetensorsFuzzTarget.check(bad) == SafetensorsFuzzTarget.Outcome.REJECTED) {
          rejected++;
        }
      }
    }
    assertTrue(rejected > headerEnd * 2, "most flips must be rejected, got " + rejected);
  }
}
