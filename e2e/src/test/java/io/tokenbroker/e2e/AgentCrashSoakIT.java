package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.StatusRuntimeException;
import io.tokenbroker.agent.local.LocalApiClient;
import io.tokenbroker.proto.v1.AuditEvent;
import io.tokenbroker.proto.v1.CreateDpopProofRequest;
import io.tokenbroker.proto.v1.CreateDpopProofResponse;
import io.tokenbroker.proto.v1.Device;
import io.tokenbroker.proto.v1.DeviceState;
import io.tokenbroker.proto.v1.GetAccessTokenRequest;
import io.tokenbroker.proto.v1.ListAuditEventsResponse;
import io.tokenbroker.proto.v1.RefreshFamilyState;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power cuts at random moments of the device agent's life: one broker, one device with its own SoftHSM2 token,
 * logged in once, its daemon rotating the refresh token every 600 ms, SIGKILLed 30 times (after a random time of
 * its steady state, aimed at its next rotation, or during the refresh it makes at start, which after a cut is the
 * recovery itself) and started again. After each restart a backend guarded by the verifier library must accept
 * the token and proof the agent serves, for the same device and the same refresh family: no new login, and no
 * reuse detection at the broker (which would mean the agent presented a token it should have known was spent).
 */
class AgentCrashSoakIT {
  private static final int KILLS = 30;
  private static final String CLIENT = "e2e-soak";
  /** 2% of the broker's shortest access token lifetime (30 s), no jitter: the daemon rotates every 600 ms. */
  private static final Duration ROTATION_EVERY = Duration.ofMillis(600);
  private static final Duration STEP_TIMEOUT = Duration.ofSeconds(60);

  /** Where in the agent's life a kill lands. */
  private enum Moment {
    /** Just after the daemon started serving: inside its first refresh, the recovery from the last cut. */
    START_UP,
    /** A random time once it served a token. */
    STEADY,
    /** Around the start of its next scheduled rotation. */
    NEXT_ROTATION
  }

  @TempDir Path tmp;
  private final List<String> violations = new ArrayList<>();
  private final Set<String> tokenIds = new HashSet<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private String deviceId;
  private String familyId;
  private String jkt;

  @Test
  void sigkillsAtRandomMomentsNeverCostTheDeviceItsLogin() throws Exception {
    long seed = Long.getLong("agent.soak.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.println("agent crash soak: seed " + seed + " (replay with -Dagent.soak.seed=" + seed + ")");
    try (BrokerHome broker = BrokerHome.initAndServe(tmp.resolve("broker"));
        ProtectedApi api = new ProtectedApi(broker, AgentLifecycleIT.AUDIENCE)) {
      broker.admin("clients", "create", "--client-id", CLIENT, "--name", "E2E agent crash soak", "--scope",
          "telemetry:write", "--audience", AgentLifecycleIT.AUDIENCE, "--access-token-lifetime", "PT30S");
      AgentHome agent = AgentHome.create(tmp.resolve("device"), broker, CLIENT, true);
      agent.set("refresh.fraction", "0.02");
      agent.set("refresh.jitter", "0");
      agent.loginApprovedBy(broker);

      // A fifth of the kills during the start-up refresh, the rest split between steady state and rotations.
      List<Moment> plan = new ArrayList<>();
      for (int i = 0; i < KILLS; i++) {
        plan.add(i < KILLS / 5 ? Moment.START_UP : i % 2 == 0 ? Moment.STEADY : Moment.NEXT_ROTATION);
      }
      Collections.shuffle(plan, random);
      int kills = 0;
      int recoveries = 0;
      int unrecovered = 0;
      int midRotation = 0;
      long agentRefreshes = 0;
      long startUpNanos = 0;
      long soakStarted = System.nanoTime();
      Map<Moment, Integer> moments = new EnumMap<>(Moment.class);
      for (int i = 0; i < KILLS; i++) {
        Moment moment = plan.get(i);
        try (Proc run = agent.start(Map.of(), "run")) {
          long started = System.nanoTime();
          run.awaitLines(l -> l.startsWith("device-agent running:"), 1, STEP_TIMEOUT);
          startUpNanos += System.nanoTime() - started;
          if (moment == Moment.START_UP) {
            Thread.sleep(random.nextInt(300));
          } else {
            run.awaitLines(AgentHome::isRefresh, 1, STEP_TIMEOUT);
            servesAnAcceptedToken(agent, api, "after kill " + kills);
            recoveries += unrecovered;
            unrecovered = 0;
            if (moment == Moment.STEADY) {
              Thread.sleep(50 + random.nextInt(1450));
            } else {
              int seen = (int) run.countLines(AgentHome::isRefresh);
              run.awaitLines(AgentHome::isRefresh, seen + 1, STEP_TIMEOUT);
              Thread.sleep(ROTATION_EVERY.toMillis() - 20 + random.nextInt(100));
            }
          }
          if (!run.isAlive()) {
            violations.add("run " + i + " ended by itself:\n" + run.output());
            break;
          }
          int status = run.kill();
          kills++;
          unrecovered++;
          moments.merge(moment, 1, Integer::sum);
          assertThat(status).as("SIGKILL").isEqualTo(137);
          agentRefreshes += run.countLines(AgentHome::isRefresh);
          if (foundAJournalledRotation(run.output())) {
            midRotation++;
          }
          noticeLoginTrouble("run " + i, run.output());
        }
      }

      Duration soak = Duration.ofNanos(System.nanoTime() - soakStarted);
      assertThat(violations).as("seed " + seed).isEmpty();
      // The last restart: it recovers, serves, and stops cleanly.
      try (Proc last = agent.start(Map.of(), "run")) {
        last.awaitLines(AgentHome::isRefresh, 2, STEP_TIMEOUT);
        servesAnAcceptedToken(agent, api, "after the last kill");
        recoveries += unrecovered;
        // A JVM ended by SIGTERM exits 143 once its shutdown hooks ran (the daemon's hook stops the loop).
        assertThat(last.stop()).as(last.output()).isIn(0, 143);
        agentRefreshes += last.countLines(AgentHome::isRefresh);
        if (foundAJournalledRotation(last.output())) {
          midRotation++;
        }
        noticeLoginTrouble("the last run", last.output());
      }

      Device device = device(broker);
      List<AuditEvent> audit = audit(broker);
      long logins = count(audit, "tokens_issued", "device_code");
      long refreshed = count(audit, "tokens_issued", "refresh_token");
      long graceRecoveries = count(audit, "refresh_token_grace_retry", null);
      long reuse = count(audit, "refresh_token_reuse", null);
      int rotations = device.getRefreshFamilies(0).getGenerationCount() - 1;
      if (device.getState() != DeviceState.DEVICE_STATE_ACTIVE) {
        violations.add("the device is " + device.getState());
      }
      if (device.getRefreshFamiliesCount() != 1 || !device.getRefreshFamilies(0).getFamilyId().equals(familyId)
          || device.getRefreshFamilies(0).getState() != RefreshFamilyState.REFRESH_FAMILY_STATE_ACTIVE) {
        violations.add("the device's refresh families changed: " + device.getRefreshFamiliesList());
      }
      if (logins != 1) {
        violations.add(logins + " device-code grants for one login");
      }
      if (reuse != 0) {
        violations.add(reuse + " refresh token reuse detections");
      }
      if (refreshed + graceRecoveries != rotations) {
        violations.add("the family counts " + rotations + " rotations, the audit log " + refreshed + " + "
            + graceRecoveries + " grace retries");
      }

      System.out.printf("agent crash soak (seed %d): kills=%d rotations=%d grace-recoveries=%d recoveries=%d "
          + "violations=%d; kills at start-up=%d steady=%d next-rotation=%d, restarts mid-rotation=%d, "
          + "refreshes logged by the agent=%d (soak %d s, agent process start to socket %d ms on average)%n",
          seed, kills, rotations, graceRecoveries, recoveries, violations.size(),
          moments.getOrDefault(Moment.START_UP, 0), moments.getOrDefault(Moment.STEADY, 0),
          moments.getOrDefault(Moment.NEXT_ROTATION, 0), midRotation, agentRefreshes, soak.toSeconds(),
          startUpNanos / 1_000_000 / Math.max(1, kills));
      assertThat(violations).as("seed " + seed).isEmpty();
      assertThat(kills).isGreaterThanOrEqualTo(KILLS);
      assertThat(recoveries).as("every kill was followed by a recovery").isEqualTo(kills);
      assertThat(agentRefreshes).as("the agent rotated many times between kills").isGreaterThanOrEqualTo(KILLS);
      assertThat((long) rotations).as("every refresh the agent logged is a rotation at the broker")
          .isGreaterThanOrEqualTo(agentRefreshes);
    }
  }

  /**
   * Asks the running agent for a token and a proof through its socket, as a device application does, and has the
   * verifier-guarded backend accept them: a genuine, unexpired, unrevoked token of this device and family.
   */
  private void servesAnAcceptedToken(AgentHome agent, ProtectedApi api, String when) throws Exception {
    try (LocalApiClient app = LocalApiClient.connect(agent.socket()).orElseThrow()) {
      String token;
      CreateDpopProofResponse proof;
      try {
        token = app.stub().getAccessToken(GetAccessTokenRequest.newBuilder()
            .setAudience(AgentLifecycleIT.AUDIENCE).build()).getAccessToken();
        proof = app.stub().createDpopProof(CreateDpopProofRequest.newBuilder().setMethod("POST").setUri(api.url)
            .setAccessToken(token).build());
      } catch (StatusRuntimeException e) {
        throw new AssertionError(when + ": the agent serves no token: " + e.getStatus());
      }
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(api.url))
          .header("Authorization", "DPoP " + token).header("DPoP", proof.getProof())
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(when + ": the backend accepts the agent's token and proof")
          .isEqualTo(200);
      JWTClaimsSet claims = SignedJWT.parse(token).getJWTClaimsSet();
      if (deviceId == null) {
        deviceId = claims.getSubject();
        familyId = claims.getStringClaim("sid");
        jkt = proof.getJkt();
      }
      assertThat(response.body()).isEqualTo("accepted " + deviceId);
      if (!deviceId.equals(claims.getSubject()) || !familyId.equals(claims.getStringClaim("sid"))
          || !jkt.equals(proof.getJkt())) {
        violations.add(when + ": the token is for another device, family or key (a new login?)");
      }
      if (!tokenIds.add(claims.getJWTID())) {
        violations.add(when + ": the agent served a token it had served before a kill");
      }
    }
  }

  /** Whether the run started by retrying a rotation: the kill before it came between journal and new tokens. */
  private static boolean foundAJournalledRotation(String output) {
    int retry = output.indexOf("retrying the refresh token rotation");
    int refreshed = output.indexOf("tokens refreshed");
    return retry >= 0 && (refreshed < 0 || retry < refreshed);
  }

  private void noticeLoginTrouble(String which, String output) {
    if (output.contains("no longer accepted") || output.contains("INVALID_GRANT")
        || output.contains("device-agent login")) {
      violations.add(which + " asked for a new login:\n" + output);
    }
  }

  private Device device(BrokerHome broker) throws Exception {
    Device.Builder device = Device.newBuilder();
    JsonFormat.parser().merge(broker.admin("devices", "get", deviceId, "--json"), device);
    return device.build();
  }

  private List<AuditEvent> audit(BrokerHome broker) throws Exception {
    ListAuditEventsResponse.Builder events = ListAuditEventsResponse.newBuilder();
    JsonFormat.parser().merge(broker.admin("audit", "--device", deviceId, "--limit", "100000", "--json"), events);
    return events.getAuditEventsList();
  }

  /** Events of {@code type}, and of {@code grantType} when given. */
  private static long count(List<AuditEvent> audit, String type, String grantType) {
    return audit.stream().filter(e -> e.getType().equals(type))
        .filter(e -> grantType == null || grantType.equals(e.getDetailsMap().get("grant_type"))).count();
  }
}
