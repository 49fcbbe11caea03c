package dev.sampler.benchmarks;

import dev.sampler.rng.CtrDrbg;
import dev.sampler.rng.NoiseStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.digests.SHA512Digest;
import org.bouncycastle.crypto.engines.AESEngine;
import org.bouncycastle.crypto.prng.SP800SecureRandomBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Randomness throughput on one thread, in float32 values per second.
 *
 * <p>Normals (finished N(0,1) float32 values): the project's per-request noise stream
 * ({@code noiseStreamNormals}: CTR_DRBG AES-256 + the v2 vectorized Box-Muller), the former v1
 * conversion over the same DRBG ({@code projectCtrDrbgStrictMathV1Normals}) and, as
 * baselines, the same 4 bytes per normal from BouncyCastle's CTR_DRBG (AES-256), BouncyCastle's
 * Hash_DRBG (SHA-512) and the JDK's DRBG, each turned into normals by a conventional scalar
 * Box-Muller in double ({@code Math.log/sqrt/cos/sin}, the JIT's intrinsics; 32-bit uniforms).
 *
 * <p>Bytes (raw generator speed, scored at 4 bytes per value, the cost of one normal before any
 * conversion): the project's CTR_DRBG, BouncyCastle's CTR and Hash DRBGs and the JDK's DRBG.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -jar benchmarks/target/benchmarks.jar
 * NoiseBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
// 5 s per warm-up iteration: C2 needs several seconds of CPU to compile the noise stream's Vector
// API loops (under load on 2 shared cores, up to ~8 s), and until then it runs 10-100x slower.
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 3, time = 3)
public class NoiseBenchmark {

  // 32 KiB per request: BouncyCastle's DRBGs refuse more than 2^18 bits in one call.
  static final int FLOATS = 1 << 13;
  static final int BYTES = FLOATS * 4;
  private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

  private final float[] normals = new float[FLOATS];
  private final byte[] bytes = new byte[BYTES];
  private NoiseStream stream;
  private CtrDrbg drbg;
  private SecureRandom bcCtr;
  private SecureRandom bcHash;
  private SecureRandom jdkDrbg;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    SecureRandom seeds = new SecureRandom();
    byte[] entropy = new byte[32];
    byte[] nonce = new byte[16];
    seeds.nextBytes(entropy);
    seeds.nextBytes(nonce);
    stream = NoiseStream.fromEntropySource(new NoiseStream.Personalization("bench", "request-1"), seeds);
    drbg = CtrDrbg.instantiate(CtrDrbg.Config.of(CtrDrbg.DerivationFunction.USE_DF), entropy, nonce, "bench".getBytes());
    bcCtr = new SP800SecureRandomBuilder(seeds, false).buildCTR(AESEngine.newInstance(), 256, nonce, false);
    bcHash = new SP800SecureRandomBuilder(seeds, false).buildHash(new SHA512Digest(), nonce, false);
    jdkDrbg = jdkDrbg();
  }

  private static SecureRandom jdkDrbg() throws NoSuchAlgorithmException {
    return SecureRandom.getInstance("DRBG");
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    stream.close();
    drbg.close();
  }

  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public float[] noiseStreamNormals() throws Exception {
    stream.fill(normals);
    return normals;
  }

  /**
   * The noise stream's former conversion v1 (StrictMath Box-Muller in double over 53-bit uniforms,
   * 8 bytes per normal) over the project's CTR_DRBG: the "before" of conversion v2.
   */
  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public float[] projectCtrDrbgStrictMathV1Normals() throws Exception {
    for (int half = 0; half < 2; half++) {
      drbg.generate(bytes, 0, BYTES, null);
      for (int i = 0; i < FLOATS / 2; i += 2) {
        double u1 = (((long) LONG_BE.get(bytes, 8 * i) >>> 11) + 1) * 0x1p-53;
        double u2 = ((long) LONG_BE.get(bytes, 8 * i + 8) >>> 11) * 0x1p-53;
        double r = StrictMath.sqrt(-2.0 * StrictMath.log(u1));
        double t = 2 * Math.PI * u2;
        normals[half * FLOATS / 2 + i] = (float) (r * StrictMath.cos(t));
        normals[half * FLOATS / 2 + i + 1] = (float) (r * StrictMath.sin(t));
      }
    }
    return normals;
  }

  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public float[] bouncyCastleCtrDrbgBoxMullerNormals() {
    bcCtr.nextBytes(bytes);
    boxMuller(bytes, normals);
    return normals;
  }

  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public float[] bouncyCastleHashDrbgBoxMullerNormals() {
    bcHash.nextBytes(bytes);
    boxMuller(bytes, normals);
    return normals;
  }

  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public float[] jdkDrbgBoxMullerNormals() {
    jdkDrbg.nextBytes(bytes);
    boxMuller(bytes, normals);
    return normals;
  }

  /**
   * The conventional scalar Box-Muller the baselines use: per pair two little-endian 32-bit words,
   * u1 = (w1 + 1) 2^-32 in (0, 1], angle = 2 pi w2 2^-32, double arithmetic with the JIT's
   * log/sqrt/cos/sin intrinsics (not bit-reproducible across JVMs; a speed reference only).
   */
  static void boxMuller(byte[] src, float[] out) {
    for (int i = 0; i < out.length; i += 2) {
      long w1 = (int) INT_LE.get(src, 2 * i) & 0xFFFFFFFFL;
      long w2 = (int) INT_LE.get(src, 2 * i + 4) & 0xFFFFFFFFL;
      double r = Math.sqrt(-2.0 * Math.log((w1 + 1) * 0x1p-32));
      double t = w2 * (2 * Math.PI * 0x1p-32);
      out[i] = (float) (r * Math.cos(t));
      out[i + 1] = (float) (r * Math.sin(t));
    }
  }

  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public byte[] projectCtrDrbgBytes() throws Exception {
    drbg.generate(bytes, 0, BYTES, null);
    return bytes;
  }

  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public byte[] bouncyCastleCtrDrbgBytes() {
    bcCtr.nextBytes(bytes);
    return bytes;
  }

  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public byte[] bouncyCastleHashDrbgBytes() {
    bcHash.nextBytes(bytes);
    return bytes;
  }

  @Benchmark
  @OperationsPerInvocation(FLOATS)
  public byte[] jdkDrbgBytes() {
    jdkDrbg.nextBytes(bytes);
    return bytes;
  }
}
