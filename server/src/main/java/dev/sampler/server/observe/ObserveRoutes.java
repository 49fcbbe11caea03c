package dev.sampler.server.observe;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerResponse;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * The observability socket's HTTP routes: {@code GET /health/live} (200 while the process serves),
 * {@code GET /health/ready} (200 when ready, else 503; JSON body {@code
 * {"status":"UP"|"DOWN","state":"..."}}) and {@code GET /metrics} (Prometheus text).
 */
public final class ObserveRoutes {
  private ObserveRoutes() {}

  /** What the readiness route reports: whether the server is ready and its state's name. */
  public record Health(boolean ready, String state) {}

  /** The routing for the observability socket. */
  public static HttpRouting.Builder routing(Metrics metrics, Supplier<Health> health) {
    return HttpRouting.builder()
        .get("/health/live", (req, res) -> json(res, Status.OK_200, "{\"status\":\"UP\"}"))
        .get("/health/ready", (req, res) -> {
          Health h = health.get();
          json(res, h.ready() ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503,
              "{\"status\":\"" + (h.ready() ? "UP" : "DOWN") + "\",\"state\":\"" + h.state() + "\"}");
        })
        .get("/metrics", (req, res) -> {
          res.header(HeaderNames.CONTENT_TYPE, Metrics.CONTENT_TYPE);
          res.send(metrics.scrape().getBytes(StandardCharsets.UTF_8));
        });
  }

  private static void json(ServerResponse res, Status status, String body) {
    res.status(status);
    res.header(HeaderNames.CONTENT_TYPE, "application/json");
    res.header(HeaderNames.CACHE_CONTROL, "no-store");
    res.send(body.getBytes(StandardCharsets.UTF_8));
  }
}
