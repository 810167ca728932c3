package io.tokenbroker.agent.local;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The local API's gRPC server on a Unix domain socket (never a network port): mode 0660, optionally owned by
 * a configured group, with peer credentials checked at accept by {@link PeerCredentialsFilter}. Runs on its
 * own event loops, so it keeps answering while a refresh is in flight.
 */
public final class LocalApiServer implements AutoCloseable {
  private final Server server;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Path socket;

  private LocalApiServer(Server server, EventLoopGroup boss, EventLoopGroup workers, Path socket) {
    this.server = server;
    this.boss = boss;
    this.workers = workers;
    this.socket = socket;
  }

  /** Binds {@code socket} (replacing a stale socket file left by a crash) and starts serving. */
  public static LocalApiServer start(Path socket, Optional<String> group, List<Integer> uids, List<Integer> gids,
      BindableService service) {
    return start(socket, group, new PeerCredentialsFilter(selfUid(), uids, gids), service);
  }

  static LocalApiServer start(Path socket, Optional<String> group, PeerCredentialsFilter filter,
      BindableService service) {
    if (!Epoll.isAvailable()) {
      throw new AgentException(ExitCodes.CONFIG, "Unix domain sockets need Linux epoll, which is unavailable here: "
          + Epoll.unavailabilityCause());
    }
    try {
      if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
        if (!"s".equals(type(socket))) {
          throw new AgentException(ExitCodes.CONFIG, "socket.path " + socket + " exists and is not a socket");
        }
        // The caller holds the state lock, so no other agent serves on it: a crash left it behind.
        Files.delete(socket);
      }
      Files.createDirectories(socket.getParent());
    } catch (IOException e) {
      throw new AgentException(ExitCodes.CONFIG, "cannot prepare socket " + socket + ": " + e.getMessage());
    }
    EventLoopGroup boss = new EpollEventLoopGroup(1);
    EventLoopGroup workers = new EpollEventLoopGroup(1);
    try {
      Server server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
          .channelFactory(() -> {
            EpollServerDomainSocketChannel channel = new EpollServerDomainSocketChannel();
            channel.pipeline().addFirst("peer-credentials", filter);
            return channel;
          })
          .bossEventLoopGroup(boss)
          .workerEventLoopGroup(workers)
          .maxInboundMessageSize(16 * 1024)
          .maxInboundMetadataSize(8 * 1024)
          .addService(service)
          .build()
          .start();
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
      if (group.isPresent()) {
        GroupPrincipal principal = socket.getFileSystem().getUserPrincipalLookupService()
            .lookupPrincipalByGroupName(group.get());
        Files.getFileAttributeView(socket, PosixFileAttributeView.class).setGroup(principal);
      }
      return new LocalApiServer(server, boss, workers, socket);
    } catch (IOException e) {
      boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new AgentException(ExitCodes.CONFIG, "cannot serve the local API on " + socket + ": " + e.getMessage());
    }
  }

  private static String type(Path p) throws IOException {
    Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    return (((Integer) mode) & 0170000) == 0140000 ? "s" : "-";
  }

  /** This process's uid (always allowed on its own socket). */
  public static int selfUid() {
    try {
      return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    } catch (IOException e) {
      return -1;
    }
  }

  public Path socket() {
    return socket;
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.shutdownNow();
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    try {
      Files.deleteIfExists(socket);
    } catch (IOException ignored) {
      // best effort; the next start replaces it
    }
  }
}
