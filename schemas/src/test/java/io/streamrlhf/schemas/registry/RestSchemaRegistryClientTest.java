package io.streamrlhf.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.schemas.serde.AvroSerdeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the REST client sends to a Confluent-style registry and how it reads the answers. */
class RestSchemaRegistryClientTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema ITEM = SchemaBuilder.record("Item").namespace("t").fields()
            .requiredString("id").endRecord();

    private FakeConfluentRegistry fake;

    @BeforeEach
    void start() throws IOException {
        fake = FakeConfluentRegistry.http();
    }

    @AfterEach
    void stop() {
        fake.close();
    }

    private static String schemaAnswer(Schema schema, String... extra) {
        var node = JSON.createObjectNode().put("schema", schema.toString());
        for (int i = 0; i < extra.length; i += 2) {
            node.put(extra[i], Integer.parseInt(extra[i + 1]));
        }
        return node.toString();
    }

    @Test
    void registerPostsTheSchemaWithConfluentContentTypeAndBasicAuthThenCaches() throws Exception {
        fake.on("POST", "/subjects/my%20topic-value/versions", 200, "{\"id\":42}");
        RestSchemaRegistryClient client = new RestSchemaRegistryClient(RegistryClientConfig.builder(fake.url("http") + "/")
                .userInfo("alice:s3cret").build());

        assertThat(client.register("my topic-value", ITEM)).isEqualTo(42);
        assertThat(client.register("my topic-value", ITEM)).isEqualTo(42);

        assertThat(fake.requests.get()).isEqualTo(1); // the second answer came from the cache
        FakeConfluentRegistry.Received request = fake.received.get(0);
        assertThat(request.headers().get("Content-type")).containsExactly("application/vnd.schemaregistry.v1+json");
        assertThat(request.headers().get("Authorization")).containsExactly(
                "Basic " + Base64.getEncoder().encodeToString("alice:s3cret".getBytes()));
        JsonNode body = JSON.readTree(request.body());
        assertThat(new Schema.Parser().parse(body.get("schema").asText())).isEqualTo(ITEM);
        assertThat(body.get("schemaType").asText()).isEqualTo("AVRO");
    }

    @Test
    void schemaByIdIsFetchedOnceAndLatestCarriesVersionAndId() {
        fake.on("GET", "/schemas/ids/7", 200, schemaAnswer(ITEM))
                .on("GET", "/subjects/s-value/versions/latest", 200,
                        schemaAnswer(ITEM, "id", "7", "version", "3"));
        RestSchemaRegistryClient client = new RestSchemaRegistryClient(fake.url("http"));

        assertThat(client.schemaById(7)).isEqualTo(ITEM);
        assertThat(client.schemaById(7)).isEqualTo(ITEM);
        assertThat(client.latest("s-value")).isEqualTo(new RegisteredSchema("s-value", 3, 7, ITEM));
        assertThat(client.latest("s-value").version()).isEqualTo(3);

        assertThat(fake.requests.get()).isEqualTo(2); // one per distinct question
    }

    @Test
    void errorsCarryStatusErrorCodeAndTheRegistrysMessage() {
        fake.on("POST", "/subjects/s-value/versions", 409, "{\"error_code\":409,\"message\":\"Schema being "
                        + "registered is incompatible with an earlier schema for subject \\\"s-value\\\"\"}")
                .on("GET", "/schemas/ids/99", 404, "{\"error_code\":40403,\"message\":\"Schema 99 not found\"}");
        RestSchemaRegistryClient client = new RestSchemaRegistryClient(fake.url("http"));

        assertThatThrownBy(() -> client.register("s-value", ITEM))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isIncompatible()).isTrue();
                    assertThat(e.errorCode()).isEqualTo(409);
                })
                .hasMessage("Registry " + fake.url("http") + " refused to register schema t.Item under subject "
                        + "'s-value': HTTP 409 (error 409): Schema being registered is incompatible with an earlier "
                        + "schema for subject \"s-value\"");
        assertThatThrownBy(() -> client.schemaById(99))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
                    assertThat(e.isNotFound()).isTrue();
                    assertThat(e.errorCode()).isEqualTo(40403);
                })
                .hasMessageContaining("fetch schema id 99: HTTP 404 (error 40403): Schema 99 not found");
    }

    @Test
    void compatibilityCheckReadsVerboseMessagesAndTreatsANewSubjectAsCompatible() {
        fake.on("POST", "/compatibility/subjects/s-value/versions/latest?verbose=true", 200,
                        "{\"is_compatible\":false,\"messages\":[\"READER_FIELD_MISSING_DEFAULT_VALUE: size\"]}")
                .on("PUT", "/config/s-value", 200, "{\"compatibility\":\"BACKWARD\"}")
                .on("GET", "/config/s-value?defaultToGlobal=true", 200, "{\"compatibilityLevel\":\"FULL\"}");
        RestSchemaRegistryClient client = new RestSchemaRegistryClient(fake.url("http"));

        assertThat(client.testCompatibility("s-value", ITEM))
                .isEqualTo(new CompatibilityResult(false, List.of("READER_FIELD_MISSING_DEFAULT_VALUE: size")));
        assertThat(client.testCompatibility("new-value", ITEM).compatible()).isTrue(); // 404: no versions yet
        client.setCompatibility("s-value", CompatibilityLevel.BACKWARD);
        assertThat(fake.received.get(2).body()).isEqualTo("{\"compatibility\":\"BACKWARD\"}");
        assertThat(client.compatibility("s-value")).isEqualTo(CompatibilityLevel.FULL);
    }

    @Test
    void requestTimeoutIsEnforced() {
        fake.slow("GET", "/schemas/ids/1", 1_200);
        RestSchemaRegistryClient client = new RestSchemaRegistryClient(RegistryClientConfig.builder(fake.url("http"))
                .requestTimeout(Duration.ofMillis(300)).build());

        long start = System.nanoTime();
        assertThatThrownBy(() -> client.schemaById(1))
                .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isUnreachable()).isTrue())
                .hasMessageContaining("Schema registry unreachable at " + fake.url("http"))
                .hasMessageContaining("HttpTimeoutException");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_100);
    }

    @Test
    void laterUrlsAreTriedWhenEarlierOnesAreDown() throws IOException {
        fake.on("GET", "/schemas/ids/7", 200, schemaAnswer(ITEM));
        String down;
        try (ServerSocket socket = new ServerSocket(0)) {
            down = "http://localhost:" + socket.getLocalPort();
        }
        RestSchemaRegistryClient client = new RestSchemaRegistryClient(
                RegistryClientConfig.builder(down, fake.url("http")).build());

        assertThat(client.schemaById(7)).isEqualTo(ITEM);
    }

    @Test
    void serdeConfigTakesCredentialsFromTheUrlOrFromUserInfo() {
        fake.on("GET", "/schemas/ids/7", 200, schemaAnswer(ITEM));
        String withUser = fake.url("http").replace("http://", "http://bob:pw@");
        new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, withUser)).registryClient().schemaById(7);
        new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, fake.url("http"),
                AvroSerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO",
                AvroSerdeConfig.BASIC_AUTH_USER_INFO, "carol:pw2")).registryClient().schemaById(7);

        assertThat(fake.received).extracting(r -> r.headers().get("Authorization").get(0)).containsExactly(
                "Basic " + Base64.getEncoder().encodeToString("bob:pw".getBytes()),
                "Basic " + Base64.getEncoder().encodeToString("carol:pw2".getBytes()));
    }

    @Test
    void httpsWorksWithATruststoreFromTheSerdeConfigAndFailsWithoutIt(@TempDir Path dir) throws Exception {
        Path keystore = dir.resolve("server.p12");
        keytool("-genkeypair", "-alias", "registry", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-storetype", "PKCS12",
                "-keystore", keystore.toString(), "-storepass", "changeit", "-keypass", "changeit");
        // The JDK's trust manager also trusts the certificate of a key entry, so the server's own store doubles as
        // the client's truststore (one keytool run instead of three).
        Path truststore = keystore;

        KeyStore serverKeys = KeyStore.getInstance("PKCS12");
        try (InputStream in = Files.newInputStream(keystore)) {
            serverKeys.load(in, "changeit".toCharArray());
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(serverKeys, "changeit".toCharArray());
        SSLContext serverContext = SSLContext.getInstance("TLS");
        serverContext.init(keys.getKeyManagers(), null, null);

        try (FakeConfluentRegistry tls = FakeConfluentRegistry.https(serverContext)) {
            tls.on("GET", "/schemas/ids/7", 200, schemaAnswer(ITEM));
            SchemaRegistryClient trusting = new AvroSerdeConfig(Map.of(
                    AvroSerdeConfig.SCHEMA_REGISTRY_URL, tls.url("https"),
                    AvroSerdeConfig.SSL_TRUSTSTORE_LOCATION, truststore.toString(),
                    AvroSerdeConfig.SSL_TRUSTSTORE_PASSWORD, "changeit")).registryClient();
            assertThat(trusting.schemaById(7)).isEqualTo(ITEM);

            SchemaRegistryClient defaultTrust = new AvroSerdeConfig(Map.of(
                    AvroSerdeConfig.SCHEMA_REGISTRY_URL, tls.url("https"))).registryClient();
            assertThatThrownBy(() -> defaultTrust.schemaById(7))
                    .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.isUnreachable()).isTrue())
                    .hasMessageContaining("SSLHandshakeException");
        }
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as("keytool %s: %s", args[0], output).isZero();
    }
}
