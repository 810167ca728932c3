package io.tokenbroker.broker.api;

import com.google.protobuf.ByteString;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.broker.devicecert.DeviceCertificateIssuance;
import io.tokenbroker.broker.oauth.OAuthError;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.proto.v1.CertificateServiceGrpc;
import io.tokenbroker.proto.v1.GetDeviceCaCertificatesRequest;
import io.tokenbroker.proto.v1.GetDeviceCaCertificatesResponse;
import io.tokenbroker.proto.v1.IssueDeviceCertificateRequest;
import io.tokenbroker.proto.v1.IssueDeviceCertificateResponse;
import io.tokenbroker.proto.v1.RenewDeviceCertificateRequest;
import io.tokenbroker.proto.v1.RenewDeviceCertificateResponse;
import java.net.URI;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;

/** gRPC adapter for device certificates (RFC 8705 §2.1): issue, renew, and publish the device CA. */
public final class CertificateServiceImpl extends CertificateServiceGrpc.CertificateServiceImplBase {
  private final DeviceCertificateIssuance issuance;
  private final URI externalUrl;
  private final GrpcErrors errors;

  public CertificateServiceImpl(DeviceCertificateIssuance issuance, URI externalUrl, GrpcErrors errors) {
    this.issuance = issuance;
    this.externalUrl = externalUrl;
    this.errors = errors;
  }

  private String htu() {
    String base = externalUrl.toString();
    return (base.endsWith("/") ? base : base + "/") + RequestContext.FULL_METHOD.get();
  }

  @Override
  public void issueDeviceCertificate(IssueDeviceCertificateRequest request,
      StreamObserver<IssueDeviceCertificateResponse> observer) {
    Unary.run(observer, errors, () -> {
      DeviceCertificateIssuance.Issued issued = issuance.issue(RequestContext.AUTHORIZATION.get(),
          RequestContext.DPOP_PROOFS.get(), htu(), request.getCsrDer().toByteArray());
      return IssueDeviceCertificateResponse.newBuilder().addCertificateChain(der(issued.certificate()))
          .setSerialNumber(issued.serial()).setNotBefore(Protos.timestamp(issued.notBefore()))
          .setNotAfter(Protos.timestamp(issued.notAfter())).setRenewAfter(Protos.timestamp(issued.renewAfter()))
          .build();
    });
  }

  @Override
  public void renewDeviceCertificate(RenewDeviceCertificateRequest request,
      StreamObserver<RenewDeviceCertificateResponse> observer) {
    Unary.run(observer, errors, () -> {
      DeviceCertificateIssuance.Issued issued = issuance.renew(RequestContext.CLIENT_CERTIFICATES.get(),
          request.getCsrDer().toByteArray());
      return RenewDeviceCertificateResponse.newBuilder().addCertificateChain(der(issued.certificate()))
          .setSerialNumber(issued.serial()).setNotBefore(Protos.timestamp(issued.notBefore()))
          .setNotAfter(Protos.timestamp(issued.notAfter())).setRenewAfter(Protos.timestamp(issued.renewAfter()))
          .build();
    });
  }

  @Override
  public void getDeviceCaCertificates(GetDeviceCaCertificatesRequest request,
      StreamObserver<GetDeviceCaCertificatesResponse> observer) {
    Unary.run(observer, errors, () -> {
      GetDeviceCaCertificatesResponse.Builder b = GetDeviceCaCertificatesResponse.newBuilder();
      issuance.caCertificates().forEach(c -> b.addCaCertificates(der(c)));
      return b.build();
    });
  }

  private static ByteString der(X509Certificate certificate) {
    try {
      return ByteString.copyFrom(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new OAuthException(OAuthError.SERVER_ERROR, "cannot encode the certificate");
    }
  }
}
