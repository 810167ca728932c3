package io.tokenbroker.broker.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.CertificateServiceGrpc;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Default deny, made complete: every method the broker could serve has an entry. */
class AccessPolicyTest {
  @Test
  void everyMethodOfEveryServiceHasAnEntry() {
    List<io.grpc.ServiceDescriptor> services = List.of(
        DeviceAuthorizationServiceGrpc.getServiceDescriptor(), TokenServiceGrpc.getServiceDescriptor(),
        JwksServiceGrpc.getServiceDescriptor(), AdminServiceGrpc.getServiceDescriptor(),
        RevocationServiceGrpc.getServiceDescriptor(), CertificateServiceGrpc.getServiceDescriptor(),
        new HealthStatusManager().getHealthService().bindService().getServiceDescriptor(),
        ProtoReflectionServiceV1.newInstance().bindService().getServiceDescriptor());
    int methods = 0;
    for (io.grpc.ServiceDescriptor service : services) {
      for (io.grpc.MethodDescriptor<?, ?> m : service.getMethods()) {
        assertThat(AccessPolicy.lookup(m.getFullMethodName())).as(m.getFullMethodName()).isPresent();
        methods++;
      }
    }
    assertThat(methods).isGreaterThan(20);
  }

  @Test
  void operatorApiIsOperatorOnlyAndDeviceApiIsPublic() {
    AdminServiceGrpc.getServiceDescriptor().getMethods().forEach(m ->
        assertThat(AccessPolicy.lookup(m.getFullMethodName())).hasValue(AccessPolicy.Caller.OPERATOR));
    assertThat(AccessPolicy.lookup(TokenServiceGrpc.getTokenMethod().getFullMethodName()))
        .hasValue(AccessPolicy.Caller.PUBLIC);
  }

  @Test
  void unknownMethodsAreDenied() {
    assertThat(AccessPolicy.lookup("tokenbroker.v1.AdminService/DropDatabase")).isEmpty();
  }

}
