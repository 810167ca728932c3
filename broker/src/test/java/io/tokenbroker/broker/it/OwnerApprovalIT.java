package io.tokenbroker.broker.it;

import static io.tokenbroker.broker.testing.HttpsTestClient.csrf;
import static io.tokenbroker.broker.testing.HttpsTestClient.form;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.testing.HttpsTestClient;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The owner workflow against the packaged broker process: an operator creates an owner with
 * {@code broker admin owners create}, the owner approves a device on the HTTPS {@code /device} page, and the
 * operator's device list shows the device under that owner.
 */
// One broker home for the class ('init' and a JVM start per test cost more than the tests); the tests create
// owners of different names.
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OwnerApprovalIT {
  private static final String HTU = "https://localhost/" + TokenServiceGrpc.getTokenMethod().getFullMethodName();
  private static final String PASSWORD = "a long enough passphrase";

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

  private BrokerProcess.Result admin(Map<String, String> env, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("admin"));
    all.addAll(List.of(args));
    all.addAll(List.of("--home", home.toString(), "--target", "localhost:" + broker.grpcPort()));
    return BrokerProcess.run(env, all.toArray(String[]::new));
  }

  @Test
  void operatorCreatesOwnerWhoApprovesOnTheWebPageAndTheDeviceListShowsThem() throws Exception {
    BrokerProcess.Result created = admin(Map.of("OWNER_PASSWORD", PASSWORD), "owners", "create", "--username",
        "Alice@Example.org", "--password-env", "OWNER_PASSWORD");
    assertThat(created.exitCode()).as(created.stderr()).isZero();
    assertThat(created.stdout()).contains("created owner alice@example.org").doesNotContain(PASSWORD);

    StartDeviceAuthorizationResponse started = DeviceAuthorizationServiceGrpc.newBlockingStub(channel)
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder().setClientId("demo-device").build());
    HttpsTestClient web = new HttpsTestClient(home.resolve("tls/ca.crt"),
        URI.create("https://localhost:" + broker.httpsPort()));
    HttpResponse<String> page = web.get("/device?user_code=" + started.getUserCode());
    page = web.post("/device", form("csrf_token", csrf(page), "user_code", started.getUserCode()));
    page = web.post("/device/sign-in", form("csrf_token", csrf(page), "user_code", started.getUserCode(),
        "username", "alice@example.org", "password", PASSWORD));
    assertThat(page.body()).contains("Demo device");
    page = web.post("/device/decision", form("csrf_token", csrf(page), "user_code", started.getUserCode(),
        "decision", "approve"));
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("Device approved");

    Metadata md = new Metadata();
    md.put(Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER), new TestDevice().proof(HTU));
    String deviceId = TokenServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .token(TokenRequest.newBuilder().setClientId("demo-device")
            .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build()).getDeviceId();
    BrokerProcess.Result list = admin(Map.of(), "devices", "list", "--owner", "alice@example.org");
    assertThat(list.exitCode()).as(list.stderr()).isZero();
    assertThat(list.stdout()).contains(deviceId);
    assertThat(broker.output()).doesNotContain(PASSWORD).doesNotContain(started.getUserCode());
  }

  @Test
  void passwordComesFromAFileOrTheEnvironmentNeverFromArgvAndBadOnesAreRefused() throws Exception {
    Path file = tmp.resolve("password");
    Files.writeString(file, PASSWORD + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));

    BrokerProcess.Result fromFile = admin(Map.of(), "owners", "create", "--username", "bob", "--password-file",
        file.toString());
    BrokerProcess.Result again = admin(Map.of(), "owners", "create", "--username", "bob", "--password-file",
        file.toString());
    BrokerProcess.Result onArgv = admin(Map.of(), "owners", "create", "--username", "carol", "--password", PASSWORD);
    BrokerProcess.Result tooShort = admin(Map.of("PW", "short"), "owners", "create", "--username", "dave",
        "--password-env", "PW");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    BrokerProcess.Result readable = admin(Map.of(), "owners", "create", "--username", "erin", "--password-file",
        file.toString());

    assertThat(fromFile.exitCode()).as(fromFile.stderr()).isZero();
    assertThat(again.exitCode()).isEqualTo(5);
    assertThat(again.stderr()).contains("ALREADY_EXISTS");
    assertThat(onArgv.exitCode()).isEqualTo(2);
    assertThat(tooShort.exitCode()).isEqualTo(5);
    assertThat(tooShort.stderr()).contains("password must be 12-128 characters").doesNotContain("short\n");
    assertThat(readable.exitCode()).isNotZero();
    assertThat(readable.stderr()).contains("chmod 600");
    assertThat(broker.output()).doesNotContain(PASSWORD);
  }
}
