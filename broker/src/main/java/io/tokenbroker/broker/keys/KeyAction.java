package io.tokenbroker.broker.keys;

/** One step that {@link KeyRotationPolicy} asks the key manager to take. */
public sealed interface KeyAction {
  /** Generate a key in the HSM and publish it as NEXT. */
  record GenerateNext(SigningAlgorithm algorithm) implements KeyAction {}

  /** Make the NEXT key {@code kid} ACTIVE; the ACTIVE key, if any, becomes RETIRED. */
  record Activate(String kid) implements KeyAction {}

  /** Stop publishing the RETIRED key {@code kid} and destroy it in the HSM. */
  record Remove(String kid) implements KeyAction {}
}
