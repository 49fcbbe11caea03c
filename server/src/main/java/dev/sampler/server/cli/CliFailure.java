package dev.sampler.server.cli;

import java.io.FileNotFoundException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** Turns an exception into the one-line message a user sees. */
final class CliFailure {
  private CliFailure() {}

  static String describe(Throwable ex) {
    if (ex instanceof NoSuchFileException e) {
      return "no such file: " + e.getFile();
    }
    if (ex instanceof AccessDeniedException e) {
      return "permission denied: " + e.getFile();
    }
    if (ex instanceof FileNotFoundException e) {
      return "file not found: " + e.getMessage();
    }
    String msg = ex.getMessage();
    if (msg == null || msg.isBlank()) {
      msg = ex.getClass().getSimpleName();
    }
    return msg;
  }
}
