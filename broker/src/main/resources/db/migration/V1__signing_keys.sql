-- Signing keys: the private halves live in the HSM under the same kid (RFC 7638 thumbprint);
-- this table holds their public JWKs and lifecycle (NEXT -> ACTIVE -> RETIRED -> REMOVED).
CREATE TABLE signing_keys (
  kid          VARCHAR(64)  NOT NULL PRIMARY KEY,
  algorithm    VARCHAR(16)  NOT NULL,
  state        VARCHAR(16)  NOT NULL,
  public_jwk   VARCHAR(4096) NOT NULL,
  created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
  activated_at TIMESTAMP WITH TIME ZONE,
  retired_at   TIMESTAMP WITH TIME ZONE,
  removed_at   TIMESTAMP WITH TIME ZONE,
  CONSTRAINT signing_keys_state CHECK (state IN ('NEXT', 'ACTIVE', 'RETIRED', 'REMOVED'))
);

CREATE INDEX signing_keys_by_state ON signing_keys (state);
