package io.tokenbroker.broker.api;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The broker's gRPC server: the product services, the standard health service and server reflection, behind the
 * {@link RequestIdInterceptor} and the call guard. It
 * takes a {@link ServerBuilder} so that {@code serve} passes a Netty TLS builder and tests an in-process one.
 */
public final class BrokerServer {
  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();
  private final ExecutorService callExecutor;

  public BrokerServer(ServerBuilder<?> builder, List<ServerServiceDefinition> services, ServerInterceptor guard) {
    this(builder, services, guard, null, null);
  }

  /**
   * @param metrics counts every call (the product's, health and reflection alike), including those the guard
   *     refuses; null for none
   */
  public BrokerServer(ServerBuilder<?> builder, List<ServerServiceDefinition> services, ServerInterceptor guard,
      ServerInterceptor metrics) {
    this(builder, services, guard, metrics, null);
  }

  private BrokerServer(ServerBuilder<?> builder, List<ServerServiceDefinition> services, ServerInterceptor guard,
      ServerInterceptor metrics, ExecutorService callExecutor) {
    this.callExecutor = callExecutor;
    services.forEach(builder::addService);
    // Server-wide interceptors run in reverse order of adding: the metrics first, so that they count calls the
    // guard refuses; then the request id, so that the guard's refusals carry it too.
    builder.intercept(guard);
    builder.intercept(new RequestIdInterceptor());
    if (metrics != null) {
      builder.intercept(metrics);
    }
    builder.addService(health.getHealthService());
    builder.addService(ProtoReflectionServiceV1.newInstance());
    this.server = builder.build();
  }

  /**
   * A server on {@code builder} (its address and TLS credentials set) with every {@link GrpcServerLimits} applied
   * and its own call executor, shut down with the server. {@code broker serve} and the tests' TLS server use it.
   *
   * @param metrics as in {@link #BrokerServer(ServerBuilder, List, ServerInterceptor, ServerInterceptor)}
   */
  public static BrokerServer overNetty(NettyServerBuilder builder, List<ServerServiceDefinition> services,
      ServerInterceptor guard, ServerInterceptor metrics) {
    ExecutorService executor = GrpcServerLimits.newCallExecutor();
    return new BrokerServer(GrpcServerLimits.applyTo(builder, executor), services, guard, metrics, executor);
  }

  public BrokerServer start() throws IOException {
    server.start();
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
    return this;
  }

  /**
   * What the standard gRPC health service answers for every service: SERVING, or NOT_SERVING while the broker
   * is not ready (the HSM, the database or the active signing key; see {@code ReadinessMonitor}). Load
   * balancers and the agent's retry logic read it.
   */
  public void setServing(boolean serving) {
    health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES,
        serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  /** The bound port (useful when the configuration asked for port 0). */
  public int port() {
    return server.getPort();
  }

  public void stop() throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    if (!server.awaitTermination(10, TimeUnit.SECONDS)) {
      server.shutdownNow();
    }
    if (callExecutor != null) {
      callExecutor.shutdownNow();
    }
  }
}
