/**
 * Device owners: the people who approve devices on the verification page (RFC 8628 §3.3). Accounts with
 * Argon2id password hashes, browser sessions (only their hashes are stored), and the attempt limits of
 * sign-in and user-code entry (RFC 8628 §5.1). Plain Java with a {@code Clock}; storage is the
 * {@link io.tokenbroker.broker.owner.OwnerStore} port, HTTP lives in {@code web}.
 */
package io.tokenbroker.broker.owner;
