package io.tokenbroker.broker.api;

import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.binding.TokenBinding;
import io.tokenbroker.broker.grant.TokenGrants;
import io.tokenbroker.broker.metrics.GrantMetrics;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.revocation.TokenRevocation;
import io.tokenbroker.proto.v1.RevokeTokenRequest;
import io.tokenbroker.proto.v1.RevokeTokenResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.proto.v1.TokenType;
import io.tokenbroker.verifier.dpop.DpopProof;
import java.net.URI;
import java.util.List;
import java.util.TreeSet;

/** gRPC adapter for the token endpoint (RFC 6749 §5, RFC 8628 §3.4-3.5) with DPoP (RFC 9449 §5). */
public final class TokenServiceImpl extends TokenServiceGrpc.TokenServiceImplBase {
  private final TokenGrants grants;
  private final TokenRevocation revocation;
  private final URI externalUrl;
  private final GrpcErrors errors;
  private final GrantMetrics metrics;

  public TokenServiceImpl(TokenGrants grants, TokenRevocation revocation, URI externalUrl, GrpcErrors errors,
      GrantMetrics metrics) {
    this.metrics = metrics;
    this.grants = grants;
    this.revocation = revocation;
    this.externalUrl = externalUrl;
    this.errors = errors;
  }

  /** The DPoP {@code htu} of this call: the configured external URL + "/" + full method name (DESIGN). */
  private String htu() {
    String base = externalUrl.toString();
    return (base.endsWith("/") ? base : base + "/") + RequestContext.FULL_METHOD.get();
  }

  @Override
  public void token(TokenRequest request, StreamObserver<TokenResponse> observer) {
    Unary.run(observer, errors, () -> {
      TokenGrants.Tokens tokens = measured(request);
      return TokenResponse.newBuilder()
          .setAccessToken(tokens.accessToken())
          // RFC 8705 §3: certificate-bound tokens are presented as Bearer over the same mTLS connection.
          .setTokenType(tokens.binding() instanceof TokenBinding.Jkt ? TokenType.TOKEN_TYPE_DPOP
              : TokenType.TOKEN_TYPE_BEARER)
          .setExpiresIn(Protos.duration(tokens.expiresIn()))
          .setRefreshToken(tokens.refreshToken())
          .addAllScope(new TreeSet<>(tokens.scopes()))
          .addAllAudience(new TreeSet<>(tokens.audiences()))
          .setRefreshTokenExpiresIn(Protos.duration(tokens.refreshExpiresIn()))
          .setDeviceId(tokens.deviceId())
          .build();
    });
  }

  /** Runs the grant, counting its outcome and, when tokens were issued, how long that took. */
  private TokenGrants.Tokens measured(TokenRequest request) {
    String grantType = switch (request.getGrantCase()) {
      case DEVICE_CODE -> GrantMetrics.DEVICE_CODE;
      case REFRESH_TOKEN -> GrantMetrics.REFRESH_TOKEN;
      case GRANT_NOT_SET -> GrantMetrics.NO_GRANT;
    };
    long start = System.nanoTime();
    TokenGrants.Tokens tokens;
    try {
      tokens = grant(request);
    } catch (RuntimeException e) {
      OAuthError error = GrpcErrors.classify(e);
      metrics.refused(grantType, GrpcErrors.rfcCode(error), error.name());
      throw e;
    }
    metrics.issued(grantType, System.nanoTime() - start);
    return tokens;
  }

  private TokenGrants.Tokens grant(TokenRequest request) {
    List<String> proof = RequestContext.DPOP_PROOFS.get();
    return switch (request.getGrantCase()) {
      case DEVICE_CODE -> grants.deviceCode(request.getClientId(), request.getDeviceCode().getDeviceCode(), proof,
          htu(), RequestContext.CLIENT_CERTIFICATES.get(), RequestContext.USER_AGENT.get());
      case REFRESH_TOKEN -> grants.refresh(request.getClientId(), request.getRefreshToken().getRefreshToken(),
          request.getRefreshToken().getScopeList(), request.getRefreshToken().getAudienceList(), proof, htu(),
          RequestContext.CLIENT_CERTIFICATES.get(), RequestContext.USER_AGENT.get());
      case GRANT_NOT_SET -> throw new OAuthException(OAuthError.UNSUPPORTED_GRANT_TYPE,
          "set device_code or refresh_token");
    };
  }

  @Override
  public void revokeToken(RevokeTokenRequest request, StreamObserver<RevokeTokenResponse> observer) {
    Unary.run(observer, errors, () -> {
      List<java.security.cert.X509Certificate> chain = RequestContext.CLIENT_CERTIFICATES.get();
      if (RequestContext.DPOP_PROOFS.get().isEmpty() && !chain.isEmpty()) {
        // RFC 8705 §3: a certificate-bound token is revoked over mutual TLS with its certificate.
        TokenBinding proven = grants.authenticateCertificate(request.getClientId(), chain);
        revocation.revoke(request.getClientId(), request.getToken(), proven, null);
        return RevokeTokenResponse.getDefaultInstance();
      }
      DpopProof proof = grants.authenticate(request.getClientId(), RequestContext.DPOP_PROOFS.get(), htu());
      revocation.revoke(request.getClientId(), request.getToken(), proof);
      return RevokeTokenResponse.getDefaultInstance();
    });
  }
}
