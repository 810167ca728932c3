/**
 * Operating the broker: readiness (the HSM, the database and the active signing key, shared by {@code /readyz}
 * and the gRPC health service) and the plain-HTTP operations listener that serves {@code /metrics},
 * {@code /healthz} and {@code /readyz} to Prometheus and orchestrators. Nothing here answers devices.
 */
package io.tokenbroker.broker.ops;
