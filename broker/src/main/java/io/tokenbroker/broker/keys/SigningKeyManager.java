package io.tokenbroker.broker.keys;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import java.text.ParseException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the key lifecycle: keeps one ACTIVE and one NEXT key, rotates, retires and removes keys, and offers
 * the active key and the published JWK Set from an in-memory snapshot so the signing path reads no database.
 *
 * <p>Order of effects keeps the HSM and the database consistent across a crash: a key is generated in the HSM
 * before its record is committed (a crash leaves at most an unpublished orphan key, reported at start-up), and
 * a key is marked REMOVED before it is destroyed (a crash leaves a removed key that the next start destroys).
 *
 * <p>Thread-safety: thread-safe; lifecycle changes are serialised on this object.
 */
public final class SigningKeyManager {
  private static final Logger log = LoggerFactory.getLogger(SigningKeyManager.class);
  private static final int MAX_ROUNDS = 8;

  /** What the signing path and the JWKS need, replaced as a whole after every change. */
  private record Snapshot(SigningKey active, JWKSet published, List<SigningKeyRecord> records) {}

  private final SigningKeyStore store;
  private final SigningKeyRecords records;
  private final KeyRotationPolicy policy;
  private final Clock clock;
  private final AtomicReference<Snapshot> snapshot = new AtomicReference<>();

  public SigningKeyManager(SigningKeyStore store, SigningKeyRecords records, KeyRotationPolicy policy,
      Clock clock) {
    this.store = store;
    this.records = records;
    this.policy = policy;
    this.clock = clock;
  }

  /**
   * Checks that the HSM holds the keys the database says are NEXT and ACTIVE, finishes interrupted removals,
   * applies due lifecycle steps (creating the first keys on a new broker), and loads the snapshot.
   *
   * @throws KeyOperationException when a NEXT or ACTIVE key is missing from the HSM
   */
  public synchronized void start() {
    List<SigningKeyRecord> current = records.list();
    java.util.Set<String> inHsm = store.kids();
    for (SigningKeyRecord r : current) {
      boolean needed = r.state() == KeyState.NEXT || r.state() == KeyState.ACTIVE;
      if (needed && store.find(r.kid()).isEmpty()) {
        throw new KeyOperationException("the " + r.state() + " signing key " + r.kid()
            + " is not in the HSM token; does 'hsm.pkcs11-config' name the token this broker was initialised with?");
      }
      if (r.state() == KeyState.REMOVED && inHsm.contains(r.kid())) {
        store.destroy(r.kid());
        log.info("destroyed signing key {} left in the HSM by an interrupted removal", r.kid());
      }
    }
    List<String> known = current.stream().map(SigningKeyRecord::kid).toList();
    for (String kid : inHsm) {
      if (!known.contains(kid)) {
        log.warn("the HSM holds signing key {} that no record names (left by an interrupted generation); "
            + "it is not published and never signs", kid);
      }
    }
    maintain();
  }

  /** Applies every lifecycle step that is due now. Returns the steps taken. */
  public synchronized List<KeyAction> maintain() {
    List<KeyAction> taken = new ArrayList<>();
    for (int round = 0; round < MAX_ROUNDS; round++) {
      List<KeyAction> due = policy.plan(clock.instant(), records.list());
      if (due.isEmpty()) {
        break;
      }
      due.forEach(this::apply);
      taken.addAll(due);
    }
    reload();
    return taken;
  }

  /**
   * Operator rotation: the NEXT key becomes ACTIVE now, the ACTIVE key RETIRED, and a new NEXT key is made.
   * Verifiers that do not know the new key yet fetch the JWKS again on the unknown kid.
   */
  public synchronized SigningKeyRecord rotate() {
    SigningKeyRecord next = newestNext().orElseGet(() -> {
      apply(new KeyAction.GenerateNext(policy.settings().algorithm()));
      return newestNext().orElseThrow();
    });
    apply(new KeyAction.Activate(next.kid()));
    apply(new KeyAction.GenerateNext(policy.settings().algorithm()));
    reload();
    return records.list().stream().filter(r -> r.kid().equals(next.kid())).findFirst().orElseThrow();
  }

  private Optional<SigningKeyRecord> newestNext() {
    return records.list().stream().filter(r -> r.state() == KeyState.NEXT)
        .max(Comparator.comparing(SigningKeyRecord::createdAt));
  }

  private void apply(KeyAction action) {
    Instant now = clock.instant();
    if (action instanceof KeyAction.GenerateNext g) {
      SigningKey key = store.generate(g.algorithm());
      records.insert(SigningKeyRecord.next(key.kid(), key.algorithm(), key.publicJwk().toJSONString(), now));
      log.info("generated {} signing key {} in the HSM (state NEXT)", key.algorithm(), key.kid());
    } else if (action instanceof KeyAction.Activate a) {
      records.activate(a.kid(), now);
      log.info("signing key {} is now ACTIVE", a.kid());
    } else if (action instanceof KeyAction.Remove r) {
      records.markRemoved(r.kid(), now);
      store.destroy(r.kid());
      log.info("signing key {} removed from the JWKS and destroyed in the HSM", r.kid());
    }
  }

  private void reload() {
    List<SigningKeyRecord> all = records.list();
    SigningKeyRecord activeRecord = all.stream().filter(r -> r.state() == KeyState.ACTIVE).findFirst()
        .orElseThrow(() -> new IllegalStateException("no ACTIVE signing key after maintenance"));
    SigningKey active = store.find(activeRecord.kid()).orElseThrow(() -> new KeyOperationException(
        "the ACTIVE signing key " + activeRecord.kid() + " is not in the HSM token"));
    List<JWK> published = new ArrayList<>();
    for (SigningKeyRecord r : all) {
      if (r.published()) {
        published.add(parseJwk(r));
      }
    }
    snapshot.set(new Snapshot(active, new JWKSet(published), List.copyOf(all)));
  }

  private static JWK parseJwk(SigningKeyRecord r) {
    try {
      return JWK.parse(r.publicJwkJson());
    } catch (ParseException e) {
      throw new IllegalStateException("stored public JWK of key " + r.kid() + " does not parse", e);
    }
  }

  private Snapshot current() {
    Snapshot s = snapshot.get();
    if (s == null) {
      throw new IllegalStateException("SigningKeyManager.start() has not run");
    }
    return s;
  }

  /** The key that signs new tokens. */
  public SigningKey activeKey() {
    return current().active();
  }

  /**
   * Whether the key this broker signs with is the one the database records as ACTIVE (readiness). False before
   * {@link #start()}, and when the records changed behind this broker's back since its last reload (another
   * broker on the same database rotated, or the key was removed); the next maintenance reloads. Reads the
   * database (a small table); throws when it cannot.
   */
  public boolean signsWithRecordedActiveKey() {
    Snapshot s = snapshot.get();
    if (s == null) {
      return false;
    }
    String kid = s.active().kid();
    return records.list().stream().anyMatch(r -> r.state() == KeyState.ACTIVE && r.kid().equals(kid));
  }

  /** The public keys of every NEXT, ACTIVE and RETIRED key (RFC 7517 §5). */
  public JWKSet publishedKeys() {
    return current().published();
  }

  /** Every key record, including removed ones, oldest first. */
  public List<SigningKeyRecord> records() {
    return current().records();
  }
}
