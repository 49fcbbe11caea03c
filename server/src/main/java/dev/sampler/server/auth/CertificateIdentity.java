package dev.sampler.server.auth;

import dev.sampler.scheduler.Tenant;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads a tenant from a verified client certificate's subject alternative names: a URI SAN
 * {@code spiffe://<trust domain>/tenant/<name>} (when a trust domain is configured), else a DNS SAN
 * {@code <name><suffix>} where {@code <name>} is one DNS label (when a suffix is configured). A
 * certificate whose SANs name two different tenants is refused (ambiguous); the subject's CN is
 * never used.
 */
public final class CertificateIdentity {
  private static final int SAN_DNS = 2;
  private static final int SAN_URI = 6;
  private static final Pattern SPIFFE_NAME = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private final Optional<String> spiffePrefix;
  private final Optional<String> dnsSuffix;

  /**
   * @param spiffeTrustDomain e.g. {@code example.org}
   * @param dnsSanSuffix e.g. {@code .tenants.example.org} (a leading dot is added if missing)
   */
  public CertificateIdentity(Optional<String> spiffeTrustDomain, Optional<String> dnsSanSuffix) {
    this.spiffePrefix = spiffeTrustDomain.map(d -> "spiffe://" + d.toLowerCase(Locale.ROOT) + "/tenant/");
    this.dnsSuffix = dnsSanSuffix.map(s -> (s.startsWith(".") ? s : "." + s).toLowerCase(Locale.ROOT));
  }

  /**
   * The tenant the certificate names, or empty if it names none.
   *
   * @throws AuthenticationException if it names more than one tenant
   */
  public Optional<Tenant> tenant(X509Certificate cert) throws AuthenticationException {
    Set<String> fromSpiffe = new LinkedHashSet<>();
    Set<String> fromDns = new LinkedHashSet<>();
    for (List<?> san : sans(cert)) {
      int type = (Integer) san.get(0);
      String value = String.valueOf(san.get(1));
      if (type == SAN_URI && spiffePrefix.isPresent()) {
        // The scheme and trust domain are case-insensitive; the path is not.
        if (value.length() > spiffePrefix.get().length()
            && value.substring(0, spiffePrefix.get().length()).equalsIgnoreCase(spiffePrefix.get())) {
          String name = value.substring(spiffePrefix.get().length());
          if (SPIFFE_NAME.matcher(name).matches()) {
            fromSpiffe.add(name);
          }
        }
      } else if (type == SAN_DNS && dnsSuffix.isPresent()) {
        String dns = value.toLowerCase(Locale.ROOT);
        if (dns.endsWith(dnsSuffix.get())) {
          String label = dns.substring(0, dns.length() - dnsSuffix.get().length());
          if (DNS_LABEL.matcher(label).matches()) {
            fromDns.add(label);
          }
        }
      }
    }
    Set<String> names = !fromSpiffe.isEmpty() ? fromSpiffe : fromDns;
    if (names.size() > 1) {
      throw new AuthenticationException("the client certificate names more than one tenant");
    }
    return names.stream().findFirst().map(Tenant::new);
  }

  /** True if the certificate has a URI or DNS SAN equal to {@code name} (the gateway's identity). */
  public static boolean hasSan(X509Certificate cert, String name) {
    for (List<?> san : sans(cert)) {
      int type = (Integer) san.get(0);
      if ((type == SAN_URI && name.equals(String.valueOf(san.get(1))))
          || (type == SAN_DNS && name.equalsIgnoreCase(String.valueOf(san.get(1))))) {
        return true;
      }
    }
    return false;
  }

  /** What the tenant rules expect, for error messages. */
  public String expectation() {
    List<String> rules = new ArrayList<>();
    spiffePrefix.ifPresent(p -> rules.add("a URI SAN " + p + "<name>"));
    dnsSuffix.ifPresent(s -> rules.add("a DNS SAN <name>" + s));
    return rules.isEmpty() ? "no tenant rule is configured (identity.spiffe-trust-domain, identity.dns-san-suffix)"
        : String.join(" or ", rules);
  }

  private static Collection<List<?>> sans(X509Certificate cert) {
    try {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      return sans == null ? List.of() : sans;
    } catch (CertificateParsingException e) {
      return List.of();
    }
  }
}
