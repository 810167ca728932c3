package io.tokenbroker.broker.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Durations;
import com.nimbusds.jwt.SignedJWT;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.ApproveDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.BindingPolicy;
import io.tokenbroker.proto.v1.Client;
import io.tokenbroker.proto.v1.CreateClientRequest;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.RefreshTokenGrant;
import io.tokenbroker.proto.v1.RevokeDeviceRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenResponse;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker keeps its promises across crashes. 50 devices refresh continuously (a fresh DPoP proof and a
 * rotation per call) while an operator revokes devices; the broker process is killed with SIGKILL at random
 * moments 30 times and restarted. After every kill, before the restart, the H2 file is opened and checked;
 * at the end every device's last received refresh token is used once more. Invariants:
 * <ul>
 *   <li>every refresh token a device received in a response still works (directly, or through the grace rule
 *       when the response to its successor was lost in the crash);
 *   <li>no refresh family ever has two live tokens;
 *   <li>every acknowledged revocation still holds;
 *   <li>the audit log has an entry for every acknowledged grant and revocation;
 *   <li>the database opens cleanly after each kill.
 * </ul>
 */
class BrokerCrashSoakIT {
  private static final int DEVICES = 50;
  private static final int KILLS = 30;
  private static final int WORKERS = 6;
  private static final String CLIENT = "soak-device";
  private static final String HTU = "https://localhost/" + TokenServiceGrpc.getTokenMethod().getFullMethodName();

  @TempDir Path tmp;
  private Path home;
  private BrokerProcess broker;
  private ManagedChannel devices;
  private ManagedChannel operator;

  /** One device: its DPoP key and the last refresh token it received in a response. */
  private static final class SoakDevice {
    final TestDevice key = new TestDevice();
    String deviceId;
    volatile String refreshToken;
    volatile boolean revocationAttempted;
  }

  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final Set<String> acknowledgedJtis = ConcurrentHashMap.newKeySet();
  private final Set<String> acknowledgedRevocations = ConcurrentHashMap.newKeySet();
  private final AtomicInteger grants = new AtomicInteger();
  private final AtomicInteger graceRecoveries = new AtomicInteger();

  @Test
  void sigkillsUnderRefreshLoadAndRevocationsLoseNothingThatWasAcknowledged() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    home = tmp.resolve("home");
    BrokerProcess.Result init = BrokerProcess.run("init", "--home", home.toString(), "--grpc-port", "0",
        "--https-port", "0");
    assertThat(init.exitCode()).as(init.stderr()).isZero();
    serve();
    AdminServiceGrpc.newBlockingStub(operator).withDeadlineAfter(10, TimeUnit.SECONDS).createClient(
        CreateClientRequest.newBuilder().setClient(Client.newBuilder().setClientId(CLIENT)
            .setDisplayName("Crash soak").addAllowedScopes("telemetry:write").addAllowedAudiences("https://api.test")
            .setBindingPolicy(BindingPolicy.BINDING_POLICY_DPOP)
            .setAccessTokenLifetime(Durations.fromSeconds(60))
            .setRefreshGraceWindow(Durations.fromSeconds(120))).build());
    List<SoakDevice> fleet = new ArrayList<>();
    for (int i = 0; i < DEVICES; i++) {
      fleet.add(enrol());
    }

    for (int kill = 1; kill <= KILLS; kill++) {
      AtomicBoolean running = new AtomicBoolean(true);
      ExecutorService load = Executors.newFixedThreadPool(WORKERS + 1);
      for (int w = 0; w < WORKERS; w++) {
        int worker = w;
        load.execute(() -> refreshLoop(fleet, worker, running));
      }
      if (kill % 3 == 0) {
        SoakDevice victim = fleet.get(random.nextInt(DEVICES));
        load.execute(() -> revoke(victim));
      }
      // SIGKILL at a random moment once the restarted broker is under load: grants and revocations are in flight.
      // Between 10 and 100 grants after the restart: early kills land in start-up traffic, later ones in steady load.
      int target = grants.get() + 10 + random.nextInt(91);
      for (int waited = 0; grants.get() < target && waited < 20_000; waited += 5) {
        Thread.sleep(5);
      }
      broker.kill();
      running.set(false);
      load.shutdown();
      assertThat(load.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      closeChannels();
      checkDatabase("after kill " + kill);
      serve();
    }

    int revokedRefused = 0;
    for (SoakDevice device : fleet) {
      try {
        refresh(device);
        if (acknowledgedRevocations.contains(device.deviceId)) {
          violations.add("revoked device " + device.deviceId + " still refreshed");
        }
      } catch (StatusRuntimeException e) {
        if (acknowledgedRevocations.contains(device.deviceId) || device.revocationAttempted) {
          revokedRefused++;
        } else {
          violations.add("device " + device.deviceId + " lost its last received refresh token: " + e.getStatus());
        }
      }
    }
    broker.stop();
    closeChannels();
    checkDatabase("at the end");

    System.out.printf("crash soak (seed %d): kills=%d grants=%d grace-recoveries=%d revocations=%d "
        + "revoked-refused=%d violations=%d%n", seed, KILLS, grants.get(), graceRecoveries.get(),
        acknowledgedRevocations.size(), revokedRefused, violations.size());
    assertThat(violations).isEmpty();
    assertThat(grants.get()).as("the load actually ran").isGreaterThan(KILLS * 10);
    assertThat(acknowledgedRevocations).as("revocations were acknowledged between kills").isNotEmpty();
  }

  private void serve() throws Exception {
    broker = BrokerProcess.serve(home); // C1 (BrokerProcess): 31 starts of a C2 JVM cost about 40 s more
    devices = BrokerClients.grpcChannel(home, broker.grpcPort());
    operator = BrokerClients.operatorChannel(home, broker.grpcPort());
  }

  private void closeChannels() throws InterruptedException {
    devices.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    operator.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private SoakDevice enrol() {
    SoakDevice device = new SoakDevice();
    StartDeviceAuthorizationResponse started = DeviceAuthorizationServiceGrpc.newBlockingStub(devices)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId(CLIENT).build());
    AdminServiceGrpc.newBlockingStub(operator).withDeadlineAfter(10, TimeUnit.SECONDS).approveDeviceAuthorization(
        ApproveDeviceAuthorizationRequest.newBuilder().setUserCode(started.getUserCode()).setOwner("soak").build());
    TokenResponse tokens = token(device, TokenRequest.newBuilder()
        .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())));
    device.deviceId = tokens.getDeviceId();
    acknowledge(device, tokens);
    return device;
  }

  private void refreshLoop(List<SoakDevice> fleet, int worker, AtomicBoolean running) {
    while (running.get()) {
      for (int i = worker; i < fleet.size() && running.get(); i += WORKERS) {
        SoakDevice device = fleet.get(i);
        if (device.revocationAttempted) {
          continue;
        }
        try {
          refresh(device);
        } catch (StatusRuntimeException e) {
          String description = String.valueOf(e.getStatus().getDescription());
          if (description.contains("invalid_grant") && !device.revocationAttempted && running.get()) {
            violations.add("device " + device.deviceId + " refused with its last received token: " + description);
          }
          // UNAVAILABLE and the like: the broker is gone; the token the device holds stays the one to use.
        }
      }
    }
  }

  /** Refreshes with the last received token; on success that response is acknowledged to the device. */
  private void refresh(SoakDevice device) {
    String presented = device.refreshToken;
    TokenResponse tokens = token(device, TokenRequest.newBuilder()
        .setRefreshToken(RefreshTokenGrant.newBuilder().setRefreshToken(presented)));
    acknowledge(device, tokens);
  }

  private void acknowledge(SoakDevice device, TokenResponse tokens) {
    device.refreshToken = tokens.getRefreshToken();
    grants.incrementAndGet();
    try {
      acknowledgedJtis.add(SignedJWT.parse(tokens.getAccessToken()).getJWTClaimsSet().getJWTID());
    } catch (java.text.ParseException e) {
      violations.add("unparseable access token for " + device.deviceId);
    }
  }

  private TokenResponse token(SoakDevice device, TokenRequest.Builder request) {
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER), device.key.proof(HTU));
    return TokenServiceGrpc.newBlockingStub(devices).withDeadlineAfter(5, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .token(request.setClientId(CLIENT).build());
  }

  private void revoke(SoakDevice device) {
    device.revocationAttempted = true;
    try {
      AdminServiceGrpc.newBlockingStub(operator).withDeadlineAfter(5, TimeUnit.SECONDS).revokeDevice(
          RevokeDeviceRequest.newBuilder().setDeviceId(device.deviceId).setReason("crash soak").build());
      acknowledgedRevocations.add(device.deviceId);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.UNAVAILABLE && e.getStatus().getCode()
          != Status.Code.DEADLINE_EXCEEDED && e.getStatus().getCode() != Status.Code.CANCELLED) {
        violations.add("revocation of " + device.deviceId + " refused: " + e.getStatus());
      }
    }
  }

  /** Opens the H2 file the dead broker left (it must open cleanly) and checks the invariants in it. */
  private void checkDatabase(String when) throws Exception {
    String url = "jdbc:h2:file:" + home.resolve("data/broker");
    try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
      try (ResultSet rs = s.executeQuery("SELECT family_id, COUNT(*) FROM refresh_tokens WHERE status = 'ACTIVE' "
          + "GROUP BY family_id HAVING COUNT(*) > 1")) {
        while (rs.next()) {
          violations.add(when + ": family " + rs.getString(1) + " has " + rs.getInt(2) + " live refresh tokens");
        }
      }
      Set<String> revokedDevices = new HashSet<>();
      try (ResultSet rs = s.executeQuery("SELECT device_id FROM devices WHERE state = 'REVOKED'")) {
        while (rs.next()) {
          revokedDevices.add(rs.getString(1));
        }
      }
      for (String deviceId : acknowledgedRevocations) {
        if (!revokedDevices.contains(deviceId)) {
          violations.add(when + ": acknowledged revocation of " + deviceId + " is gone");
        }
      }
      int graceRetries = 0;
      Set<String> auditedJtis = new HashSet<>();
      Set<String> auditedRevocations = new HashSet<>();
      try (ResultSet rs = s.executeQuery("SELECT type, device_id, details FROM audit_events WHERE type IN "
          + "('tokens_issued', 'refresh_token_grace_retry', 'device_revoked')")) {
        while (rs.next()) {
          if (rs.getString(1).equals("device_revoked")) {
            auditedRevocations.add(rs.getString(2));
            continue;
          }
          if (rs.getString(1).equals("refresh_token_grace_retry")) {
            graceRetries++;
          }
          for (String line : rs.getString(3).split("\n")) {
            if (line.startsWith("jti=")) {
              auditedJtis.add(line.substring(4));
            }
          }
        }
      }
      graceRecoveries.set(graceRetries);
      long unaudited = acknowledgedJtis.stream().filter(jti -> !auditedJtis.contains(jti)).count();
      if (unaudited > 0) {
        violations.add(when + ": " + unaudited + " acknowledged grants have no audit entry");
      }
      for (String deviceId : acknowledgedRevocations) {
        if (!auditedRevocations.contains(deviceId)) {
          violations.add(when + ": acknowledged revocation of " + deviceId + " has no audit entry");
        }
      }
    }
  }
}
