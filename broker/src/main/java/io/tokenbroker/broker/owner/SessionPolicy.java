package io.tokenbroker.broker.owner;

import java.time.Duration;

/** How long a browser session lives: {@code idle} after its last request, {@code absolute} after it began. */
public record SessionPolicy(Duration idle, Duration absolute) {}
