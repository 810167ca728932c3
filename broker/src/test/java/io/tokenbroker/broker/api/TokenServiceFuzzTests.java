package io.tokenbroker.broker.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.broker.testing.TestDevice;
import io.tokenbroker.proto.v1.TokenRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;

/**
 * The token endpoint's request handling, fed token requests decoded from arbitrary bytes (each with a valid
 * DPoP proof, so the fuzzer gets past proof validation, which {@code DpopProofFuzzTests} covers). Every request
 * it can build is refused with a proper OAuth error (a gRPC status carrying {@code ErrorInfo}, never INTERNAL or
 * UNKNOWN) and changes no grant state. Real SoftHSM2 token and H2 file, in-process gRPC.
 */
@SoftHsmTest
class TokenServiceFuzzTests {
  private static final MutableClock CLOCK = new MutableClock(Instant.now());
  private static final TestDevice DEVICE = new TestDevice();
  private static InProcessBroker broker;
  private static Map<String, List<String>> initialState;

  TokenServiceFuzzTests(SoftHsm hsm) throws Exception {
    synchronized (TokenServiceFuzzTests.class) {
      if (broker == null) {
        // One broker for the whole run: starting one per input would measure start-up, not the handlers.
        broker = InProcessBroker.start(hsm, Files.createTempDirectory("token-fuzz"), CLOCK, "");
        Client draft = ClientRegistry.draft(InProcessBroker.CLIENT, "Demo", Set.of("telemetry:write"),
            Set.of("https://api.example.test"), BindingPolicy.DPOP);
        broker.application().clientRegistry().create(new Client(draft.clientId(), draft.displayName(),
            draft.allowedScopes(), draft.allowedAudiences(), draft.bindingPolicy(), Duration.ofMinutes(5),
            Duration.ofDays(14), Duration.ofDays(90), Duration.ofSeconds(60), null), "test");
        initialState = broker.grantState();
      }
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (broker != null) {
      broker.close();
    }
  }

  @FuzzTest
  void tokenRequestsFromArbitraryBytesAreRefusedCleanly(byte[] input) {
    TokenRequest request;
    try {
      request = TokenRequest.parseFrom(input);
    } catch (InvalidProtocolBufferException e) {
      return; // gRPC would refuse these bytes before any handler runs
    }
    String proof = DEVICE.proof(InProcessBroker.tokenHtu(), CLOCK.instant(), h -> h, c -> c);
    StatusRuntimeException refused;
    try {
      broker.token(proof).token(request);
      throw new AssertionError("a token was issued for a request made of fuzzed bytes");
    } catch (StatusRuntimeException e) {
      refused = e;
    }
    assertThat(refused.getStatus().getCode()).isNotIn(Status.Code.INTERNAL, Status.Code.UNKNOWN);
    com.google.rpc.Status details = StatusProto.fromThrowable(refused);
    assertThat(details).as("an AIP-193 status").isNotNull();
    assertThat(details.getDetailsList()).anyMatch(d -> d.is(ErrorInfo.class));
    assertThat(broker.grantState()).as("a refused request changes no grant state").isEqualTo(initialState);
  }
}
