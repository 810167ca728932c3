-- What operators want to see about a device: the agent's user agent (with its firmware version) and when
-- it last refreshed.
ALTER TABLE devices ADD COLUMN user_agent VARCHAR(256);
ALTER TABLE devices ADD COLUMN last_refresh_at TIMESTAMP WITH TIME ZONE;
CREATE INDEX devices_by_last_seen ON devices (last_seen_at);
