package io.tokenbroker.broker.client;

import java.util.List;
import java.util.Optional;

/** Port: registered clients. */
public interface ClientStore {
  /** Inserts the client; false when the id is taken. */
  boolean insert(Client client);

  Optional<Client> find(String clientId);

  /** Clients ordered by id, starting after {@code afterClientId} (null = from the start). */
  List<Client> list(String afterClientId, int limit);
}
