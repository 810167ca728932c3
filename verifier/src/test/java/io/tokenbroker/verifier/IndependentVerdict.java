package io.tokenbroker.verifier;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The fuzz test's own reading of RFC 9068 §4, RFC 9449 §4.3/§7 and RFC 8705 §3, written apart from the verifier
 * and checking signatures with the JDK's providers (the verifier uses Bouncy Castle for ECDSA): the principal a
 * request should yield, or empty when it must be refused. Deliberately at least as lenient as the verifier
 * wherever the verifier is stricter than the RFCs (token syntax, size limits, URI normalisation), so that it
 * only disagrees when the verifier accepts something it must not.
 */
final class IndependentVerdict {
  private static final Duration SKEW = Duration.ofSeconds(60);
  private static final Duration PROOF_WINDOW = Duration.ofSeconds(60);
  private static final Set<JWSAlgorithm> PROOF_ALGORITHMS = Set.of(JWSAlgorithm.ES256, JWSAlgorithm.ES384,
      JWSAlgorithm.PS256, JWSAlgorithm.EdDSA);

  private IndependentVerdict() {}

  static Optional<VerifiedPrincipal> of(ResourceRequest request, JWKSet trusted, String issuer, String audience,
      Instant now) {
    try {
      return Optional.ofNullable(verdict(request, trusted, issuer, audience, now));
    } catch (ParseException | JOSEException | GeneralSecurityException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static VerifiedPrincipal verdict(ResourceRequest request, JWKSet trusted, String issuer, String audience,
      Instant now) throws ParseException, JOSEException, GeneralSecurityException {
    if (request.authorization().size() != 1) {
      return null;
    }
    String value = request.authorization().get(0);
    int space = value.indexOf(' ');
    if (space < 0) {
      return null;
    }
    String scheme = value.substring(0, space);
    String token = value.substring(space + 1).strip();
    SignedJWT jwt = SignedJWT.parse(token);
    JWSHeader header = jwt.getHeader();
    JWK key = trusted.getKeyByKeyId(header.getKeyID());
    // The key's published alg decides; a token cannot pick another one for the same key.
    if (key == null || !header.getAlgorithm().getName().equals(key.getAlgorithm().getName())) {
      return null;
    }
    JWSVerifier jdk = key instanceof ECKey ec ? new ECDSAVerifier(ec.toPublicJWK())
        : new RSASSAVerifier(((RSAKey) key).toPublicJWK());
    if (!jwt.verify(jdk)) {
      return null;
    }
    String typ = header.getType() == null ? "" : header.getType().getType().toLowerCase(Locale.ROOT);
    if (!typ.equals("at+jwt") && !typ.equals("application/at+jwt")) {
      return null;
    }
    JWTClaimsSet claims = jwt.getJWTClaimsSet();
    if (!issuer.equals(claims.getClaim("iss"))) {
      return null;
    }
    List<String> aud = strings(claims.getClaim("aud"));
    if (aud == null || !aud.contains(audience)) {
      return null;
    }
    Instant exp = instant(claims.getExpirationTime());
    Instant nbf = instant(claims.getNotBeforeTime());
    Instant iat = instant(claims.getIssueTime());
    if (exp == null || !now.isBefore(exp.plus(SKEW)) || (nbf != null && now.isBefore(nbf.minus(SKEW)))
        || iat == null || iat.isAfter(now.plus(SKEW))) {
      return null;
    }
    String sub = nonEmpty(claims.getClaim("sub"));
    String clientId = nonEmpty(claims.getClaim("client_id"));
    String jti = nonEmpty(claims.getClaim("jti"));
    Object scope = claims.getClaim("scope");
    Object sid = claims.getClaim("sid");
    if (sub == null || clientId == null || jti == null || (scope != null && !(scope instanceof String))
        || (sid != null && !(sid instanceof String))) {
      return null;
    }
    Binding binding = binding(claims.getClaim("cnf"));
    if (binding == null) {
      return null;
    }
    boolean bound = switch (binding.method()) {
      case DPOP -> scheme.equalsIgnoreCase("DPoP") && proofHolds(request, token, binding.thumbprint(), now);
      case MTLS -> scheme.equalsIgnoreCase("Bearer") && request.peerCertificate().isPresent()
          && x5t(request.peerCertificate().get()).equals(binding.thumbprint());
    };
    if (!bound) {
      return null;
    }
    // RFC 6749 §3.3: scope-tokens separated by single spaces.
    Set<String> scopes = scope == null ? Set.of()
        : Arrays.stream(((String) scope).split(" ")).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
    return new VerifiedPrincipal(sub, clientId, scopes, new LinkedHashSet<>(aud), binding, jti, (String) sid, iat,
        exp);
  }

  /** RFC 7800 §3.1: exactly one confirmation method, a base64url SHA-256 value. */
  private static Binding binding(Object cnf) {
    if (!(cnf instanceof Map<?, ?> map)) {
      return null;
    }
    Object jkt = map.get("jkt");
    Object x5t = map.get("x5t#S256");
    if ((jkt == null) == (x5t == null)) {
      return null;
    }
    Object value = jkt != null ? jkt : x5t;
    if (!(value instanceof String s) || s.length() != 43 || !s.matches("[A-Za-z0-9_-]+")) {
      return null;
    }
    return new Binding(jkt != null ? Binding.Method.DPOP : Binding.Method.MTLS, s);
  }

  /** RFC 9449 §4.3 and §7.1: one proof, by the bound key, for this request and this token. */
  private static boolean proofHolds(ResourceRequest request, String token, String jkt, Instant now)
      throws ParseException, JOSEException, GeneralSecurityException {
    if (request.dpop().size() != 1) {
      return false;
    }
    SignedJWT proof = SignedJWT.parse(request.dpop().get(0));
    JWSHeader header = proof.getHeader();
    JWK jwk = header.getJWK();
    if (header.getType() == null || !header.getType().getType().equalsIgnoreCase("dpop+jwt")
        || !PROOF_ALGORITHMS.contains(header.getAlgorithm()) || jwk == null || jwk.isPrivate()
        || !jwk.computeThumbprint().toString().equals(jkt) || !verifiesWithTheJdk(proof, jwk)) {
      return false;
    }
    JWTClaimsSet claims = proof.getJWTClaimsSet();
    Instant iat = instant(claims.getIssueTime());
    Object jti = claims.getClaim("jti");
    return request.method().equals(claims.getClaim("htm"))
        && sameResource(claims.getClaim("htu"), request.uri())
        && sha256(token).equals(claims.getClaim("ath"))
        && iat != null && !iat.isBefore(now.minus(PROOF_WINDOW)) && !iat.isAfter(now.plus(PROOF_WINDOW))
        && jti instanceof String s && !s.isEmpty();
  }

  /**
   * RFC 9449 §4.3 check 9, loosely: http(s), same host and port, same path once percent-decoded and without dot
   * segments. Looser than the verifier on purpose (see the class comment).
   */
  private static boolean sameResource(Object htu, String uri) {
    if (!(htu instanceof String s)) {
      return false;
    }
    try {
      URI a = new URI(s);
      URI b = new URI(uri);
      return a.getScheme() != null && a.getScheme().equalsIgnoreCase(b.getScheme())
          && (a.getScheme().equalsIgnoreCase("https") || a.getScheme().equalsIgnoreCase("http"))
          && a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && port(a) == port(b)
          && path(a).equals(path(b));
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static int port(URI uri) {
    return uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
  }

  private static String path(URI uri) throws URISyntaxException {
    String path = uri.getPath() == null || uri.getPath().isEmpty() ? "/" : uri.getPath();
    return new URI(null, null, path, null).normalize().getPath();
  }

  private static boolean verifiesWithTheJdk(SignedJWT jwt, JWK jwk) throws JOSEException, GeneralSecurityException {
    if (jwk instanceof OctetKeyPair okp) {
      // SPKI prefix of an Ed25519 public key (RFC 8410), then the 32-byte key.
      byte[] spki = HexFormat.of().parseHex("302a300506032b6570032100"
          + HexFormat.of().formatHex(okp.getX().decode()));
      Signature ed = Signature.getInstance("Ed25519");
      ed.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki)));
      ed.update(jwt.getSigningInput());
      return ed.verify(jwt.getSignature().decode());
    }
    JWSVerifier verifier = jwk instanceof ECKey ec ? new ECDSAVerifier(ec) : new RSASSAVerifier((RSAKey) jwk);
    return jwt.verify(verifier);
  }

  private static List<String> strings(Object value) {
    if (value instanceof String s) {
      return List.of(s);
    }
    if (value instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
      return list.stream().map(String.class::cast).toList();
    }
    return null;
  }

  private static String nonEmpty(Object value) {
    return value instanceof String s && !s.isEmpty() ? s : null;
  }

  private static Instant instant(Date date) {
    return date == null ? null : date.toInstant();
  }

  /** RFC 9449 §4.2 {@code ath}: base64url SHA-256 of the token's ASCII. */
  static String sha256(String value) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256")
          .digest(value.getBytes(StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** RFC 8705 §3.1 {@code x5t#S256}. */
  static String x5t(X509Certificate certificate) {
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(MessageDigest.getInstance("SHA-256")
          .digest(certificate.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
