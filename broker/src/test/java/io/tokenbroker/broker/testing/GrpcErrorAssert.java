package io.tokenbroker.broker.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Assertions on the AIP-193 error model: status code, ErrorInfo reason and the RFC error code. */
public final class GrpcErrorAssert {
  private GrpcErrorAssert() {}

  public static ErrorInfo errorInfo(StatusRuntimeException e) {
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    assertThat(status).as("google.rpc.Status in %s", e).isNotNull();
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return detail.unpack(ErrorInfo.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
          throw new AssertionError(ex);
        }
      }
    }
    throw new AssertionError("no ErrorInfo in " + e);
  }

  /** Runs {@code call}, expects it to fail with {@code code}, reason and RFC code; returns the exception. */
  public static StatusRuntimeException assertOAuthError(ThrowingCallable call, Status.Code code, String reason,
      String rfcError) {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call);
    assertThat(e).as("expected %s / %s", code, reason).isNotNull();
    assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(code);
    ErrorInfo info = errorInfo(e);
    assertThat(info.getReason()).isEqualTo(reason);
    assertThat(info.getMetadataMap()).containsEntry("error", rfcError);
    assertThat(info.getDomain()).isEqualTo(InProcessBroker.ISSUER);
    return e;
  }
}
