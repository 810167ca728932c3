package io.tokenbroker.examples.telemetry;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.tokenbroker.examples.telemetry.v1.IngestTelemetryRequest;
import io.tokenbroker.examples.telemetry.v1.IngestTelemetryResponse;
import io.tokenbroker.examples.telemetry.v1.TelemetryServiceGrpc;
import io.tokenbroker.verifier.VerifiedPrincipal;
import io.tokenbroker.verifier.grpc.AccessTokenInterceptor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * The example service's business logic: counts measurements per device, in memory. The device comes from the
 * verified principal the interceptor put in the Context, never from the request.
 */
final class TelemetryServiceImpl extends TelemetryServiceGrpc.TelemetryServiceImplBase {
  private static final Pattern METRIC = Pattern.compile("[a-z0-9_.]{1,64}");
  private static final int MAX_DEVICES = 100_000;

  private final AtomicLong records = new AtomicLong();
  private final Map<String, AtomicLong> perDevice = new ConcurrentHashMap<>();

  @Override
  public void ingestTelemetry(IngestTelemetryRequest request, StreamObserver<IngestTelemetryResponse> observer) {
    VerifiedPrincipal caller = AccessTokenInterceptor.currentPrincipal().orElse(null);
    if (caller == null) {
      // Only reachable if the service is wired without the interceptor: refuse rather than serve anonymously.
      observer.onError(Status.UNAUTHENTICATED.withDescription("no verified caller").asRuntimeException());
      return;
    }
    if (!METRIC.matcher(request.getMetric()).matches() || !Double.isFinite(request.getValue())) {
      observer.onError(Status.INVALID_ARGUMENT.withDescription("metric must be 1-64 characters of [a-z0-9_.] and "
          + "value a finite number").asRuntimeException());
      return;
    }
    if (perDevice.size() >= MAX_DEVICES && !perDevice.containsKey(caller.deviceId())) {
      observer.onError(Status.RESOURCE_EXHAUSTED.withDescription("too many devices for this example")
          .asRuntimeException());
      return;
    }
    long count = perDevice.computeIfAbsent(caller.deviceId(), d -> new AtomicLong()).incrementAndGet();
    observer.onNext(IngestTelemetryResponse.newBuilder().setDeviceId(caller.deviceId())
        .setRecordId("rec-" + records.incrementAndGet()).setRecordsFromDevice(count).build());
    observer.onCompleted();
  }
}
