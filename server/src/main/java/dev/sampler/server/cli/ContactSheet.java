package dev.sampler.server.cli;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A labelled grid of generated images: a title line, then the images scaled up by an integer
 * factor (nearest neighbour, so pixels stay visible) with one or two caption lines under each.
 */
final class ContactSheet {
  private static final int BG = 0x202020;
  private static final int FG = 0xe8e8e8;
  private static final int DIM = 0x9a9a9a;
  private static final int BAD = 0xff6060;

  /** One tile: the image and its caption lines (the second is drawn red when {@code flagged}). */
  record Tile(BufferedImage image, String caption, String detail, boolean flagged) {}

  private ContactSheet() {}

  /** Lays out {@code tiles} in {@code columns} columns under {@code title}. */
  static BufferedImage render(String title, List<Tile> tiles, int columns, int scale) {
    if (tiles.isEmpty()) {
      throw new IllegalArgumentException("a contact sheet needs at least one image");
    }
    int w = tiles.get(0).image().getWidth() * scale;
    int h = tiles.get(0).image().getHeight() * scale;
    int text = 2; // font scale
    int lineH = (BitmapFont.LINE_H + 2) * text;
    int pad = 8;
    int cellW = Math.max(w, maxCaptionWidth(tiles, text)) + 2 * pad;
    int cellH = h + 2 * lineH + pad;
    int cols = Math.min(columns, tiles.size());
    int rows = (tiles.size() + cols - 1) / cols;
    int sheetW = Math.max(cols * cellW + pad, BitmapFont.width(title, text) + 2 * pad);
    int sheetH = lineH + pad + rows * cellH + pad;
    BufferedImage sheet = new BufferedImage(sheetW, sheetH, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < sheetH; y++) {
      for (int x = 0; x < sheetW; x++) {
        sheet.setRGB(x, y, BG);
      }
    }
    BitmapFont.draw(sheet, title, pad, pad, text, FG);
    for (int i = 0; i < tiles.size(); i++) {
      Tile t = tiles.get(i);
      int x0 = pad + (i % cols) * cellW;
      int y0 = lineH + 2 * pad + (i / cols) * cellH;
      BufferedImage img = t.image();
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          sheet.setRGB(x0 + x, y0 + y, img.getRGB(x / scale, y / scale));
        }
      }
      BitmapFont.draw(sheet, t.caption(), x0, y0 + h + text * 2, text, FG);
      if (t.detail() != null) {
        BitmapFont.draw(sheet, t.detail(), x0, y0 + h + text * 2 + lineH, text, t.flagged() ? BAD : DIM);
      }
    }
    return sheet;
  }

  private static int maxCaptionWidth(List<Tile> tiles, int text) {
    int m = 0;
    for (Tile t : tiles) {
      m = Math.max(m, BitmapFont.width(t.caption(), text));
      if (t.detail() != null) {
        m = Math.max(m, BitmapFont.width(t.detail(), text));
      }
    }
    return m;
  }
}
