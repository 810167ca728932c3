package io.tokenbroker.agent.local;

import com.google.protobuf.Any;
import com.google.protobuf.DescriptorProtos.EnumValueOptions;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.tokenbroker.proto.v1.ErrorReason;
import io.tokenbroker.proto.v1.ErrorReasonProto;

/** Errors of the local API in the broker's model (AIP-193 ErrorInfo; code and RFC error from the proto options). */
final class LocalErrors {
  private final String domain;

  LocalErrors(String domain) {
    this.domain = domain;
  }

  StatusRuntimeException of(ErrorReason reason, String description) {
    EnumValueOptions options = reason.getValueDescriptor().getOptions();
    String rfcCode = options.getExtension(ErrorReasonProto.oauthError);
    com.google.rpc.Code code = options.getExtension(ErrorReasonProto.grpcCode);
    ErrorInfo info = ErrorInfo.newBuilder()
        .setReason(reason.name().substring("ERROR_REASON_".length()))
        .setDomain(domain)
        .putMetadata("error", rfcCode)
        .putMetadata("error_description", description)
        .build();
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber()).setMessage(rfcCode + ": " + description).addDetails(Any.pack(info)).build());
  }
}
