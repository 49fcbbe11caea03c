package dev.sampler.engine.schedule;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * diffusers' {@code LMSDiscreteScheduler}: a linear multistep method in sigma of order 4 (lower
 * for the first steps), whose coefficients are the integrals of the Lagrange basis polynomials
 * over each sigma interval.
 *
 * <p>Config keys: the training schedule ({@link BetaSchedule#fromConfig}; diffusers' LMS has no
 * {@code rescale_betas_zero_snr} and ignores the key, as does this), {@code timestep_spacing}
 * (default "linspace"), {@code steps_offset}, {@code prediction_type},
 * {@code use_karras_sigmas} (LMS's Karras sigmas ignore sigma_min/sigma_max, as diffusers'
 * do). Refused: {@code use_exponential_sigmas}, {@code use_beta_sigmas}, {@code trained_betas}.
 *
 * <p>The coefficients: diffusers integrates with {@code scipy.integrate.quad(f, sigma_t,
 * sigma_t+1, epsrel=1e-4)}, and its integrand multiplies 0-dim float32 sigma tensors, so
 * {@code f(tau)} is evaluated in float32 ({@code tau} rounded to float32 first). The integral of a
 * polynomial of degree at most 3 would be exact with any Gauss rule of two or more nodes, but
 * quad's value is not that integral: it is QUADPACK's Gauss-Kronrod sum over the float32
 * samples, which differ from the polynomial by float32 rounding (relative 1e-7). So this class
 * evaluates the same float32 integrand with the same QUADPACK algorithm ({@link Quadpack}, which
 * in practice stops after the first 21-point pass: its error estimate is far below 1e-4 for a
 * cubic) and gets quad's coefficients to the last bit, where an exact integration would be off
 * by about 1e-7.
 */
public final class LMSDiscreteScheduler extends SigmaScheduler {
  private static final String CLS = "LMSDiscreteScheduler";
  /** diffusers' default {@code order} argument of step(). */
  static final int ORDER = 4;
  /** The {@code epsrel} diffusers passes to quad. */
  static final double EPSREL = 1e-4;

  private final boolean karras;
  private final Deque<double[]> derivatives = new ArrayDeque<>();

  /**
   * Builds the scheduler from a config.
   *
   * @throws IllegalArgumentException naming the config's source, the key and the value, for a key
   *     this runtime does not implement
   */
  public LMSDiscreteScheduler(SchedulerConfig config) {
    super(CLS, config, BetaSchedule.fromConfig(config, 0.0001, 0.02, false));
    this.karras = config.getBoolean("use_karras_sigmas", false);
    SchedulerSupport.refuseTrue(config, "use_exponential_sigmas");
    SchedulerSupport.refuseTrue(config, "use_beta_sigmas");
  }

  @Override
  public void setTimesteps(int numInferenceSteps) {
    int numTrain = alphasCumprod.length;
    SchedulerSupport.checkSteps(CLS, numInferenceSteps, numTrain, false);
    float[] ts = Spacing.float32(spacing, numInferenceSteps, numTrain, stepsOffset);
    float[] train = Sigmas.train(alphasCumprod);
    double[] sig = Sigmas.interp(ts, train);
    if (karras) {
      sig = Sigmas.karras(sig[sig.length - 1], sig[0], numInferenceSteps);
      float[] logSigmas = Sigmas.logs(train);
      ts = new float[sig.length];
      for (int i = 0; i < sig.length; i++) {
        ts[i] = (float) Sigmas.sigmaToT(sig[i], logSigmas);
      }
    }
    float[] s = new float[sig.length + 1];
    for (int i = 0; i < sig.length; i++) {
      s[i] = (float) sig[i];
    }
    this.timesteps = ts;
    this.sigmas = s;
    derivatives.clear();
    resetIndex();
  }

  @Override
  public StepOutput step(double[] modelOutput, double timestep, double[] sample, NoiseSource noise) {
    SchedulerSupport.requireTimesteps(CLS, sigmas != null);
    SchedulerSupport.requireSameLength(CLS, modelOutput, sample);
    initStepIndex(timestep);
    int t = stepIndex;
    float sigma = sigmaAt(t);
    sigmaAt(t + 1); // fails past the end before any state changes
    double[] x0 = predictOriginal(predictionType, modelOutput, sample, sigma, false);
    double[] derivative = new double[sample.length];
    for (int i = 0; i < derivative.length; i++) {
      derivative[i] = (sample[i] - x0[i]) / sigma;
    }
    derivatives.addLast(derivative);
    if (derivatives.size() > ORDER) {
      derivatives.removeFirst();
    }
    int order = Math.min(t + 1, ORDER);
    double[] sum = new double[sample.length];
    Iterator<double[]> newestFirst = derivatives.descendingIterator();
    for (int cur = 0; cur < order; cur++) {
      double coeff = lmsCoefficient(order, t, cur);
      double[] d = newestFirst.next();
      for (int i = 0; i < sum.length; i++) {
        sum[i] = sum[i] + coeff * d[i];
      }
    }
    double[] prev = new double[sample.length];
    for (int i = 0; i < prev.length; i++) {
      prev[i] = sample[i] + sum[i];
    }
    stepIndex++;
    return new StepOutput(prev, x0);
  }

  /**
   * diffusers' {@code get_lms_coefficient(order, t, current_order)}: quad of the Lagrange basis
   * polynomial of node {@code t - current_order} over [sigma_t, sigma_t+1], the polynomial
   * evaluated in float32 as torch does.
   */
  double lmsCoefficient(int order, int t, int current) {
    float[] s = sigmas;
    return Quadpack.quad(tau -> {
      float x = (float) tau;
      float prod = 1f;
      for (int k = 0; k < order; k++) {
        if (k == current) {
          continue;
        }
        prod = prod * ((x - s[t - k]) / (s[t - current] - s[t - k]));
      }
      return prod;
    }, s[t], s[t + 1], EPSREL);
  }
}
