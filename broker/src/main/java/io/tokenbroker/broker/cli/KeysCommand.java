package io.tokenbroker.broker.cli;

import io.tokenbroker.broker.BrokerContext;
import io.tokenbroker.broker.config.BrokerConfig;
import io.tokenbroker.broker.keys.SigningKeyRecord;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code broker keys list|rotate}: the signing keys of a stopped broker. */
@Command(name = "keys", mixinStandardHelpOptions = true, description = "List or rotate the signing keys.",
    subcommands = {KeysCommand.ListKeys.class, KeysCommand.Rotate.class})
final class KeysCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "choose 'list' or 'rotate'");
  }

  static void print(PrintWriter out, List<SigningKeyRecord> records) {
    out.printf("%-43s  %-5s  %-7s  %-20s  %-20s  %-20s%n", "KID", "ALG", "STATE", "CREATED", "ACTIVATED",
        "RETIRED");
    for (SigningKeyRecord r : records) {
      out.printf("%-43s  %-5s  %-7s  %-20s  %-20s  %-20s%n", r.kid(), r.algorithm(), r.state(),
          time(r.createdAt()), time(r.activatedAt()), time(r.retiredAt()));
    }
    out.flush();
  }

  private static String time(Instant t) {
    return t == null ? "-" : t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List signing keys and their states (NEXT, ACTIVE, RETIRED, REMOVED).")
  static final class ListKeys implements Runnable {
    @Mixin HomeOption home;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      try (BrokerContext context = BrokerContext.open(BrokerConfig.load(home.path()), System.getenv(),
          Clock.systemUTC())) {
        print(spec.commandLine().getOut(), context.keys().records());
      }
    }
  }

  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = "Activate the NEXT key now, retire the ACTIVE one and generate a new NEXT key in the HSM.")
  static final class Rotate implements Runnable {
    @Mixin HomeOption home;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      try (BrokerContext context = BrokerContext.open(BrokerConfig.load(home.path()), System.getenv(),
          Clock.systemUTC())) {
        SigningKeyRecord activated = context.keys().rotate();
        PrintWriter out = spec.commandLine().getOut();
        out.println("rotated: " + activated.kid() + " is now ACTIVE");
        print(out, context.keys().records());
      }
    }
  }
}
