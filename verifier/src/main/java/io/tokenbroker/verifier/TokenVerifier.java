package io.tokenbroker.verifier;

import com.nimbusds.jose.JWSAlgorithm;
import io.grpc.Channel;
import io.tokenbroker.verifier.dpop.DpopNonces;
import io.tokenbroker.verifier.dpop.DpopProof;
import io.tokenbroker.verifier.dpop.DpopProofValidator;
import io.tokenbroker.verifier.dpop.DpopReplayCache;
import io.tokenbroker.verifier.dpop.InMemoryDpopReplayCache;
import io.tokenbroker.verifier.jwks.GrpcJwksSource;
import io.tokenbroker.verifier.jwks.HttpsJwksSource;
import io.tokenbroker.verifier.jwks.JwksSource;
import io.tokenbroker.verifier.jwks.SigningKeyCache;
import io.tokenbroker.verifier.mtls.CertificateThumbprint;
import io.tokenbroker.verifier.revocation.RevocationList;
import io.tokenbroker.verifier.revocation.RevocationStatus;
import io.tokenbroker.verifier.revocation.RevocationWatcher;
import io.tokenbroker.verifier.token.AccessToken;
import io.tokenbroker.verifier.token.AccessTokenValidator;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLContext;

/**
 * Decides whether a request to a backend service carries a genuine, unexpired, unrevoked access token from the
 * broker, presented by the key or certificate it is bound to. Build one per service with {@link #builder()} and
 * share it; the gRPC adapter is {@link io.tokenbroker.verifier.grpc.AccessTokenInterceptor}, the plain-HTTP one
 * {@link io.tokenbroker.verifier.http.HttpAccessTokenVerifier}.
 *
 * <p>The checks, in order (each refusal is a {@link VerificationException} naming the failed check):
 * <ol>
 *   <li>exactly one {@code Authorization} value with the {@code DPoP} or {@code Bearer} scheme;
 *   <li>RFC 9068 §4 on the token ({@link AccessTokenValidator}): {@code typ}, {@code alg} allow-list, known
 *       {@code kid} and signature, {@code iss}, {@code aud}, {@code exp}/{@code nbf}/{@code iat} with skew, and a
 *       {@code cnf} binding (unbound tokens are refused);
 *   <li>the binding: a DPoP-bound token (RFC 9449 §7) must come with the {@code DPoP} scheme (a {@code Bearer}
 *       presentation is a downgrade and refused, §7.2) and one valid proof for this method and URI whose
 *       {@code ath} is the token's hash and whose key is {@code cnf.jkt}; a certificate-bound token (RFC 8705 §3)
 *       must come with the {@code Bearer} scheme over a TLS connection whose client certificate hashes to
 *       {@code cnf["x5t#S256"]};
 *   <li>revocation: the device, refresh family, client, token, key or certificate is not on the deny list kept
 *       by the {@code WatchRevocations} stream, and that list is fresh (fail closed when it is stale, by
 *       default);
 *   <li>DPoP replay: the proof's {@code jti} was not seen before for that key (RFC 9449 §11.1).
 * </ol>
 *
 * <p>Thread-safety: thread-safe. Owns the revocation stream's thread; {@link #close()} stops it (the channel
 * stays the caller's).
 */
public final class TokenVerifier implements AutoCloseable {
  /** The JWS algorithms of DPoP proofs this verifier accepts (RFC 9449 §7.1 {@code algs}). */
  public static final String DPOP_ALGORITHMS = "ES256 ES384 PS256 EdDSA";
  private static final Set<String> SUPPORTED_TOKEN_ALGORITHMS = Set.of("ES256", "ES384", "PS256");

  private final AccessTokenValidator tokens;
  private final SigningKeyCache keys;
  private final DpopProofValidator proofs;
  private final DpopReplayCache replay;
  private final DpopNonces nonces;
  private final RevocationList revocations;
  private final RevocationWatcher watcher;
  private final boolean acceptStaleRevocations;
  private final Clock clock;

  private TokenVerifier(Builder b, SigningKeyCache keys, RevocationWatcher watcher) {
    this.keys = keys;
    this.tokens = new AccessTokenValidator(b.issuer, b.audience, b.clockSkew, b.algorithms, keys, b.clock);
    this.nonces = b.nonces;
    this.proofs = new DpopProofValidator(b.dpopProofWindow, b.nonces, b.clock);
    this.replay = b.replayCache != null ? b.replayCache : new InMemoryDpopReplayCache(100_000, b.clock);
    this.revocations = b.revocations;
    this.watcher = watcher;
    this.acceptStaleRevocations = b.acceptStaleRevocations;
    this.clock = b.clock;
  }

  /** A builder; {@link Builder#issuer}, {@link Builder#audience} and a key source are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Verifies one request; see the class comment for the checks.
   *
   * @return who is calling
   * @throws VerificationException if any check fails; its message is safe to return and log
   */
  public VerifiedPrincipal verify(ResourceRequest request) {
    Presented presented = presented(request);
    AccessToken token = tokens.validate(presented.token());
    DpopProof proof = null;
    switch (token.binding().method()) {
      case DPOP -> {
        // RFC 9449 §7.2: a DPoP-bound token presented as a bearer token is a downgrade attempt.
        if (!presented.dpopScheme()) {
          throw new VerificationException(VerificationError.INVALID_TOKEN,
              "the access token is DPoP-bound; present it with the DPoP scheme and a DPoP proof");
        }
        // RFC 9449 §7.1 / §4.3: one valid proof for this method and URI, with ath = the token's hash.
        proof = proofs.validate(request.dpop(), request.method(), request.uri(), ath(presented.token()));
        // RFC 9449 §4.3 check 12: "the public key to which the access token is bound" is the proof's key.
        if (!constantTimeEquals(proof.jkt(), token.binding().thumbprint())) {
          throw new VerificationException(VerificationError.INVALID_DPOP_PROOF,
              "the DPoP proof is signed by another key than the one the access token is bound to");
        }
      }
      case MTLS -> {
        if (presented.dpopScheme()) {
          throw new VerificationException(VerificationError.INVALID_TOKEN,
              "the access token is certificate-bound; present it with the Bearer scheme over mutual TLS");
        }
        // RFC 8705 §3: "the protected resource MUST obtain the client certificate used for mutual TLS
        // authentication and MUST verify that the certificate matches the certificate associated with the access
        // token".
        X509Certificate peer = request.peerCertificate().orElseThrow(() -> new VerificationException(
            VerificationError.INVALID_TOKEN, "the access token is certificate-bound but the connection has no client "
            + "certificate"));
        if (!constantTimeEquals(CertificateThumbprint.x5tS256(peer), token.binding().thumbprint())) {
          throw new VerificationException(VerificationError.INVALID_TOKEN,
              "the TLS client certificate is not the one the access token is bound to");
        }
      }
      default -> throw new IllegalStateException("unknown binding " + token.binding().method());
    }
    if (watcher != null && !acceptStaleRevocations && !watcher.isFresh()) {
      throw new VerificationException(VerificationError.TEMPORARILY_UNAVAILABLE,
          "the revocation list is not up to date with the broker; try again shortly");
    }
    Optional<String> revoked = revocations.revocationOf(token, request.peerCertificate());
    if (revoked.isPresent()) {
      throw new VerificationException(VerificationError.INVALID_TOKEN, revoked.get());
    }
    if (proof != null) {
      recordFirstUse(proof);
    }
    return new VerifiedPrincipal(token.deviceId(), token.clientId(), token.scopes(), token.audiences(),
        token.binding(), token.jti(), token.refreshFamilyId(), token.issuedAt(), token.expiresAt());
  }

  /** RFC 9449 §11.1: a proof is accepted once. Recorded last, so a refused request leaves no record. */
  private void recordFirstUse(DpopProof proof) {
    boolean first;
    try {
      first = replay.firstUse(proof.jkt(), proof.jti(), clock.instant().plus(proofs.replayRetention()));
    } catch (IllegalStateException e) {
      throw new VerificationException(VerificationError.TEMPORARILY_UNAVAILABLE,
          "too many DPoP proofs to remember right now; try again shortly");
    }
    if (!first) {
      throw new VerificationException(VerificationError.INVALID_DPOP_PROOF,
          "the DPoP proof was already used (jti replay)");
    }
  }

  /**
   * A fresh server nonce for the {@code DPoP-Nonce} header / {@code dpop-nonce} metadata (RFC 9449 §9), if this
   * verifier requires nonces.
   */
  public Optional<String> freshDpopNonce() {
    return Optional.ofNullable(nonces).map(DpopNonces::issue);
  }

  /** The revocation stream's health, or empty if this verifier runs without one. */
  public Optional<RevocationStatus> revocationStatus() {
    return Optional.ofNullable(watcher).map(RevocationWatcher::status);
  }

  /**
   * Waits until the broker's keys are fetched and the revocation list has caught up once, so that the first
   * requests are not refused with {@code temporarily_unavailable}. Returns whether that happened in time.
   */
  public boolean awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (watcher != null && !watcher.awaitFirstSync(timeout)) {
      return false;
    }
    while (!keys.refresh()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(100);
    }
    return true;
  }

  @Override
  public void close() {
    if (watcher != null) {
      watcher.close();
    }
  }

  private record Presented(boolean dpopScheme, String token) {}

  /** RFC 6750 §2.1 / RFC 9449 §7.1: {@code Authorization: <scheme> <token68>}, exactly once. */
  private static Presented presented(ResourceRequest request) {
    if (request.authorization().isEmpty()) {
      throw new VerificationException(VerificationError.INVALID_TOKEN, "no access token in the authorization header");
    }
    if (request.authorization().size() > 1) {
      throw new VerificationException(VerificationError.INVALID_REQUEST, "exactly one authorization header is allowed");
    }
    String value = request.authorization().get(0);
    int space = value.indexOf(' ');
    if (space < 0) {
      throw new VerificationException(VerificationError.INVALID_REQUEST,
          "the authorization header must be 'DPoP <token>' or 'Bearer <token>'");
    }
    String scheme = value.substring(0, space).toLowerCase(Locale.ROOT);
    String token = value.substring(space + 1).strip();
    if (!scheme.equals("dpop") && !scheme.equals("bearer")) {
      throw new VerificationException(VerificationError.INVALID_REQUEST,
          "the authorization scheme must be DPoP or Bearer");
    }
    if (token.length() > AccessTokenValidator.MAX_TOKEN_CHARS || !isToken68(token)) {
      throw new VerificationException(VerificationError.INVALID_TOKEN, "the access token is malformed");
    }
    return new Presented(scheme.equals("dpop"), token);
  }

  /**
   * RFC 7235 §2.1 {@code token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="}. A loop, not a
   * regular expression: it runs over every token of every request.
   */
  static boolean isToken68(String s) {
    int i = 0;
    int n = s.length();
    while (i < n && isToken68Char(s.charAt(i))) {
      i++;
    }
    if (i == 0) {
      return false;
    }
    while (i < n && s.charAt(i) == '=') {
      i++;
    }
    return i == n;
  }

  private static boolean isToken68Char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
        || c == '_' || c == '~' || c == '+' || c == '/';
  }

  /** RFC 9449 §4.2 {@code ath}: base64url(SHA-256(ASCII(access token))). */
  public static String ath(String accessToken) {
    try {
      byte[] hash = MessageDigest.getInstance("SHA-256").digest(accessToken.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  private static boolean constantTimeEquals(String a, String b) {
    return MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
  }

  /**
   * Configures a {@link TokenVerifier}. Defaults: ES256 tokens only, 60 s clock skew, 60 s DPoP proof window, no
   * DPoP nonces, an in-memory replay cache of 100,000 proofs, keys refreshed at most every 10 s on an unknown
   * {@code kid} and every 10 min otherwise, revocations at most 30 s stale before tokens are refused.
   *
   * <p>Not thread-safe; {@link #build()} once.
   */
  public static final class Builder {
    private static final Duration MAX_SKEW = Duration.ofMinutes(5);

    private String issuer;
    private String audience;
    private Channel brokerChannel;
    private JwksSource jwksSource;
    private Duration clockSkew = Duration.ofSeconds(60);
    private Set<JWSAlgorithm> algorithms = Set.of(JWSAlgorithm.ES256);
    private DpopReplayCache replayCache;
    private DpopNonces nonces;
    private Duration dpopProofWindow = Duration.ofSeconds(60);
    private Duration maxRevocationStaleness = Duration.ofSeconds(30);
    private boolean acceptStaleRevocations;
    private boolean withoutRevocationStream;
    private Duration keyRefreshMinInterval = Duration.ofSeconds(10);
    private Duration keyMaxAge = Duration.ofMinutes(10);
    private Duration brokerCallTimeout = Duration.ofSeconds(5);
    private Duration reconnectInitialBackoff = Duration.ofMillis(250);
    private Duration reconnectMaxBackoff = Duration.ofSeconds(10);
    private Clock clock = Clock.systemUTC();
    private final RevocationList revocations = new RevocationList();

    private Builder() {}

    /** The broker's issuer identifier, compared exactly with {@code iss} (e.g. {@code https://broker.example:8443}). */
    public Builder issuer(String issuer) {
      this.issuer = Objects.requireNonNull(issuer, "issuer");
      return this;
    }

    /** This service's identifier; tokens whose {@code aud} does not contain it are refused (RFC 9068 §4). */
    public Builder audience(String audience) {
      this.audience = Objects.requireNonNull(audience, "audience");
      return this;
    }

    /**
     * The channel to the broker's gRPC listener, built by the caller: TLS that trusts the broker's CA and
     * presents this backend's client certificate (the broker serves {@code WatchRevocations} to backends only).
     * Used for the keys ({@code JwksService.GetJwks}, unless {@link #jwksUrl} is set) and the revocation stream.
     * Not shut down by the verifier.
     */
    public Builder brokerChannel(Channel channel) {
      this.brokerChannel = Objects.requireNonNull(channel, "channel");
      return this;
    }

    /** Fetch the keys from the broker's HTTPS {@code jwks_uri} instead of over gRPC, trusting {@code sslContext}. */
    public Builder jwksUrl(URI jwksUrl, SSLContext sslContext) {
      this.jwksSource = new HttpsJwksSource(jwksUrl, sslContext, brokerCallTimeout);
      return this;
    }

    /** Fetch the keys from a source of your own (a shared cache, a test fixture). */
    public Builder jwksSource(JwksSource source) {
      this.jwksSource = Objects.requireNonNull(source, "source");
      return this;
    }

    /** Tolerance on {@code exp}, {@code nbf} and {@code iat}; at most 5 minutes (default 60 s). */
    public Builder clockSkew(Duration skew) {
      if (skew.isNegative() || skew.compareTo(MAX_SKEW) > 0) {
        throw new IllegalArgumentException("clock skew must be between 0 and " + MAX_SKEW);
      }
      this.clockSkew = skew;
      return this;
    }

    /**
     * The signature algorithms access tokens may use: any of ES256 (the default), ES384, PS256. {@code none}
     * and MAC algorithms can never be enabled.
     */
    public Builder algorithms(String... names) {
      Set<JWSAlgorithm> parsed = new LinkedHashSet<>();
      for (String name : names) {
        if (!SUPPORTED_TOKEN_ALGORITHMS.contains(name)) {
          throw new IllegalArgumentException("unsupported access token algorithm " + name + "; use one of "
              + SUPPORTED_TOKEN_ALGORITHMS);
        }
        parsed.add(JWSAlgorithm.parse(name));
      }
      if (parsed.isEmpty()) {
        throw new IllegalArgumentException("at least one algorithm is required");
      }
      this.algorithms = Set.copyOf(parsed);
      return this;
    }

    /**
     * Where used DPoP proofs are remembered (RFC 9449 §11.1). Default: this process's memory. Replicas of one
     * service behind one URL must share a store, or a proof can be replayed against another replica.
     */
    public Builder replayCache(DpopReplayCache cache) {
      this.replayCache = Objects.requireNonNull(cache, "cache");
      return this;
    }

    /** How far a DPoP proof's {@code iat} may be from now, either way (default 60 s). */
    public Builder dpopProofWindow(Duration window) {
      if (window.isNegative() || window.isZero() || window.compareTo(MAX_SKEW) > 0) {
        throw new IllegalArgumentException("the DPoP proof window must be between 1 s and " + MAX_SKEW);
      }
      this.dpopProofWindow = window;
      return this;
    }

    /**
     * Require server nonces in DPoP proofs (RFC 9449 §9), valid for {@code lifetime}; a proof without a current
     * one is refused with {@code use_dpop_nonce} and a fresh nonce. Nonces are per process.
     */
    public Builder dpopNonces(Duration lifetime) {
      this.nonces = new DpopNonces(lifetime, clock);
      return this;
    }

    /**
     * How long the revocation list may go without a word from the broker before tokens are refused with
     * {@code temporarily_unavailable} (default 30 s; the broker sends heartbeats every 10 s).
     */
    public Builder maxRevocationStaleness(Duration staleness) {
      if (staleness.isNegative() || staleness.isZero()) {
        throw new IllegalArgumentException("the revocation staleness limit must be positive");
      }
      this.maxRevocationStaleness = staleness;
      return this;
    }

    /**
     * Fail open: accept tokens while the revocation list is stale. Revoked devices then keep access until the
     * stream is back or their tokens expire; choose it only where availability outweighs that.
     */
    public Builder unsafeAcceptTokensWhileRevocationsAreStale() {
      this.acceptStaleRevocations = true;
      return this;
    }

    /**
     * Run without the revocation stream (e.g. keys from {@link #jwksUrl} and no gRPC channel): revoked tokens are
     * then accepted until they expire.
     */
    public Builder unsafeWithoutRevocationStream() {
      this.withoutRevocationStream = true;
      return this;
    }

    /** Least time between two key fetches caused by unknown {@code kid}s (default 10 s). */
    public Builder keyRefreshMinInterval(Duration interval) {
      this.keyRefreshMinInterval = Objects.requireNonNull(interval, "interval");
      return this;
    }

    /** Keys older than this are fetched again, so removed keys stop being accepted (default 10 min). */
    public Builder keyMaxAge(Duration maxAge) {
      this.keyMaxAge = Objects.requireNonNull(maxAge, "maxAge");
      return this;
    }

    /** Delays between reconnects of the revocation stream: doubling from {@code initial} to {@code max}. */
    public Builder reconnectBackoff(Duration initial, Duration max) {
      if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("backoff must be positive and initial <= max");
      }
      this.reconnectInitialBackoff = initial;
      this.reconnectMaxBackoff = max;
      return this;
    }

    /** The clock for every time check (default UTC system clock). Set it before {@link #dpopNonces}. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the verifier and, with a broker channel, opens the revocation stream. Keys are fetched on first
     * use; {@link TokenVerifier#awaitReady} waits for both.
     *
     * @throws IllegalStateException if a required setting is missing
     */
    public TokenVerifier build() {
      if (issuer == null || issuer.isEmpty()) {
        throw new IllegalStateException("issuer is required");
      }
      if (audience == null || audience.isEmpty()) {
        throw new IllegalStateException("audience is required");
      }
      JwksSource source = jwksSource;
      if (source == null) {
        if (brokerChannel == null) {
          throw new IllegalStateException("a key source is required: brokerChannel or jwksUrl");
        }
        source = new GrpcJwksSource(brokerChannel, brokerCallTimeout);
      }
      if (brokerChannel == null && !withoutRevocationStream) {
        throw new IllegalStateException("revocations come over brokerChannel; without one, say "
            + "unsafeWithoutRevocationStream()");
      }
      SigningKeyCache keys = new SigningKeyCache(source, clock, keyRefreshMinInterval, keyMaxAge, algorithms);
      RevocationWatcher watcher = null;
      if (brokerChannel != null && !withoutRevocationStream) {
        watcher = new RevocationWatcher(brokerChannel, revocations, clock, maxRevocationStaleness,
            reconnectInitialBackoff, reconnectMaxBackoff).start();
      }
      return new TokenVerifier(this, keys, watcher);
    }
  }
}
