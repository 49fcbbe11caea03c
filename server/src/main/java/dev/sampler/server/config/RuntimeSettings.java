package dev.sampler.server.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the process may write (YAML section {@code runtime}). With a directory set, every writable
 * path lives under it: {@code java.io.tmpdir} becomes {@code <dir>/tmp} and JavaCPP's native-library
 * cache {@code <dir>/javacpp} (set before ND4J loads), so the root filesystem can be read-only and
 * nothing is written next to the jar or in {@code $HOME}.
 *
 * @param dir the runtime directory; empty: leave the JVM's settings alone (in-process use)
 */
public record RuntimeSettings(Optional<Path> dir) {}
