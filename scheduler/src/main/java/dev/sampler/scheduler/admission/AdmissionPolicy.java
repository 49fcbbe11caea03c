package dev.sampler.scheduler.admission;

import dev.sampler.scheduler.Tenant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration of an {@link AdmissionController}.
 *
 * @param queueCapacity queued jobs at most, over all models and tenants; at least 1
 * @param tenantDefaults the policy of a tenant without its own entry (named so, not {@code defaults},
 *     because a record cannot have both a {@code defaults()} accessor and the static {@link #defaults()})
 * @param tenants per-tenant policies by tenant id (each a valid {@link Tenant} id)
 * @param throttle the adaptive throttle
 */
public record AdmissionPolicy(int queueCapacity, TenantPolicy tenantDefaults, Map<String, TenantPolicy> tenants,
    ThrottlePolicy throttle) {
  /**
   * @throws IllegalArgumentException if the capacity is below 1 or a tenant id is malformed
   */
  public AdmissionPolicy {
    if (queueCapacity < 1) {
      throw new IllegalArgumentException("queue capacity must be at least 1, got " + queueCapacity);
    }
    Objects.requireNonNull(tenantDefaults, "tenantDefaults");
    Objects.requireNonNull(throttle, "throttle");
    tenants = Map.copyOf(Objects.requireNonNull(tenants, "tenants"));
    for (String id : tenants.keySet()) {
      new Tenant(id); // validates without echoing the id
    }
  }

  /** Capacity 256, {@link TenantPolicy#defaults()}, no per-tenant entries, {@link ThrottlePolicy#defaults()}. */
  public static AdmissionPolicy defaults() {
    return new AdmissionPolicy(256, TenantPolicy.defaults(), Map.of(), ThrottlePolicy.defaults());
  }

  /** The policy that applies to {@code tenant}. */
  public TenantPolicy forTenant(Tenant tenant) {
    return tenants.getOrDefault(tenant.id(), tenantDefaults);
  }

  /** A copy with another queue capacity. */
  public AdmissionPolicy withQueueCapacity(int capacity) {
    return new AdmissionPolicy(capacity, tenantDefaults, tenants, throttle);
  }

  /** A copy with other defaults. */
  public AdmissionPolicy withDefaults(TenantPolicy policy) {
    return new AdmissionPolicy(queueCapacity, policy, tenants, throttle);
  }

  /** A copy where tenant {@code id} has its own policy. */
  public AdmissionPolicy withTenant(String id, TenantPolicy policy) {
    Map<String, TenantPolicy> copy = new HashMap<>(tenants);
    copy.put(id, Objects.requireNonNull(policy, "policy"));
    return new AdmissionPolicy(queueCapacity, tenantDefaults, copy, throttle);
  }

  /** A copy with another throttle. */
  public AdmissionPolicy withThrottle(ThrottlePolicy policy) {
    return new AdmissionPolicy(queueCapacity, tenantDefaults, tenants, policy);
  }
}
