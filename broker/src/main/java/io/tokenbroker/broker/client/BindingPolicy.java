package io.tokenbroker.broker.client;

/** How a client's tokens are sender-constrained. There are no plain bearer tokens. */
public enum BindingPolicy {
  /** RFC 9449: tokens bound to the device's DPoP key ({@code cnf.jkt}). */
  DPOP,
  /** RFC 8705: tokens bound to the device's TLS client certificate ({@code cnf.x5t#S256}). */
  MTLS
}
