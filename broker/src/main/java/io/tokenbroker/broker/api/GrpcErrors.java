package io.tokenbroker.broker.api;

import com.google.protobuf.Any;
import com.google.protobuf.DescriptorProtos.EnumValueOptions;
import com.google.rpc.ErrorInfo;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.tokenbroker.broker.keys.KeyOperationException;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.store.StoreException;
import io.tokenbroker.broker.store.StoreOverloadedException;
import io.tokenbroker.proto.v1.ErrorReason;
import io.tokenbroker.proto.v1.ErrorReasonProto;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where failures become gRPC statuses (AIP-193): the status code and the RFC error code come
 * from the {@code ErrorReason} options in the proto; {@code ErrorInfo.reason} is the reason in upper snake
 * case, {@code metadata["error"]} the exact RFC code, {@code domain} the broker's issuer. Never a stack trace
 * or a secret: unexpected failures are logged by class and answered with a generic sentence.
 */
public final class GrpcErrors {
  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);
  /** RFC 9449 §8: the server-chosen nonce travels in this metadata key. */
  public static final Metadata.Key<String> DPOP_NONCE = Metadata.Key.of("dpop-nonce", Metadata.ASCII_STRING_MARSHALLER);

  private final String domain;
  private final Supplier<String> freshNonce;
  private final Consumer<OAuthException> refusals;

  /** @param freshNonce issues a DPoP nonce for {@code use_dpop_nonce} answers; null when nonces are off */
  public GrpcErrors(String domain, Supplier<String> freshNonce) {
    this(domain, freshNonce, refusal -> {});
  }

  /** @param refusals hears every refusal a unary call answers with (monitoring: DPoP rejections by reason) */
  public GrpcErrors(String domain, Supplier<String> freshNonce, Consumer<OAuthException> refusals) {
    this.domain = domain;
    this.freshNonce = freshNonce;
    this.refusals = refusals;
  }

  /** Passes a refusal on to the listener given at construction, once per failed call. */
  void recordRefusal(Throwable failure) {
    if (failure instanceof OAuthException oauth) {
      try {
        refusals.accept(oauth);
      } catch (RuntimeException e) {
        // Monitoring never changes an answer.
        log.warn("recording a refusal failed: {}", e.getClass().getName());
      }
    }
  }

  /**
   * The broker error a failure is answered with: its own for a refusal, {@code temporarily_unavailable} when
   * the HSM or the database failed, {@code server_error} for anything else.
   */
  public static OAuthError classify(Throwable failure) {
    if (failure instanceof OAuthException oauth) {
      return oauth.error();
    }
    if (failure instanceof KeyOperationException || failure instanceof StoreException) {
      return OAuthError.TEMPORARILY_UNAVAILABLE;
    }
    return OAuthError.SERVER_ERROR;
  }

  /** The exact RFC error code of a broker error, e.g. {@code invalid_grant} (from the proto options). */
  public static String rfcCode(OAuthError error) {
    return reasonOf(error).getValueDescriptor().getOptions().getExtension(ErrorReasonProto.oauthError);
  }

  public StatusRuntimeException toStatus(Throwable failure) {
    if (failure instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (failure instanceof OAuthException oauth) {
      return toStatus(oauth.error(), oauth.description());
    }
    if (failure instanceof KeyOperationException) {
      log.error("HSM operation failed: {}", failure.getMessage());
      return toStatus(OAuthError.TEMPORARILY_UNAVAILABLE, "the signing service is temporarily unavailable");
    }
    if (failure instanceof StoreOverloadedException) {
      // Not an error of the broker, and one log line per refused request would add to the overload.
      log.debug("refused: {}", failure.getMessage());
      return toStatus(OAuthError.TEMPORARILY_UNAVAILABLE, failure.getMessage());
    }
    if (failure instanceof StoreException) {
      log.error("database operation failed: {}", failure.getClass().getSimpleName());
      return toStatus(OAuthError.TEMPORARILY_UNAVAILABLE, "the broker's database is temporarily unavailable");
    }
    log.error("unexpected failure: {}", failure.getClass().getName());
    return toStatus(OAuthError.SERVER_ERROR, "internal error");
  }

  public StatusRuntimeException toStatus(OAuthError error, String description) {
    ErrorReason reason = reasonOf(error);
    EnumValueOptions options = reason.getValueDescriptor().getOptions();
    String rfcCode = options.getExtension(ErrorReasonProto.oauthError);
    com.google.rpc.Code code = options.getExtension(ErrorReasonProto.grpcCode);
    ErrorInfo info = ErrorInfo.newBuilder()
        .setReason(error.name())
        .setDomain(domain)
        .putMetadata("error", rfcCode)
        .putMetadata("error_description", description)
        .build();
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(rfcCode + ": " + description)
        .addDetails(Any.pack(info))
        .build();
    Metadata trailers = new Metadata();
    if (error == OAuthError.USE_DPOP_NONCE && freshNonce != null) {
      trailers.put(DPOP_NONCE, freshNonce.get());
    }
    return StatusProto.toStatusRuntimeException(status, trailers);
  }

  /** The proto reason of a broker error; every {@link OAuthError} has one (a test checks). */
  public static ErrorReason reasonOf(OAuthError error) {
    return ErrorReason.valueOf("ERROR_REASON_" + error.name());
  }
}
