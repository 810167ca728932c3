package io.tokenbroker.broker.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.ListAuditEventsResponse;
import io.tokenbroker.proto.v1.ListDevicesResponse;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The fleet operator's CLI against a running broker process, as an operator uses it. */
// One broker home for the class ('init' and a JVM start per test cost more than the tests); the tests enrol
// devices of their own and look only at those.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FleetOperationsIT {
  private static final String HTU = "https://localhost/" + TokenServiceGrpc.getTokenMethod().getFullMethodName();

  @TempDir static Path tmp;
  private Path home;
  private BrokerProcess broker;
  private ManagedChannel channel;

  @BeforeAll
  void initAndServe() throws Exception {
    home = tmp.resolve("home");
    assertThat(BrokerProcess.run("init", "--home", home.toString(), "--grpc-port", "0", "--https-port", "0")
        .exitCode()).isZero();
    broker = BrokerProcess.serve(home);
    channel = BrokerClients.grpcChannel(home, broker.grpcPort());
  }

  @AfterAll
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    broker.close();
  }

  private BrokerProcess.Result admin(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("admin"));
    all.addAll(List.of(args));
    all.addAll(List.of("--home", home.toString(), "--target", "localhost:" + broker.grpcPort()));
    return BrokerProcess.run(all.toArray(String[]::new));
  }

  private String enrol(String owner) throws Exception {
    StartDeviceAuthorizationResponse started = DeviceAuthorizationServiceGrpc.newBlockingStub(channel)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId("demo-device").build());
    assertThat(admin("approve", started.getUserCode(), "--owner", owner).exitCode()).isZero();
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER), new TestDevice().proof(HTU));
    return TokenServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .token(TokenRequest.newBuilder().setClientId("demo-device")
            .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build()).getDeviceId();
  }

  @Test
  void operatorListsSuspendsResumesAndRevokesDevicesAndReadsTheAuditLog() throws Exception {
    String alice = enrol("alice");
    String bob = enrol("bob");

    BrokerProcess.Result table = admin("devices", "list");
    assertThat(table.exitCode()).as(table.stderr()).isZero();
    assertThat(table.stdout()).contains(alice).contains(bob).contains("ACTIVE").contains("jkt ");

    BrokerProcess.Result json = admin("devices", "list", "--owner", "alice", "--json");
    ListDevicesResponse.Builder parsed = ListDevicesResponse.newBuilder();
    JsonFormat.parser().merge(json.stdout(), parsed);
    assertThat(parsed.getDevicesList()).singleElement().satisfies(d -> assertThat(d.getDeviceId()).isEqualTo(alice));

    assertThat(admin("devices", "suspend", alice, "--reason", "investigating").stdout()).contains("SUSPENDED");
    assertThat(admin("devices", "list", "--state", "suspended").stdout()).contains(alice).doesNotContain(bob);
    assertThat(admin("devices", "resume", alice, "--reason", "cleared").stdout()).contains("ACTIVE");
    BrokerProcess.Result revoked = admin("devices", "revoke", alice, "--reason", "stolen", "--key-compromise");
    assertThat(revoked.stdout()).contains("REVOKED").contains("reason: stolen");
    assertThat(admin("devices", "resume", alice, "--reason", "oops").exitCode()).isEqualTo(5);

    BrokerProcess.Result audit = admin("audit", "--type", "device_revoked", "--json");
    ListAuditEventsResponse.Builder events = ListAuditEventsResponse.newBuilder();
    JsonFormat.parser().merge(audit.stdout(), events);
    assertThat(events.getAuditEventsList()).singleElement().satisfies(e -> {
      assertThat(e.getDeviceId()).isEqualTo(alice);
      assertThat(e.getDetailsMap()).containsEntry("reason", "stolen").containsEntry("revocation_reason",
          "KEY_COMPROMISE");
      assertThat(e.getActor()).contains("OU=operators");
    });

    BrokerProcess.Result recall = admin("clients", "revoke-devices", "demo-device", "--reason", "recall");
    assertThat(recall.stdout()).contains("revoked 1 device(s) of client demo-device");
    assertThat(admin("devices", "get", bob).stdout()).contains("REVOKED");
  }

  @Test
  void operatorRotatesKeysOfTheRunningBroker() throws Exception {
    BrokerProcess.Result before = admin("keys", "list");
    assertThat(before.stdout()).contains("ACTIVE").contains("NEXT");
    BrokerProcess.Result rotated = admin("keys", "rotate");
    assertThat(rotated.exitCode()).as(rotated.stderr()).isZero();
    assertThat(rotated.stdout()).contains("is now ACTIVE").contains("RETIRED");
    assertThat(admin("keys", "rotate", "--expected-active", "not-the-active-kid").stderr())
        .contains("STATE_CONFLICT");
  }

  @Test
  void exitCodesScriptsCanRelyOn() throws Exception {
    assertThat(admin("devices", "get", "no-such-device").exitCode()).isEqualTo(5);
    assertThat(admin("devices", "list", "--state", "sleeping").exitCode()).isEqualTo(2);
    List<String> args = List.of("admin", "devices", "list", "--home", home.toString(), "--target", "localhost:1");
    assertThat(BrokerProcess.run(args.toArray(String[]::new)).exitCode()).isEqualTo(6);
  }
}
