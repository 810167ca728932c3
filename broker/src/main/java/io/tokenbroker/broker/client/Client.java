package io.tokenbroker.broker.client;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * A registered client: one product line of devices, with what its devices may ask for and how long their
 * tokens live.
 */
public record Client(
    String clientId,
    String displayName,
    Set<String> allowedScopes,
    Set<String> allowedAudiences,
    BindingPolicy bindingPolicy,
    Duration accessTokenLifetime,
    Duration refreshIdleLifetime,
    Duration refreshAbsoluteLifetime,
    Duration refreshGraceWindow,
    Instant createdAt) {

  public Client {
    allowedScopes = Set.copyOf(allowedScopes);
    allowedAudiences = Set.copyOf(allowedAudiences);
  }
}
