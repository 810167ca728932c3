package io.tokenbroker.broker.api;

import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.CertificateServiceGrpc;
import io.tokenbroker.proto.v1.DeviceAuthorizationServiceGrpc;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import io.tokenbroker.proto.v1.RevocationServiceGrpc;
import io.tokenbroker.proto.v1.TokenServiceGrpc;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who may call which RPC: one declarative table keyed by full method name, default deny. A test walks every
 * registered service and fails when a method has no entry.
 */
public final class AccessPolicy {
  /** The kinds of caller. */
  public enum Caller {
    /** Anyone who can reach the port: devices (they authenticate per call with DPoP) and health checks. */
    PUBLIC,
    /** Mutual TLS with a certificate from the operator CA. */
    OPERATOR,
    /** Backend services (resource servers): mutual TLS with a backend (or an operator) certificate. */
    BACKEND
  }

  private static final Map<String, Caller> TABLE = build();

  private AccessPolicy() {}

  private static Map<String, Caller> build() {
    Map<String, Caller> t = new HashMap<>();
    serviceMethods(t, DeviceAuthorizationServiceGrpc.getServiceDescriptor(), Caller.PUBLIC);
    serviceMethods(t, TokenServiceGrpc.getServiceDescriptor(), Caller.PUBLIC);
    serviceMethods(t, JwksServiceGrpc.getServiceDescriptor(), Caller.PUBLIC);
    serviceMethods(t, CertificateServiceGrpc.getServiceDescriptor(), Caller.PUBLIC);
    serviceMethods(t, RevocationServiceGrpc.getServiceDescriptor(), Caller.BACKEND);
    serviceMethods(t, AdminServiceGrpc.getServiceDescriptor(), Caller.OPERATOR);
    serviceMethods(t, HealthGrpc.getServiceDescriptor(), Caller.PUBLIC);
    serviceMethods(t, ServerReflectionGrpc.getServiceDescriptor(), Caller.PUBLIC);
    return Map.copyOf(t);
  }

  private static void serviceMethods(Map<String, Caller> t, io.grpc.ServiceDescriptor service, Caller caller) {
    service.getMethods().forEach(m -> t.put(m.getFullMethodName(), caller));
  }

  /** The caller kind allowed to call {@code fullMethodName}; empty means nobody. */
  public static Optional<Caller> lookup(String fullMethodName) {
    return Optional.ofNullable(TABLE.get(fullMethodName));
  }
}
