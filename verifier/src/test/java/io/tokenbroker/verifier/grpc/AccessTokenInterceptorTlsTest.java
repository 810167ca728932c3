package io.tokenbroker.verifier.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.proto.v1.GetJwksRequest;
import io.tokenbroker.proto.v1.JwksServiceGrpc;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.mtls.CertificateThumbprint;
import io.tokenbroker.verifier.testing.FakeBroker;
import io.tokenbroker.verifier.testing.TestCertificates;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Certificate-bound tokens (RFC 8705 §3) through the interceptor over real TLS on loopback: the interceptor reads
 * the client certificate from the TLS session. (The broker issues such tokens once mTLS clients land; the
 * certificates here are made with Bouncy Castle.)
 */
class AccessTokenInterceptorTlsTest {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final TestCertificates.Issued serverCert = TestCertificates.selfSigned("localhost", BigInteger.ONE);
  private final TestCertificates.Issued deviceCert = TestCertificates.selfSigned("device-7", BigInteger.TWO);
  private final TestCertificates.Issued otherCert = TestCertificates.selfSigned("device-8", BigInteger.TEN);
  private FakeBroker broker;
  private TokenVerifier verifier;
  private Server server;

  private static KeyManagerFactory keys(TestCertificates.Issued issued) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("k", issued.keys().getPrivate(), "pw".toCharArray(), new Certificate[] {issued.certificate()});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, "pw".toCharArray());
    return kmf;
  }

  private static TrustManagerFactory trusting(Certificate... certs) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    for (int i = 0; i < certs.length; i++) {
      ks.setCertificateEntry("c" + i, certs[i]);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    return tmf;
  }

  @BeforeEach
  void start() throws Exception {
    broker = new FakeBroker();
    verifier = broker.readyVerifier();
    TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder()
        .keyManager(keys(serverCert).getKeyManagers())
        .trustManager(trusting(deviceCert.certificate(), otherCert.certificate()).getTrustManagers())
        .clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL);
    AccessTokenInterceptor interceptor = AccessTokenInterceptor.builder(verifier, "https://localhost")
        .defaultScopes().build();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), tls.build())
        .addService(ServerInterceptors.intercept(new AccessTokenInterceptorTest.WhoAmI(), interceptor)).build().start();
  }

  @AfterEach
  void stop() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    verifier.close();
    broker.close();
  }

  private String call(TestCertificates.Issued clientCert, String token) throws Exception {
    TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder()
        .trustManager(trusting(serverCert.certificate()).getTrustManagers());
    if (clientCert != null) {
      tls.keyManager(keys(clientCert).getKeyManagers());
    }
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", server.getPort(), tls.build()).build();
    try {
      Metadata md = new Metadata();
      md.put(AUTHORIZATION, "Bearer " + token);
      return JwksServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
          .getJwks(GetJwksRequest.getDefaultInstance()).getJwksJson();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void callWithACertificateBoundTokenOverTheBoundCertificateIsAccepted() throws Exception {
    String token = broker.issuer().mtlsToken("device-7", CertificateThumbprint.x5tS256(deviceCert.certificate()),
        Instant.now());
    assertThat(call(deviceCert, token)).isEqualTo("device-7 demo-device");
  }

  @Test
  void callWithACertificateBoundTokenOverAnotherCertificateOrNoneIsRefused() throws Exception {
    String token = broker.issuer().mtlsToken("device-7", CertificateThumbprint.x5tS256(deviceCert.certificate()),
        Instant.now());
    StatusRuntimeException other = catchThrowableOfType(StatusRuntimeException.class, () -> call(otherCert, token));
    assertThat(other.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(other.getTrailers().get(AccessTokenInterceptor.WWW_AUTHENTICATE))
        .startsWith("Bearer error=\"invalid_token\"").contains("not the one");
    StatusRuntimeException none = catchThrowableOfType(StatusRuntimeException.class, () -> call(null, token));
    assertThat(none.getStatus().getDescription()).contains("no client certificate");
  }
}
