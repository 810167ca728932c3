package io.tokenbroker.verifier.jwks;

import com.nimbusds.jose.jwk.JWKSet;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * The broker's keys from its HTTPS {@code jwks_uri} (RFC 8414 §2, {@code /.well-known/jwks.json}) with
 * {@code java.net.http}, trusting what the caller's {@link SSLContext} trusts. Only {@code https} URLs are
 * accepted, redirects are not followed, and the body is bounded.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class HttpsJwksSource implements JwksSource {
  private final URI uri;
  private final HttpClient client;
  private final Duration timeout;

  /**
   * @param uri the JWKS URL; must be {@code https}
   * @param sslContext trust (and, if the broker wants one, a client certificate) for the connection
   * @param timeout connect and request timeout
   */
  public HttpsJwksSource(URI uri, SSLContext sslContext, Duration timeout) {
    Objects.requireNonNull(uri, "uri");
    if (!"https".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("the JWKS URL must be https: keys fetched in plaintext could be swapped");
    }
    this.uri = uri;
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.client = HttpClient.newBuilder().sslContext(Objects.requireNonNull(sslContext, "sslContext"))
        .connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
  }

  @Override
  public JWKSet fetch() throws IOException {
    HttpResponse<InputStream> response;
    try {
      response = client.send(HttpRequest.newBuilder(uri).timeout(timeout).header("accept", "application/jwk-set+json")
          .GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while fetching the JWK Set", e);
    }
    try (InputStream body = response.body()) {
      if (response.statusCode() != 200) {
        throw new IOException("the JWKS URL answered HTTP " + response.statusCode());
      }
      byte[] bytes = body.readNBytes(GrpcJwksSource.MAX_JWKS_CHARS + 1);
      if (bytes.length > GrpcJwksSource.MAX_JWKS_CHARS) {
        throw new IOException("the JWK Set is larger than " + GrpcJwksSource.MAX_JWKS_CHARS + " bytes");
      }
      return GrpcJwksSource.parse(new String(bytes, StandardCharsets.UTF_8));
    }
  }

  @Override
  public String describe() {
    return uri.toString();
  }
}
