package io.tokenbroker.broker.cli;

import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.proto.v1.CreateOwnerRequest;
import io.tokenbroker.proto.v1.Owner;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code broker admin owners ...}: device owner accounts of the verification page, over the operator API. */
final class OwnerCommands {
  private OwnerCommands() {}

  @Command(name = "owners", mixinStandardHelpOptions = true,
      description = "Device owner accounts: the people who approve devices on the /device page.",
      subcommands = {Create.class})
  static final class Owners implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "choose 'create'");
    }
  }

  /** Where the password comes from: never the command line, which other users can read in the process list. */
  static final class PasswordSource {
    @Option(names = "--password-stdin", description = "Read the password from the first line of standard input.")
    boolean stdin;

    @Option(names = "--password-file", paramLabel = "FILE",
        description = "Read the password from FILE (first line; must not be readable by group or others).")
    Path file;

    @Option(names = "--password-env", paramLabel = "VAR", description = "Read the password from environment variable VAR.")
    String env;

    char[] read() {
      String line;
      if (stdin) {
        try {
          line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        } catch (IOException e) {
          throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot read the password from standard input");
        }
      } else if (file != null) {
        line = readFile(file);
      } else {
        line = System.getenv(env);
        if (line == null) {
          throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "environment variable " + env + " is not set");
        }
      }
      if (line == null || line.isEmpty()) {
        throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "the password is empty");
      }
      return line.toCharArray();
    }

    private static String readFile(Path file) {
      try {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
          throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, file + " is readable by group or others; "
              + "run: chmod 600 " + file);
        }
        String content = Files.readString(file, StandardCharsets.UTF_8);
        int nl = content.indexOf('\n');
        String first = nl < 0 ? content : content.substring(0, nl);
        return first.endsWith("\r") ? first.substring(0, first.length() - 1) : first;
      } catch (IOException e) {
        throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot read the password file " + file);
      }
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a device owner account (the password is read from stdin, a file or the environment).")
  static final class Create implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Option(names = "--username", required = true, description = "Sign-in name, e.g. an e-mail address.")
    String username;
    @ArgGroup(exclusive = true, multiplicity = "1") PasswordSource password;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      char[] secret = password.read();
      Owner created;
      try {
        created = connection.call(stub -> stub.createOwner(CreateOwnerRequest.newBuilder().setUsername(username)
            .setPassword(new String(secret)).build())).getOwner();
      } finally {
        java.util.Arrays.fill(secret, '\0');
      }
      PrintWriter out = spec.commandLine().getOut();
      out.println("created owner " + created.getUsername() + "; they can now sign in on the /device page");
      out.flush();
    }
  }
}
