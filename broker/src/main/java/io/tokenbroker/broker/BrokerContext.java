package io.tokenbroker.broker;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.tokenbroker.broker.config.BrokerConfig;
import io.tokenbroker.broker.devicecert.DeviceCertificateAuthority;
import io.tokenbroker.broker.hsm.HsmException;
import io.tokenbroker.broker.hsm.HsmPin;
import io.tokenbroker.broker.hsm.Pkcs11Token;
import io.tokenbroker.broker.keys.KeyOperationException;
import io.tokenbroker.broker.keys.KeyRotationPolicy;
import io.tokenbroker.broker.keys.Pkcs11SigningKeyStore;
import io.tokenbroker.broker.keys.SigningKeyManager;
import io.tokenbroker.broker.metrics.HsmSigningMetrics;
import io.tokenbroker.broker.store.Database;
import io.tokenbroker.broker.store.JdbcSigningKeyRecords;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;

/**
 * The broker's long-lived parts, opened in dependency order from a broker home: the HSM token, the database
 * and the signing-key manager. Opening fails with a {@link BrokerFailure} naming what to fix, and leaves
 * nothing open behind.
 */
public final class BrokerContext implements AutoCloseable {
  private final BrokerConfig config;
  private final Pkcs11Token token;
  private final Database database;
  private final SigningKeyManager keys;
  private final DeviceCertificateAuthority deviceCa;
  private final MeterRegistry metrics;

  private BrokerContext(BrokerConfig config, Pkcs11Token token, Database database, SigningKeyManager keys,
      DeviceCertificateAuthority deviceCa, MeterRegistry metrics) {
    this.metrics = metrics;
    this.deviceCa = deviceCa;
    this.config = config;
    this.token = token;
    this.database = database;
    this.keys = keys;
  }

  /** Opens the HSM, then the database, then loads (or on a new home creates) the signing keys; no metrics. */
  public static BrokerContext open(BrokerConfig config, Map<String, String> environment, Clock clock) {
    // A composite with no registries behind it: every meter is a no-op (the CLI's one-shot commands).
    return open(config, environment, clock, new CompositeMeterRegistry());
  }

  /**
   * Opens the HSM, then the database, then loads (or on a new home creates) the signing keys, reporting HSM
   * signatures and database pool use to {@code metrics}.
   */
  public static BrokerContext open(BrokerConfig config, Map<String, String> environment, Clock clock,
      MeterRegistry metrics) {
    requireSoftHsmEnvironment(config.softhsmConf(), environment);
    HsmPin pin = HsmPin.resolve(config.pinEnv(), config.pinFile(), environment);
    Pkcs11Token token;
    try {
      token = Pkcs11Token.open(config.pkcs11Config(), pin);
    } finally {
      pin.wipe();
    }
    Database database = Database.open(config.databaseUrl(), config.databasePoolSize(), metrics);
    try {
      SigningKeyManager keys = new SigningKeyManager(
          new Pkcs11SigningKeyStore(token, clock, new HsmSigningMetrics(metrics)),
          new JdbcSigningKeyRecords(database), new KeyRotationPolicy(config.keyLifecycle()), clock);
      keys.start();
      // The device CA key is made in the HSM at init, or at the first start of an older home.
      DeviceCertificateAuthority deviceCa = DeviceCertificateAuthority.loadOrCreate(token, clock);
      return new BrokerContext(config, token, database, keys, deviceCa, metrics);
    } catch (KeyOperationException e) {
      database.close();
      throw new HsmException(e.getMessage(), e);
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  /**
   * SoftHSM reads SOFTHSM2_CONF once, when the library loads into this process; if it points elsewhere, the
   * broker would silently talk to another token directory. Fail early with the exact command instead.
   */
  public static void requireSoftHsmEnvironment(Optional<Path> softhsmConf, Map<String, String> environment) {
    if (softhsmConf.isEmpty()) {
      return;
    }
    Path expected = softhsmConf.get().toAbsolutePath().normalize();
    String actual = environment.get("SOFTHSM2_CONF");
    if (actual == null || !Path.of(actual).toAbsolutePath().normalize().equals(expected)) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "this broker home uses a SoftHSM2 development token, "
          + "which needs SOFTHSM2_CONF=" + expected + " in the environment (bin/broker sets it; now "
          + (actual == null ? "unset" : actual) + ")");
    }
  }

  public BrokerConfig config() {
    return config;
  }

  public Pkcs11Token token() {
    return token;
  }

  public Database database() {
    return database;
  }

  public SigningKeyManager keys() {
    return keys;
  }

  /** Where the broker's meters are registered. */
  public MeterRegistry metrics() {
    return metrics;
  }

  /** The device CA whose key lives in the HSM (RFC 8705 §2.1). */
  public DeviceCertificateAuthority deviceCa() {
    return deviceCa;
  }

  @Override
  public void close() {
    database.close();
  }
}
