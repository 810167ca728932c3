-- Device certificates issued by the broker's device CA (RFC 8705 §2.1), whose key lives in the HSM. The broker
-- refuses revoked or unknown serials at the token endpoint and publishes revocations by serial and thumbprint.
CREATE TABLE device_certificates (
  serial        VARCHAR(40)  NOT NULL PRIMARY KEY,
  device_id     VARCHAR(36)  NOT NULL REFERENCES devices (device_id),
  x5t_s256      VARCHAR(64)  NOT NULL UNIQUE,
  not_before    TIMESTAMP WITH TIME ZONE NOT NULL,
  not_after     TIMESTAMP WITH TIME ZONE NOT NULL,
  issued_at     TIMESTAMP WITH TIME ZONE NOT NULL,
  revoked_at    TIMESTAMP WITH TIME ZONE
);
CREATE INDEX device_certificates_by_device ON device_certificates (device_id, not_after);
