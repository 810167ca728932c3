package io.tokenbroker.broker.web;

import io.tokenbroker.broker.device.DeviceFlow;
import io.tokenbroker.broker.keys.SigningKeyManager;
import io.tokenbroker.broker.owner.AttemptLimiter;
import io.tokenbroker.broker.owner.OwnerSessions;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
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
 * What the HTTPS side serves: the JWK Set (RFC 7517 §5), the RFC 8414 metadata, the verification page and its
 * style sheet. Every response carries {@link SecurityHeaders}; anything else is 404. An unexpected failure
 * gives a bare 500 and one log line with the exception class, never request data.
 */
public final class WebRoutes extends Handler.Abstract {
  private static final Logger log = LoggerFactory.getLogger(WebRoutes.class);

  private final SigningKeyManager keys;
  private final String metadata;
  private final DevicePageHandler device;
  private final byte[] style;

  public WebRoutes(SigningKeyManager keys, DeviceFlow flow, OwnerSessions sessions, AttemptLimiter codeFailures,
      URI issuer, URI externalUrl, URI verificationUri, Clock clock) {
    this.keys = keys;
    this.metadata = AuthorizationServerMetadata.json(issuer, externalUrl, verificationUri.resolve("/"));
    this.device = new DevicePageHandler(flow, sessions, codeFailures, issuer.toString(), clock);
    try (InputStream in = WebRoutes.class.getResourceAsStream("/web/device.css")) {
      this.style = in.readAllBytes();
    } catch (IOException | NullPointerException e) {
      throw new UncheckedIOException(new IOException("web/device.css is missing from the broker jar"));
    }
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String path = Request.getPathInContext(request);
    SecurityHeaders.apply(response.getHeaders());
    try {
      if (BrokerWebServer.JWKS_PATH.equals(path)) {
        // Short caching: verifiers refetch on an unknown kid anyway, and rotation must reach them quickly.
        return publicDocument(request, response, callback, "application/jwk-set+json",
            keys.publishedKeys().toString(), "public, max-age=60");
      }
      if (AuthorizationServerMetadata.PATH.equals(path)) {
        return publicDocument(request, response, callback, "application/json", metadata, "public, max-age=300");
      }
      if (DevicePages.STYLE_PATH.equals(path)) {
        if (!HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod())) {
          return methodNotAllowed(response, callback, "GET, HEAD");
        }
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "public, max-age=3600");
        return respond(response, callback, HttpStatus.OK_200, "text/css; charset=utf-8", ByteBuffer.wrap(style));
      }
      if (path != null && (path.equals(DevicePageHandler.PATH) || path.startsWith(DevicePageHandler.PATH + "/"))
          && device.handle(path, request, response, callback)) {
        return true;
      }
      return text(response, callback, HttpStatus.NOT_FOUND_404, "not found\n");
    } catch (RuntimeException e) {
      log.error("HTTPS request failed: {}", e.getClass().getName());
      if (response.isCommitted()) {
        callback.failed(e);
        return true;
      }
      return text(response, callback, HttpStatus.INTERNAL_SERVER_ERROR_500, "internal error\n");
    }
  }

  private static boolean publicDocument(Request request, Response response, Callback callback, String type,
      String body, String cacheControl) {
    if (!HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod())) {
      return methodNotAllowed(response, callback, "GET, HEAD");
    }
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, cacheControl);
    // Public documents that any origin's scripts may read (RFC 8414 §3 clients may be browser-based).
    response.getHeaders().put(HttpHeader.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    response.getHeaders().put("Cross-Origin-Resource-Policy", "cross-origin");
    return respond(response, callback, HttpStatus.OK_200, type,
        ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
  }

  private static boolean methodNotAllowed(Response response, Callback callback, String allow) {
    response.getHeaders().put(HttpHeader.ALLOW, allow);
    return text(response, callback, HttpStatus.METHOD_NOT_ALLOWED_405, "method not allowed\n");
  }

  private static boolean text(Response response, Callback callback, int status, String body) {
    return respond(response, callback, status, "text/plain; charset=utf-8",
        ByteBuffer.wrap(body.getBytes(StandardCharsets.UTF_8)));
  }

  private static boolean respond(Response response, Callback callback, int status, String type, ByteBuffer body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.write(true, body, callback);
    return true;
  }
}
