package io.streamrlhf.ops.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (the {@code prometheus} binary on the PATH, as Debian's {@code prometheus} package
 * installs it; {@code .ci/run} installs it) scraping given targets, and its HTTP query API. Tests skip with
 * {@link #MISSING} where the binary is absent.
 */
public final class RealPrometheus implements AutoCloseable {

    /** Why a test that needs the server skips. */
    public static final String MISSING = "no 'prometheus' binary on the PATH (Debian's prometheus package; .ci/run "
            + "installs it where apt-get is usable)";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Process process;
    private final URI api;
    private final Path log;

    private RealPrometheus(Process process, URI api, Path log) {
        this.process = process;
        this.api = api;
        this.log = log;
    }

    /** The {@code prometheus} binary on the PATH, if any. */
    public static Optional<Path> binary() {
        return onPath("prometheus");
    }

    /** The {@code promtool} binary on the PATH, if any (the same package brings it). */
    public static Optional<Path> promtool() {
        return onPath("promtool");
    }

    private static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * Starts a server that scrapes {@code targets} ({@code host:port}, path {@code /metrics}) every
     * {@code interval}, with its data and config in {@code dir}, and waits until it is ready.
     *
     * @param ruleFiles alert or recording rule files to load (may be empty)
     */
    public static RealPrometheus scrape(Path dir, List<String> targets, Duration interval, List<Path> ruleFiles)
            throws IOException, InterruptedException {
        Path bin = binary().orElseThrow(() -> new IllegalStateException(MISSING));
        Files.createDirectories(dir);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        StringBuilder config = new StringBuilder();
        config.append("global:\n  scrape_interval: ").append(interval.toMillis()).append("ms\n")
                .append("  evaluation_interval: ").append(interval.toMillis()).append("ms\n");
        if (!ruleFiles.isEmpty()) {
            config.append("rule_files:\n");
            ruleFiles.forEach(f -> config.append("  - ").append(f.toAbsolutePath()).append('\n'));
        }
        config.append("scrape_configs:\n  - job_name: rlhf\n    static_configs:\n      - targets: [");
        config.append(String.join(", ", targets.stream().map(t -> "'" + t + "'").toList())).append("]\n");
        Path file = dir.resolve("prometheus.yml");
        Files.writeString(file, config);
        Path log = dir.resolve("prometheus.log");
        List<String> command = new ArrayList<>(List.of(bin.toString(), "--config.file=" + file,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--web.enable-lifecycle"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        RealPrometheus server = new RealPrometheus(process, URI.create("http://127.0.0.1:" + port), log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("prometheus exited with " + process.exitValue() + ": "
                        + Files.readString(log));
            }
            try {
                if (server.get("/-/ready").statusCode() == 200) {
                    return server;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        server.close();
        throw new IllegalStateException("prometheus not ready within 60 s: " + Files.readString(log));
    }

    /** An instant PromQL query; the {@code data.result} array (a vector's samples). */
    public JsonNode query(String promql) throws IOException, InterruptedException {
        HttpResponse<String> r = get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        JsonNode body = JSON.readTree(r.body());
        if (r.statusCode() != 200 || !"success".equals(body.path("status").asText())) {
            throw new IllegalArgumentException("query '" + promql + "' failed (" + r.statusCode() + "): " + r.body());
        }
        return body.path("data").path("result");
    }

    /** The sum of the values of an instant query's samples; empty when the result has none. */
    public Optional<Double> value(String promql) throws IOException, InterruptedException {
        JsonNode result = query(promql);
        if (result.isEmpty()) {
            return Optional.empty();
        }
        double sum = 0;
        for (JsonNode sample : result) {
            sum += Double.parseDouble(sample.path("value").get(1).asText());
        }
        return Optional.of(sum);
    }

    /** The scrape targets' states ({@code /api/v1/targets}, {@code activeTargets}). */
    public JsonNode targets() throws IOException, InterruptedException {
        return JSON.readTree(get("/api/v1/targets").body()).path("data").path("activeTargets");
    }

    /** The loaded alerting rules ({@code /api/v1/rules}, their groups). */
    public JsonNode ruleGroups() throws IOException, InterruptedException {
        return JSON.readTree(get("/api/v1/rules").body()).path("data").path("groups");
    }

    /** What the server logged, for failure messages. */
    public String log() throws IOException {
        return Files.readString(log);
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(api.resolve(path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
