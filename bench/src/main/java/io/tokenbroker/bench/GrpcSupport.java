package io.tokenbroker.bench;

import com.google.rpc.ErrorInfo;
import com.google.rpc.Status;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** gRPC over TLS to the broker, as a device (server authentication only) or an operator (mutual TLS). */
final class GrpcSupport {
  static final Metadata.Key<String> DPOP = Metadata.Key.of("dpop", Metadata.ASCII_STRING_MARSHALLER);

  private GrpcSupport() {}

  /** A device's channel: trusts only the home's CA, authority "localhost", loopback address. */
  static ManagedChannel deviceChannel(Path home, String host, int port) throws IOException {
    ChannelCredentials tls = TlsChannelCredentials.newBuilder()
        .trustManager(home.resolve("tls/ca.crt").toFile()).build();
    return NettyChannelBuilder.forAddress(host, port, tls).overrideAuthority("localhost").build();
  }

  /** The operator's channel: mutual TLS with the home's operator certificate. */
  static ManagedChannel operatorChannel(Path home, String host, int port) throws IOException {
    ChannelCredentials tls = TlsChannelCredentials.newBuilder()
        .keyManager(home.resolve("tls/operator.crt").toFile(), home.resolve("tls/operator.key").toFile())
        .trustManager(home.resolve("tls/ca.crt").toFile()).build();
    return NettyChannelBuilder.forAddress(host, port, tls).overrideAuthority("localhost").build();
  }

  /** The ErrorInfo reason of a failed call (AIP-193), or null. */
  static String errorReason(StatusRuntimeException e) {
    Status status = StatusProto.fromThrowable(e);
    if (status == null) {
      return null;
    }
    for (com.google.protobuf.Any any : status.getDetailsList()) {
      if (any.is(ErrorInfo.class)) {
        try {
          return any.unpack(ErrorInfo.class).getReason();
        } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
          return null;
        }
      }
    }
    return null;
  }

  static void close(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
