package io.tokenbroker.broker.api;

import io.grpc.Context;
import java.security.cert.X509Certificate;

/** What the interceptors learn about a call, for the services to read. */
final class RequestContext {
  /** The single {@code dpop} metadata value, or null. */
  static final Context.Key<String> DPOP_PROOF = Context.key("tokenbroker-dpop-proof");
  /** The full gRPC method name, which with the external URL forms the DPoP {@code htu}. */
  static final Context.Key<String> FULL_METHOD = Context.key("tokenbroker-full-method");
  /** The verified TLS client certificate, or null. */
  static final Context.Key<X509Certificate> PEER_CERTIFICATE = Context.key("tokenbroker-peer-certificate");
  /** The authenticated operator's name, for audit events. */
  static final Context.Key<String> OPERATOR = Context.key("tokenbroker-operator");

  private RequestContext() {}
}
