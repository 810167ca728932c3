package io.tokenbroker.agent.cli;

import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.dpop.DpopProofs;
import io.tokenbroker.agent.local.DeviceAgentServiceImpl;
import io.tokenbroker.agent.local.LocalApiServer;
import io.tokenbroker.agent.refresh.Backoff;
import io.tokenbroker.agent.refresh.RefreshLoop;
import io.tokenbroker.agent.refresh.RefreshSchedule;
import io.tokenbroker.agent.refresh.TokenKeeper;
import io.tokenbroker.agent.store.AgentState;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code device-agent run}: the daemon. */
@Command(name = "run", description = "Keep the tokens fresh and serve the local API until stopped, revoked or "
    + "logged out by the broker.")
final class RunCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(RunCommand.class);

  @ParentCommand AgentCommand parent;

  @Override
  public Integer call() {
    return AgentCommand.guarded(() -> {
      try (AgentRuntime rt = AgentRuntime.open(parent.config(), true)) {
        AgentState state = rt.requireEnrolled();
        DpopProofs proofs = rt.proofs(rt.dpopKey(state));
        TokenKeeper keeper = new TokenKeeper(rt.store(false), state, rt.brokerClient(proofs),
            rt.config.audiences(), Clock.systemUTC(), System::nanoTime);
        RandomGenerator random = new SecureRandom();
        RefreshLoop loop = new RefreshLoop(keeper,
            new RefreshSchedule(rt.config.refreshFraction(), rt.config.refreshJitter(), random),
            new Backoff(rt.config.initialBackoff(), random), rt.config.maxBackoff(), rt.config.graceWindow(),
            rt.config.suspendedCheckInterval(), random, System::nanoTime);
        try (LocalApiServer server = LocalApiServer.start(rt.config.socketPath(), rt.config.socketGroup(),
            rt.config.allowedUids(), rt.config.allowedGids(),
            new DeviceAgentServiceImpl(keeper, proofs, rt.config.externalUrl(), loop::nudge))) {
          CountDownLatch done = new CountDownLatch(1);
          Thread hook = new Thread(() -> {
            loop.stop();
            try {
              done.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }, "device-agent-shutdown");
          Runtime.getRuntime().addShutdownHook(hook);
          System.out.println("device-agent running: device=" + state.deviceId() + " socket=" + server.socket()
              + " key=" + proofs.key().description());
          System.out.flush();
          int code;
          try {
            code = loop.run();
          } finally {
            done.countDown();
          }
          if (code == ExitCodes.REVOKED) {
            System.err.println("device-agent: the broker revoked this device; stopped (exit " + code + ")");
          } else if (code == ExitCodes.LOGIN_REQUIRED) {
            System.err.println("device-agent: the refresh token is no longer accepted; run 'device-agent login' "
                + "(exit " + code + ")");
          } else {
            log.info("stopped");
          }
          return code;
        }
      }
    });
  }
}
