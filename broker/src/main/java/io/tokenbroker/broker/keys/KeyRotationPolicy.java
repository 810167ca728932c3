package io.tokenbroker.broker.keys;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Decides, from the time and the key records alone, which lifecycle steps are due. It does no I/O; the key
 * manager applies the steps and asks again until nothing is due.
 *
 * <p>Thread-safety: immutable.
 */
public final class KeyRotationPolicy {
  private final KeyLifecycleSettings settings;

  public KeyRotationPolicy(KeyLifecycleSettings settings) {
    this.settings = settings;
  }

  public KeyLifecycleSettings settings() {
    return settings;
  }

  /** The steps due at {@code now}, in the order they should be applied. */
  public List<KeyAction> plan(Instant now, List<SigningKeyRecord> records) {
    List<KeyAction> actions = new ArrayList<>();
    for (SigningKeyRecord r : records) {
      // A retired key may go once every token it signed has expired (DESIGN: keys and the HSM).
      if (r.state() == KeyState.RETIRED && !now.isBefore(r.retiredAt().plus(settings.retiredRetention()))) {
        actions.add(new KeyAction.Remove(r.kid()));
      }
    }
    Optional<SigningKeyRecord> active = newest(records, KeyState.ACTIVE);
    Optional<SigningKeyRecord> next = newest(records, KeyState.NEXT);
    if (active.isEmpty()) {
      // Nothing signs yet, so no verifier can hold a token that a NEXT key would invalidate: activate at once.
      actions.add(next.<KeyAction>map(n -> new KeyAction.Activate(n.kid()))
          .orElse(new KeyAction.GenerateNext(settings.algorithm())));
    } else if (next.isEmpty()) {
      actions.add(new KeyAction.GenerateNext(settings.algorithm()));
    } else if (rotationDue(now, active.get(), next.get())) {
      actions.add(new KeyAction.Activate(next.get().kid()));
    }
    return actions;
  }

  private boolean rotationDue(Instant now, SigningKeyRecord active, SigningKeyRecord next) {
    if (settings.rotationPeriod().isZero()) {
      return false;
    }
    Instant activeSince = active.activatedAt() != null ? active.activatedAt() : active.createdAt();
    return !now.isBefore(activeSince.plus(settings.rotationPeriod()))
        && !now.isBefore(next.createdAt().plus(settings.nextPublicationLead()));
  }

  private static Optional<SigningKeyRecord> newest(List<SigningKeyRecord> records, KeyState state) {
    return records.stream().filter(r -> r.state() == state).max(Comparator.comparing(SigningKeyRecord::createdAt));
  }
}
