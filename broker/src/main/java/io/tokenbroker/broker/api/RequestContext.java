package io.tokenbroker.broker.api;

import io.grpc.Context;
import java.util.List;

/** What the interceptors learn about a call, for the services to read. */
final class RequestContext {
  /** Every {@code dpop} metadata value of the call (RFC 9449 §4.3 allows exactly one; the grant checks). */
  static final Context.Key<List<String>> DPOP_PROOFS = Context.key("tokenbroker-dpop-proofs");
  /** The full gRPC method name, which with the external URL forms the DPoP {@code htu}. */
  static final Context.Key<String> FULL_METHOD = Context.key("tokenbroker-full-method");
  /** The caller's {@code user-agent} metadata, cut to 256 characters, or null. */
  static final Context.Key<String> USER_AGENT = Context.key("tokenbroker-user-agent");
  /**
   * The TLS client certificate chain as presented (leaf first; empty without mutual TLS). NOT verified: the TLS
   * layer accepts any certificate; whoever relies on it must check it.
   */
  static final Context.Key<java.util.List<java.security.cert.X509Certificate>> CLIENT_CERTIFICATES =
      Context.key("tokenbroker-client-certificates");
  /** The {@code authorization} metadata value (RFC 9449 §7.1 "DPoP &lt;token&gt;"), or null. */
  static final Context.Key<String> AUTHORIZATION = Context.key("tokenbroker-authorization");
  /** The authenticated operator's name, for audit events. */
  static final Context.Key<String> OPERATOR = Context.key("tokenbroker-operator");

  private RequestContext() {}
}
