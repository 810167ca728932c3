package io.tokenbroker.broker.grant;

/**
 * What the token endpoint tells monitoring that its answers alone do not show. Called after the grant's
 * transaction committed; implementations must be quick and must not throw.
 */
public interface GrantMonitor {
  /** Tells nothing to anyone. */
  GrantMonitor NONE = () -> {};

  /**
   * A refresh token that had already been rotated came back, and its whole family was revoked (RFC 9700
   * §4.14.2): either a stolen token or a client that lost track of its newest one.
   */
  void refreshTokenReuseDetected();
}
