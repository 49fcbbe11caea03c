package dev.sampler.keybroker.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class SessionTableTest {
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
  private final InstantSource clock = () -> now.get();

  @Test
  void create_freshSession_uuid4IdAnd32ByteNonce() throws Exception {
    SessionTable t = new SessionTable(Duration.ofMinutes(5), 10, clock);
    Session a = t.create("sample");
    Session b = t.create("sample");
    assertTrue(a.id().matches("[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}"), a.id());
    assertEquals(44, a.nonce().length());
    assertEquals(32, Base64.getDecoder().decode(a.nonce()).length);
    assertNotEquals(a.id(), b.id());
    assertNotEquals(a.nonce(), b.nonce());
    assertEquals(now.get().plusSeconds(300), a.expires());
    assertEquals(a, t.byNonce(a.nonce()).orElseThrow());
  }

  @Test
  void consumeNonce_twice_secondFails() throws Exception {
    Session s = new SessionTable(Duration.ofMinutes(5), 10, clock).create("sample");
    assertTrue(s.consumeNonce());
    assertFalse(s.consumeNonce());
    assertEquals(Session.State.NONCE_USED, s.state());
  }

  @Test
  void create_tableFullOfLiveSessions_refusedUntilTheyExpire() throws Exception {
    SessionTable t = new SessionTable(Duration.ofSeconds(30), 2, clock);
    t.create("sample");
    Session old = t.create("sample");
    SessionTable.TableFullException e = assertThrows(SessionTable.TableFullException.class, () -> t.create("sample"));
    assertEquals("session table is full (2 live sessions)", e.getMessage());
    assertEquals(30, e.retryAfterSeconds());
    now.set(now.get().plusSeconds(30));
    assertTrue(old.expiredAt(now.get()));
    assertTrue(t.get(old.id()).isPresent(), "expired sessions stay findable until swept");
    t.create("sample"); // sweeps the two expired ones
    assertEquals(1, t.size());
    assertTrue(t.get(old.id()).isEmpty());
    assertTrue(t.byNonce(old.nonce()).isEmpty());
  }
}
