package io.tokenbroker.proto.v1;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.FileOptions;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.rpc.Code;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Fails the build when the v1 API contract breaks the conventions written down in
 * {@code proto/README.md}: AIP-190/191/193 naming, buf's STANDARD and COMMENTS lint rules, and
 * the error model whose single source of truth is {@link ErrorReason}.
 *
 * <p>Two views are checked: the {@code .proto} sources (comments exist only there) and the
 * descriptors compiled into the generated classes (names, types, options). The source scanner is
 * cross-checked against the descriptors, so it cannot silently skip a declaration.
 *
 * <p>Surefire runs with the module directory as working directory, so paths are relative to
 * {@code proto/}.
 */
class ApiConventionsTest {

  private static final Path PROTO_ROOT = Path.of("src", "main", "proto");
  private static final Path README = Path.of("README.md");
  private static final String PACKAGE = "tokenbroker.v1";
  private static final String JAVA_PACKAGE = "io.tokenbroker.proto.v1";

  /** Every file of the API. A new .proto file must be added here (a test checks that). */
  private static final List<FileDescriptor> FILES =
      List.of(
          AdminServiceProto.getDescriptor(),
          AgentServiceProto.getDescriptor(),
          CertificateServiceProto.getDescriptor(),
          DeviceAuthorizationServiceProto.getDescriptor(),
          DeviceProto.getDescriptor(),
          ErrorReasonProto.getDescriptor(),
          JwksServiceProto.getDescriptor(),
          RevocationServiceProto.getDescriptor(),
          SigningKeyProto.getDescriptor(),
          TokenServiceProto.getDescriptor(),
          TokenTypesProto.getDescriptor());

  /** A comment counts when it names an RFC by number, an AIP, or says it is product-specific. */
  private static final Pattern REFERENCE =
      Pattern.compile("\\bRFC \\d{3,5}\\b|\\bAIP-\\d+\\b|\\bProduct-specific\\b");

  /** Verbs an RPC name may start with (AIP-136 verb-noun). Extend deliberately. */
  private static final Set<String> RPC_VERBS =
      Set.of(
          "Approve", "Create", "Deny", "Get", "Introspect", "Issue", "List", "Renew", "Resume",
          "Revoke", "Rotate", "Start", "Suspend", "Watch");

  /** The one documented naming exception: the RFC 6749 token endpoint. */
  private static final String TOKEN_ENDPOINT_EXCEPTION = "tokenbroker.v1.TokenService.Token";

  /** Reasons the broker must be able to emit (DESIGN "Protocol mapping", proto/README.md). */
  private static final List<String> REQUIRED_REASONS =
      List.of(
          "INVALID_GRANT", "INVALID_DPOP_PROOF", "USE_DPOP_NONCE", "AUTHORIZATION_PENDING",
          "SLOW_DOWN", "ACCESS_DENIED", "EXPIRED_TOKEN", "INVALID_CLIENT", "INVALID_SCOPE",
          "INVALID_TARGET", "INVALID_REQUEST", "UNSUPPORTED_GRANT_TYPE", "INVALID_TOKEN",
          "INSUFFICIENT_SCOPE", "TEMPORARILY_UNAVAILABLE", "SERVER_ERROR", "DEVICE_REVOKED",
          "DEVICE_SUSPENDED", "INVALID_CSR");

  /** Reasons whose code is defined by an RFC, so metadata["error"] is their lower-case name. */
  private static final List<String> RFC_DEFINED_REASONS =
      List.of(
          "INVALID_REQUEST", "INVALID_CLIENT", "INVALID_GRANT", "UNAUTHORIZED_CLIENT",
          "UNSUPPORTED_GRANT_TYPE", "INVALID_SCOPE", "INVALID_TARGET", "AUTHORIZATION_PENDING",
          "SLOW_DOWN", "ACCESS_DENIED", "EXPIRED_TOKEN", "INVALID_DPOP_PROOF", "USE_DPOP_NONCE",
          "INVALID_TOKEN", "INSUFFICIENT_SCOPE", "TEMPORARILY_UNAVAILABLE", "SERVER_ERROR");

  private static List<Declaration> sourceDeclarations;

  @BeforeAll
  static void scanSources() throws IOException {
    assertThat(PROTO_ROOT).as("run from the proto module directory").isDirectory();
    List<Declaration> all = new ArrayList<>();
    for (Path file : protoFilesOnDisk()) {
      String relative = PROTO_ROOT.relativize(file).toString().replace('\\', '/');
      all.addAll(ProtoSourceScanner.scan(relative, Files.readString(file, StandardCharsets.UTF_8)));
    }
    sourceDeclarations = List.copyOf(all);
  }

  // ---------------------------------------------------------------- (a) comments in the sources

  @Test
  void everyDeclarationWhenScannedFromSourceThenHasLeadingRfcAipOrProductComment() {
    Map<Kind, Long> perKind =
        sourceDeclarations.stream()
            .collect(Collectors.groupingBy(Declaration::kind, () -> new EnumMap<>(Kind.class),
                Collectors.counting()));
    assertThat(perKind).as("the scanner found declarations of every kind").containsOnlyKeys(Kind.values());
    assertThat(perKind.get(Kind.SERVICE)).isGreaterThanOrEqualTo(7);
    assertThat(perKind.get(Kind.RPC)).isGreaterThanOrEqualTo(25);
    assertThat(perKind.get(Kind.FIELD)).isGreaterThanOrEqualTo(100);

    assertThat(uncommented(sourceDeclarations))
        .as("declarations without a directly preceding // comment naming an RFC, an AIP or"
            + " 'Product-specific'")
        .isEmpty();
  }

  @Test
  void sourceScannerWhenComparedWithDescriptorsThenFindsEveryDeclaration() {
    Set<String> fromSource =
        sourceDeclarations.stream().map(Declaration::key).collect(Collectors.toCollection(TreeSet::new));
    assertThat(fromSource).as("no declaration is scanned twice").hasSameSizeAs(sourceDeclarations);
    assertThat(fromSource).containsExactlyInAnyOrderElementsOf(descriptorDeclarationKeys());
  }

  @Test
  void sourceScannerWhenDeclarationLacksCommentThenReportsIt() {
    String source =
        String.join(
            "\n",
            "syntax = \"proto3\";",
            "package demo.v1;",
            "// RFC 6749 §5.1: fine.",
            "message Good {",
            "  // RFC 6749 §5.1: fine.",
            "  string access_token = 1;",
            "  string no_comment = 2;",
            "  // A comment that names no specification.",
            "  string vague = 3;",
            "  // RFC 6749 §5.1: separated by a blank line, so not a leading comment.",
            "",
            "  string detached = 4;",
            "  int32 trailing = 5; // RFC 6749: a trailing comment does not count.",
            "  // Product-specific (no RFC): fine.",
            "  oneof kind {",
            "    string in_oneof = 6;",
            "  }",
            "}",
            "enum Bare {",
            "  // AIP-126: fine.",
            "  BARE_UNSPECIFIED = 0;",
            "  BARE_VALUE = 1 [deprecated = true];",
            "}",
            "// AIP-191: fine.",
            "service DemoService {",
            "  rpc GetThing(GetThingRequest) returns (GetThingResponse);",
            "}");

    List<Declaration> declarations = ProtoSourceScanner.scan("demo.proto", source);

    assertThat(uncommented(declarations))
        .extracting(Declaration::key)
        .containsExactlyInAnyOrder(
            "FIELD demo.v1.Good.no_comment",
            "FIELD demo.v1.Good.vague",
            "FIELD demo.v1.Good.detached",
            "FIELD demo.v1.Good.trailing",
            "FIELD demo.v1.Good.in_oneof",
            "ENUM demo.v1.Bare",
            "ENUM_VALUE demo.v1.Bare.BARE_VALUE",
            "RPC demo.v1.DemoService.GetThing");
  }

  // ------------------------------------------------------------- files, names and message shapes

  @Test
  void everyProtoFileWhenCompiledThenIsListedAndHasStandardOptions() throws IOException {
    Set<String> onDisk = new TreeSet<>();
    for (Path file : protoFilesOnDisk()) {
      onDisk.add(PROTO_ROOT.relativize(file).toString().replace('\\', '/'));
    }
    assertThat(FILES).extracting(FileDescriptor::getName).containsExactlyInAnyOrderElementsOf(onDisk);

    SoftAssertions soft = new SoftAssertions();
    for (FileDescriptor file : FILES) {
      String name = file.getName();
      String base = name.substring(name.lastIndexOf('/') + 1, name.length() - ".proto".length());
      FileOptions options = file.getOptions();
      soft.assertThat(file.toProto().getSyntax()).as(name).isEqualTo("proto3");
      soft.assertThat(file.getPackage()).as(name).isEqualTo(PACKAGE);
      soft.assertThat(name).as("AIP-191 directory matches package").startsWith("tokenbroker/v1/");
      soft.assertThat(base).as(name + " is lower_snake_case").matches("[a-z][a-z0-9]*(_[a-z0-9]+)*");
      soft.assertThat(options.getJavaMultipleFiles()).as(name + " java_multiple_files").isTrue();
      soft.assertThat(options.getJavaPackage()).as(name + " java_package").isEqualTo(JAVA_PACKAGE);
      soft.assertThat(options.getJavaOuterClassname())
          .as(name + " java_outer_classname")
          .isEqualTo(upperCamel(base) + "Proto");
      soft.assertThat(file.getServices().size()).as(name + " holds at most one service").isLessThanOrEqualTo(1);
      if (file.getServices().size() == 1) {
        // e.g. token_service.proto holds TokenService; agent_service.proto holds DeviceAgentService.
        soft.assertThat(base).as(name + " holds a service, so it is named *_service").endsWith("_service");
        soft.assertThat(file.getServices().get(0).getName()).as("service in " + name)
            .endsWith(upperCamel(base));
      }
    }
    soft.assertAll();
  }

  @Test
  void everyServiceWhenNamedThenEndsWithService() {
    List<ServiceDescriptor> services = allServices();
    assertThat(services).hasSizeGreaterThanOrEqualTo(7);
    assertThat(services)
        .allSatisfy(service -> assertThat(service.getName()).matches("[A-Z][A-Za-z0-9]*Service"));
  }

  @Test
  void everyRpcWhenInspectedThenHasItsOwnRequestAndResponseNamedAfterIt() {
    List<MethodDescriptor> methods = allMethods();
    assertThat(methods).hasSizeGreaterThanOrEqualTo(25);
    assertThat(methods).as("streaming RPCs are covered too").anyMatch(MethodDescriptor::isServerStreaming);

    SoftAssertions soft = new SoftAssertions();
    Map<String, String> usedBy = new HashMap<>();
    for (MethodDescriptor method : methods) {
      String rpc = method.getFullName();
      soft.assertThat(method.getInputType().getFullName()).as(rpc + " request")
          .isEqualTo(PACKAGE + "." + method.getName() + "Request");
      soft.assertThat(method.getOutputType().getFullName()).as(rpc + " response")
          .isEqualTo(PACKAGE + "." + method.getName() + "Response");
      for (Descriptor type : List.of(method.getInputType(), method.getOutputType())) {
        String previous = usedBy.put(type.getFullName(), rpc);
        soft.assertThat(previous).as(type.getFullName() + " is used by " + rpc + " only").isNull();
      }
    }
    soft.assertAll();
  }

  @Test
  void everyRpcWhenNamedThenIsVerbNounExceptTokenServiceToken() {
    List<MethodDescriptor> methods = allMethods();
    assertThat(methods).extracting(MethodDescriptor::getFullName).contains(TOKEN_ENDPOINT_EXCEPTION);

    SoftAssertions soft = new SoftAssertions();
    for (MethodDescriptor method : methods) {
      if (method.getFullName().equals(TOKEN_ENDPOINT_EXCEPTION)) {
        continue;
      }
      String name = method.getName();
      soft.assertThat(name).as(method.getFullName()).matches("[A-Z][a-z]+[A-Z][A-Za-z0-9]*");
      Matcher verb = Pattern.compile("^[A-Z][a-z]+").matcher(name);
      soft.assertThat(verb.find() && RPC_VERBS.contains(verb.group()))
          .as(method.getFullName() + " starts with one of " + new TreeSet<>(RPC_VERBS))
          .isTrue();
    }
    soft.assertAll();
  }

  @Test
  void everyEnumWhenInspectedThenZeroIsUnspecifiedAndValuesArePrefixed() {
    List<EnumDescriptor> enums = allEnums();
    assertThat(enums).hasSizeGreaterThanOrEqualTo(8);

    SoftAssertions soft = new SoftAssertions();
    for (EnumDescriptor type : enums) {
      String prefix = upperSnake(type.getName()) + "_";
      EnumValueDescriptor first = type.getValues().get(0);
      soft.assertThat(type.getName()).as("enum name").matches("[A-Z][A-Za-z0-9]*");
      soft.assertThat(first.getNumber()).as(type.getFullName() + " first value").isZero();
      soft.assertThat(first.getName()).as(type.getFullName() + " zero value")
          .isEqualTo(prefix + "UNSPECIFIED");
      soft.assertThat(type.getValues()).as(type.getFullName() + " has values besides zero").hasSizeGreaterThan(1);
      for (EnumValueDescriptor value : type.getValues()) {
        soft.assertThat(value.getName()).as(type.getFullName() + " value")
            .startsWith(prefix)
            .matches("[A-Z][A-Z0-9]*(_[A-Z0-9]+)*");
      }
    }
    soft.assertAll();
  }

  @Test
  void everyFieldWhenNamedThenIsLowerSnakeCaseAndTimesUseWellKnownTypes() {
    List<FieldDescriptor> fields = allFields();
    assertThat(fields).hasSizeGreaterThanOrEqualTo(100);

    SoftAssertions soft = new SoftAssertions();
    for (FieldDescriptor field : fields) {
      String name = field.getName();
      String what = field.getFullName();
      soft.assertThat(name).as(what).matches("[a-z][a-z0-9]*(_[a-z0-9]+)*");
      if (isTimeName(name)) {
        soft.assertThat(messageTypeName(field)).as(what + " is a point in time")
            .isEqualTo("google.protobuf.Timestamp");
      }
      if (isDurationName(name)) {
        soft.assertThat(messageTypeName(field)).as(what + " is a duration")
            .isEqualTo("google.protobuf.Duration");
      }
      if (field.getJavaType() == FieldDescriptor.JavaType.INT
          || field.getJavaType() == FieldDescriptor.JavaType.LONG) {
        soft.assertThat(name.equals("page_size") || name.endsWith("_count"))
            .as(what + ": integers only for page_size and counts; times are Timestamp/Duration")
            .isTrue();
      }
    }
    for (Descriptor message : allMessages()) {
      soft.assertThat(message.getName()).as("message name").matches("[A-Z][A-Za-z0-9]*");
      for (OneofDescriptor oneof : message.getOneofs()) {
        soft.assertThat(oneof.getName()).as(message.getFullName() + " oneof")
            .matches("[a-z][a-z0-9]*(_[a-z0-9]+)*");
      }
    }
    soft.assertAll();
  }

  @Test
  void everyListRpcWhenInspectedThenPagesPerAip158() {
    List<MethodDescriptor> lists =
        allMethods().stream().filter(m -> m.getName().startsWith("List")).collect(Collectors.toList());
    assertThat(lists).hasSizeGreaterThanOrEqualTo(4);

    SoftAssertions soft = new SoftAssertions();
    for (MethodDescriptor method : lists) {
      soft.assertThat(fieldType(method.getInputType(), "page_size")).as(method.getFullName())
          .isEqualTo(FieldDescriptor.Type.INT32);
      soft.assertThat(fieldType(method.getInputType(), "page_token")).as(method.getFullName())
          .isEqualTo(FieldDescriptor.Type.STRING);
      soft.assertThat(fieldType(method.getOutputType(), "next_page_token")).as(method.getFullName())
          .isEqualTo(FieldDescriptor.Type.STRING);
      soft.assertThat(method.getOutputType().getFields())
          .as(method.getFullName() + " returns one repeated resource list")
          .filteredOn(FieldDescriptor::isRepeated)
          .hasSize(1);
    }
    soft.assertAll();
  }

  // ------------------------------------------------------------------------ (c) the error model

  @Test
  void errorReasonWhenInspectedThenContainsEveryReasonTheBrokerEmits() {
    List<String> reasons = reasonNames();
    assertThat(reasons).containsAll(REQUIRED_REASONS).doesNotHaveDuplicates();
    assertThat(ErrorReason.ERROR_REASON_UNSPECIFIED.getNumber()).isZero();
    assertThat(reasons)
        .allSatisfy(reason -> assertThat(reason).hasSizeLessThanOrEqualTo(63)
            .as("AIP-193 reason format").matches("[A-Z][A-Z0-9_]+[A-Z0-9]"));
  }

  @Test
  void errorReasonWhenInspectedThenEveryValueMapsToAnRfcCodeAndGrpcStatus() {
    SoftAssertions soft = new SoftAssertions();
    for (EnumValueDescriptor value : ErrorReason.getDescriptor().getValues()) {
      if (value.getNumber() == 0) {
        soft.assertThat(value.getOptions().hasExtension(ErrorReasonProto.oauthError)).isFalse();
        continue;
      }
      soft.assertThat(value.getOptions().hasExtension(ErrorReasonProto.oauthError))
          .as(value.getName() + " has (oauth_error)").isTrue();
      soft.assertThat(value.getOptions().hasExtension(ErrorReasonProto.grpcCode))
          .as(value.getName() + " has (grpc_code)").isTrue();
      soft.assertThat(oauthError(value)).as(value.getName()).matches("[a-z]+(_[a-z]+)*");
      soft.assertThat(grpcCode(value)).as(value.getName())
          .isNotIn(Code.OK, Code.UNKNOWN, Code.UNRECOGNIZED);
    }
    for (String reason : RFC_DEFINED_REASONS) {
      soft.assertThat(oauthError(reasonValue(reason))).as(reason)
          .isEqualTo(reason.toLowerCase(Locale.ROOT));
    }
    soft.assertAll();

    // Mappings the design fixes explicitly (proto/README.md explains the choice).
    assertThat(grpcCode(reasonValue("INVALID_REQUEST"))).isEqualTo(Code.INVALID_ARGUMENT);
    assertThat(grpcCode(reasonValue("INVALID_CLIENT"))).isEqualTo(Code.UNAUTHENTICATED);
    assertThat(grpcCode(reasonValue("INVALID_DPOP_PROOF"))).isEqualTo(Code.UNAUTHENTICATED);
    assertThat(grpcCode(reasonValue("USE_DPOP_NONCE"))).isEqualTo(Code.UNAUTHENTICATED);
    assertThat(grpcCode(reasonValue("ACCESS_DENIED"))).isEqualTo(Code.PERMISSION_DENIED);
    assertThat(grpcCode(reasonValue("AUTHORIZATION_PENDING"))).isEqualTo(Code.FAILED_PRECONDITION);
    assertThat(grpcCode(reasonValue("SLOW_DOWN"))).isEqualTo(Code.RESOURCE_EXHAUSTED);
    assertThat(grpcCode(reasonValue("TEMPORARILY_UNAVAILABLE"))).isEqualTo(Code.UNAVAILABLE);
    assertThat(grpcCode(reasonValue("SERVER_ERROR"))).isEqualTo(Code.INTERNAL);
  }

  @Test
  void errorReasonWhenComparedWithReadmeTableThenEveryRowMatches() throws IOException {
    // Rows look like: | `INVALID_GRANT` | `invalid_grant` | `UNAUTHENTICATED` | ... |
    Pattern row = Pattern.compile("^\\|\\s*`([A-Z][A-Z0-9_]*)`\\s*\\|\\s*`([a-z_]+)`\\s*\\|\\s*`([A-Z_]+)`\\s*\\|");
    Map<String, String> documented = new LinkedHashMap<>();
    for (String line : Files.readAllLines(README, StandardCharsets.UTF_8)) {
      Matcher m = row.matcher(line);
      if (m.find()) {
        documented.put(m.group(1), m.group(2) + " " + m.group(3));
      }
    }
    Map<String, String> actual = new LinkedHashMap<>();
    for (EnumValueDescriptor value : ErrorReason.getDescriptor().getValues()) {
      if (value.getNumber() != 0) {
        actual.put(reasonOf(value), oauthError(value) + " " + grpcCode(value).name());
      }
    }
    assertThat(actual).isNotEmpty();
    assertThat(documented).as("README error table vs ErrorReason options").isEqualTo(actual);
  }

  // -------------------------------------------------------------------------------- helpers

  private static List<Path> protoFilesOnDisk() throws IOException {
    try (Stream<Path> paths = Files.walk(PROTO_ROOT)) {
      List<Path> files = paths.filter(p -> p.toString().endsWith(".proto")).sorted().collect(Collectors.toList());
      assertThat(files).as(".proto files under " + PROTO_ROOT.toAbsolutePath()).isNotEmpty();
      return files;
    }
  }

  private static List<Declaration> uncommented(List<Declaration> declarations) {
    return declarations.stream()
        .filter(d -> d.leadingComment() == null || !REFERENCE.matcher(d.leadingComment()).find())
        .collect(Collectors.toList());
  }

  private static List<ServiceDescriptor> allServices() {
    return FILES.stream().flatMap(f -> f.getServices().stream()).collect(Collectors.toList());
  }

  private static List<MethodDescriptor> allMethods() {
    return allServices().stream().flatMap(s -> s.getMethods().stream()).collect(Collectors.toList());
  }

  /** All messages, nested ones included, except the synthetic entries of map fields. */
  private static List<Descriptor> allMessages() {
    List<Descriptor> out = new ArrayList<>();
    Consumer<Descriptor> add = new Consumer<>() {
      @Override
      public void accept(Descriptor message) {
        if (message.getOptions().getMapEntry()) {
          return;
        }
        out.add(message);
        message.getNestedTypes().forEach(this);
      }
    };
    FILES.forEach(f -> f.getMessageTypes().forEach(add));
    return out;
  }

  private static List<EnumDescriptor> allEnums() {
    List<EnumDescriptor> out = new ArrayList<>();
    FILES.forEach(f -> out.addAll(f.getEnumTypes()));
    allMessages().forEach(m -> out.addAll(m.getEnumTypes()));
    return out;
  }

  /** Message fields plus extension fields (custom options). */
  private static List<FieldDescriptor> allFields() {
    List<FieldDescriptor> out = new ArrayList<>();
    FILES.forEach(f -> out.addAll(f.getExtensions()));
    for (Descriptor message : allMessages()) {
      out.addAll(message.getFields());
      out.addAll(message.getExtensions());
    }
    return out;
  }

  private static Set<String> descriptorDeclarationKeys() {
    Set<String> keys = new TreeSet<>();
    for (ServiceDescriptor service : allServices()) {
      keys.add(Kind.SERVICE + " " + service.getFullName());
      service.getMethods().forEach(m -> keys.add(Kind.RPC + " " + m.getFullName()));
    }
    for (Descriptor message : allMessages()) {
      keys.add(Kind.MESSAGE + " " + message.getFullName());
      for (OneofDescriptor oneof : message.getOneofs()) {
        if (!oneof.isSynthetic()) {
          keys.add(Kind.ONEOF + " " + message.getFullName() + "." + oneof.getName());
        }
      }
    }
    allFields().forEach(f -> keys.add(Kind.FIELD + " " + f.getFullName()));
    for (EnumDescriptor type : allEnums()) {
      keys.add(Kind.ENUM + " " + type.getFullName());
      type.getValues().forEach(v -> keys.add(Kind.ENUM_VALUE + " " + type.getFullName() + "." + v.getName()));
    }
    return keys;
  }

  private static boolean isTimeName(String name) {
    return name.endsWith("_at")
        || name.endsWith("_time")
        || Set.of("exp", "iat", "nbf", "not_before", "not_after", "relevant_until", "renew_after")
            .contains(name);
  }

  private static boolean isDurationName(String name) {
    return name.endsWith("expires_in")
        || name.endsWith("interval")
        || name.endsWith("_lifetime")
        || name.endsWith("_window");
  }

  private static String messageTypeName(FieldDescriptor field) {
    return field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
        ? field.getMessageType().getFullName()
        : field.getType().name();
  }

  private static FieldDescriptor.Type fieldType(Descriptor message, String name) {
    FieldDescriptor field = message.findFieldByName(name);
    return field == null || field.isRepeated() ? null : field.getType();
  }

  private static List<String> reasonNames() {
    return ErrorReason.getDescriptor().getValues().stream()
        .filter(v -> v.getNumber() != 0)
        .map(ApiConventionsTest::reasonOf)
        .collect(Collectors.toList());
  }

  /** AIP-193 ErrorInfo.reason: the value name without the enum prefix. */
  private static String reasonOf(EnumValueDescriptor value) {
    assertThat(value.getName()).startsWith("ERROR_REASON_");
    return value.getName().substring("ERROR_REASON_".length());
  }

  private static EnumValueDescriptor reasonValue(String reason) {
    EnumValueDescriptor value = ErrorReason.getDescriptor().findValueByName("ERROR_REASON_" + reason);
    assertThat(value).as("ErrorReason has " + reason).isNotNull();
    return value;
  }

  private static String oauthError(EnumValueDescriptor value) {
    return value.getOptions().getExtension(ErrorReasonProto.oauthError);
  }

  private static Code grpcCode(EnumValueDescriptor value) {
    return value.getOptions().getExtension(ErrorReasonProto.grpcCode);
  }

  /** "TokenTypeHint" -> "TOKEN_TYPE_HINT". */
  private static String upperSnake(String pascal) {
    return lowerSnake(pascal).toUpperCase(Locale.ROOT);
  }

  /** "DeviceAuthorizationService" -> "device_authorization_service". */
  private static String lowerSnake(String pascal) {
    return pascal.replaceAll("([a-z0-9])([A-Z])", "$1_$2")
        .replaceAll("([A-Z])([A-Z][a-z])", "$1_$2")
        .toLowerCase(Locale.ROOT);
  }

  /** "device_authorization_service" -> "DeviceAuthorizationService". */
  private static String upperCamel(String snake) {
    StringBuilder out = new StringBuilder();
    for (String part : snake.split("_")) {
      out.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
    }
    return out.toString();
  }

  // ------------------------------------------------------------------------ the source scanner

  enum Kind {
    SERVICE, RPC, MESSAGE, FIELD, ENUM, ENUM_VALUE, ONEOF
  }

  /**
   * One declaration found in a .proto source.
   *
   * @param leadingComment the text of the contiguous {@code //} comment lines directly above the
   *     declaration's first line, or {@code null} when there are none (a blank line or a line with
   *     code in between breaks the contiguity, as for protoc's leading comments)
   */
  record Declaration(Kind kind, String fullName, String file, int line, String leadingComment) {
    String key() {
      return kind + " " + fullName;
    }
  }

  /**
   * A deliberately small scanner for the proto3 subset this API uses: it splits the source into
   * statements at {@code ;}, <code>{</code> and <code>}</code> (skipping comments and string
   * literals), tracks the enclosing block, and records every declaration with its leading comment.
   * Unknown statements fail loudly instead of being skipped.
   */
  static final class ProtoSourceScanner {
    private static final Pattern FIELD_NAME = Pattern.compile("(\\w+)\\s*=\\s*\\d+");
    private static final Pattern FIRST_WORDS = Pattern.compile("^(\\w+)\\s+([\\w.]+)");
    private static final Set<String> IGNORED = Set.of("syntax", "edition", "package", "import", "option", "reserved", "extensions");

    private enum Block { FILE, MESSAGE, ENUM, SERVICE, ONEOF, EXTEND, RPC_BODY }

    private record Scope(Block block, String name) {}

    private final String file;
    private final String[] lines;
    private final List<Declaration> out = new ArrayList<>();
    private final Deque<Scope> scopes = new ArrayDeque<>();
    private String protoPackage = "";

    private ProtoSourceScanner(String file, String source) {
      this.file = file;
      this.lines = source.split("\n", -1);
    }

    static List<Declaration> scan(String file, String source) {
      ProtoSourceScanner scanner = new ProtoSourceScanner(file, source);
      scanner.run(source);
      return scanner.out;
    }

    private void run(String source) {
      scopes.push(new Scope(Block.FILE, ""));
      StringBuilder statement = new StringBuilder();
      int statementLine = -1;
      int line = 1;
      for (int i = 0; i < source.length(); i++) {
        char c = source.charAt(i);
        char next = i + 1 < source.length() ? source.charAt(i + 1) : '\0';
        if (c == '\n') {
          line++;
          statement.append(' ');
        } else if (c == '/' && next == '/') {
          while (i + 1 < source.length() && source.charAt(i + 1) != '\n') {
            i++;
          }
        } else if (c == '/' && next == '*') {
          int end = source.indexOf("*/", i + 2);
          if (end < 0) {
            throw new IllegalStateException(file + ":" + line + ": unterminated block comment");
          }
          line += (int) source.substring(i, end).chars().filter(ch -> ch == '\n').count();
          i = end + 1;
        } else if (c == ';' || c == '{' || c == '}') {
          statement(c, statement.toString().trim().replaceAll("\\s+", " "), statementLine);
          statement.setLength(0);
          statementLine = -1;
        } else {
          if (statementLine < 0 && !Character.isWhitespace(c)) {
            statementLine = line;
          }
          statement.append(c);
          if (c == '"' || c == '\'') {
            for (i++; i < source.length() && source.charAt(i) != c; i++) {
              statement.append(source.charAt(i));
              if (source.charAt(i) == '\\' && i + 1 < source.length()) {
                statement.append(source.charAt(++i));
              }
            }
            statement.append(c);
          }
        }
      }
      if (scopes.size() != 1) {
        throw new IllegalStateException(file + ": unbalanced braces");
      }
    }

    private void statement(char terminator, String text, int line) {
      if (terminator == '}') {
        if (!text.isEmpty()) {
          throw new IllegalStateException(file + ":" + line + ": unexpected text before '}': " + text);
        }
        scopes.pop();
        return;
      }
      Scope scope = scopes.peek();
      if (text.isEmpty()) {
        if (terminator == '{') {
          throw new IllegalStateException(file + ":" + line + ": '{' without a header");
        }
        return; // a stray ';' is legal proto
      }
      String keyword = text.split("[\\s(<]", 2)[0];
      if (terminator == '{') {
        openBlock(keyword, text, line, scope);
        return;
      }
      if (IGNORED.contains(keyword)) {
        if (keyword.equals("package")) {
          protoPackage = text.substring("package".length()).trim();
        }
        return;
      }
      switch (scope.block()) {
        case SERVICE -> {
          require(keyword.equals("rpc"), line, text);
          add(Kind.RPC, scope.name() + "." + secondWord(text, line), line);
        }
        case MESSAGE, ONEOF, EXTEND -> add(Kind.FIELD, scope.name() + "." + fieldName(text, line), line);
        case ENUM -> add(Kind.ENUM_VALUE, scope.name() + "." + fieldName(text, line), line);
        default -> throw new IllegalStateException(file + ":" + line + ": unexpected statement: " + text);
      }
    }

    private void openBlock(String keyword, String text, int line, Scope scope) {
      String parent = scope.block() == Block.FILE ? protoPackage : scope.name();
      switch (keyword) {
        case "message" -> {
          String name = parent + "." + secondWord(text, line);
          add(Kind.MESSAGE, name, line);
          scopes.push(new Scope(Block.MESSAGE, name));
        }
        case "enum" -> {
          String name = parent + "." + secondWord(text, line);
          add(Kind.ENUM, name, line);
          scopes.push(new Scope(Block.ENUM, name));
        }
        case "service" -> {
          String name = parent + "." + secondWord(text, line);
          add(Kind.SERVICE, name, line);
          scopes.push(new Scope(Block.SERVICE, name));
        }
        case "oneof" -> {
          require(scope.block() == Block.MESSAGE, line, text);
          add(Kind.ONEOF, scope.name() + "." + secondWord(text, line), line);
          scopes.push(new Scope(Block.ONEOF, scope.name()));
        }
        case "extend" -> scopes.push(new Scope(Block.EXTEND, parent));
        case "rpc" -> {
          require(scope.block() == Block.SERVICE, line, text);
          add(Kind.RPC, scope.name() + "." + secondWord(text, line), line);
          scopes.push(new Scope(Block.RPC_BODY, scope.name()));
        }
        default -> throw new IllegalStateException(file + ":" + line + ": unexpected block: " + text);
      }
    }

    private void add(Kind kind, String fullName, int line) {
      out.add(new Declaration(kind, fullName, file, line, leadingComment(line)));
    }

    /** Contiguous comment-only lines directly above {@code line} (1-based), or null. */
    private String leadingComment(int line) {
      List<String> comment = new ArrayList<>();
      for (int i = line - 2; i >= 0 && lines[i].trim().startsWith("//"); i--) {
        comment.add(0, lines[i].trim().substring(2).trim());
      }
      return comment.isEmpty() ? null : String.join("\n", comment);
    }

    private String secondWord(String text, int line) {
      Matcher m = FIRST_WORDS.matcher(text.replace("(", " ("));
      require(m.find(), line, text);
      return m.group(2);
    }

    private String fieldName(String text, int line) {
      Matcher m = FIELD_NAME.matcher(text);
      require(m.find(), line, text);
      return m.group(1);
    }

    private void require(boolean condition, int line, String text) {
      if (!condition) {
        throw new IllegalStateException(file + ":" + line + ": cannot parse: " + text);
      }
    }
  }
}
