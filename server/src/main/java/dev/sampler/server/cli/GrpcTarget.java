package dev.sampler.server.cli;

import java.net.InetAddress;

/**
 * A server address as the user wrote it: {@code HOST:PORT}, with an IPv6 literal in brackets
 * ({@code [::1]:8443}).
 *
 * @param host a host name or IP literal (no brackets)
 * @param port 1..65535
 */
record GrpcTarget(String host, int port) {

  /** Validates the parts; the message names what is wrong. */
  GrpcTarget {
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("--target: the host is empty (expected HOST:PORT)");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("--target: port must be 1..65535, got " + port);
    }
  }

  /**
   * Parses {@code HOST:PORT} or {@code [IPV6]:PORT}.
   *
   * @throws IllegalArgumentException naming the problem when the text is not of that form
   */
  static GrpcTarget parse(String text) {
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("--target: expected [IPV6]:PORT, got \"" + text + "\"");
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0 || text.indexOf(':') != colon) {
        throw new IllegalArgumentException("--target: expected HOST:PORT (IPv6 in brackets), got \"" + text + "\"");
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
    }
    try {
      return new GrpcTarget(host, Integer.parseInt(port));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--target: the port \"" + port + "\" is not a number");
    }
  }

  /**
   * Whether the target is this machine's loopback: the name {@code localhost} or a loopback IP
   * literal. Other names are not resolved (a DNS answer is not proof that traffic stays local).
   */
  boolean isLoopback() {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    try {
      return InetAddress.ofLiteral(host).isLoopbackAddress();
    } catch (IllegalArgumentException notALiteral) {
      return false;
    }
  }

  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
