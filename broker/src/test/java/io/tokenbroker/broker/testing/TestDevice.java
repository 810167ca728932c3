package io.tokenbroker.broker.testing;

import io.tokenbroker.verifier.testing.DpopTestKey;

/** A device's DPoP key and the proofs it makes; the proof maker is shared with the verifier's tests. */
public final class TestDevice extends DpopTestKey {}
