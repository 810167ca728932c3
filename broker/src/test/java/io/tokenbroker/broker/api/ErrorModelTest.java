package io.tokenbroker.broker.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.tokenbroker.broker.keys.KeyOperationException;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.proto.v1.ErrorReason;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** AIP-193 errors built in one place from the proto's ErrorReason options. */
class ErrorModelTest {
  private final GrpcErrors errors = new GrpcErrors("https://broker.example", () -> "fresh-nonce");

  private static ErrorInfo info(StatusRuntimeException e) throws Exception {
    return StatusProto.fromThrowable(e).getDetails(0).unpack(ErrorInfo.class);
  }

  @ParameterizedTest
  @EnumSource(OAuthError.class)
  void everyBrokerErrorHasAProtoReasonWithAnRfcCodeAndAStatus(OAuthError error) throws Exception {
    StatusRuntimeException e = errors.toStatus(new OAuthException(error, "why"));
    ErrorInfo info = info(e);
    assertThat(info.getReason()).isEqualTo(error.name());
    assertThat(info.getDomain()).isEqualTo("https://broker.example");
    assertThat(info.getMetadataMap().get("error")).matches("[a-z_]+");
    assertThat(info.getMetadataMap()).containsEntry("error_description", "why");
    assertThat(e.getStatus().getCode()).isNotIn(Status.Code.OK, Status.Code.UNKNOWN);
  }

  @Test
  void everyProtoReasonIsABrokerErrorExceptUnspecifiedAndOnesOnlyOtherComponentsUse() {
    for (ErrorReason reason : ErrorReason.values()) {
      if (reason == ErrorReason.ERROR_REASON_UNSPECIFIED || reason == ErrorReason.UNRECOGNIZED) {
        continue;
      }
      String name = reason.name().substring("ERROR_REASON_".length());
      boolean known = Arrays.stream(OAuthError.values()).anyMatch(e -> e.name().equals(name));
      assertThat(known || name.equals("INVALID_CSR") || name.equals("INSUFFICIENT_SCOPE"))
          .as("ErrorReason %s has no broker error", name).isTrue();
    }
  }

  @Test
  void rfc8628ErrorsMapToTheDocumentedCodes() throws Exception {
    assertThat(errors.toStatus(OAuthError.AUTHORIZATION_PENDING, "x").getStatus().getCode())
        .isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(errors.toStatus(OAuthError.SLOW_DOWN, "x").getStatus().getCode())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(info(errors.toStatus(OAuthError.DEVICE_REVOKED, "x")).getMetadataMap())
        .containsEntry("error", "invalid_grant");
  }

  @Test
  void useDpopNonceCarriesAFreshNonceInTheTrailers() {
    StatusRuntimeException e = errors.toStatus(OAuthError.USE_DPOP_NONCE, "x");
    assertThat(e.getTrailers().get(GrpcErrors.DPOP_NONCE)).isEqualTo("fresh-nonce");
  }

  @Test
  void aFullGrantQueueIsUnavailableWithItsMessageSoClientsKnowToRetry() throws Exception {
    StatusRuntimeException e = errors.toStatus(new io.tokenbroker.broker.store.StoreOverloadedException(
        "the broker is overloaded: 1024 requests are already waiting for the database; retry after a short pause"));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(info(e).getReason()).isEqualTo("TEMPORARILY_UNAVAILABLE");
    assertThat(info(e).getMetadataMap()).containsEntry("error", "temporarily_unavailable");
    assertThat(info(e).getMetadataMap().get("error_description")).contains("overloaded").contains("retry");
  }

  @Test
  void unexpectedFailuresBecomeGenericErrorsWithoutTheirMessage() throws Exception {
    StatusRuntimeException e = errors.toStatus(new IllegalStateException("secret-detail refresh=abc"));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(e.toString()).doesNotContain("secret-detail");
    assertThat(info(e).getReason()).isEqualTo("SERVER_ERROR");
    StatusRuntimeException hsm = errors.toStatus(new KeyOperationException("CKR_DEVICE_ERROR"));
    assertThat(hsm.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(hsm.toString()).doesNotContain("CKR_DEVICE_ERROR");
  }
}
