package io.tokenbroker.broker.cli;

public final class BrokerCommand {
  public static void main(String[] args) {}
}
