package io.tokenbroker.broker.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The broker's interceptor, in a fixed order: (1) the {@code dpop} metadata values (bounded in size by the
 * transport's metadata limit; the grant validates them), (2) the TLS peer certificate, (3) authorization by {@link AccessPolicy} (default deny, operator calls need an operator
 * certificate). What it learns goes into {@link RequestContext}. It runs right after {@link RequestIdInterceptor},
 * so its refusals carry the request id.
 */
public final class CallGuardInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);

  private final ClientCertificateAuthenticator operators;
  private final GrpcErrors errors;

  public CallGuardInterceptor(ClientCertificateAuthenticator operators, GrpcErrors errors) {
    this.operators = operators;
    this.errors = errors;
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call, Metadata headers,
      ServerCallHandler<ReqT, RespT> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    try {
      List<String> proofs = proofs(headers);
      List<X509Certificate> chain = peerChain(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
      Context context = Context.current()
          .withValue(RequestContext.FULL_METHOD, method)
          .withValue(RequestContext.DPOP_PROOFS, proofs)
          .withValue(RequestContext.USER_AGENT, userAgent(headers))
          .withValue(RequestContext.CLIENT_CERTIFICATES, chain)
          .withValue(RequestContext.AUTHORIZATION, headers.get(AUTHORIZATION));
      AccessPolicy.Caller caller = AccessPolicy.lookup(method).orElse(null);
      if (caller == null) {
        return refuse(call, io.grpc.Status.PERMISSION_DENIED.withDescription("method not allowed"));
      }
      if (caller != AccessPolicy.Caller.PUBLIC) {
        if (chain.isEmpty()) {
          return refuse(call, io.grpc.Status.UNAUTHENTICATED
              .withDescription("this API requires mutual TLS with an operator or backend certificate"));
        }
        // The TLS layer accepts any client certificate (device certificates may be self-signed, RFC 8705 §2.2),
        // so the role rests on this explicit PKIX check against the home CA alone.
        Optional<ClientCertificateAuthenticator.Identity> identity = operators.authenticate(chain);
        if (identity.isEmpty()) {
          return refuse(call, io.grpc.Status.UNAUTHENTICATED
              .withDescription("the client certificate is not an operator or backend certificate of this broker"));
        }
        boolean allowed = identity.get().role() == ClientCertificateAuthenticator.Role.OPERATOR
            || caller == AccessPolicy.Caller.BACKEND;
        if (!allowed) {
          return refuse(call, io.grpc.Status.PERMISSION_DENIED.withDescription(caller == AccessPolicy.Caller.OPERATOR
              ? "the client certificate is not an operator certificate"
              : "the client certificate is not a backend or operator certificate"));
        }
        context = context.withValue(RequestContext.OPERATOR, identity.get().name());
      }
      return Contexts.interceptCall(context, call, headers, next);
    } catch (RuntimeException e) {
      return refuse(call, errors.toStatus(e).getStatus(), errors.toStatus(e).getTrailers());
    }
  }

  private static final Metadata.Key<String> USER_AGENT =
      Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);

  private static String userAgent(Metadata headers) {
    String ua = headers.get(USER_AGENT);
    if (ua == null || ua.isBlank()) {
      return null;
    }
    String printable = ua.replaceAll("[^\\x20-\\x7E]", "?");
    return printable.length() > 256 ? printable.substring(0, 256) : printable;
  }

  private static List<String> proofs(Metadata headers) {
    Iterable<String> values = headers.getAll(DPOP);
    if (values == null) {
      return List.of();
    }
    List<String> all = new ArrayList<>();
    values.forEach(all::add);
    return List.copyOf(all);
  }

  private static List<X509Certificate> peerChain(SSLSession session) {
    if (session == null) {
      return List.of();
    }
    try {
      List<X509Certificate> chain = new ArrayList<>();
      for (Certificate c : session.getPeerCertificates()) {
        if (c instanceof X509Certificate x) {
          chain.add(x);
        }
      }
      return chain;
    } catch (SSLPeerUnverifiedException e) {
      return List.of();
    }
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, RespT> call, io.grpc.Status status) {
    return refuse(call, status, new Metadata());
  }

  private static <ReqT, RespT> ServerCall.Listener<ReqT> refuse(ServerCall<ReqT, RespT> call, io.grpc.Status status,
      Metadata trailers) {
    call.close(status, trailers == null ? new Metadata() : trailers);
    return new ServerCall.Listener<>() {};
  }
}
