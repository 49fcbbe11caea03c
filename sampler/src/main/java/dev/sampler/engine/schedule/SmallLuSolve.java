package dev.sampler.engine.schedule;

/**
 * {@code torch.linalg.solve(A, b)} for UniPC's tiny float32 systems (n = 2 or 3), with the exact
 * roundings of torch 1.13 on the CPU over OpenBLAS 0.3.21 (x86-64, the LAPACK diffusers' vectors
 * were made with). torch factors A^T instead of A when A is contiguous (the corrector's R) and
 * then solves with the transpose; a slice such as the predictor's {@code R[:-1, :-1]} is factored
 * as it is. OpenBLAS's own getf2 (left-looking LU with partial pivoting) and getrs are used:
 *
 * <ul>
 *   <li>getf2, column j: earlier interchanges applied; rows 1..j-1 updated by dot products (float
 *       accumulation, each product rounded); rows j.. by a gemv whose accumulator is a fused
 *       multiply-add chain, subtracted once; pivot = the first largest magnitude; the
 *       multipliers scaled by the pivot's float32 reciprocal.
 *   <li>getrs 'N': interchanges, then forward and back substitution by axpy (fused multiply-add),
 *       the diagonal by true division.
 *   <li>getrs 'T': U^T by dot products and true division, L^T by dot products, then the
 *       interchanges in reverse.
 * </ul>
 *
 * Found by matching these variants against torch.linalg.solve bit for bit on thousands of
 * UniPC-shaped systems (every other combination of fused/unfused and reciprocal/division
 * mismatched); UniPC's parity vectors then check it in place.
 */
final class SmallLuSolve {
  private SmallLuSolve() {}

  /**
   * Solves {@code a x = b} as torch.linalg.solve does for a contiguous {@code a} (row-major
   * {@code a[i][j]}): getrf of a^T, getrs 'T'.
   *
   * @throws IllegalArgumentException if the matrix is singular (torch raises there)
   */
  static float[] solveContiguous(float[][] a, float[] b) {
    int n = a.length;
    float[][] m = new float[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        m[i][j] = a[j][i];
      }
    }
    int[] piv = getf2(m);
    float[] z = b.clone();
    // U^T z = b
    for (int i = 0; i < n; i++) {
      float dot = 0f;
      for (int k = 0; k < i; k++) {
        dot += m[k][i] * z[k];
      }
      z[i] = (z[i] - dot) / m[i][i];
    }
    // L^T w = z (unit diagonal)
    for (int i = n - 2; i >= 0; i--) {
      float dot = 0f;
      for (int k = i + 1; k < n; k++) {
        dot += m[k][i] * z[k];
      }
      z[i] = z[i] - dot;
    }
    for (int i = n - 1; i >= 0; i--) {
      swap(z, i, piv[i]);
    }
    return z;
  }

  /**
   * Solves {@code a x = b} as torch.linalg.solve does for a non-contiguous {@code a} (a slice):
   * getrf of a, getrs 'N'.
   *
   * @throws IllegalArgumentException if the matrix is singular (torch raises there)
   */
  static float[] solveStrided(float[][] a, float[] b) {
    int n = a.length;
    float[][] m = new float[n][];
    for (int i = 0; i < n; i++) {
      m[i] = a[i].clone();
    }
    int[] piv = getf2(m);
    float[] z = b.clone();
    for (int i = 0; i < n; i++) {
      swap(z, i, piv[i]);
    }
    for (int i = 0; i < n; i++) {
      for (int r = i + 1; r < n; r++) {
        z[r] = Math.fma(-z[i], m[r][i], z[r]);
      }
    }
    for (int i = n - 1; i >= 0; i--) {
      z[i] = z[i] / m[i][i];
      for (int r = 0; r < i; r++) {
        z[r] = Math.fma(-z[i], m[r][i], z[r]);
      }
    }
    return z;
  }

  /** OpenBLAS getf2 on {@code m} in place (L below the diagonal, U on and above); the pivots. */
  private static int[] getf2(float[][] m) {
    int n = m.length;
    int[] piv = new int[n];
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < j; i++) {
        float t = m[i][j];
        m[i][j] = m[piv[i]][j];
        m[piv[i]][j] = t;
      }
      for (int i = 1; i < j; i++) {
        float dot = 0f;
        for (int k = 0; k < i; k++) {
          dot += m[k][j] * m[i][k];
        }
        m[i][j] = m[i][j] - dot;
      }
      if (j > 0) {
        for (int r = j; r < n; r++) {
          float acc = 0f;
          for (int k = 0; k < j; k++) {
            acc = Math.fma(m[r][k], m[k][j], acc);
          }
          m[r][j] = m[r][j] - acc;
        }
      }
      int jp = j;
      for (int r = j + 1; r < n; r++) {
        if (Math.abs(m[r][j]) > Math.abs(m[jp][j])) {
          jp = r;
        }
      }
      piv[j] = jp;
      if (m[jp][j] == 0f) {
        throw new IllegalArgumentException("torch.linalg.solve: the input matrix is singular (UniPC order "
            + "conditions with coinciding noise levels)");
      }
      float inv = 1f / m[jp][j];
      if (jp != j) {
        for (int k = 0; k <= j; k++) {
          float t = m[j][k];
          m[j][k] = m[jp][k];
          m[jp][k] = t;
        }
      }
      for (int r = j + 1; r < n; r++) {
        m[r][j] *= inv;
      }
    }
    return piv;
  }

  private static void swap(float[] z, int i, int j) {
    float t = z[i];
    z[i] = z[j];
    z[j] = t;
  }
}
