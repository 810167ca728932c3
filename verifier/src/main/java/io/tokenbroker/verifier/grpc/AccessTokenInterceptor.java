package io.tokenbroker.verifier.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.tokenbroker.verifier.AuthenticationChallenge;
import io.tokenbroker.verifier.ResourceRequest;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.VerificationError;
import io.tokenbroker.verifier.VerificationException;
import io.tokenbroker.verifier.VerifiedPrincipal;
import io.tokenbroker.verifier.dpop.HtuNormalizer;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * A gRPC {@link ServerInterceptor} that lets a call through only with a verified access token, and puts the
 * caller into the gRPC {@link Context} under {@link #PRINCIPAL}.
 *
 * <p>How a call presents its token:
 * <ul>
 *   <li>DPoP-bound (RFC 9449 §7): metadata {@code authorization: DPoP <token>} and {@code dpop: <proof>}; the
 *       proof's {@code htm} is {@code POST} and its {@code htu} is the service's external base URL + "/" + the
 *       full method name, e.g. {@code https://api.example:9443/telemetry.v1.TelemetryService/Ingest} (DESIGN.md).
 *   <li>Certificate-bound (RFC 8705 §3): metadata {@code authorization: Bearer <token>} on a TLS connection made
 *       with the certificate the token is bound to; the server must request client certificates
 *       ({@code ClientAuth.OPTIONAL} or {@code REQUIRE}) so that the peer certificate is known.
 * </ul>
 *
 * <p>Refusals: {@code UNAUTHENTICATED} with a {@code www-authenticate} trailer in RFC 6750/9449 form (e.g.
 * {@code DPoP error="invalid_token", error_description="the access token has expired", algs="ES256 ..."}) and,
 * when nonces are required, a fresh {@code dpop-nonce}; {@code PERMISSION_DENIED} with
 * {@code error="insufficient_scope"} when the token lacks a scope the method requires; {@code UNAVAILABLE} when
 * the verifier cannot decide (stale revocation list). The status description repeats the error description; no
 * token or proof is ever echoed.
 *
 * <p>Methods are listed with {@link Builder#requireScopes}; a method without an entry is refused
 * ({@code PERMISSION_DENIED}) unless {@link Builder#defaultScopes} says what it needs: default deny.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class AccessTokenInterceptor implements ServerInterceptor {
  /** The verified caller of the current call. */
  public static final Context.Key<VerifiedPrincipal> PRINCIPAL = Context.key("tokenbroker.verified-principal");

  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);
  /** RFC 6750 §3 {@code WWW-Authenticate}, as gRPC metadata. */
  public static final Metadata.Key<String> WWW_AUTHENTICATE =
      Metadata.Key.of("www-authenticate", Metadata.ASCII_STRING_MARSHALLER);
  /** RFC 9449 §9 {@code DPoP-Nonce}, as gRPC metadata. */
  public static final Metadata.Key<String> DPOP_NONCE = Metadata.Key.of("dpop-nonce", Metadata.ASCII_STRING_MARSHALLER);

  private final TokenVerifier verifier;
  private final String baseUrl;
  private final Map<String, Set<String>> scopesByMethod;
  private final Set<String> defaultScopes;

  private AccessTokenInterceptor(Builder b) {
    this.verifier = b.verifier;
    this.baseUrl = b.baseUrl;
    this.scopesByMethod = Map.copyOf(b.scopesByMethod);
    this.defaultScopes = b.defaultScopes == null ? null : Set.copyOf(b.defaultScopes);
  }

  /** The verified caller of the current call, or empty outside an intercepted call. */
  public static Optional<VerifiedPrincipal> currentPrincipal() {
    return Optional.ofNullable(PRINCIPAL.get());
  }

  /**
   * @param verifier the verifier to use
   * @param externalBaseUrl the URL clients address this service by, e.g. {@code https://api.example:9443}; the
   *     DPoP {@code htu} of a method is this + "/" + its full name. Configure it; never derive it from the request.
   */
  public static Builder builder(TokenVerifier verifier, String externalBaseUrl) {
    return new Builder(verifier, externalBaseUrl);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
      ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    List<String> authorization = values(headers, AUTHORIZATION);
    boolean bearer = AuthenticationChallenge.usesBearerScheme(authorization);
    Set<String> required = scopesByMethod.getOrDefault(method, defaultScopes);
    if (required == null) {
      return refuse(call, Status.PERMISSION_DENIED.withDescription("this method is not open to any token"),
          List.of());
    }
    if (authorization.isEmpty()) {
      return refuse(call, Status.UNAUTHENTICATED.withDescription("an access token is required"),
          AuthenticationChallenge.forMissingCredentials());
    }
    VerifiedPrincipal principal;
    try {
      principal = verifier.verify(new ResourceRequest("POST", baseUrl + "/" + method, authorization,
          values(headers, DPOP), peerCertificate(call)));
    } catch (VerificationException e) {
      Status status = (e.error() == VerificationError.TEMPORARILY_UNAVAILABLE ? Status.UNAVAILABLE
          : Status.UNAUTHENTICATED).withDescription(e.error().code() + ": " + e.description());
      Metadata trailers = challenge(AuthenticationChallenge.forRefusal(e, bearer));
      if (e.error() == VerificationError.USE_DPOP_NONCE) {
        verifier.freshDpopNonce().ifPresent(n -> trailers.put(DPOP_NONCE, n));
      }
      call.close(status, trailers);
      return new ServerCall.Listener<>() {};
    }
    if (!principal.hasScopes(required)) {
      String scopes = String.join(" ", new TreeSet<>(required));
      return refuse(call, Status.PERMISSION_DENIED.withDescription("insufficient_scope: the method requires scope "
          + scopes), AuthenticationChallenge.forInsufficientScope(scopes, bearer));
    }
    return Contexts.interceptCall(Context.current().withValue(PRINCIPAL, principal), call, headers, next);
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, RespT> call, Status status,
      List<String> challenges) {
    call.close(status, challenge(challenges));
    return new ServerCall.Listener<>() {};
  }

  private static Metadata challenge(List<String> challenges) {
    Metadata trailers = new Metadata();
    challenges.forEach(c -> trailers.put(WWW_AUTHENTICATE, c));
    return trailers;
  }

  private static List<String> values(Metadata headers, Metadata.Key<String> key) {
    Iterable<String> all = headers.getAll(key);
    List<String> out = new ArrayList<>();
    if (all != null) {
      all.forEach(out::add);
    }
    return out;
  }

  /** RFC 8705 §3: the client certificate of this call's TLS session, if it has one. */
  private static Optional<X509Certificate> peerCertificate(ServerCall<?, ?> call) {
    SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof X509Certificate x ? Optional.of(x) : Optional.empty();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  /** Configures an {@link AccessTokenInterceptor}. Not thread-safe. */
  public static final class Builder {
    private final TokenVerifier verifier;
    private final String baseUrl;
    private final Map<String, Set<String>> scopesByMethod = new HashMap<>();
    private Set<String> defaultScopes;

    private Builder(TokenVerifier verifier, String externalBaseUrl) {
      this.verifier = Objects.requireNonNull(verifier, "verifier");
      String base = Objects.requireNonNull(externalBaseUrl, "externalBaseUrl");
      base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
      if (HtuNormalizer.normalize(base + "/").isEmpty()) {
        throw new IllegalArgumentException("the external base URL must be an absolute http(s) URL without query");
      }
      this.baseUrl = base;
    }

    /** Calls of {@code method} need a token with all of {@code scopes} (none: any valid token). */
    public Builder requireScopes(MethodDescriptor<?, ?> method, String... scopes) {
      return requireScopes(method.getFullMethodName(), scopes);
    }

    /** Calls of the method with this full name ({@code package.Service/Method}) need all of {@code scopes}. */
    public Builder requireScopes(String fullMethodName, String... scopes) {
      scopesByMethod.put(fullMethodName, Set.of(scopes));
      return this;
    }

    /** Methods without their own entry need all of {@code scopes}, instead of being refused. */
    public Builder defaultScopes(String... scopes) {
      this.defaultScopes = Set.of(scopes);
      return this;
    }

    public AccessTokenInterceptor build() {
      return new AccessTokenInterceptor(this);
    }
  }
}
