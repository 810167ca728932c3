package io.tokenbroker.broker.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.tokenbroker.broker.hsm.SoftHsmDevToken;
import io.tokenbroker.proto.v1.GetJwksRequest;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code broker init}, {@code serve} and {@code keys} as separate processes, the way an operator runs them. */
class BrokerLifecycleIT {
  @TempDir Path tmp;

  private Path init() throws Exception {
    Path home = tmp.resolve("home");
    BrokerProcess.Result init = BrokerProcess.run("init", "--home", home.toString(), "--grpc-port", "0",
        "--https-port", "0");
    assertThat(init.exitCode()).as(init.stderr()).isZero();
    assertThat(init.stdout()).contains("initialised broker home " + home);
    return home;
  }

  private static JWKSet httpsJwks(Path home, BrokerProcess broker) throws Exception {
    HttpResponse<String> response = BrokerClients.httpsGet(home, broker.httpsPort(), "/.well-known/jwks.json");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/jwk-set+json");
    return JWKSet.parse(response.body());
  }

  private static JWKSet grpcJwks(Path home, BrokerProcess broker) throws Exception {
    ManagedChannel channel = BrokerClients.grpcChannel(home, broker.grpcPort());
    try {
      return JWKSet.parse(JwksServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .getJwks(GetJwksRequest.getDefaultInstance()).getJwksJson());
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static Set<String> kids(JWKSet set) {
    return set.getKeys().stream().map(JWK::getKeyID).collect(Collectors.toSet());
  }

  /** "kid -> STATE" from the output of {@code broker keys list}. */
  private static Map<String, String> keyStates(Path home) throws Exception {
    BrokerProcess.Result list = BrokerProcess.run("keys", "list", "--home", home.toString());
    assertThat(list.exitCode()).as(list.stderr()).isZero();
    return list.stdout().lines().skip(1).map(l -> l.trim().split("\\s+"))
        .collect(Collectors.toMap(f -> f[0], f -> f[2]));
  }

  @Test
  void initCreatesHomeWithSecretsReadableOnlyByTheOwner() throws Exception {
    Path home = init();

    assertThat(home.resolve("broker.properties")).exists();
    for (String secret : List.of("hsm/pin", "tls/server.key", "tls/operator.key")) {
      assertThat(Files.getPosixFilePermissions(home.resolve(secret)))
          .as(secret).containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    }
    String config = Files.readString(home.resolve("broker.properties"));
    assertThat(config).doesNotContain(Files.readString(home.resolve("hsm/pin")).strip());
    assertThat(keyStates(home).values()).containsExactlyInAnyOrder("ACTIVE", "NEXT");
  }

  @Test
  void serveAnswersJwksOverHttpsAndGrpcWithTheSameKeysAndReportsHealth() throws Exception {
    Path home = init();
    Map<String, String> states = keyStates(home);
    try (BrokerProcess broker = BrokerProcess.serve(home)) {
      JWKSet https = httpsJwks(home, broker);
      JWKSet grpc = grpcJwks(home, broker);

      assertThat(kids(https)).isEqualTo(states.keySet()).hasSize(2);
      assertThat(grpc.toString()).isEqualTo(https.toString());
      assertThat(https.getKeys()).allSatisfy(k -> {
        assertThat(k.isPrivate()).isFalse();
        assertThat(k.getAlgorithm().getName()).isEqualTo("ES256");
        assertThat(k.getKeyID()).isEqualTo(k.computeThumbprint().toString());
      });

      ManagedChannel channel = BrokerClients.grpcChannel(home, broker.grpcPort());
      try {
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance());
        assertThat(health.getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
      } finally {
        channel.shutdownNow();
      }
      assertThat(BrokerClients.httpsGet(home, broker.httpsPort(), "/other").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void serveAnswersMetricsAndReadinessOnTheLoopbackOperationsListener() throws Exception {
    Path home = init();
    assertThat(Files.readString(home.resolve("broker.properties"))).contains("ops.port=0");
    try (BrokerProcess broker = BrokerProcess.serve(home)) {
      java.net.InetSocketAddress ops = broker.opsAddress();
      assertThat(ops.getHostString()).isEqualTo("127.0.0.1");
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      HttpResponse<String> ready = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
          "http://127.0.0.1:" + ops.getPort() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      HttpResponse<String> metrics = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
          "http://127.0.0.1:" + ops.getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      // The packaged jar carries every binder: the broker's own meters, gRPC, the pool and the JVM.
      assertThat(metrics.body()).contains("\ntokenbroker_ready 1.0\n",
          "tokenbroker_token_grants_total{grant_type=\"device_code\",outcome=\"success\",reason=\"none\"} 0.0",
          "grpc_server_processing_duration_seconds", "hikaricp_connections_active{pool=\"tokenbroker-db\"}",
          "jvm_memory_used_bytes");
    }
  }

  @Test
  void rotateBetweenRestartsKeepsStatesAndPublishesRetiredKey() throws Exception {
    Path home = init();
    Map<String, String> initial = keyStates(home);
    String firstActive = key(initial, "ACTIVE");
    String firstNext = key(initial, "NEXT");

    BrokerProcess.Result rotate = BrokerProcess.run("keys", "rotate", "--home", home.toString());
    assertThat(rotate.exitCode()).as(rotate.stderr()).isZero();
    assertThat(rotate.stdout()).contains("rotated: " + firstNext + " is now ACTIVE");

    Map<String, String> rotated = keyStates(home);
    assertThat(rotated).containsEntry(firstActive, "RETIRED").containsEntry(firstNext, "ACTIVE").hasSize(3);
    try (BrokerProcess broker = BrokerProcess.serve(home)) {
      assertThat(kids(httpsJwks(home, broker))).isEqualTo(rotated.keySet());
      assertThat(broker.output()).contains("active signing key " + firstNext);
    }
  }

  @Test
  void serveAfterSigkillRestartsWithTheSameKeys() throws Exception {
    Path home = init();
    Set<String> before;
    try (BrokerProcess broker = BrokerProcess.serve(home)) {
      before = kids(httpsJwks(home, broker));
      broker.kill();
    }
    try (BrokerProcess broker = BrokerProcess.serve(home)) {
      assertThat(kids(httpsJwks(home, broker))).isEqualTo(before);
      assertThat(broker.output()).doesNotContain("generated ES256 signing key");
    }
  }

  @Test
  void keysListWhileServingIsRefusedWithAClearLine() throws Exception {
    Path home = init();
    try (BrokerProcess broker = BrokerProcess.serve(home)) {
      BrokerProcess.Result list = BrokerProcess.run("keys", "list", "--home", home.toString());
      assertThat(list.exitCode()).isEqualTo(4);
      assertThat(list.stderrLines()).containsExactly("broker: error: the database jdbc:h2:file:" + home
          + "/data/broker is in use by another process (is 'broker serve' running on this home?); stop it first");
    }
  }

  @Test
  void serveInsecureDevGivesPlaintextGrpcOnLoopbackOnly() throws Exception {
    Path home = init();
    try (BrokerProcess broker = BrokerProcess.serve(home, "--insecure-dev")) {
      ManagedChannel plaintext = io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", broker.grpcPort())
          .usePlaintext().build();
      try {
        assertThat(JwksServiceGrpc.newBlockingStub(plaintext).withDeadlineAfter(10, TimeUnit.SECONDS)
            .getJwks(GetJwksRequest.getDefaultInstance()).getJwksJson()).contains("\"keys\"");
      } finally {
        plaintext.shutdownNow();
      }
      assertThat(broker.output()).contains("PLAINTEXT");
    }
    Files.writeString(home.resolve("broker.properties"),
        Files.readString(home.resolve("broker.properties")).replace("grpc.host=127.0.0.1", "grpc.host=0.0.0.0"));
    BrokerProcess.Result refused = BrokerProcess.run("serve", "--home", home.toString(), "--insecure-dev");
    assertThat(refused.exitCode()).isEqualTo(2);
    assertThat(refused.stderrLines()).containsExactly("broker: error: --insecure-dev serves plaintext gRPC and is "
        + "allowed only on a loopback address; grpc.host is 0.0.0.0");
  }

  /** The README's pkcs11-tool command, run against the token that 'broker init' made. */
  @Test
  void pkcs11ToolShowsInitKeysAsSensitiveAndNeverExtractable() throws Exception {
    Path home = init();
    String pin = Files.readString(home.resolve("hsm/pin")).strip();
    ProcessBuilder pb = new ProcessBuilder("pkcs11-tool", "--module", SoftHsmDevToken.requireLibrary().toString(),
        "--token-label", "tokenbroker", "--login", "--pin", pin, "-O").redirectErrorStream(true);
    pb.environment().put("SOFTHSM2_CONF", home.resolve("hsm/softhsm2.conf").toString());
    Process p = pb.start();
    String objects = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(objects).isZero();
    List<String> privateKeys = List.of(objects.split("(?=\\n\\S)")).stream().map(String::strip)
        .filter(b -> b.startsWith("Private Key Object")).toList();
    // The ACTIVE and NEXT signing keys and the device CA key (RFC 8705 §2.1).
    assertThat(privateKeys).hasSize(3).allSatisfy(block -> assertThat(block)
        .contains("sensitive, always sensitive, never extractable").containsPattern("Usage:\\s+sign\\s*\\n"));
  }

  private static String key(Map<String, String> states, String state) {
    return states.entrySet().stream().filter(e -> e.getValue().equals(state)).map(Map.Entry::getKey)
        .findFirst().orElseThrow();
  }
}
