package io.tokenbroker.e2e;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.http.HttpAccessTokenVerifier;
import io.tokenbroker.verifier.http.HttpVerification;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A DPoP-protected HTTP API on loopback for the example device application, guarded by the verifier library's
 * plain-HTTP helper exactly as a backend would use it: keys and revocations from the broker over gRPC with the
 * home's backend certificate, scope {@code telemetry:write}, this API's audience.
 */
final class ProtectedApi implements AutoCloseable {
  private final HttpServer server;
  private final ManagedChannel broker;
  private final TokenVerifier verifier;
  private final HttpAccessTokenVerifier http;
  private final String audience;
  final String url;

  ProtectedApi(BrokerHome home, String audience) throws Exception {
    this.audience = audience;
    broker = NettyChannelBuilder.forAddress("localhost", home.grpcPort, TlsChannelCredentials.newBuilder()
        .keyManager(home.home.resolve("tls/backend.crt").toFile(), home.home.resolve("tls/backend.key").toFile())
        .trustManager(home.caFile().toFile()).build()).build();
    verifier = TokenVerifier.builder().issuer(issuer(home.home)).audience(audience).brokerChannel(broker).build();
    if (!verifier.awaitReady(Duration.ofSeconds(30))) {
      throw new IllegalStateException("the verifier did not get the broker's keys and revocations");
    }
    http = new HttpAccessTokenVerifier(verifier);
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    url = "http://127.0.0.1:" + server.getAddress().getPort() + "/telemetry";
    server.createContext("/telemetry", this::handle);
    server.start();
  }

  private static String issuer(Path home) throws Exception {
    return Files.readAllLines(home.resolve("broker.properties")).stream()
        .filter(l -> l.startsWith("broker.issuer=")).map(l -> l.substring("broker.issuer=".length()))
        .findFirst().orElseThrow();
  }

  private void handle(HttpExchange exchange) throws java.io.IOException {
    // The URI is this API's configured URL, never one built from the request's Host header.
    HttpVerification result = http.verify(exchange.getRequestMethod(), url, exchange.getRequestHeaders(),
        Optional.empty(), Set.of("telemetry:write"));
    byte[] body = (result.accepted() ? "accepted " + result.principal().orElseThrow().deviceId() : "refused")
        .getBytes(StandardCharsets.UTF_8);
    result.wwwAuthenticate().forEach(v -> exchange.getResponseHeaders().add("WWW-Authenticate", v));
    exchange.sendResponseHeaders(result.accepted() ? 200 : result.status(), body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }

  /** The example app, as a process: {@code java -cp device-agent.jar examples/device-app/DeviceApp.java}. */
  Proc.Result runExampleApp(Path socket) throws Exception {
    return Proc.run(java.util.Map.of(), java.util.List.of(Proc.JAVA, "-cp",
        Proc.ROOT.resolve("device-agent/target/device-agent.jar").toString(),
        Proc.ROOT.resolve("examples/device-app/DeviceApp.java").toString(), "--socket", socket.toString(),
        "--audience", audience, "--url", url));
  }

  @Override
  public void close() throws InterruptedException {
    server.stop(0);
    verifier.close();
    broker.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
