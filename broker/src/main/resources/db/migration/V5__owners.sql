-- Device owners of the verification page (RFC 8628 §3.3) and their browser sessions.
-- Passwords only as Argon2id PHC strings; session ids only as SHA-256 (hex).

CREATE TABLE owners (
  username        VARCHAR(64)   NOT NULL PRIMARY KEY,
  password_hash   VARCHAR(200)  NOT NULL,
  created_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

-- A browser session; username NULL until its owner signs in.
CREATE TABLE owner_sessions (
  id_hash         CHAR(64)      NOT NULL PRIMARY KEY,
  username        VARCHAR(64)   REFERENCES owners (username),
  csrf_token      VARCHAR(64)   NOT NULL,
  created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
  last_seen_at    TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX owner_sessions_last_seen ON owner_sessions (last_seen_at);
CREATE INDEX owner_sessions_created ON owner_sessions (created_at);
