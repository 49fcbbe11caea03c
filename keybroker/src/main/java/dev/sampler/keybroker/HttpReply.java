package dev.sampler.keybroker;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One HTTP response from the broker's logic: status, JSON body and extra headers ({@code
 * Set-Cookie}, {@code Retry-After}). Bodies are always {@code application/json}.
 *
 * @param status the HTTP status
 * @param body the JSON body
 * @param headers extra headers in order
 */
public record HttpReply(int status, byte[] body, Map<String, String> headers) {
  /** Copies the headers. */
  public HttpReply {
    headers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
  }

  /** A 200 with {@code json} and {@code headers}. */
  public static HttpReply ok(String json, Map<String, String> headers) {
    return new HttpReply(200, json.getBytes(StandardCharsets.UTF_8), headers);
  }

  /** The error body and status of {@code e}, with {@code Retry-After} for a 429. */
  public static HttpReply error(KbsError e) {
    Map<String, String> h = new LinkedHashMap<>();
    if (e.retryAfterSeconds() > 0) {
      h.put("Retry-After", Long.toString(e.retryAfterSeconds()));
    }
    return new HttpReply(e.status(), e.body().toString().getBytes(StandardCharsets.UTF_8), h);
  }
}
