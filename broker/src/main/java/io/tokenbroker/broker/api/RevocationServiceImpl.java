package io.tokenbroker.broker.api;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.revocation.Introspection;
import io.tokenbroker.proto.v1.Confirmation;
import io.tokenbroker.proto.v1.DeviceState;
import io.tokenbroker.proto.v1.IntrospectTokenRequest;
import io.tokenbroker.proto.v1.IntrospectTokenResponse;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.TokenType;
import io.tokenbroker.proto.v1.TokenTypeHint;
import io.tokenbroker.proto.v1.WatchRevocationsRequest;
import io.tokenbroker.proto.v1.WatchRevocationsResponse;
import java.util.Arrays;
import java.util.Map;

/** gRPC adapter for the backend-facing RFC 7662 introspection and the revocation stream. */
public final class RevocationServiceImpl extends RevocationServiceGrpc.RevocationServiceImplBase {
  private final Introspection introspection;
  private final RevocationFeed feed;
  private final GrpcErrors errors;

  public RevocationServiceImpl(Introspection introspection, RevocationFeed feed, GrpcErrors errors) {
    this.introspection = introspection;
    this.feed = feed;
    this.errors = errors;
  }

  @Override
  public void introspectToken(IntrospectTokenRequest request, StreamObserver<IntrospectTokenResponse> observer) {
    Unary.run(observer, errors, () -> {
      if (request.getToken().isEmpty() || request.getToken().length() > 8 * 1024) {
        throw new OAuthException(OAuthError.INVALID_REQUEST, "token must be 1-8192 characters");
      }
      // Refresh tokens are for the device alone: never active to a backend (proto comment).
      if (request.getTokenTypeHint() == TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN) {
        return IntrospectTokenResponse.newBuilder().setActive(false).build();
      }
      Introspection.Result r = introspection.introspect(request.getToken());
      if (!r.active()) {
        return IntrospectTokenResponse.newBuilder().setActive(false).build();
      }
      var c = r.claims();
      IntrospectTokenResponse.Builder b = IntrospectTokenResponse.newBuilder().setActive(true)
          .addAllScope(Arrays.asList(String.valueOf(c.getClaim("scope")).split(" ")))
          .setClientId(String.valueOf(c.getClaim("client_id"))).setTokenType(TokenType.TOKEN_TYPE_DPOP)
          .setExp(Protos.timestamp(c.getExpirationTime().toInstant()))
          .setIat(Protos.timestamp(c.getIssueTime().toInstant())).setSub(c.getSubject()).addAllAud(c.getAudience())
          .setIss(c.getIssuer()).setJti(c.getJWTID())
          .setDeviceState(DeviceState.valueOf("DEVICE_STATE_" + r.deviceState().name()));
      Object cnf = c.getClaim("cnf");
      if (cnf instanceof Map<?, ?> m && m.get("jkt") instanceof String jkt) {
        b.setCnf(Confirmation.newBuilder().setJkt(jkt));
      }
      // RFC 8705 §3.2: certificate-bound tokens are Bearer tokens with cnf["x5t#S256"].
      if (cnf instanceof Map<?, ?> m && m.get("x5t#S256") instanceof String x5t) {
        b.setCnf(Confirmation.newBuilder().setX5TS256(x5t)).setTokenType(TokenType.TOKEN_TYPE_BEARER);
      }
      if (c.getClaim("sid") instanceof String sid) {
        b.setRefreshFamilyId(sid);
      }
      return b.build();
    });
  }

  @Override
  public void watchRevocations(WatchRevocationsRequest request, StreamObserver<WatchRevocationsResponse> observer) {
    long cursor;
    String given = request.getCursor();
    if (given.isEmpty()) {
      cursor = 0;
    } else {
      try {
        cursor = Long.parseLong(given);
        if (cursor < 0) {
          throw new NumberFormatException();
        }
      } catch (NumberFormatException e) {
        observer.onError(errors.toStatus(OAuthError.INVALID_REQUEST, "cursor must be a value this stream sent"));
        return;
      }
    }
    feed.subscribe(cursor, given.isEmpty(), (ServerCallStreamObserver<WatchRevocationsResponse>) observer);
  }
}
