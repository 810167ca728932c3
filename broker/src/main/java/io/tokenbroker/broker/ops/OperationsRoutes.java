package io.tokenbroker.broker.ops;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the operations listener serves, to GET (and HEAD) only:
 * <ul>
 *   <li>{@code /metrics}: every meter in the Prometheus text format (0.0.4);
 *   <li>{@code /healthz}: 200 while the process answers HTTP at all (liveness);
 *   <li>{@code /readyz}: 200 when the HSM, the database and the active signing key are usable, else 503 with a
 *       short JSON body naming the failed checks (the same answer the gRPC health service gives).
 * </ul>
 * Nothing else (404). No response carries a secret: metric labels come from fixed sets, readiness names checks.
 */
public final class OperationsRoutes extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(OperationsRoutes.class);
  public static final String METRICS = "/metrics";
  public static final String HEALTHZ = "/healthz";
  public static final String READYZ = "/readyz";
  /** Prometheus text exposition format 0.0.4, what every Prometheus version scrapes. */
  static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

  private final Supplier<String> scrape;
  private final Supplier<Readiness> readiness;

  /** @param scrape the meters in Prometheus text format (e.g. {@code PrometheusMeterRegistry::scrape}) */
  public OperationsRoutes(Supplier<String> scrape, Supplier<Readiness> readiness) {
    this.scrape = scrape;
    this.readiness = readiness;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    try {
      if (!METRICS.equals(path) && !HEALTHZ.equals(path) && !READYZ.equals(path)) {
        return respond(response, callback, HttpStatus.NOT_FOUND_404, "text/plain; charset=utf-8", "not found\n");
      }
      if (!HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod())) {
        response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
        return respond(response, callback, HttpStatus.METHOD_NOT_ALLOWED_405, "text/plain; charset=utf-8",
            "method not allowed\n");
      }
      if (METRICS.equals(path)) {
        return respond(response, callback, HttpStatus.OK_200, PROMETHEUS_TEXT, scrape.get());
      }
      if (HEALTHZ.equals(path)) {
        return respond(response, callback, HttpStatus.OK_200, "text/plain; charset=utf-8", "ok\n");
      }
      Readiness now = readiness.get();
      return respond(response, callback, now.ready() ? HttpStatus.OK_200 : HttpStatus.SERVICE_UNAVAILABLE_503,
          "application/json", now.json() + "\n");
    } catch (RuntimeException e) {
      log.error("operations request failed: {}", e.getClass().getName());
      if (response.isCommitted()) {
        callback.failed(e);
        return true;
      }
      return respond(response, callback, HttpStatus.INTERNAL_SERVER_ERROR_500, "text/plain; charset=utf-8",
          "internal error\n");
    }
  }

  private static boolean respond(Response response, Callback callback, int status, String type, String body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.write(true, ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)), callback);
    return true;
  }
}
