package io.tokenbroker.agent.broker;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.RevokeTokenRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.proto.v1.TokenTypeHint;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The device side of the broker's API: every call carries a fresh DPoP proof in {@code dpop} metadata with
 * {@code htm} POST and {@code htu} = the broker's external URL + "/" + the full method name (DESIGN protocol
 * mapping). Server nonces (RFC 9449 §8) are taken from {@code dpop-nonce} in headers and trailers, and a call
 * refused with {@code USE_DPOP_NONCE} is retried once with the nonce. Thread-safe.
 */
public final class BrokerClient {
  static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> DPOP_NONCE = Metadata.Key.of("dpop-nonce", Metadata.ASCII_STRING_MARSHALLER);

  private final Channel channel;
  private final String externalUrl;
  private final String clientId;
  private final DpopProofs proofs;
  private final Duration timeout;
  private final AtomicReference<String> nonce = new AtomicReference<>();

  public BrokerClient(Channel channel, String externalUrl, String clientId, DpopProofs proofs, Duration timeout) {
    this.channel = channel;
    this.externalUrl = externalUrl;
    this.clientId = clientId;
    this.proofs = proofs;
    this.timeout = timeout;
  }

  /** RFC 8628 §3.1: starts a device authorization bound to the device's key. */
  public StartDeviceAuthorizationResponse startDeviceAuthorization(List<String> scopes, List<String> audiences) {
    return call(DeviceAuthorizationServiceGrpc.getStartDeviceAuthorizationMethod(),
        StartDeviceAuthorizationRequest.newBuilder().setClientId(clientId).addAllScope(scopes)
            .addAllAudience(audiences).build(), null);
  }

  /** RFC 8628 §3.4: one poll of the token endpoint with the device code. */
  public TokenResponse pollDeviceCode(String deviceCode) {
    return call(TokenServiceGrpc.getTokenMethod(), TokenRequest.newBuilder().setClientId(clientId)
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(deviceCode)).build(), null);
  }

  /**
   * RFC 6749 §6: rotates the refresh token.
   *
   * @param onResponseHeaders run when the broker's answer starts to arrive (it has committed by then), before
   *     the response is read; only crash tests pass one
   */
  public TokenResponse refresh(String refreshToken, List<String> audiences, Runnable onResponseHeaders) {
    return call(TokenServiceGrpc.getTokenMethod(), TokenRequest.newBuilder().setClientId(clientId)
        .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(refreshToken).addAllAudience(audiences))
        .build(), onResponseHeaders);
  }

  /** RFC 7009 §2.1: revokes the refresh token (and with it its family). */
  public void revokeRefreshToken(String refreshToken) {
    call(TokenServiceGrpc.getRevokeTokenMethod(), RevokeTokenRequest.newBuilder().setClientId(clientId)
        .setToken(refreshToken).setTokenTypeHint(TokenTypeHint.TOKEN_TYPE_HINT_REFRESH_TOKEN).build(), null);
  }

  private <Q, R> R call(MethodDescriptor<Q, R> method, Q request, Runnable onResponseHeaders) {
    try {
      return attempt(method, request, onResponseHeaders);
    } catch (BrokerException e) {
      if ("USE_DPOP_NONCE".equals(e.reason()) && nonce.get() != null) {
        return attempt(method, request, onResponseHeaders);
      }
      throw e;
    }
  }

  private <Q, R> R attempt(MethodDescriptor<Q, R> method, Q request, Runnable onResponseHeaders) {
    Metadata headers = new Metadata();
    headers.put(DPOP, proofs.create("POST", externalUrl + "/" + method.getFullMethodName(), null, nonce.get()));
    Channel intercepted = ClientInterceptors.intercept(channel, new NonceAndHooks(headers, onResponseHeaders));
    try {
      return ClientCalls.blockingUnaryCall(intercepted, method,
          CallOptions.DEFAULT.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS), request);
    } catch (StatusRuntimeException e) {
      throw BrokerException.of(e);
    }
  }

  /** Adds the proof, remembers nonces from headers and trailers, runs the crash-test hook on headers. */
  private final class NonceAndHooks implements ClientInterceptor {
    private final Metadata extra;
    private final Runnable onHeaders;

    NonceAndHooks(Metadata extra, Runnable onHeaders) {
      this.extra = extra;
      this.onHeaders = onHeaders;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          headers.merge(extra);
          super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
            @Override
            public void onHeaders(Metadata h) {
              remember(h);
              if (onHeaders != null) {
                onHeaders.run();
              }
              super.onHeaders(h);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
              remember(trailers);
              super.onClose(status, trailers);
            }
          }, headers);
        }
      };
    }

    private void remember(Metadata md) {
      String value = md.get(DPOP_NONCE);
      if (value != null && value.length() <= 512) {
        nonce.set(value);
      }
    }
  }
}
