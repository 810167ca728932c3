package io.tokenbroker.examples.telemetry;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.tokenbroker.examples.telemetry.v1.TelemetryServiceGrpc;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.grpc.AccessTokenInterceptor;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/**
 * The telemetry service behind the verifier's interceptor: {@code IngestTelemetry} requires scope
 * {@value #SCOPE}. The caller passes the server builder (Netty with TLS in production, in-process in tests), as
 * the broker's {@code BrokerServer} does.
 */
public final class TelemetryServer implements AutoCloseable {
  /** The scope a token needs to ingest telemetry; the broker's demo-device client has it. */
  public static final String SCOPE = "telemetry:write";

  private final Server server;

  /**
   * @param builder the listener, with TLS configured
   * @param verifier the token verifier; closed by the caller
   * @param externalBaseUrl the URL devices address this service by; the DPoP htu base
   */
  public TelemetryServer(ServerBuilder<?> builder, TokenVerifier verifier, String externalBaseUrl) {
    AccessTokenInterceptor interceptor = AccessTokenInterceptor.builder(verifier, externalBaseUrl)
        .requireScopes(TelemetryServiceGrpc.getIngestTelemetryMethod(), SCOPE).build();
    this.server = builder.addService(ServerInterceptors.intercept(new TelemetryServiceImpl(), interceptor)).build();
  }

  /** The htu of {@code IngestTelemetry} for a service at {@code externalBaseUrl}. */
  public static String ingestHtu(String externalBaseUrl) {
    String base = externalBaseUrl.endsWith("/") ? externalBaseUrl.substring(0, externalBaseUrl.length() - 1)
        : externalBaseUrl;
    return base + "/" + TelemetryServiceGrpc.getIngestTelemetryMethod().getFullMethodName();
  }

  public TelemetryServer start() throws IOException {
    server.start();
    return this;
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdown();
    if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
  }
}
