package dev.sampler.keybroker;

import java.util.List;
import java.util.Optional;

/**
 * One HTTP request as the broker's logic sees it, independent of the web server.
 *
 * @param method the HTTP method, upper case
 * @param rawPath the path as sent (not percent-decoded), without the query
 * @param client the client's IP address (the rate-limit and audit key)
 * @param cookieHeaders every {@code Cookie} header value
 * @param authorization the {@code Authorization} header, if any
 * @param body the request body (already bounded by the front end)
 */
public record HttpCall(String method, String rawPath, String client, List<String> cookieHeaders,
    Optional<String> authorization, byte[] body) {
  /** Copies the lists. */
  public HttpCall {
    cookieHeaders = List.copyOf(cookieHeaders);
    body = body == null ? new byte[0] : body;
  }
}
