package io.tokenbroker.verifier.testing;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.tokenbroker.verifier.TokenVerifier;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The two broker services a verifier calls ({@code JwksService}, {@code RevocationService}), served in-process
 * by fakes that follow the proto, with a {@link TestIssuer} minting tokens under the published key.
 */
public final class FakeBroker implements AutoCloseable {
  private final TestIssuer issuer = new TestIssuer();
  private final FakeJwksService jwks = new FakeJwksService(issuer.jwks());
  private final FakeRevocationService revocations = new FakeRevocationService();
  private final Server server;
  private final ManagedChannel channel;

  public FakeBroker() {
    String name = InProcessServerBuilder.generateName();
    try {
      server = InProcessServerBuilder.forName(name).addService(jwks).addService(revocations).build().start();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    channel = InProcessChannelBuilder.forName(name).build();
  }

  public TestIssuer issuer() {
    return issuer;
  }

  public FakeJwksService jwks() {
    return jwks;
  }

  public FakeRevocationService revocations() {
    return revocations;
  }

  public ManagedChannel channel() {
    return channel;
  }

  /** A verifier builder for this broker: its issuer, the test audience, its channel. */
  public TokenVerifier.Builder verifierBuilder() {
    return TokenVerifier.builder().issuer(TestIssuer.ISSUER).audience(TestIssuer.AUDIENCE).brokerChannel(channel);
  }

  /** A verifier with the defaults that has fetched the keys and the first revocation snapshot. */
  public TokenVerifier readyVerifier() throws InterruptedException {
    return ready(verifierBuilder().build());
  }

  /** Waits until {@code verifier} has its keys and revocations; fails the test otherwise. */
  public static TokenVerifier ready(TokenVerifier verifier) throws InterruptedException {
    if (!verifier.awaitReady(Duration.ofSeconds(10))) {
      verifier.close();
      throw new IllegalStateException("the verifier did not get the fake broker's keys and revocations");
    }
    return verifier;
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
