/**
 * The broker's own metrics (names prefixed {@code tokenbroker_} in Prometheus form) and the binders of the JVM,
 * the gRPC server and the database pool. Each class registers one family of meters on the {@code MeterRegistry}
 * the composition root hands it and implements the port its subject reports through (e.g.
 * {@link io.tokenbroker.broker.keys.SigningObserver}); no secret ever becomes a label value.
 */
package io.tokenbroker.broker.metrics;
