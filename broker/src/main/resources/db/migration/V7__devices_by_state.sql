-- The devices-by-state gauge counts devices per state; this index answers it without reading the rows.
CREATE INDEX devices_by_state ON devices (state);
