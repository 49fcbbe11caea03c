package dev.sampler.scheduler.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sampler.scheduler.Tenant;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AdmissionPolicyTest {
  @Test
  void tenantPolicy_outOfRange_namesFieldAndValue() {
    assertEquals("tenant rate must be a finite number of requests/s above 0, got NaN",
        assertThrows(IllegalArgumentException.class, () -> new TenantPolicy(1, Double.NaN, 1, 1, 1)).getMessage());
    assertEquals("tenant weight must be a finite number above 0, got 0.0",
        assertThrows(IllegalArgumentException.class, () -> new TenantPolicy(0, 1, 1, 1, 1)).getMessage());
    assertEquals("tenant burst must be at least 1, got 0",
        assertThrows(IllegalArgumentException.class, () -> new TenantPolicy(1, 1, 0, 1, 1)).getMessage());
    assertEquals("tenant max concurrent must be at least 1, got -1",
        assertThrows(IllegalArgumentException.class, () -> new TenantPolicy(1, 1, 1, -1, 1)).getMessage());
    assertEquals("tenant max queued must be at least 1, got 0",
        assertThrows(IllegalArgumentException.class, () -> new TenantPolicy(1, 1, 1, 1, 0)).getMessage());
  }

  @Test
  void throttlePolicy_outOfRange_namesField() {
    ThrottlePolicy d = ThrottlePolicy.defaults();
    assertEquals("throttle factor must be in (0, 1), got 1.0", assertThrows(IllegalArgumentException.class,
        () -> new ThrottlePolicy(d.window(), 1, 1, 1, 1.0, 0.5, d.quietPeriod(), d.recoveryStep())).getMessage());
    assertEquals("throttle min factor must be in (0, factor], got 0.5", assertThrows(IllegalArgumentException.class,
        () -> new ThrottlePolicy(d.window(), 1, 1, 1, 0.25, 0.5, d.quietPeriod(), d.recoveryStep())).getMessage());
    assertEquals("throttle window must be positive, got PT0S", assertThrows(IllegalArgumentException.class,
        () -> new ThrottlePolicy(Duration.ZERO, 1, 1, 1, 0.25, 0.1, d.quietPeriod(), d.recoveryStep()))
        .getMessage());
    assertEquals("throttle thresholds must be 0 (off) or positive, got -1, 1, 1",
        assertThrows(IllegalArgumentException.class,
            () -> new ThrottlePolicy(d.window(), -1, 1, 1, 0.25, 0.1, d.quietPeriod(), d.recoveryStep()))
            .getMessage());
    assertTrue(d.enabled());
    assertFalse(ThrottlePolicy.off().enabled());
  }

  @Test
  void admissionPolicy_malformedTenantId_rejectedWithoutEcho() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> AdmissionPolicy.defaults().withTenant("evil tenant<script>", TenantPolicy.defaults()));
    assertFalse(e.getMessage().contains("evil"), e.getMessage());
    assertEquals("queue capacity must be at least 1, got 0", assertThrows(IllegalArgumentException.class,
        () -> AdmissionPolicy.defaults().withQueueCapacity(0)).getMessage());
  }

  @Test
  void forTenant_ownEntryOrDefaults() {
    TenantPolicy gold = new TenantPolicy(4, 100, 200, 64, 64);
    AdmissionPolicy p = AdmissionPolicy.defaults().withTenant("gold", gold);
    assertSame(gold, p.forTenant(new Tenant("gold")));
    assertEquals(TenantPolicy.defaults(), p.forTenant(new Tenant("other")));
    assertEquals(Map.of("gold", gold), p.tenants());
    assertEquals(256, p.queueCapacity());
  }
}
