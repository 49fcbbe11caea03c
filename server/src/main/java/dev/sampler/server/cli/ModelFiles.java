package dev.sampler.server.cli;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** The files of a model directory with their SHA-256 digests. */
record ModelFiles(List<Entry> entries) {

  /** One regular file: its path relative to the model directory, size and lower-case hex SHA-256. */
  record Entry(String path, long size, String sha256) {}

  static ModelFiles scan(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException("model directory does not exist or is not a directory: " + dir);
    }
    List<Path> files;
    try (Stream<Path> s = Files.walk(dir)) {
      files = s.filter(Files::isRegularFile).sorted().toList();
    }
    List<Entry> out = new ArrayList<>(files.size());
    for (Path f : files) {
      out.add(new Entry(dir.relativize(f).toString(), Files.size(f), sha256(f)));
    }
    return new ModelFiles(List.copyOf(out));
  }

  /** SHA-256 of a file, hashed from a read-only memory mapping in 16 MiB windows. */
  static String sha256(Path file) throws IOException {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        Arena arena = Arena.ofConfined()) {
      long size = ch.size();
      if (size > 0) {
        MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        final long window = 16L << 20;
        for (long off = 0; off < size; off += window) {
          md.update(all.asSlice(off, Math.min(window, size - off)).asByteBuffer());
        }
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
