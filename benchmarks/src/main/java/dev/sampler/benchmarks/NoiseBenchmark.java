package dev.sampler.benchmarks;

import dev.sampler.rng.CtrDrbg;
import dev.sampler.rng.NoiseStream;
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
 * Randomness throughput on one thread, in float32 values per second: the project's per-request
 * noise stream (CTR_DRBG AES-256 + Box-Muller), its raw CTR_DRBG, and the baselines of PERF.md
 * (BouncyCastle's CTR and Hash DRBGs, the JDK's DRBG). Byte generators are scored at 4 bytes per
 * float32 value, the cost of a normal before any conversion; the noise stream is scored in
 * finished normals. Run: {@code java -jar benchmarks/target/benchmarks.jar NoiseBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class NoiseBenchmark {

  // 32 KiB per request: BouncyCastle's DRBGs refuse more than 2^18 bits in one call.
  static final int FLOATS = 1 << 13;
  static final int BYTES = FLOATS * 4;

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
