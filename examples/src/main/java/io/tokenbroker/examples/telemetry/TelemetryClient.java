package io.tokenbroker.examples.telemetry;

import io.grpc.Channel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.tokenbroker.examples.telemetry.v1.IngestTelemetryRequest;
import io.tokenbroker.examples.telemetry.v1.IngestTelemetryResponse;
import io.tokenbroker.examples.telemetry.v1.TelemetryServiceGrpc;
import java.util.concurrent.TimeUnit;

/**
 * Sends one measurement as a device does: {@code authorization: DPoP <token>} and the {@code dpop} proof made
 * for this call (RFC 9449 §7; the proof is single-use).
 */
public final class TelemetryClient {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);

  private final Channel channel;

  public TelemetryClient(Channel channel) {
    this.channel = channel;
  }

  /**
   * @throws io.grpc.StatusRuntimeException if the service refuses; its trailers carry {@code www-authenticate}
   */
  public IngestTelemetryResponse send(String accessToken, String proof, String metric, double value) {
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, "DPoP " + accessToken);
    md.put(DPOP, proof);
    return TelemetryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .ingestTelemetry(IngestTelemetryRequest.newBuilder().setMetric(metric).setValue(value).build());
  }
}
