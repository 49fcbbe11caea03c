package dev.sampler.integrity.sealed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class DigestPlanTest {
  static final String H = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @Test
  void wholeFile_upperCaseHex_normalized() {
    assertEquals(new DigestPlan.WholeFile(H), DigestPlan.wholeFile(H.toUpperCase()));
  }

  @Test
  void wholeFile_notAHexDigest_rejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DigestPlan.wholeFile("abc"));
    assertEquals("sha256Hex must be 64 hex digits (a SHA-256), got 3 characters", e.getMessage());
    String fullwidth = H.substring(0, 63) + "\uFF10"; // a Unicode digit that is not ASCII
    assertThrows(IllegalArgumentException.class, () -> DigestPlan.wholeFile(fullwidth));
  }

  @Test
  void shards_contiguous_accepted() {
    DigestPlan.Sharded s = (DigestPlan.Sharded) DigestPlan.shards(List.of(
        new DigestPlan.Shard(0, 10, H), new DigestPlan.Shard(10, 10, H), new DigestPlan.Shard(10, 25, H)));
    assertEquals(25, s.total());
  }

  @Test
  void shards_none_coverAnEmptyFile() {
    assertEquals(0, ((DigestPlan.Sharded) DigestPlan.shards(List.of())).total());
  }

  @Test
  void shards_gapOrOverlapOrBackwards_rejectedNamingTheShard() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DigestPlan.shards(List.of(
        new DigestPlan.Shard(0, 10, H), new DigestPlan.Shard(11, 20, H))));
    assertEquals("shard 1 starts at 11, expected 10 (shards must be sorted and contiguous from 0)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> DigestPlan.shards(List.of(new DigestPlan.Shard(5, 10, H))));
    assertEquals("shard 0 starts at 5, expected 0 (shards must be sorted and contiguous from 0)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new DigestPlan.Shard(10, 5, H));
    assertEquals("shard range must satisfy 0 <= start <= end, got [10, 5)", e.getMessage());
  }
}
