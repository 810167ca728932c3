package io.tokenbroker.agent.cli;

import io.tokenbroker.agent.AgentException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.enrol.DeviceLogin;
import io.tokenbroker.agent.keys.DpopKey;
import io.tokenbroker.agent.keys.Pkcs11DpopKey;
import io.tokenbroker.agent.keys.SoftwareDpopKey;
import io.tokenbroker.agent.refresh.TokenKeeper;
import io.tokenbroker.agent.store.AgentState;
import io.tokenbroker.agent.store.StateStore;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code device-agent login}: the RFC 8628 device flow with a freshly generated DPoP key. */
@Command(name = "login", description = "Enrol this device: show a user code, wait for its approval, store the tokens.")
final class LoginCommand implements Callable<Integer> {
  @ParentCommand AgentCommand parent;

  @Option(names = "--restart-on-expiry", description = "start a new authorization when the user code expires")
  boolean restartOnExpiry;

  @Option(names = "--no-qr", description = "do not draw the QR code of the complete verification URI")
  boolean noQr;

  @Override
  public Integer call() {
    return AgentCommand.guarded(() -> {
      try (AgentRuntime rt = AgentRuntime.open(parent.config(), true)) {
        Optional<AgentState> existing = rt.loadState();
        if (existing.isPresent() && existing.get().hasRefreshToken()) {
          throw new AgentException(ExitCodes.CONFIG, "this device is already enrolled as "
              + existing.get().deviceId() + "; run 'device-agent logout' first");
        }
        // Always a new key: a revoked device's key stays refused by the broker.
        DpopKey key;
        AgentState initial;
        if (rt.usesPkcs11()) {
          Pkcs11DpopKey.destroy(rt.pkcs11());
          key = Pkcs11DpopKey.openOrCreate(rt.pkcs11(), true);
          initial = AgentState.withKey(rt.config.clientId(), null, Pkcs11DpopKey.ALIAS);
        } else {
          SoftwareDpopKey software = SoftwareDpopKey.generate();
          key = software;
          initial = AgentState.withKey(rt.config.clientId(), software.privateJwkJson(), null);
        }
        StateStore store = rt.store(true);
        store.save(initial);
        DpopProofs proofs = rt.proofs(key);
        TokenKeeper keeper = new TokenKeeper(store, initial, rt.brokerClient(proofs), rt.config.audiences(),
            Clock.systemUTC(), System::nanoTime);
        new DeviceLogin(rt.brokerClient(proofs), rt.config.scopes(), rt.config.audiences(), System.out,
            d -> Thread.sleep(d.toMillis()), System::nanoTime).showQrCode(!noQr)
            .run(restartOnExpiry, keeper::enrolled);
        return ExitCodes.OK;
      }
    });
  }
}
