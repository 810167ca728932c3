/**
 * The broker's logging: Logback set up from {@code log.*} settings (text or JSON lines), request ids in the
 * SLF4J MDC, and java.util.logging routed into the same output. Nothing here knows about gRPC, Jetty or SQL;
 * the {@code api} and {@code web} adapters put request ids into the MDC with {@link
 * io.tokenbroker.broker.logging.RequestIds}.
 */
package io.tokenbroker.broker.logging;
