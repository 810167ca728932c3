package io.tokenbroker.agent.broker;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;

/**
 * A failed broker call, read from its {@code google.rpc.ErrorInfo} (AIP-193): {@code reason} (e.g.
 * {@code DEVICE_SUSPENDED}), {@code metadata["error"]} (the RFC code) and the description. The broker never
 * puts a secret in these, so they may be shown and logged.
 */
public final class BrokerException extends AgentException {
  private static final long serialVersionUID = 1L;

  private final Status.Code code;
  private final String reason;
  private final String error;
  private final String description;

  private BrokerException(Status.Code code, String reason, String error, String description) {
    super(exitCodeOf(code, reason), describe(code, reason, error, description));
    this.code = code;
    this.reason = reason;
    this.error = error;
    this.description = description;
  }

  /** Reads a failed call. */
  public static BrokerException of(StatusRuntimeException e) {
    String reason = null;
    String error = null;
    String description = e.getStatus().getDescription();
    com.google.rpc.Status status = StatusProto.fromThrowable(e);
    if (status != null) {
      for (var any : status.getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          try {
            ErrorInfo info = any.unpack(ErrorInfo.class);
            reason = info.getReason();
            error = info.getMetadataOrDefault("error", null);
            description = info.getMetadataOrDefault("error_description", description);
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // Treated like a status without details.
          }
        }
      }
    }
    return new BrokerException(e.getStatus().getCode(), reason, error, description);
  }

  private static int exitCodeOf(Status.Code code, String reason) {
    if (reason == null) {
      return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED ? ExitCodes.UNREACHABLE
          : ExitCodes.REFUSED;
    }
    return switch (reason) {
      case "ACCESS_DENIED" -> ExitCodes.ACCESS_DENIED;
      case "EXPIRED_TOKEN" -> ExitCodes.EXPIRED;
      case "DEVICE_REVOKED" -> ExitCodes.REVOKED;
      case "DEVICE_SUSPENDED" -> ExitCodes.SUSPENDED;
      case "INVALID_GRANT", "INVALID_CLIENT" -> ExitCodes.LOGIN_REQUIRED;
      case "TEMPORARILY_UNAVAILABLE" -> ExitCodes.UNREACHABLE;
      default -> ExitCodes.REFUSED;
    };
  }

  private static String describe(Status.Code code, String reason, String error, String description) {
    if (reason == null) {
      return "broker call failed: " + code + (description == null ? "" : " (" + description + ")");
    }
    return "broker refused: " + reason + " (" + error + ")" + (description == null ? "" : ": " + description);
  }

  /** The ErrorInfo reason, e.g. {@code INVALID_GRANT}; null when the status carried none (transport failure). */
  public String reason() {
    return reason;
  }

  /** The RFC error code ({@code metadata["error"]}), or null. */
  public String error() {
    return error;
  }

  public Status.Code code() {
    return code;
  }

  public String description() {
    return description;
  }

  /** True when the broker did not answer with a decision, so the outcome of the request is unknown. */
  public boolean outcomeUnknown() {
    return reason == null;
  }

  /** True when trying again later may succeed without any change on the device. */
  public boolean retryable() {
    if (reason == null) {
      return code != Status.Code.UNIMPLEMENTED && code != Status.Code.UNAUTHENTICATED
          && code != Status.Code.PERMISSION_DENIED;
    }
    return switch (reason) {
      case "TEMPORARILY_UNAVAILABLE", "RATE_LIMITED", "SERVER_ERROR", "INVALID_DPOP_PROOF", "USE_DPOP_NONCE",
          "SLOW_DOWN" -> true;
      default -> false;
    };
  }
}
