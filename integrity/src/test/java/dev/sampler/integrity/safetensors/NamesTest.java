package dev.sampler.integrity.safetensors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NamesTest {
  @Test
  void quote_plainName_isKeptAsIs() {
    assertEquals("'conv_in.weight'", Names.quote("conv_in.weight"));
  }

  @Test
  void quote_controlQuoteAndBidiCharacters_areEscaped() {
    assertEquals("'a\\u0027\\u005c\\u000a\\u202e\\u00e9'", Names.quote("a'\\\n\u202eé"));
  }

  @Test
  void quote_longName_isCutAfter64Chars() {
    assertEquals("'" + "x".repeat(64) + "...'", Names.quote("x".repeat(65)));
    assertEquals("'" + "x".repeat(64) + "'", Names.quote("x".repeat(64)));
  }

  /** Found by fuzzing: escapes are 6 chars each, so cutting by input length was not enough. */
  @Test
  void quote_manyEscapes_staysBounded() {
    String q = Names.quote("'".repeat(1000));
    assertEquals("'" + "\\u0027".repeat(10) + "...'", q);
    assertTrue(q.length() <= Names.MAX_SHOWN + 5);
  }

  @Test
  void shape_manyDimensions_isCut() {
    assertEquals("[1, 2]", Names.shape(new long[] {1, 2}));
    assertEquals("[0, 0, 0, 0, 0, 0, 0, 0, ... (9 dimensions)]", Names.shape(new long[9]));
  }
}
