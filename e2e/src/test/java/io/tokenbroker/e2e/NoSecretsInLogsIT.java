package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.StatusRuntimeException;
import io.tokenbroker.agent.local.LocalApiClient;
import io.tokenbroker.proto.v1.CreateDpopProofRequest;
import io.tokenbroker.proto.v1.GetAccessTokenRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import io.tokenbroker.verifier.testing.DpopTestKey;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No secret in any text a person or a log collector sees. One run at DEBUG ({@code TOKENBROKER_LOG_LEVEL},
 * {@code DEVICE_AGENT_LOG_LEVEL}) of everything that handles secrets: the device flow (the agent's login and a
 * device of the test's own, both approved by the owner on the HTTPS page, after a wrong password and a forged
 * form), refresh rotations, a replayed and a forged DPoP proof, a revoked access token, a reused refresh token,
 * a revoked device, the agent's local API and its logout (that one with third-party loggers at DEBUG too). It
 * keeps every secret of the run (tokens, refresh tokens, device and user codes, proofs, both PINs, the owner's
 * password, session cookies and CSRF tokens) and every text (the output of the broker, the agent and every CLI
 * command, the refusals clients received, the verification page's error pages), then looks for each secret,
 * and each 16-character piece of one, in each text. It prints counts only, and no assertion prints a captured
 * text.
 */
class NoSecretsInLogsIT {
  private static final String CLIENT = "e2e-secrets";
  private static final String OWNER = "alice@example.org";
  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir Path tmp;
  private final IssuedSecrets secrets = new IssuedSecrets();
  private final Transcript transcript = new Transcript();

  @Test
  void noIssuedSecretAppearsInAnyLogErrorMessageOrErrorPage() throws Exception {
    String password = secrets.add("owner password", "pw " + random(18));
    Map<String, String> debug = Map.of("TOKENBROKER_LOG_LEVEL", "debug");
    try (BrokerHome broker = BrokerHome.initAndServe(tmp.resolve("broker"), debug)) {
      secrets.add("broker HSM PIN", Files.readString(broker.home.resolve("hsm/pin")).strip());
      broker.admin("clients", "create", "--client-id", CLIENT, "--name", "E2E secrets", "--scope",
          "telemetry:write", "--audience", AgentLifecycleIT.AUDIENCE, "--access-token-lifetime", "PT30S");
      broker.admin(Map.of("OWNER_PASSWORD", password), "owners", "create", "--username", OWNER, "--password-env",
          "OWNER_PASSWORD");
      OwnerBrowser owner = new OwnerBrowser(broker, secrets, transcript);

      String deviceId;
      try (RecordingDevice device = new RecordingDevice(broker, CLIENT, secrets, transcript)) {
        StartDeviceAuthorizationResponse started = device.start();
        String code = started.getUserCode();
        assertThat(device.refused("token before approval", () -> device.deviceCode(started.getDeviceCode())))
            .isEqualTo("AUTHORIZATION_PENDING");
        signInAndApprove(owner, code, password);

        // RFC 8628 §3.5: a client waits `interval` between polls; the approval can be quicker than that.
        Thread.sleep(TimeUnit.SECONDS.toMillis(started.getInterval().getSeconds()) + 250);
        TokenResponse issued = device.deviceCode(started.getDeviceCode());
        deviceId = issued.getDeviceId();
        assertThat(device.refused("device code used twice", () -> device.deviceCode(started.getDeviceCode())))
            .isEqualTo("INVALID_GRANT");
        assertRefreshFamilyAbuseIsRefused(device, issued);
      }
      broker.admin("devices", "revoke", deviceId, "--reason", "stolen");

      runAgentThroughItsLife(broker, owner);

      HttpResponse<String> signedOut = owner.post("/device/sign-out", null, "csrf_token", owner.csrf());
      assertThat(signedOut.statusCode()).isEqualTo(200);
      broker.admin("audit", "--limit", "500");
      broker.admin("devices", "list");
      broker.admin("devices", "get", deviceId);
      assertThat(broker.stop()).as("stopped by SIGTERM").isIn(0, 143);
      String serve = broker.serveOutput();
      transcript.add("broker serve", serve);
      broker.outputs.forEach(o -> transcript.add(o.command(), o.output()));

      // The debug level of the product was on and covered; gRPC's frame logger (headers!) was not.
      assertThat(serve.lines().filter(l -> l.matches(".* DEBUG Unary( \\[[^]]*\\])? - .*")).count()).isPositive();
      assertThat(transcript.entries().stream().filter(e -> e.text().contains("OUTBOUND HEADERS")
          || e.text().contains("INBOUND HEADERS")).map(Transcript.Entry::source)).as("HTTP/2 frame logs").isEmpty();
    }

    assertTheSearchFindsPlantedPieces();
    List<String> leaks = secrets.findLeaks(transcript);
    System.out.println("NoSecretsInLogsIT: " + transcript.lines() + " lines from " + transcript.entries().size()
        + " sources checked for " + secrets.size() + " secrets (" + secrets.pieces() + " distinct "
        + IssuedSecrets.PIECE + "-character pieces); " + leaks.size() + " found");
    assertThat(leaks).as("secrets in logs, error messages or error pages (source, line: kind)").isEmpty();
  }

  /**
   * The owner types the code in lower case without its dash (the page accepts it), gets a wrong code, a wrong
   * password and a forged form refused, then signs in and approves.
   */
  private void signInAndApprove(OwnerBrowser owner, String code, String password) throws Exception {
    String typed = code.replace("-", "").toLowerCase(Locale.ROOT);
    assertThat(owner.get("/device?user_code=" + typed, typed).statusCode()).isEqualTo(200);
    assertThat(owner.post("/device", "BBBB-BBBB", "csrf_token", owner.csrf(), "user_code", "BBBB-BBBB")
        .statusCode()).isEqualTo(400);
    assertShows(owner.post("/device", typed, "csrf_token", owner.csrf(), "user_code", typed).body(),
        "name=\"password\"");
    String wrong = secrets.add("wrong password attempt", password.substring(0, password.length() - 2) + "x!");
    assertThat(owner.post("/device/sign-in", code, "csrf_token", owner.csrf(), "user_code", code, "username", OWNER,
        "password", wrong).statusCode()).isEqualTo(400);
    assertThat(owner.post("/device/sign-in", code, "csrf_token", random(32), "user_code", code, "username", OWNER,
        "password", password).statusCode()).isEqualTo(403);
    assertShows(owner.post("/device/sign-in", code, "csrf_token", owner.csrf(), "user_code", code, "username", OWNER,
        "password", password).body(), "id=\"approve\"");
    approve(owner, code);
  }

  private static void approve(OwnerBrowser owner, String code) throws Exception {
    HttpResponse<String> approved = owner.post("/device/decision", code, "csrf_token", owner.csrf(), "user_code", code,
        "decision", "approve");
    assertThat(approved.statusCode()).isEqualTo(200);
    assertShows(approved.body(), "Device approved");
  }

  /** Rotations, a replayed and two wrong proofs, a revoked access token, then reuse of a rotated refresh token. */
  private static void assertRefreshFamilyAbuseIsRefused(RecordingDevice device, TokenResponse first) throws Exception {
    List<TokenResponse> family = new ArrayList<>(List.of(first));
    for (int i = 0; i < 3; i++) {
      family.add(device.refresh(family.get(family.size() - 1).getRefreshToken()));
    }
    String proof = device.proof(TokenServiceGrpc.getTokenMethod());
    family.add(device.refresh(family.get(family.size() - 1).getRefreshToken(), proof));
    String current = family.get(family.size() - 1).getRefreshToken();
    assertThat(device.refused("replayed DPoP proof", () -> device.refresh(current, proof)))
        .isEqualTo("INVALID_DPOP_PROOF");
    String fresh = device.proof(TokenServiceGrpc.getTokenMethod());
    String badSignature = fresh.substring(0, fresh.length() - 6) + (fresh.endsWith("AAAAAA") ? "BBBBBB" : "AAAAAA");
    assertThat(device.refused("DPoP proof with a bad signature", () -> device.refresh(current, badSignature)))
        .isEqualTo("INVALID_DPOP_PROOF");
    String otherKey = new DpopTestKey().proof("https://localhost/"
        + TokenServiceGrpc.getTokenMethod().getFullMethodName());
    device.sent(badSignature);
    device.sent(otherKey);
    device.refused("DPoP proof of another key", () -> device.refresh(current, otherKey));

    device.revoke(family.get(family.size() - 1).getAccessToken());
    assertThat(device.refused("rotated refresh token reused", () -> device.refresh(family.get(1).getRefreshToken())))
        .isEqualTo("INVALID_GRANT");
    assertThat(device.refused("refresh after reuse revoked the family", () -> device.refresh(current)))
        .isEqualTo("INVALID_GRANT");
  }

  /**
   * The agent with its own SoftHSM2 token: login approved on the page, refresh rotations, tokens and proofs for
   * an application on its socket (and a refused request), status, stop, logout.
   */
  private void runAgentThroughItsLife(BrokerHome broker, OwnerBrowser owner) throws Exception {
    AgentHome agent = AgentHome.create(tmp.resolve("device"), broker, CLIENT, true);
    agent.env.put("DEVICE_AGENT_LOG_LEVEL", "debug");
    secrets.add("device HSM PIN", agent.env.get("DEVICE_AGENT_PKCS11_PIN"));
    try (Proc login = agent.start(Map.of(), "login")) {
      Matcher m = AgentHome.USER_CODE.matcher(login.awaitLines(l -> AgentHome.USER_CODE.matcher(l).find(), 1, WAIT));
      assertThat(m.find()).isTrue();
      String code = secrets.addUserCode("user code", m.group(1));
      assertShows(owner.post("/device", code, "csrf_token", owner.csrf(), "user_code", code).body(),
          "id=\"approve\"");
      approve(owner, code);
      assertThat(login.waitFor(WAIT)).isZero();
      transcript.add("device-agent login", withoutCodeDisplay(login.output(), code));
    }
    try (Proc run = agent.runDaemon(Map.of())) {
      run.awaitLines(AgentHome::isRefresh, 3, WAIT);
      try (LocalApiClient app = LocalApiClient.connect(agent.socket()).orElseThrow()) {
        for (int i = 0; i < 2; i++) {
          String token = secrets.add("access token", app.stub().getAccessToken(GetAccessTokenRequest.newBuilder()
              .setAudience(AgentLifecycleIT.AUDIENCE).build()).getAccessToken());
          secrets.add("DPoP proof", app.stub().createDpopProof(CreateDpopProofRequest.newBuilder().setMethod("POST")
              .setUri(AgentLifecycleIT.AUDIENCE + "/telemetry").setAccessToken(token).build()).getProof());
        }
        try {
          app.stub().getAccessToken(GetAccessTokenRequest.newBuilder().setAudience("https://other.example").build());
          throw new AssertionError("a token for a foreign audience was handed out");
        } catch (StatusRuntimeException e) {
          transcript.add("local API error: foreign audience", RecordingDevice.describe(e));
        }
      }
      Proc.Result status = agent.run("status", "--json");
      assertThat(status.exitCode()).isZero();
      transcript.add("device-agent status --json", status.output());
      assertThat(run.stop()).as("stopped by SIGTERM").isIn(0, 143);
      transcript.add("device-agent run", run.output());
      assertShows(run.output(), " DEBUG io.tokenbroker.");
    }
    // An operator who turns on DEBUG for every logger still gets no frame log, which would print the proof that
    // logout sends (the agent's jar pins that logger); everything else at DEBUG is checked like the rest.
    try (Proc logout = agent.start(Map.of("DEVICE_AGENT_JAVA_OPTS",
        "-Xmx64m -Dorg.slf4j.simpleLogger.defaultLogLevel=debug"), "logout")) {
      assertThat(logout.waitFor(WAIT)).isZero();
      assertShows(logout.output(), "revoked at the broker");
      assertShows(logout.output(), " DEBUG io.grpc.netty.shaded.io.netty.");
      transcript.add("device-agent logout, global DEBUG", logout.output());
    }
  }

  /** {@code text} contains {@code expected}; a failure names what was expected, never the text. */
  private static void assertShows(String text, String expected) {
    assertThat(text.contains(expected)).as("expected to see '%s'", expected).isTrue();
  }

  /** The login's output without the two lines that exist to show the code to the person at the device. */
  private static String withoutCodeDisplay(String output, String code) {
    List<String> kept = output.lines().filter(l -> !l.equals("and enter the code: " + code)
        && !(l.startsWith("or open: https://") && l.endsWith("user_code=" + code))).toList();
    assertThat(output.lines().count() - kept.size()).as("the code is shown exactly twice").isEqualTo(2);
    return String.join("\n", kept);
  }

  /** The search itself can fail: a truncated refresh token and a user code in another form are found. */
  private void assertTheSearchFindsPlantedPieces() {
    IssuedSecrets probe = new IssuedSecrets();
    String refreshToken = probe.add("refresh token", random(32));
    probe.addUserCode("user code", "BCDF-GHJK");
    Transcript planted = new Transcript();
    planted.add("planted", "refresh=" + refreshToken.substring(7, 7 + IssuedSecrets.PIECE) + "...\ncode bcdfghjk");
    assertThat(probe.findLeaks(planted)).containsExactly("planted, line 1: refresh token #1",
        "planted, line 2: user code #1");
  }

  private static String random(int bytes) {
    byte[] b = new byte[bytes];
    new SecureRandom().nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }
}
