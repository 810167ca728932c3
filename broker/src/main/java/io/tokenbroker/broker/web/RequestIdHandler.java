package io.tokenbroker.broker.web;

import io.tokenbroker.broker.logging.RequestIds;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS side's request ids, as {@code RequestIdInterceptor} does for gRPC: the {@code X-Request-Id} header when
 * short and safe, else a new id; returned in the response's {@code X-Request-Id}; in the SLF4J MDC while the
 * routes handle the request (they read the form and answer on this thread). At DEBUG, each request's end is
 * logged with its method, path and status, never its query or form.
 */
final class RequestIdHandler extends Handler.Wrapper {
  private static final Logger log = LoggerFactory.getLogger(RequestIdHandler.class);

  RequestIdHandler(Handler routes) {
    super(routes);
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String id = RequestIds.acceptOrCreate(request.getHeaders().get(RequestIds.HEADER));
    response.getHeaders().put(RequestIds.HEADER, id);
    Callback done = log.isDebugEnabled() ? logged(request, response, callback, id) : callback;
    try (RequestIds.Scope ignored = RequestIds.enter(id)) {
      return super.handle(request, response, done);
    }
  }

  /**
   * Logs the end of the request when it completes: Jetty recycles the request and response once the callback
   * has completed, so method and path are read now and the status just before the original callback runs.
   */
  private static Callback logged(Request request, Response response, Callback callback, String id) {
    String method = request.getMethod();
    String path = printable(Request.getPathInContext(request));
    return new Callback.Nested(callback) {
      @Override
      public void succeeded() {
        end();
        super.succeeded();
      }

      @Override
      public void failed(Throwable failure) {
        end();
        super.failed(failure);
      }

      private void end() {
        try (RequestIds.Scope ignored = RequestIds.enter(id)) {
          log.debug("{} {} {}", method, path, response.getStatus());
        }
      }
    };
  }

  /** The path as sent may hold anything (a decoded %0A): one line, visible ASCII, bounded. */
  private static String printable(String path) {
    if (path == null) {
      return "-";
    }
    String visible = path.replaceAll("[^\\x21-\\x7E]", "?");
    return visible.length() > 200 ? visible.substring(0, 200) : visible;
  }
}
