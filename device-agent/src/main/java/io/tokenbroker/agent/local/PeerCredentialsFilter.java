package io.tokenbroker.agent.local;

import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.PeerCredentials;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits on the listening socket and checks every accepted connection's peer credentials ({@code SO_PEERCRED})
 * before gRPC sees it: the agent's own uid always passes; with an allow-list configured, only the listed uids
 * and gids do; others are closed at once and logged (uid, gid and pid; never anything they sent).
 */
@ChannelHandler.Sharable
final class PeerCredentialsFilter extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(PeerCredentialsFilter.class);

  private final int selfUid;
  private final List<Integer> uids;
  private final List<Integer> gids;

  PeerCredentialsFilter(int selfUid, List<Integer> uids, List<Integer> gids) {
    this.selfUid = selfUid;
    this.uids = List.copyOf(uids);
    this.gids = List.copyOf(gids);
  }

  boolean allowed(int uid, int gid) {
    if (uid == selfUid) {
      return true;
    }
    if (uids.isEmpty() && gids.isEmpty()) {
      return true;
    }
    return uids.contains(uid) || gids.contains(gid);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof EpollDomainSocketChannel child) {
      try {
        PeerCredentials peer = child.peerCredentials();
        if (!allowed(peer.uid(), peer.gids().length > 0 ? peer.gids()[0] : -1)) {
          log.warn("refused a local API connection from uid {} gid {} pid {} (not in socket.allowed-uids/gids)",
              peer.uid(), peer.gids().length > 0 ? peer.gids()[0] : -1, peer.pid());
          child.unsafe().closeForcibly();
          return;
        }
      } catch (java.io.IOException e) {
        log.warn("refused a local API connection whose peer credentials cannot be read");
        child.unsafe().closeForcibly();
        return;
      }
    }
    ctx.fireChannelRead(msg);
  }
}
