package io.streamrlhf.cli.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.cli.ops.MonitoringFiles;
import io.streamrlhf.models.hf.TinyHfModels;
import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.ops.testing.RealPrometheus;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf demo} end to end, as a user runs it: the runnable jar in its own JVM with a tiny budget (a short SFT, a
 * small preference set, a 50-second loop). Checks that every component ran and that everything it started is gone
 * afterwards; that a component dying mid-run makes the demo fail with a message naming it; and, while the loop runs,
 * what an operator sees on {@code --metrics-port 0}: one endpoint serving every component (a {@code component} label
 * each), valid Prometheus text whose counters move, ready once every component is, every series the dashboard and
 * the alert rules name, and, where the {@code prometheus} binary is installed, a real server scraping the loop that
 * answers the generation rate and every dashboard query with the alert rules loaded.
 *
 * <p>Both tests share one model cache, so only the first pays for SFT and the initial reward models.
 */
class DemoSmokeIT {

    private static final Pattern ANNOUNCE = Pattern.compile("bootstrap=localhost:(\\d+) registry=http://localhost:(\\d+)/");
    private static final Pattern METRICS = Pattern.compile("metrics=(http://\\S+/metrics)");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir static Path cache;
    @TempDir Path work;

    private Process process;
    private final Map<Long, ProcessHandle> seen = new ConcurrentHashMap<>();

    @BeforeAll
    static void jarExists() {
        assertThat(Path.of("target", "rlhf.jar")).as("the runnable jar built by 'package'").exists();
    }

    @AfterEach
    void killLeftovers() {
        if (process != null && process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        seen.values().forEach(ProcessHandle::destroyForcibly);
    }

    @Test
    void everyComponentRunsIsScrapedVersionsArePickedUpTheReportIsWrittenAndEverythingIsReleased() throws Exception {
        Path report = work.resolve("report");
        Path err = work.resolve("demo.err");
        Path out = work.resolve("demo.out");
        process = start(out, err, "--report", report.toString(), "--json", "--minutes", "0.83", "--metrics-port", "0",
                "--metrics-bind", "127.0.0.1");
        scrapeWhileTheLoopRuns(err);
        boolean exited = watch(Duration.ofMinutes(5));
        String stderr = Files.readString(err);
        assertThat(exited).as("demo finished within 5 minutes; stderr:%n%s", stderr).isTrue();
        assertThat(process.exitValue()).as("exit status; stderr:%n%s", stderr).isZero();

        List<String> lines = Files.readAllLines(out);
        JsonNode summary = JSON.readTree(lines.get(lines.size() - 1));
        assertThat(summary.get("policy_versions").asLong()).as("policy versions published").isGreaterThanOrEqualTo(2);
        assertThat(summary.get("versions_generating").asLong()).as("versions the workers generated with")
                .isGreaterThanOrEqualTo(2);
        assertThat(summary.get("scored").asLong()).as("reward stream scored").isPositive();
        assertThat(summary.get("scored").asLong()).as("every committed generation scored")
                .isEqualTo(summary.get("generations").asLong());
        assertThat(summary.get("preferences").asLong()).as("simulated raters -> feedback join").isPositive();
        assertThat(summary.get("rm_versions").asLong()).as("the reward-model trainer published").isGreaterThanOrEqualTo(2);
        assertThat(summary.get("dlq_records").asLong()).as("dead letters: the one unreadable record sent").isEqualTo(1);
        for (String key : List.of("sft_gold", "bon8_gold", "final_gold", "final_proxy", "kl_ref", "wall_s")) {
            assertThat(summary.get(key).isNumber()).as("%s in %s", key, summary).isTrue();
        }
        // What the loop cost: the JVM kept some of the machine's cores busy, and every update took time.
        assertThat(summary.get("loop_cores").asDouble()).as("loop_cores in %s", summary).isPositive()
                .isLessThanOrEqualTo(Runtime.getRuntime().availableProcessors() + 0.5);
        assertThat(summary.get("trainer_cores").asDouble()).as("trainer_cores in %s", summary).isPositive();
        assertThat(summary.get("update_s").asDouble()).as("update_s in %s", summary).isPositive();
        assertThat(summary.get("wait_s").asDouble()).as("wait_s in %s", summary).isNotNegative();
        assertThat(summary.get("first_version_s").asDouble()).as("first_version_s in %s", summary).isPositive()
                .isLessThan(summary.get("loop_s").asDouble());
        assertThat(summary.get("reference_given").asDouble())
                .as("every update took the reward stream's reference log-probs (same SFT weights id); %s", summary)
                .isEqualTo(1.0);
        assertThat(String.join("\n", lines)).contains("SFT policy", "best-of-8", "final policy");

        assertThat(Files.readString(report.resolve("index.html"))).contains("<img src=\"reward.png\"", "best-of-8",
                "<h2>Cost</h2>");
        for (String png : List.of("reward.png", "kl.png", "throughput.png")) {
            byte[] head = head(report.resolve(png));
            assertThat(head).as(png + " is a PNG").startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
        }
        assertThat(JSON.readTree(Files.readString(report.resolve("summary.json"))).get("policy_versions").asLong())
                .isEqualTo(summary.get("policy_versions").asLong());
        List<String> updates = Files.readAllLines(report.resolve("updates.csv"));
        assertThat(updates.get(0)).as("updates.csv header").startsWith("update,").contains("policy/kl_ref",
                "time/update_s", "time/wait_s").doesNotContain("worker/");
        assertThat(updates.size() - 1).as("one row per learner update").isGreaterThanOrEqualTo(2);
        List<String> versions = Files.readAllLines(report.resolve("versions.csv"));
        assertThat(versions.get(0)).startsWith("version,scored,gold,");
        assertThat(versions.size() - 1).as("the starting version and at least one published version were scored")
                .isGreaterThanOrEqualTo(2);

        assertReleased(stderr);
    }

    @Test
    void aDyingComponentFailsTheDemoWithAMessageNamingIt() throws Exception {
        Path err = work.resolve("demo.err");
        process = start(work.resolve("demo.out"), err, "--no-report");
        // Wait for the reward-model trainer's JVM, then kill it as the OOM killer would.
        ProcessHandle trainer = null;
        long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
        while (trainer == null && process.isAlive() && System.nanoTime() < deadline) {
            Optional<ProcessHandle> found = process.descendants()
                    .filter(p -> p.info().commandLine().orElse("").contains("train-rm")).findFirst();
            found.ifPresent(p -> seen.put(p.pid(), p));
            trainer = found.orElse(null);
            Thread.sleep(200);
        }
        assertThat(trainer).as("the reward-model trainer child process appeared; stderr:%n%s", Files.readString(err))
                .isNotNull();
        Thread.sleep(3000);  // let the loop get going
        trainer.destroyForcibly();
        boolean exited = watch(Duration.ofMinutes(2));
        String stderr = Files.readString(err);
        assertThat(exited).as("demo stopped after the failure; stderr:%n%s", stderr).isTrue();
        assertThat(process.exitValue()).as("exit status; stderr:%n%s", stderr).isEqualTo(1);
        assertThat(stderr).contains("rlhf demo: the reward-model trainer (child process pid " + trainer.pid()
                + ") exited with status 137");
        assertReleased(stderr);
    }

    @Test
    void theLoopRunsOnAUsersHuggingFaceFolders() throws Exception {
        TinyHfModels.Architecture arch = TinyHfModels.Architecture.QWEN2;
        Path policy = TinyHfModels.writeTokenizer(TinyHfModels.write(work.resolve("policy"), arch, 31),
                arch.config().vocabSize());
        Path rm = TinyHfModels.writeTokenizer(TinyHfModels.writeReward(work.resolve("rm"), arch, 32, 0),
                arch.config().vocabSize());
        Path prompts = Files.writeString(work.resolve("prompts.jsonl"), "{\"prompt\": \"Say something kind.\"}\n"
                + "{\"conversation\": [{\"role\": \"user\", \"content\": \"Name a colour.\"}]}\n");
        Path report = work.resolve("report");
        Path err = work.resolve("demo.err");
        Path out = work.resolve("demo.out");
        process = start(out, err, "--model", policy.toString(), "--prompts", prompts.toString(), "--reward",
                "hf:" + rm, "--group-size", "4", "--report", report.toString(), "--json");
        boolean exited = watch(Duration.ofMinutes(3));
        String stderr = Files.readString(err);
        assertThat(exited).as("demo finished within 3 minutes; stderr:%n%s", stderr).isTrue();
        assertThat(process.exitValue()).as("exit status; stderr:%n%s", stderr).isZero();

        List<String> lines = Files.readAllLines(out);
        JsonNode summary = JSON.readTree(lines.get(lines.size() - 1));
        assertThat(summary.get("mode").asText()).isEqualTo("model");
        assertThat(summary.get("versions_published").asLong()).as("policy versions published in %s", summary)
                .isGreaterThanOrEqualTo(2);
        assertThat(summary.get("versions").size()).as("versions whose generations were scored").isGreaterThanOrEqualTo(2);
        assertThat(summary.get("first_version_reward").isNumber()).isTrue();
        assertThat(summary.get("last_version_reward").isNumber()).isTrue();
        assertThat(Path.of(summary.get("checkpoints").asText())).isDirectory();
        assertThat(JSON.readTree(Files.readString(report.resolve("summary.json"))).get("versions_published").asLong())
                .isEqualTo(summary.get("versions_published").asLong());
        assertReleased(stderr);
    }

    @Test
    void aModelWithoutPromptsOrRewardIsRefusedNamingWhatIsMissing() throws Exception {
        Path err = work.resolve("demo.err");
        process = start(work.resolve("demo.out"), err, "--model", work.toString());
        assertThat(watch(Duration.ofMinutes(1))).isTrue();
        assertThat(process.exitValue()).isEqualTo(2);
        assertThat(Files.readString(err)).contains("--model, --prompts and --reward go together");
    }

    /**
     * The operator's view of the running demo, checked before the loop ends: readiness, a dead letter counted, every
     * component on one endpoint, every series the dashboard and alerts name, and a real Prometheus where installed.
     */
    private void scrapeWhileTheLoopRuns(Path err) throws Exception {
        String announced = await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500))
                .until(() -> Files.readString(err), s -> METRICS.matcher(s).find() && ANNOUNCE.matcher(s).find()
                        || !process.isAlive());
        assertThat(process.isAlive()).as("demo running; stderr:%n%s", announced).isTrue();
        Matcher m = METRICS.matcher(announced);
        assertThat(m.find()).isTrue();
        URI metrics = URI.create(m.group(1));
        Matcher b = ANNOUNCE.matcher(announced);
        assertThat(b.find()).isTrue();
        URI ready = metrics.resolve("/health/ready");

        await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                .until(() -> !process.isAlive() || get(ready).statusCode() == 200);
        assertThat(get(ready).body()).as("every component ready").contains("score: assigned ok",
                "learn: assigned ok", "worker: model loaded ok");

        // A record the reward stream cannot read: it goes to the dead-letter topic and counts there.
        try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                "localhost:" + b.group(1)), new ByteArraySerializer(), new ByteArraySerializer())) {
            p.send(new ProducerRecord<>("rlhf.generations", "bad".getBytes(), "not avro".getBytes())).get();
        }

        RealPrometheus prometheus = null;
        if (RealPrometheus.binary().isPresent()) {
            prometheus = RealPrometheus.scrape(work.resolve("prometheus"), List.of(metrics.getHost() + ":"
                    + metrics.getPort()), Duration.ofSeconds(1), List.of(MonitoringFiles.ALERTS.toAbsolutePath()));
        }
        try {
            PrometheusText.Scrape scrape = await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(2))
                    .until(() -> PrometheusText.parse(get(metrics).body()), s ->
                            s.sum("rlhf_worker_generations_total", Map.of()) > 0
                                    && s.sum("rlhf_scoring_records_total", Map.of()) > 0
                                    && s.sum("rlhf_learner_updates_total", Map.of()) >= 1
                                    && s.sum("rlhf_dlq_records_total", Map.of("component", "score")) >= 1
                                    && !s.find("rlhf_consumer_group_lag_records", Map.of()).isEmpty());
            Set<String> components = new TreeSet<>();
            scrape.samples().forEach(s -> components.add(s.labels().get("component")));
            assertThat(components).contains("demo", "worker", "score", "learn", "cluster").doesNotContainNull();
            assertThat(scrape.sum("rlhf_ready", Map.of("component", "demo"))).isEqualTo(1);
            assertThat(scrape.find("rlhf_consumer_group_lag_records", Map.of("component", "cluster")))
                    .extracting(s -> s.labels().get("group")).isNotEmpty();

            List<String> missing = new ArrayList<>();
            List<String> queries = new ArrayList<>(MonitoringFiles.dashboardQueries());
            queries.addAll(MonitoringFiles.alertExpressions().values());
            for (String q : queries) {
                for (String name : MonitoringFiles.metricNames(q)) {
                    if (!scrape.names().contains(name)) {
                        missing.add(name + " (in " + q.strip() + ")");
                    }
                }
            }
            assertThat(missing).as("series the dashboard and alerts name, absent from a scrape of the loop")
                    .isEmpty();

            if (prometheus != null) {
                RealPrometheus server = prometheus;
                await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofSeconds(2)).until(() -> {
                    Optional<Double> rate = server.value("sum(rate(rlhf_worker_generations_total[30s]))");
                    return rate.isPresent() && rate.get() > 0;
                });
                for (String q : MonitoringFiles.dashboardQueries()) {
                    server.query(q);  // throws naming the query when Prometheus rejects it
                }
                assertThat(server.ruleGroups()).singleElement().satisfies(g -> assertThat(g.path("rules"))
                        .allSatisfy(r -> assertThat(r.path("health").asText()).as(r.toString()).isEqualTo("ok")));
            }
        } finally {
            if (prometheus != null) {
                prometheus.close();
            }
        }
    }

    private static HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Process start(Path out, Path err, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1500m", "-Dai.djl.offline=true"));
        String djlCache = System.getProperty("DJL_CACHE_DIR");
        if (djlCache != null) {
            cmd.add("-DDJL_CACHE_DIR=" + djlCache);
        }
        cmd.addAll(List.of("-jar", Path.of("target", "rlhf.jar").toAbsolutePath().toString(), "demo",
                "--sft-steps", "40", "--preference-pairs", "160", "--rm-epochs", "1",
                "--rm-ensemble", "2", "--eval-prompts", "32", "--batch", "32", "--rm-train-every", "32",
                "--rater-rate", "40", "--max-new-tokens", "24", "--no-progress", "--cache-dir", cache.toString()));
        if (!List.of(extra).contains("--minutes")) {
            cmd.addAll(List.of("--minutes", "0.67"));
        }
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().put("OPT_OUT_TRACKING", "true");
        return pb.start();
    }

    /** Waits for the demo to exit, remembering every process it started on the way. */
    private boolean watch(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (process.isAlive() && System.nanoTime() < deadline) {
            process.descendants().forEach(p -> seen.put(p.pid(), p));
            process.waitFor(250, TimeUnit.MILLISECONDS);
        }
        return !process.isAlive();
    }

    private void assertReleased(String stderr) throws InterruptedException {
        assertThat(seen).as("child processes seen (registry, reward-model trainer)").isNotEmpty();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (seen.values().stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(seen.values()).as("every child process ended").noneMatch(ProcessHandle::isAlive);
        Matcher m = ANNOUNCE.matcher(stderr);
        assertThat(m.find()).as("the demo announced its ports; stderr:%n%s", stderr).isTrue();
        for (int port : List.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)))) {
            try (ServerSocket s = new ServerSocket()) {
                s.bind(new InetSocketAddress("localhost", port));
            } catch (IOException e) {
                throw new AssertionError("port " + port + " is still in use after the demo ended", e);
            }
        }
    }

    private static byte[] head(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        return java.util.Arrays.copyOf(all, Math.min(8, all.length));
    }
}
