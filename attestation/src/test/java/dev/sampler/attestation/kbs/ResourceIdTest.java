package dev.sampler.attestation.kbs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ResourceIdTest {
  @Test
  void parse_kserveVectorId_givesSegmentsAndPath() {
    ResourceId id = ResourceId.parse("kbs:///default/key/model-key");
    assertEquals(new ResourceId("default", "key", "model-key"), id);
    assertEquals("default/key/model-key", id.path());
    assertEquals("kbs:///default/key/model-key", id.toString());
  }

  @Test
  void parse_badForms_failWithPreciseMessages() {
    assertEquals("resource id must have the form kbs:///<repo>/<type>/<tag> (scheme kbs, empty host)",
        msg("https://x/a/b/c"));
    assertEquals("resource id must have the form kbs:///<repo>/<type>/<tag> (scheme kbs, empty host)",
        msg("kbs://host/a/b/c"));
    assertEquals("resource id: only the resource plugin (kbs:///repo/type/tag) is supported, not kbs+<plugin>:// ids",
        msg("kbs+pkcs11:///a/b/c"));
    assertEquals("resource id must have exactly three path segments <repo>/<type>/<tag>, got 2", msg("kbs:///a/b"));
    assertEquals("resource id must have exactly three path segments <repo>/<type>/<tag>, got 4", msg("kbs:///a/b/c/d"));
    assertEquals("resource id: a query or fragment is not supported", msg("kbs:///a/b/c?x=1"));
    assertEquals("resource id: type must match [A-Za-z0-9_-][A-Za-z0-9_.-]*", msg("kbs:///a/../c"));
    assertEquals("resource id: repo must match [A-Za-z0-9_-][A-Za-z0-9_.-]*", msg("kbs:///.hidden/b/c"));
    assertEquals("resource id: tag must match [A-Za-z0-9_-][A-Za-z0-9_.-]*", msg("kbs:///a/b/"));
    assertEquals("resource id: tag must match [A-Za-z0-9_-][A-Za-z0-9_.-]*", msg("kbs:///a/b/c%2F"));
  }

  private static String msg(String uri) {
    return assertThrows(IllegalArgumentException.class, () -> ResourceId.parse(uri)).getMessage();
  }
}
