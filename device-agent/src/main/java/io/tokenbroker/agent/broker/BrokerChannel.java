package io.tokenbroker.agent.broker;

import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.config.AgentConfig;
import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** The TLS channel to the broker, trusting only the configured CA file. */
public final class BrokerChannel {
  /** Sent as the gRPC user agent, which the broker shows operators next to the device. */
  public static final String USER_AGENT = "tokenbroker-device-agent/0.1";

  private BrokerChannel() {}

  public static ManagedChannel open(AgentConfig config) {
    ChannelCredentials credentials;
    try {
      credentials = TlsChannelCredentials.newBuilder().trustManager(config.caFile().toFile()).build();
    } catch (IOException | RuntimeException e) {
      throw new AgentException(ExitCodes.CONFIG, "cannot read the broker CA file " + config.caFile() + ": "
          + e.getMessage());
    }
    NettyChannelBuilder builder = NettyChannelBuilder.forTarget(config.brokerTarget(), credentials)
        .userAgent(USER_AGENT)
        .maxInboundMessageSize(64 * 1024)
        .maxInboundMetadataSize(16 * 1024)
        .keepAliveTime(5, TimeUnit.MINUTES)
        .idleTimeout(2, TimeUnit.MINUTES);
    config.authority().ifPresent(builder::overrideAuthority);
    return builder.build();
  }
}
