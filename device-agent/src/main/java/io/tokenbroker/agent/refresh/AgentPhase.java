package io.tokenbroker.agent.refresh;

/** What the agent is doing, as shown by {@code status} and the local API's GetAgentStatus. */
public enum AgentPhase {
  /** Loaded its state; the first refresh after start has not finished. */
  STARTING,
  /** Holds a valid access token and a live refresh family. */
  READY,
  /** The last refresh failed transiently; retrying with backoff. */
  RETRYING,
  /** The broker refuses the device (suspended: waiting; revoked: stopped). */
  BLOCKED,
  /** No usable refresh token: a new login is needed. */
  LOGIN_REQUIRED
}
