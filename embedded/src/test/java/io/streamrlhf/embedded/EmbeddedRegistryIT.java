package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registry child process: cold and warm starts, the Confluent-compatible API with an Avro
 * schema, persistence, port handling and a clean stop.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EmbeddedRegistryIT {

    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedRegistryIT.class);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String SCHEMA_JSON = "application/vnd.schemaregistry.v1+json";

    @TempDir
    static Path cache;

    @Test
    @Order(1)
    void coldThenWarmStartRegistersAndFetchesAnAvroSchemaAndStopsCleanly() throws Exception {
        // A fresh cache makes the first start unpack the zip and record the class-data archive
        // (cold); the second reuses both (warm).
        long coldMillis;
        String subject = "prompts-" + UUID.randomUUID() + "-value";
        try (EmbeddedRegistry registry = EmbeddedRegistry.builder().cacheDir(cache).start()) {
            coldMillis = registry.startupMillis();
            assertThat(registry.distribution().unpackedNow()).isTrue();
            assertThat(registry.reusedClassDataArchive()).isFalse(); // this run records it
            assertThat(registry.url()).isEqualTo("http://localhost:" + registry.port() + "/apis/ccompat/v7");
            assertThat(get(registry.baseUrl() + EmbeddedRegistry.READY_PATH).statusCode()).isEqualTo(200);

            int id = register(registry.url(), subject, avroSchema("Prompt"));
            assertThat(id).isPositive();
            HttpResponse<String> byId = get(registry.url() + "/schemas/ids/" + id);
            assertThat(byId.statusCode()).isEqualTo(200);
            assertThat(byId.body()).contains("Prompt").contains("prompt_id");
            assertThat(get(registry.url() + "/subjects").body()).contains(subject);
            // Registering the same schema again is idempotent: same id.
            assertThat(register(registry.url(), subject, avroSchema("Prompt"))).isEqualTo(id);
        }

        EmbeddedRegistry warm = EmbeddedRegistry.builder().cacheDir(cache).start();
        ProcessHandle child = warm.process();
        int port = warm.port();
        Path workDir = warm.logFile().getParent();
        try {
            assertThat(warm.distribution().unpackedNow()).isFalse();
            assertThat(warm.reusedClassDataArchive()).isTrue();
            assertThat(warm.isRunning()).isTrue();
            assertThat(child.info().command().orElse("")).isEqualTo(EmbeddedRegistry.javaExecutable());
            // In-memory storage: a new process starts empty.
            assertThat(get(warm.url() + "/subjects").body()).doesNotContain(subject);
            LOG.info("registry start-up: cold (unpack + start) {} ms, warm {} ms", coldMillis, warm.startupMillis());
        } finally {
            warm.close();
        }
        warm.close(); // idempotent
        assertThat(child.isAlive()).as("registry process gone after close").isFalse();
        assertThat(LocalPorts.isFree(port)).as("registry port free after close").isTrue();
        assertThat(workDir).doesNotExist();
    }

    @Test
    @Order(2)
    void persistentStorageKeepsSchemaIdsAcrossRestart(@TempDir Path dir) throws Exception {
        String subject = "scored-" + UUID.randomUUID() + "-value";
        int id;
        try (EmbeddedRegistry first = EmbeddedRegistry.builder().cacheDir(cache).storageDir(dir).start()) {
            id = register(first.url(), subject, avroSchema("ScoredGeneration"));
        }
        assertThat(dir.resolve(EmbeddedRegistry.LOG_FILE)).isRegularFile();
        try (EmbeddedRegistry second = EmbeddedRegistry.builder().cacheDir(cache).storageDir(dir).start()) {
            HttpResponse<String> byId = get(second.url() + "/schemas/ids/" + id);
            assertThat(byId.statusCode()).isEqualTo(200);
            assertThat(byId.body()).contains("ScoredGeneration");
            assertThat(get(second.url() + "/subjects").body()).contains(subject);
        }
    }

    @Test
    @Order(3)
    void aBusyRequestedPortIsReportedByNumberBeforeLaunching() throws IOException {
        try (ServerSocket squatter = new ServerSocket()) {
            squatter.bind(new InetSocketAddress("localhost", 0));
            int port = squatter.getLocalPort();
            Throwable error = catchThrowable(() -> EmbeddedRegistry.builder().cacheDir(cache).port(port).start());
            assertThat(error).hasMessageContaining("port " + port + " is already in use");
        }
    }

    @Test
    @Order(4)
    void aRegistryThatCannotStartFailsWithItsLogTail() {
        // An unknown storage kind makes Apicurio fail during start-up; the error must carry its log.
        Throwable error = catchThrowable(() -> EmbeddedRegistry.builder().cacheDir(cache)
                .property("apicurio.storage.kind", "no-such-storage").startTimeout(Duration.ofSeconds(60)).start());
        assertThat(error).isInstanceOf(EmbeddedStartException.class)
                .hasMessageContaining("exited with code")
                .hasMessageContaining("Last lines of");
    }

    /** A small Avro record schema with the given name. */
    static String avroSchema(String name) {
        return "{\"type\":\"record\",\"name\":\"" + name + "\",\"namespace\":\"io.streamrlhf.test\",\"fields\":["
                + "{\"name\":\"prompt_id\",\"type\":\"string\"},{\"name\":\"n\",\"type\":\"int\",\"default\":0}]}";
    }

    /** Registers {@code schema} under {@code subject} through the Confluent API and returns its id. */
    static int register(String url, String subject, String schema) throws Exception {
        String body = "{\"schema\":\"" + schema.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(url + "/subjects/" + subject + "/versions"))
                .header("Content-Type", SCHEMA_JSON)
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("register response: %s", response.body()).isEqualTo(200);
        Matcher id = Pattern.compile("\"id\"\\s*:\\s*(\\d+)").matcher(response.body());
        assertThat(id.find()).as("id in %s", response.body()).isTrue();
        return Integer.parseInt(id.group(1));
    }

    static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
