package io.tokenbroker.verifier.jwks;

import com.nimbusds.jose.jwk.JWKSet;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.tokenbroker.proto.v1.GetJwksRequest;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import java.io.IOException;
import java.text.ParseException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The broker's keys through {@code tokenbroker.v1.JwksService/GetJwks} on a channel the caller built (TLS that
 * trusts the broker's CA).
 *
 * <p>Thread-safety: thread-safe.
 */
public final class GrpcJwksSource implements JwksSource {
  /** The proto bounds the JWK Set document to 64 KiB. */
  static final int MAX_JWKS_CHARS = 64 * 1024;

  private final Channel channel;
  private final Duration timeout;

  /**
   * @param channel a channel to the broker; not shut down by this class
   * @param timeout deadline of each fetch
   */
  public GrpcJwksSource(Channel channel, Duration timeout) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  @Override
  public JWKSet fetch() throws IOException {
    String json;
    try {
      json = JwksServiceGrpc.newBlockingStub(channel).withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .getJwks(GetJwksRequest.getDefaultInstance()).getJwksJson();
    } catch (StatusRuntimeException e) {
      throw new IOException("GetJwks failed: " + e.getStatus().getCode(), e);
    }
    return parse(json);
  }

  static JWKSet parse(String json) throws IOException {
    if (json.length() > MAX_JWKS_CHARS) {
      throw new IOException("the JWK Set is larger than " + MAX_JWKS_CHARS + " characters");
    }
    try {
      return JWKSet.parse(json);
    } catch (ParseException e) {
      throw new IOException("the broker's answer is not a JWK Set", e);
    }
  }

  @Override
  public String describe() {
    return "gRPC JwksService at " + channel.authority();
  }
}
