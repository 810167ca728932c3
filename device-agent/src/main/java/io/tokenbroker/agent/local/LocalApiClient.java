package io.tokenbroker.agent.local;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.tokenbroker.proto.v1.DeviceAgentServiceGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** A client of the local API (used by the CLI when the daemon runs, by tests and by the example app). */
public final class LocalApiClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final EventLoopGroup group;

  private LocalApiClient(ManagedChannel channel, EventLoopGroup group) {
    this.channel = channel;
    this.group = group;
  }

  /** A client for {@code socket}, or empty if no socket file is there. */
  public static Optional<LocalApiClient> connect(Path socket) {
    if (!Files.exists(socket)) {
      return Optional.empty();
    }
    EventLoopGroup group = new EpollEventLoopGroup(1);
    ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollDomainSocketChannel.class)
        .eventLoopGroup(group)
        .usePlaintext()
        .build();
    return Optional.of(new LocalApiClient(channel, group));
  }

  /** A blocking stub with a 10 s deadline per call. */
  public DeviceAgentServiceGrpc.DeviceAgentServiceBlockingStub stub() {
    return DeviceAgentServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
