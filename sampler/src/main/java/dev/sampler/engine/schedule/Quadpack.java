package dev.sampler.engine.schedule;

import java.util.function.DoubleUnaryOperator;

/**
 * {@code scipy.integrate.quad(f, a, b, epsrel=...)} for finite limits, as scipy 1.10 computes it:
 * QUADPACK's DQAGSE (adaptive bisection with the epsilon extrapolation of DQELG, error list kept
 * ordered by DQPSRT) on top of the 21-point Gauss-Kronrod rule DQK21, with scipy's defaults
 * ({@code epsabs = 1.49e-8}, {@code limit = 50}) and its handling of reversed limits (integrate
 * from min to max, negate). Reimplemented from the public-domain QUADPACK algorithm in the same
 * operation order, so a caller that evaluates {@code f} as scipy's caller does gets scipy's value
 * to the last bit (for LMSDiscreteScheduler's coefficients that is all that matters: its
 * integrand is evaluated in float32, so the result depends on which nodes QUADPACK picks).
 */
final class Quadpack {
  private Quadpack() {}

  static final double SCIPY_EPSABS = 1.49e-8;
  static final int SCIPY_LIMIT = 50;

  private static final double EPMACH = Math.ulp(1.0); // d1mach(4)
  private static final double UFLOW = Double.MIN_NORMAL; // d1mach(1)
  private static final double OFLOW = Double.MAX_VALUE; // d1mach(2)

  // DQK21 nodes and weights (QUADPACK's data statements)
  private static final double[] WG = {
    0.066671344308688137593568809893332, 0.149451349150580593145776339657697,
    0.219086362515982043995534934228163, 0.269266719309996355091226921569469,
    0.295524224714752870173892994651338};
  private static final double[] XGK = {
    0.995657163025808080735527280689003, 0.973906528517171720077964012084452,
    0.930157491355708226001207180059508, 0.865063366688984510732096688423493,
    0.780817726586416897063717578345042, 0.679409568299024406234327365114874,
    0.562757134668604683339000099272694, 0.433395394129247190799265943165784,
    0.294392862701460198131126603103866, 0.148874338981631210884826001129720,
    0.000000000000000000000000000000000};
  private static final double[] WGK = {
    0.011694638867371874278064396062192, 0.032558162307964727478818972459390,
    0.054755896574351996031381300244580, 0.075039674810919952767043140916190,
    0.093125454583697605535065465083366, 0.109387158802297641899210590325805,
    0.123491976262065851077958109831074, 0.134709217311473325928054001771707,
    0.142775938577060080797094273138717, 0.147739104901338491374841515972068,
    0.149445554002916905664936468389821};

  /** scipy's {@code quad(f, a, b, epsrel=epsrel)[0]}. */
  static double quad(DoubleUnaryOperator f, double a, double b, double epsrel) {
    boolean flip = b < a;
    double lo = Math.min(a, b);
    double hi = Math.max(a, b);
    double r = qagse(f, lo, hi, SCIPY_EPSABS, epsrel, SCIPY_LIMIT);
    return flip ? -r : r;
  }

  /** One DQK21 pass: {result, abserr, resabs, resasc}. */
  static double[] qk21(DoubleUnaryOperator f, double a, double b) {
    double centr = 0.5 * (a + b);
    double hlgth = 0.5 * (b - a);
    double dhlgth = Math.abs(hlgth);
    double resg = 0.0;
    double fc = f.applyAsDouble(centr);
    double resk = WGK[10] * fc;
    double resabs = Math.abs(resk);
    double[] fv1 = new double[10];
    double[] fv2 = new double[10];
    for (int j = 1; j <= 5; j++) {
      int jtw = 2 * j - 1; // Fortran's 2*j, 0-based
      double absc = hlgth * XGK[jtw];
      double fval1 = f.applyAsDouble(centr - absc);
      double fval2 = f.applyAsDouble(centr + absc);
      fv1[jtw] = fval1;
      fv2[jtw] = fval2;
      double fsum = fval1 + fval2;
      resg = resg + WG[j - 1] * fsum;
      resk = resk + WGK[jtw] * fsum;
      resabs = resabs + WGK[jtw] * (Math.abs(fval1) + Math.abs(fval2));
    }
    for (int j = 1; j <= 5; j++) {
      int jtwm1 = 2 * j - 2; // Fortran's 2*j-1, 0-based
      double absc = hlgth * XGK[jtwm1];
      double fval1 = f.applyAsDouble(centr - absc);
      double fval2 = f.applyAsDouble(centr + absc);
      fv1[jtwm1] = fval1;
      fv2[jtwm1] = fval2;
      double fsum = fval1 + fval2;
      resk = resk + WGK[jtwm1] * fsum;
      resabs = resabs + WGK[jtwm1] * (Math.abs(fval1) + Math.abs(fval2));
    }
    double reskh = resk * 0.5;
    double resasc = WGK[10] * Math.abs(fc - reskh);
    for (int j = 0; j < 10; j++) {
      resasc = resasc + WGK[j] * (Math.abs(fv1[j] - reskh) + Math.abs(fv2[j] - reskh));
    }
    double result = resk * hlgth;
    resabs = resabs * dhlgth;
    resasc = resasc * dhlgth;
    double abserr = Math.abs((resk - resg) * hlgth);
    if (resasc != 0.0 && abserr != 0.0) {
      abserr = resasc * Math.min(1.0, Math.pow(200.0 * abserr / resasc, 1.5));
    }
    if (resabs > UFLOW / (50.0 * EPMACH)) {
      abserr = Math.max((EPMACH * 50.0) * resabs, abserr);
    }
    return new double[] {result, abserr, resabs, resasc};
  }

  /**
   * DQAGSE's result (its error flags are not reported: scipy's quad only warns about them). The
   * control flow follows the Fortran labels (10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 100, 105,
   * 110, 115); arrays are 1-based to keep the index arithmetic identical.
   */
  static double qagse(DoubleUnaryOperator f, double a, double b, double epsabs, double epsrel, int limit) {
    double[] alist = new double[limit + 1];
    double[] blist = new double[limit + 1];
    double[] rlist = new double[limit + 1];
    double[] elist = new double[limit + 1];
    int[] iord = new int[limit + 1];
    double[] rlist2 = new double[53];
    double[] res3la = new double[4];
    int ier = 0;
    alist[1] = a;
    blist[1] = b;
    if (epsabs <= 0.0 && epsrel < Math.max(50.0 * EPMACH, 0.5e-28)) {
      return 0.0; // ier = 6: invalid tolerances
    }
    int ierro = 0;
    double[] k = qk21(f, a, b);
    double result = k[0];
    double abserr = k[1];
    double defabs = k[2];
    double resabs = k[3]; // DQAGSE passes its resabs where DQK21 returns resasc
    double dres = Math.abs(result);
    double errbnd = Math.max(epsabs, epsrel * dres);
    int last = 1;
    rlist[1] = result;
    elist[1] = abserr;
    iord[1] = 1;
    if (abserr <= 1.0e2 * EPMACH * defabs && abserr > errbnd) {
      ier = 2;
    }
    if (limit == 1) {
      ier = 1;
    }
    if (ier != 0 || (abserr <= errbnd && abserr != resabs) || abserr == 0.0) {
      return result;
    }
    rlist2[1] = result;
    double errmax = abserr;
    int maxerr = 1;
    double area = result;
    double errsum = abserr;
    abserr = OFLOW;
    int[] nrmax = {1};
    int[] nres = {0};
    int numrl2 = 2;
    int ktmin = 0;
    boolean extrap = false;
    boolean noext = false;
    int iroff1 = 0;
    int iroff2 = 0;
    int iroff3 = 0;
    int ksgn = -1;
    if (dres >= (1.0 - 50.0 * EPMACH) * defabs) {
      ksgn = 1;
    }
    double small = 0.0;
    double erlarg = 0.0;
    double ertest = 0.0;
    double correc = 0.0;
    boolean goto115 = false;
    loop:
    for (last = 2; last <= limit; last++) {
      double a1 = alist[maxerr];
      double b1 = 0.5 * (alist[maxerr] + blist[maxerr]);
      double a2 = b1;
      double b2 = blist[maxerr];
      double erlast = errmax;
      double[] k1 = qk21(f, a1, b1);
      double[] k2 = qk21(f, a2, b2);
      double area1 = k1[0];
      double error1 = k1[1];
      double defab1 = k1[3];
      double area2 = k2[0];
      double error2 = k2[1];
      double defab2 = k2[3];
      double area12 = area1 + area2;
      double erro12 = error1 + error2;
      errsum = errsum + erro12 - errmax;
      area = area + area12 - rlist[maxerr];
      if (!(defab1 == error1 || defab2 == error2)) {
        if (!(Math.abs(rlist[maxerr] - area12) > 0.1e-4 * Math.abs(area12) || erro12 < 0.99 * errmax)) {
          if (extrap) {
            iroff2++;
          } else {
            iroff1++;
          }
        }
        if (last > 10 && erro12 > errmax) { // label 10
          iroff3++;
        }
      }
      rlist[maxerr] = area1; // label 15
      rlist[last] = area2;
      errbnd = Math.max(epsabs, epsrel * Math.abs(area));
      if (iroff1 + iroff2 >= 10 || iroff3 >= 20) {
        ier = 2;
      }
      if (iroff2 >= 5) {
        ierro = 3;
      }
      if (last == limit) {
        ier = 1;
      }
      if (Math.max(Math.abs(a1), Math.abs(b2)) <= (1.0 + 100.0 * EPMACH) * (Math.abs(a2) + 1000.0 * UFLOW)) {
        ier = 4;
      }
      if (error2 > error1) { // label 20
        alist[maxerr] = a2;
        alist[last] = a1;
        blist[last] = b1;
        rlist[maxerr] = area2;
        rlist[last] = area1;
        elist[maxerr] = error2;
        elist[last] = error1;
      } else {
        alist[last] = a2;
        blist[maxerr] = b1;
        blist[last] = b2;
        elist[maxerr] = error1;
        elist[last] = error2;
      }
      int[] mx = {maxerr}; // label 30
      double[] em = {errmax};
      qpsrt(limit, last, mx, em, elist, iord, nrmax);
      maxerr = mx[0];
      errmax = em[0];
      if (errsum <= errbnd) {
        goto115 = true;
        break;
      }
      if (ier != 0) {
        break; // to label 100
      }
      if (last == 2) { // label 80
        small = Math.abs(b - a) * 0.375;
        erlarg = errsum;
        ertest = errbnd;
        rlist2[2] = area;
        continue;
      }
      if (noext) {
        continue;
      }
      erlarg = erlarg - erlast;
      if (Math.abs(b1 - a1) > small) {
        erlarg = erlarg + erro12;
      }
      if (!extrap) {
        if (Math.abs(blist[maxerr] - alist[maxerr]) > small) {
          continue;
        }
        extrap = true;
        nrmax[0] = 2;
      }
      if (!(ierro == 3 || erlarg <= ertest)) { // label 40
        int id = nrmax[0];
        int jupbnd = last;
        if (last > (2 + limit / 2)) {
          jupbnd = limit + 3 - last;
        }
        boolean jumped = false;
        for (int kk = id; kk <= jupbnd; kk++) {
          maxerr = iord[nrmax[0]];
          errmax = elist[maxerr];
          if (Math.abs(blist[maxerr] - alist[maxerr]) > small) {
            jumped = true;
            break;
          }
          nrmax[0]++;
        }
        if (jumped) {
          continue loop;
        }
      }
      numrl2++; // label 60
      rlist2[numrl2] = area;
      double[] eps = new double[2];
      int[] n = {numrl2};
      qelg(n, rlist2, eps, res3la, nres);
      numrl2 = n[0];
      double reseps = eps[0];
      double abseps = eps[1];
      ktmin++;
      if (ktmin > 5 && abserr < 0.1e-2 * errsum) {
        ier = 5;
      }
      if (abseps < abserr) {
        ktmin = 0;
        abserr = abseps;
        result = reseps;
        correc = erlarg;
        ertest = Math.max(epsabs, epsrel * Math.abs(reseps));
        if (abserr <= ertest) {
          break; // to label 100
        }
      }
      if (numrl2 == 1) { // label 70
        noext = true;
      }
      if (ier == 5) {
        break;
      }
      maxerr = iord[1];
      errmax = elist[maxerr];
      nrmax[0] = 1;
      extrap = false;
      small = small * 0.5;
      erlarg = errsum;
    }
    if (last > limit) {
      last = limit; // the Fortran DO variable ends at limit + 1
    }
    if (!goto115) {
      // label 100: set the final result
      if (abserr == OFLOW) {
        goto115 = true;
      } else if (ier + ierro != 0) {
        if (ierro == 3) {
          abserr = abserr + correc;
        }
        if (ier == 0) {
          ier = 3;
        }
        if (result != 0.0 && area != 0.0) {
          if (abserr / Math.abs(result) > errsum / Math.abs(area)) { // label 105
            goto115 = true;
          }
        } else if (abserr > errsum) {
          goto115 = true;
        } else if (area == 0.0) {
          return result;
        }
      }
      // label 110 only sets ier (not reported)
    }
    if (goto115) {
      result = 0.0;
      for (int kk = 1; kk <= last; kk++) {
        result = result + rlist[kk];
      }
    }
    return result;
  }

  /** DQPSRT: keeps {@code iord} sorted by decreasing error; updates maxerr, ermax and nrmax. */
  private static void qpsrt(int limit, int last, int[] maxerr, double[] ermax, double[] elist, int[] iord,
      int[] nrmax) {
    if (last <= 2) {
      iord[1] = 1;
      iord[2] = 2;
    } else {
      double errmax = elist[maxerr[0]];
      if (nrmax[0] != 1) {
        int ido = nrmax[0] - 1;
        for (int i = 1; i <= ido; i++) {
          int isucc = iord[nrmax[0] - 1];
          if (errmax <= elist[isucc]) {
            break;
          }
          iord[nrmax[0]] = isucc;
          nrmax[0]--;
        }
      }
      int jupbn = last; // label 30
      if (last > (limit / 2 + 2)) {
        jupbn = limit + 3 - last;
      }
      double errmin = elist[last];
      int jbnd = jupbn - 1;
      int ibeg = nrmax[0] + 1;
      boolean placed = false;
      int i = ibeg;
      if (ibeg <= jbnd) {
        for (i = ibeg; i <= jbnd; i++) {
          int isucc = iord[i];
          if (errmax >= elist[isucc]) {
            placed = true;
            break;
          }
          iord[i - 1] = isucc;
        }
      }
      if (!placed) { // label 50
        iord[jbnd] = maxerr[0];
        iord[jupbn] = last;
      } else { // label 60
        iord[i - 1] = maxerr[0];
        int kk = jbnd;
        boolean done = false;
        for (int j = i; j <= jbnd; j++) {
          int isucc = iord[kk];
          if (errmin < elist[isucc]) {
            iord[kk + 1] = last; // label 80
            done = true;
            break;
          }
          iord[kk + 1] = isucc;
          kk--;
        }
        if (!done) {
          iord[i] = last;
        }
      }
    }
    maxerr[0] = iord[nrmax[0]]; // label 90
    ermax[0] = elist[maxerr[0]];
  }

  /** DQELG: the epsilon algorithm; {@code out} receives {result, abserr}. */
  private static void qelg(int[] nref, double[] epstab, double[] out, double[] res3la, int[] nres) {
    int n = nref[0];
    nres[0]++;
    double abserr = OFLOW;
    double result = epstab[n];
    if (n >= 3) {
      int limexp = 50;
      epstab[n + 2] = epstab[n];
      int newelm = (n - 1) / 2;
      epstab[n] = OFLOW;
      int num = n;
      int k1 = n;
      boolean converged = false;
      for (int i = 1; i <= newelm; i++) {
        int k2 = k1 - 1;
        int k3 = k1 - 2;
        double res = epstab[k1 + 2];
        double e0 = epstab[k3];
        double e1 = epstab[k2];
        double e2 = res;
        double e1abs = Math.abs(e1);
        double delta2 = e2 - e1;
        double err2 = Math.abs(delta2);
        double tol2 = Math.max(Math.abs(e2), e1abs) * EPMACH;
        double delta3 = e1 - e0;
        double err3 = Math.abs(delta3);
        double tol3 = Math.max(e1abs, Math.abs(e0)) * EPMACH;
        if (!(err2 > tol2 || err3 > tol3)) {
          result = res;
          abserr = err2 + err3;
          converged = true; // to label 100
          break;
        }
        double e3 = epstab[k1]; // label 10
        epstab[k1] = e1;
        double delta1 = e1 - e3;
        double err1 = Math.abs(delta1);
        double tol1 = Math.max(e1abs, Math.abs(e3)) * EPMACH;
        double ss = 0;
        boolean shorten = err1 <= tol1 || err2 <= tol2 || err3 <= tol3;
        if (!shorten) {
          ss = 1.0 / delta1 + 1.0 / delta2 - 1.0 / delta3;
          double epsinf = Math.abs(ss * e1);
          shorten = !(epsinf > 0.1e-3);
        }
        if (shorten) { // label 20
          n = i + i - 1;
          break;
        }
        res = e1 + 1.0 / ss; // label 30
        epstab[k1] = res;
        k1 = k1 - 2;
        double error = err2 + Math.abs(res - e2) + err3;
        if (error > abserr) {
          continue;
        }
        abserr = error;
        result = res;
      }
      if (!converged) {
        if (n == limexp) { // label 50
          n = 2 * (limexp / 2) - 1;
        }
        int ib = 1;
        if ((num / 2) * 2 == num) {
          ib = 2;
        }
        int ie = newelm + 1;
        for (int i = 1; i <= ie; i++) {
          int ib2 = ib + 2;
          epstab[ib] = epstab[ib2];
          ib = ib2;
        }
        if (num != n) {
          int indx = num - n + 1;
          for (int i = 1; i <= n; i++) {
            epstab[i] = epstab[indx];
            indx++;
          }
        }
        if (nres[0] >= 4) { // label 80 / 90
          abserr = Math.abs(result - res3la[3]) + Math.abs(result - res3la[2]) + Math.abs(result - res3la[1]);
          res3la[1] = res3la[2];
          res3la[2] = res3la[3];
          res3la[3] = result;
        } else {
          res3la[nres[0]] = result;
          abserr = OFLOW;
        }
      }
    }
    abserr = Math.max(abserr, 5.0 * EPMACH * Math.abs(result)); // label 100
    nref[0] = n;
    out[0] = result;
    out[1] = abserr;
  }
}
