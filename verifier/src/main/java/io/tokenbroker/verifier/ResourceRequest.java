package io.tokenbroker.verifier;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a resource server knows about one incoming request, as {@link TokenVerifier} needs it.
 *
 * <p>{@code uri} is the URI the client addressed, built from the server's configured external base URL and
 * never from {@code Host} or forwarded headers a client can set (RFC 9449 §4.3 check 9; PITFALLS: proxies).
 * For gRPC it is that base URL + "/" + the full method name, and {@code method} is {@code POST}.
 *
 * @param method the HTTP method ({@code htm})
 * @param uri the request's external URI ({@code htu}); query and fragment are ignored
 * @param authorization every {@code Authorization} header value; exactly one is accepted
 * @param dpop every {@code DPoP} header value; exactly one is accepted for DPoP-bound tokens
 * @param peerCertificate the client certificate of the TLS connection, when the server asked for one
 */
public record ResourceRequest(String method, String uri, List<String> authorization, List<String> dpop,
    Optional<X509Certificate> peerCertificate) {

  public ResourceRequest {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(uri, "uri");
    authorization = List.copyOf(authorization);
    dpop = List.copyOf(dpop);
    Objects.requireNonNull(peerCertificate, "peerCertificate");
  }
}
