package dev.sampler.server.cli;

import java.awt.image.BufferedImage;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A 5x7 bitmap font for labels on contact sheets: lower-case letters (upper case is drawn lower
 * case), digits and a little punctuation; anything else is drawn as '?'. Self-contained so that
 * sheets render the same on a headless machine with no fonts installed.
 */
final class BitmapFont {
  static final int GLYPH_W = 5;
  static final int GLYPH_H = 7;
  /** Rows a line needs: the glyph plus one row for descenders. */
  static final int LINE_H = GLYPH_H + 1;
  /** Letters drawn one row lower, so their tails hang below the baseline. */
  private static final String DESCENDERS = "gjpqy,";
  private static final Map<Character, Long> GLYPHS = new HashMap<>();

  private static void put(char c, long rows) {
    GLYPHS.put(c, rows);
  }

  static {
    // 7 rows of 5 bits, top row in the highest bits (generated from ASCII art).
    put(' ', 0x000000000L);
    put('#', 0x295f57d4aL);
    put('%', 0x632222263L);
    put('(', 0x088842082L);
    put(')', 0x208210888L);
    put('+', 0x0084f9080L);
    put(',', 0x000003088L);
    put('-', 0x0000f8000L);
    put('.', 0x00000018cL);
    put('/', 0x002222200L);
    put('0', 0x3a33ae62eL);
    put('1', 0x11842108eL);
    put('2', 0x3a211111fL);
    put('3', 0x78217043eL);
    put('4', 0x08ca97c42L);
    put('5', 0x7e1e0862eL);
    put('6', 0x1910f462eL);
    put('7', 0x7c2222108L);
    put('8', 0x3a317462eL);
    put('9', 0x3a317844cL);
    put(':', 0x018c03180L);
    put('=', 0x001f07c00L);
    put('?', 0x3a2111004L);
    put('_', 0x00000001fL);
    put('a', 0x000e0be2fL);
    put('b', 0x421e8c63eL);
    put('c', 0x000f8420fL);
    put('d', 0x042f8c62fL);
    put('e', 0x000e8fe0fL);
    put('f', 0x191e42108L);
    put('g', 0x01f18bc2eL);
    put('h', 0x421e8c631L);
    put('i', 0x100c2108eL);
    put('j', 0x080610a4cL);
    put('k', 0x4212a6292L);
    put('l', 0x30842108eL);
    put('m', 0x001aad6b5L);
    put('n', 0x001e8c631L);
    put('o', 0x000e8c62eL);
    put('p', 0x03d18fa10L);
    put('q', 0x01f18bc21L);
    put('r', 0x0016cc210L);
    put('s', 0x000f8383eL);
    put('t', 0x211e42126L);
    put('u', 0x00118c66dL);
    put('v', 0x00118c544L);
    put('w', 0x0011ad6aaL);
    put('x', 0x001151151L);
    put('y', 0x02318bc2eL);
    put('z', 0x001f1111fL);
  }

  private BitmapFont() {}

  /** Width in pixels of {@code text} at {@code scale} (one blank column between glyphs). */
  static int width(String text, int scale) {
    return text.isEmpty() ? 0 : (text.length() * (GLYPH_W + 1) - 1) * scale;
  }

  /** Draws {@code text} with its top-left corner at (x, y); pixels outside the image are skipped. */
  static void draw(BufferedImage img, String text, int x, int y, int scale, int rgb) {
    String s = text.toLowerCase(Locale.ROOT);
    for (int i = 0; i < s.length(); i++) {
      long rows = GLYPHS.getOrDefault(s.charAt(i), GLYPHS.get('?'));
      int gx = x + i * (GLYPH_W + 1) * scale;
      int gy = DESCENDERS.indexOf(s.charAt(i)) >= 0 ? y + scale : y;
      for (int r = 0; r < GLYPH_H; r++) {
        int bits = (int) (rows >>> (5 * (GLYPH_H - 1 - r))) & 0x1f;
        for (int c = 0; c < GLYPH_W; c++) {
          if ((bits & (1 << (GLYPH_W - 1 - c))) != 0) {
            fill(img, gx + c * scale, gy + r * scale, scale, rgb);
          }
        }
      }
    }
  }

  private static void fill(BufferedImage img, int x, int y, int size, int rgb) {
    for (int dy = 0; dy < size; dy++) {
      for (int dx = 0; dx < size; dx++) {
        int px = x + dx;
        int py = y + dy;
        if (px >= 0 && py >= 0 && px < img.getWidth() && py < img.getHeight()) {
          img.setRGB(px, py, rgb);
        }
      }
    }
  }
}
