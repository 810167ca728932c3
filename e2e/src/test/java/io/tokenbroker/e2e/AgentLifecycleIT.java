package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.nimbusds.jwt.SignedJWT;
import io.grpc.StatusRuntimeException;
import io.tokenbroker.agent.local.LocalApiClient;
import io.tokenbroker.proto.v1.CreateDpopProofRequest;
import io.tokenbroker.proto.v1.GetAccessTokenRequest;
import io.tokenbroker.proto.v1.GetAccessTokenResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's whole life against the packaged broker: login approved with the operator CLI, many refresh
 * cycles with short lifetimes, tokens and proofs through the CLI and the local socket, revocation noticed.
 * Both sides use their own SoftHSM2 token; gRPC runs over TLS on loopback.
 */
class AgentLifecycleIT {
  static final String AUDIENCE = "https://api.example.test";
  @TempDir Path tmp;

  @Test
  void enrolsRefreshesServesApplicationsAndStopsWhenRevoked() throws Exception {
    try (BrokerHome broker = BrokerHome.initAndServe(tmp.resolve("broker"))) {
      broker.admin("clients", "create", "--client-id", "e2e-thermostat", "--name", "E2E thermostat", "--scope",
          "telemetry:write", "--audience", AUDIENCE, "--access-token-lifetime", "PT30S");
      AgentHome agent = AgentHome.create(tmp.resolve("device"), broker, "e2e-thermostat", true);
      assertThat(agent.run("status").exitCode()).as("not enrolled yet").isEqualTo(10);

      agent.loginApprovedBy(broker);
      String deviceId;
      try (Proc run = agent.runDaemon(Map.of())) {
        // 30 s tokens refreshed at ~5% of their lifetime: a dozen rotations in well under a minute.
        run.awaitLines(AgentHome::isRefresh, 12, Duration.ofSeconds(120));

        Proc.Result token = agent.run("token", "--audience", AUDIENCE);
        assertThat(token.exitCode()).as(token.output()).isZero();
        String accessToken = token.output().lines().filter(l -> l.startsWith("eyJ")).findFirst().orElseThrow();
        var claims = SignedJWT.parse(accessToken).getJWTClaimsSet();
        deviceId = claims.getSubject();
        assertThat(claims.getAudience()).contains(AUDIENCE);

        Proc.Result proof = agent.run("proof", "--method", "POST", "--uri", AUDIENCE + "/telemetry.v1.Ingest/Push",
            "--with-token");
        assertThat(proof.exitCode()).as(proof.output()).isZero();
        List<String> lines = proof.output().lines().filter(l -> l.startsWith("eyJ")).toList();
        String proofJwt = lines.get(0);
        String withToken = lines.get(1);
        assertThat(Jwts.verifiedProofKey(proofJwt)).isEqualTo(Jwts.jkt(withToken));
        assertThat(SignedJWT.parse(proofJwt).getJWTClaimsSet().getStringClaim("ath")).isEqualTo(Jwts.ath(withToken));

        Proc.Result brokerProof = agent.run("proof", "--method", "POST", "--uri",
            "https://localhost/tokenbroker.v1.TokenService/Token", "--no-ath");
        assertThat(brokerProof.exitCode()).isNotZero();
        assertThat(brokerProof.output()).contains("broker");

        Proc.Result status = agent.run("status", "--json");
        assertThat(status.exitCode()).as(status.output()).isZero();
        assertThat(status.output()).contains("\"state\":\"ready\"", "\"device_state\":\"active\"",
            "\"daemon\":\"running\"", "\"device_id\":\"" + deviceId + "\"").doesNotContain(accessToken);

        // An application on the device, through the socket only.
        try (LocalApiClient app = LocalApiClient.connect(agent.socket()).orElseThrow()) {
          GetAccessTokenResponse t = app.stub().getAccessToken(
              GetAccessTokenRequest.newBuilder().setAudience(AUDIENCE).build());
          String p = app.stub().createDpopProof(CreateDpopProofRequest.newBuilder().setMethod("GET")
              .setUri(AUDIENCE + "/firmware").setAccessToken(t.getAccessToken()).build()).getProof();
          assertThat(Jwts.verifiedProofKey(p)).isEqualTo(Jwts.jkt(t.getAccessToken()));
          StatusRuntimeException wrongAudience = catchThrowableOfType(StatusRuntimeException.class,
              () -> app.stub().getAccessToken(GetAccessTokenRequest.newBuilder().setAudience("https://other").build()));
          assertThat(wrongAudience.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
        }

        // The example device application calls a DPoP-protected API with what the socket gives it.
        try (ProtectedApi api = new ProtectedApi(broker, AUDIENCE)) {
          Proc.Result app = api.runExampleApp(agent.socket());
          assertThat(app.exitCode()).as(app.output()).isZero();
          assertThat(app.output()).contains("HTTP 200 accepted");
          var bare = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create(api.url)).header("Authorization", "DPoP " + accessToken)
              .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString());
          assertThat(bare.statusCode()).as("the token alone, without a proof, is refused").isEqualTo(401);
        }

        byte[] stored = Files.readAllBytes(agent.stateFile());
        assertThat(Jwts.contains(stored, accessToken)).isFalse();
        assertThat(Jwts.contains(stored, accessToken.substring(0, 20))).isFalse();
        assertThat(Jwts.contains(stored, deviceId)).isFalse();

        long refreshes = run.countLines(AgentHome::isRefresh);
        String rss = Files.readAllLines(Path.of("/proc/" + run.pid() + "/status")).stream()
            .filter(l -> l.startsWith("VmRSS")).findFirst().orElse("VmRSS: unknown");
        System.out.println("device-agent after " + refreshes + " refresh cycles (-Xmx32m): " + rss.trim());

        // Suspension means "wait": no token for applications, status says why, no retry storm; resume recovers.
        broker.admin("devices", "suspend", deviceId, "--reason", "investigating");
        run.awaitLines(l -> l.contains("SUSPENDED"), 1, Duration.ofSeconds(60));
        Proc.Result suspended = agent.run("status", "--json");
        assertThat(suspended.exitCode()).as(suspended.output()).isEqualTo(11);
        assertThat(suspended.output()).contains("\"device_state\":\"suspended\"", "DEVICE_SUSPENDED");
        try (LocalApiClient app = LocalApiClient.connect(agent.socket()).orElseThrow()) {
          StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
              () -> app.stub().getAccessToken(GetAccessTokenRequest.getDefaultInstance()));
          assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
        }
        int before = (int) run.countLines(AgentHome::isRefresh);
        broker.admin("devices", "resume", deviceId, "--reason", "cleared");
        run.awaitLines(AgentHome::isRefresh, before + 1, Duration.ofSeconds(60));
        assertThat(agent.run("status").exitCode()).isZero();

        broker.admin("devices", "revoke", deviceId, "--reason", "stolen");
        assertThat(run.waitFor(Duration.ofSeconds(60))).as(run.output()).isEqualTo(9);
        assertThat(run.output()).contains("REVOKED").doesNotContain(accessToken);
      }
      Proc.Result status = agent.run("status");
      assertThat(status.exitCode()).isEqualTo(9);
      assertThat(status.output()).contains("revoked");
      Proc.Result again = agent.run("run");
      assertThat(again.exitCode()).as("a revoked device stops at once, without a new login").isEqualTo(9);
      assertThat(again.output()).doesNotContain("enter the code");
    }
  }
}
