package io.tokenbroker.verifier.http;

import io.tokenbroker.verifier.AuthenticationChallenge;
import io.tokenbroker.verifier.ResourceRequest;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.VerifiedPrincipal;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The {@link TokenVerifier} for plain HTTP services, independent of any server framework: method, URI and headers
 * in, a principal or the exact answer to send out.
 *
 * <p>The URI must be the one the client addressed, built from the service's configured external base URL and
 * the request path (not from {@code Host} or {@code X-Forwarded-*}, which clients can set). Query and fragment
 * are ignored (RFC 9449 §4.3). Header names are matched case-insensitively.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class HttpAccessTokenVerifier {
  private final TokenVerifier verifier;

  public HttpAccessTokenVerifier(TokenVerifier verifier) {
    this.verifier = Objects.requireNonNull(verifier, "verifier");
  }

  /**
   * Verifies one request.
   *
   * @param method the HTTP method, e.g. {@code GET}
   * @param uri the external request URI
   * @param headers the request headers, any case
   * @param peerCertificate the TLS client certificate, for certificate-bound tokens (RFC 8705 §3)
   * @param requiredScopes scopes the token must all carry
   */
  public HttpVerification verify(String method, String uri, Map<String, List<String>> headers,
      Optional<X509Certificate> peerCertificate, Set<String> requiredScopes) {
    List<String> authorization = header(headers, "authorization");
    boolean bearer = AuthenticationChallenge.usesBearerScheme(authorization);
    if (authorization.isEmpty()) {
      return new HttpVerification(Optional.empty(), 401, AuthenticationChallenge.forMissingCredentials(),
          Optional.empty());
    }
    VerifiedPrincipal principal;
    try {
      principal = verifier.verify(new ResourceRequest(method, uri, authorization, header(headers, "dpop"),
          peerCertificate));
    } catch (VerificationException e) {
      int status = switch (e.error()) {
        case INVALID_REQUEST -> 400;
        case TEMPORARILY_UNAVAILABLE -> 503;
        default -> 401;
      };
      Optional<String> nonce = e.error() == VerificationError.USE_DPOP_NONCE ? verifier.freshDpopNonce()
          : Optional.empty();
      return new HttpVerification(Optional.empty(), status, AuthenticationChallenge.forRefusal(e, bearer), nonce);
    }
    if (!principal.hasScopes(requiredScopes)) {
      return new HttpVerification(Optional.empty(), 403, AuthenticationChallenge.forInsufficientScope(
          String.join(" ", new TreeSet<>(requiredScopes)), bearer), Optional.empty());
    }
    return new HttpVerification(Optional.of(principal), 0, List.of(), Optional.empty());
  }

  private static List<String> header(Map<String, List<String>> headers, String name) {
    List<String> values = new ArrayList<>();
    headers.forEach((k, v) -> {
      if (k != null && k.equalsIgnoreCase(name) && v != null) {
        values.addAll(v);
      }
    });
    return values;
  }
}
