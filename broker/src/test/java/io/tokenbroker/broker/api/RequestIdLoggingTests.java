package io.tokenbroker.broker.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.logging.LogFormat;
import io.tokenbroker.broker.testing.CapturedLog;
import io.tokenbroker.broker.testing.HttpsTestClient;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.DeviceCodeGrant;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.TokenRequest;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request ids as an operator uses them, over real TLS on loopback with a real SoftHSM2 token and H2: the id a
 * caller sends (or a fresh one) comes back in the response and is on every log line the call writes, in the
 * broker's real JSON and text output, including audit lines written by the group-commit thread.
 */
@SoftHsmTest
class RequestIdLoggingTests {
  private static final Metadata.Key<String> REQUEST_ID =
      Metadata.Key.of("x-request-id", Metadata.ASCII_STRING_MARSHALLER);

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;
  private ManagedChannel tls;

  RequestIdLoggingTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    broker = InProcessBroker.start(hsm, dir, clock, "");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "Demo",
        Set.of("telemetry:write"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    broker.application().ownerAccounts().create("alice", "correct horse battery".toCharArray(), "test");
    tls = broker.tlsChannel(InProcessBroker.Caller.ANONYMOUS);
  }

  @AfterEach
  void stop() throws Exception {
    tls.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    broker.close();
  }

  /** Response headers and trailers of one call, as the client saw them. */
  private record Seen(AtomicReference<Metadata> headers, AtomicReference<Metadata> trailers) {
    Seen() {
      this(new AtomicReference<>(), new AtomicReference<>());
    }

    String requestId() {
      Metadata h = headers.get();
      if (h != null && h.get(REQUEST_ID) != null) {
        return h.get(REQUEST_ID);
      }
      return trailers.get() == null ? null : trailers.get().get(REQUEST_ID);
    }
  }

  private StartDeviceAuthorizationResponse startAuthorization(String requestId, Seen seen) {
    Metadata md = new Metadata();
    if (requestId != null) {
      md.put(REQUEST_ID, requestId);
    }
    return DeviceAuthorizationServiceGrpc.newBlockingStub(tls).withDeadlineAfter(30, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md),
            MetadataUtils.newCaptureMetadataInterceptor(seen.headers(), seen.trailers()))
        .startDeviceAuthorization(StartDeviceAuthorizationRequest.newBuilder()
            .setClientId(InProcessBroker.CLIENT).build());
  }

  private static List<Map<String, Object>> brokerLines(List<String> lines) {
    return CapturedLog.parseJsonLines(lines).stream().filter(l -> {
      String logger = (String) l.get("loggerName");
      return logger.startsWith("io.tokenbroker.") || logger.startsWith("tokenbroker.");
    }).toList();
  }

  @Test
  void grpcCallWhenCallerSendsAnIdThenItComesBackAndIsOnEveryJsonLineOfTheCall() {
    try (CapturedLog log = CapturedLog.start(LogFormat.JSON)) {
      int mark = log.mark();
      Seen seen = new Seen();
      startAuthorization("device-42.boot-7", seen);
      List<String> lines = log.linesSince(mark);

      assertThat(seen.requestId()).isEqualTo("device-42.boot-7");
      List<Map<String, Object>> ours = brokerLines(lines);
      assertThat(ours).extracting(l -> l.get("formattedMessage")).contains(
          "audit device_authorization_started",
          "tokenbroker.v1.DeviceAuthorizationService/StartDeviceAuthorization OK");
      assertThat(ours).allSatisfy(l -> assertThat(l).containsEntry("mdc", Map.of("requestId", "device-42.boot-7")));
    }
  }

  @Test
  void grpcCallWhenNoOrAnUnsafeIdThenAFreshOneComesBackEvenOnARefusalAndTagsTheGroupCommitAuditLine() {
    StartDeviceAuthorizationResponse started = startAuthorization(null, new Seen());
    try (CapturedLog log = CapturedLog.start(LogFormat.JSON)) {
      int mark = log.mark();
      Seen seen = new Seen();
      Metadata md = new Metadata();
      md.put(REQUEST_ID, "not safe: {\"json\"}");
      // No DPoP proof: refused, and the refusal is audited in a transaction of the group-commit writer.
      StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () ->
          TokenServiceGrpc.newBlockingStub(tls).withDeadlineAfter(30, TimeUnit.SECONDS)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md),
                  MetadataUtils.newCaptureMetadataInterceptor(seen.headers(), seen.trailers()))
              .token(TokenRequest.newBuilder().setClientId(InProcessBroker.CLIENT)
                  .setDeviceCode(DeviceCodeGrant.newBuilder().setDeviceCode(started.getDeviceCode())).build()));
      List<String> lines = log.linesSince(mark);

      assertThat(refused.getStatus().getDescription()).startsWith("invalid_dpop_proof");
      String id = seen.requestId();
      assertThat(id).matches("[0-9a-z]{20}");
      List<Map<String, Object>> ours = brokerLines(lines);
      assertThat(ours).filteredOn(l -> "tokenbroker.audit".equals(l.get("loggerName"))).singleElement()
          .satisfies(audit -> assertThat(audit).containsEntry("formattedMessage", "audit dpop_proof_rejected")
              // written after the group commit by the request's own thread, still with its request id
              .hasEntrySatisfying("threadName", t -> assertThat((String) t).startsWith("grpc-call-")));
      assertThat(ours).hasSizeGreaterThanOrEqualTo(2)
          .allSatisfy(l -> assertThat(l).containsEntry("mdc", Map.of("requestId", id)));
      assertThat(String.join("\n", lines)).doesNotContain(started.getDeviceCode());
    }
  }

  @Test
  void grpcCallWhenTextFormatThenTheIdIsInBracketsOnEveryLine() {
    try (CapturedLog log = CapturedLog.start(LogFormat.TEXT)) {
      int mark = log.mark();
      startAuthorization("text-req-1", new Seen());
      List<String> lines = log.linesSince(mark);

      assertThat(lines).anySatisfy(l -> assertThat(l).contains(" audit [text-req-1] - audit "
          + "device_authorization_started type=\"device_authorization_started\" outcome=\"success\""));
      assertThat(lines).filteredOn(l -> l.contains(" RequestIdInterceptor ") || l.contains(" audit "))
          .hasSizeGreaterThanOrEqualTo(2).allSatisfy(l -> assertThat(l).contains("[text-req-1]"));
    }
  }

  @Test
  void httpsRequestWhenHeaderSentThenEchoedAndOnTheAuditLineOfAFailedSignIn() throws Exception {
    String userCode = startAuthorization(null, new Seen()).getUserCode();
    HttpsTestClient web = new HttpsTestClient(dir.resolve("tls/ca.crt"), broker.webOrigin());
    HttpResponse<String> page = web.get("/device");
    assertThat(page.headers().firstValue("x-request-id")).get().asString().matches("[0-9a-z]{20}");
    page = web.post("/device", HttpsTestClient.form("csrf_token", HttpsTestClient.csrf(page), "user_code", userCode));
    String csrf = HttpsTestClient.csrf(page);
    try (CapturedLog log = CapturedLog.start(LogFormat.JSON)) {
      int mark = log.mark();
      HttpResponse<String> wrong = web.post("/device/sign-in", HttpsTestClient.form("csrf_token", csrf,
          "user_code", userCode, "username", "alice", "password", "wrong-password-123"), "X-Request-Id", "web-77");
      List<String> lines = log.linesSinceOnceWritten(mark, "POST /device/sign-in 400");

      assertThat(wrong.statusCode()).isEqualTo(400);
      assertThat(wrong.headers().firstValue("x-request-id")).contains("web-77");
      List<Map<String, Object>> ours = brokerLines(lines);
      assertThat(ours).extracting(l -> l.get("formattedMessage"))
          .contains("audit owner_sign_in_failed", "POST /device/sign-in 400");
      assertThat(ours).allSatisfy(l -> assertThat(l).containsEntry("mdc", Map.of("requestId", "web-77")));
      assertThat(String.join("\n", lines)).doesNotContain("wrong-password-123").doesNotContain(userCode);
    }
  }
}
