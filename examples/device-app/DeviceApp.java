// An application on the device that calls a DPoP-protected API with the device's token without ever touching
// the device's key or refresh token: it asks the device agent over its Unix socket (gRPC, DeviceAgentService)
// for the access token and for a DPoP proof of this one request (RFC 9449 §4, with ath), then calls the API.
//
// Run it with the agent's jar on the class path (single-file source launch, Java 17+):
//   java -cp device-agent/target/device-agent.jar examples/device-app/DeviceApp.java \
//     --socket /run/device-agent/agent.sock --audience https://api.example.test --url https://api.example.test/telemetry
// Any gRPC language works the same way: the contract is proto/src/main/proto/tokenbroker/v1/agent_service.proto.

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.tokenbroker.proto.v1.CreateDpopProofRequest;
import io.tokenbroker.proto.v1.DeviceAgentServiceGrpc;
import io.tokenbroker.proto.v1.GetAccessTokenRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;

public class DeviceApp {
  public static void main(String[] args) throws Exception {
    String socket = arg(args, "--socket");
    String audience = arg(args, "--audience");
    URI url = URI.create(arg(args, "--url"));
    var group = new EpollEventLoopGroup(1);
    ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket))
        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
    try {
      var agent = DeviceAgentServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
      String token = agent.getAccessToken(GetAccessTokenRequest.newBuilder().setAudience(audience).build())
          .getAccessToken();
      // htu is the target URI without query and fragment (RFC 9449 §4.2).
      String htu = url.getScheme() + "://" + url.getRawAuthority() + url.getRawPath();
      String nonce = null;
      HttpResponse<String> response = null;
      for (int attempt = 0; attempt < 2; attempt++) {
        CreateDpopProofRequest.Builder proof = CreateDpopProofRequest.newBuilder().setMethod("POST").setUri(htu)
            .setAccessToken(token);
        if (nonce != null) {
          proof.setNonce(nonce);
        }
        String dpop = agent.createDpopProof(proof.build()).getProof();
        response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(url)
            .header("Authorization", "DPoP " + token).header("DPoP", dpop)
            .POST(HttpRequest.BodyPublishers.ofString("{\"temperature\":21.5}")).build(),
            HttpResponse.BodyHandlers.ofString());
        // RFC 9449 §9: a resource server may ask for a nonce once.
        nonce = response.statusCode() == 401 ? response.headers().firstValue("DPoP-Nonce").orElse(null) : null;
        if (nonce == null) {
          break;
        }
      }
      System.out.println("HTTP " + response.statusCode() + " " + response.body());
      System.exit(response.statusCode() / 100 == 2 ? 0 : 1);
    } finally {
      channel.shutdownNow();
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private static String arg(String[] args, String name) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    throw new IllegalArgumentException("missing " + name);
  }
}
