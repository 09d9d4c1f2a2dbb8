package io.streamrlhf.cli.stack;

import static org.assertj.core.api.Assertions.assertThat;

import static io.streamrlhf.cli.stack.StackDriver.names;
import static io.streamrlhf.cli.stack.StackDriver.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.ops.ServiceMeters;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf stack up --secure} end to end, as an operator runs it: the runnable jar in its own JVM with its own
 * secure cluster (TLS, SCRAM users, least-privilege ACLs), one worker, one scorer, one learner and the feedback server
 * as processes of their own, each as its component's user, synthetic prompts, a tiny SFT policy. The policy versions
 * come and {@code rlhf stack status} reads every group's lag (as admin); each config file holds its own user's
 * password only; a label posted to the stack's feedback server reaches the feedback topic; a worker killed with
 * SIGKILL is restarted by the stack and the versions keep coming; {@code rlhf stack down} stops the stack and every
 * process it started. (The plaintext stack runs in {@code ChaosIT} and {@code StackDemoIT}.)
 */
class StackIT {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path work;

    private StackDriver driver;

    @BeforeAll
    static void jarExists() {
        assertThat(StackDriver.jar()).as("the runnable jar built by 'package'").exists();
    }

    @AfterEach
    void killLeftovers() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    @Test
    void onASecureClusterVersionsComeFeedbackIsServedAKilledWorkerIsRestartedAndDownStopsEverything()
            throws Exception {
        driver = new StackDriver(work);
        Path dir = driver.dir();
        Process stack = driver.up("--secure", "--workers", "1",
                "--scorers", "1", "--learners", "1", "--rm-trainers", "0", "--synthetic-prompts", "2",
                "--sft-steps", "40", "--preference-pairs", "160", "--rm-epochs", "1", "--rm-ensemble", "2",
                "--batch", "32", "--max-new-tokens", "24", "--cache-dir", work.resolve("cache").toString(),
                "--metrics-port", "0");

        // The learner commits its group's offsets (for monitoring) one checkpoint behind: its lag shows from then on.
        JsonNode status = driver.awaitStatus(Duration.ofSeconds(180), s -> s.get("policy_version").asLong() >= 2
                && process(s, "learn-0").get("lag").isNumber());
        assertThat(names(status)).containsExactly("cluster", "learn-0", "score-0", "worker-0", "feedback", "prompts");
        JsonNode worker = process(status, "worker-0");
        assertThat(worker.get("alive").asBoolean()).isTrue();
        assertThat(worker.get("restarts").asInt()).isZero();
        assertThat(worker.get("policy_version").asLong()).isGreaterThanOrEqualTo(2);
        assertThat(worker.get("command").toString()).contains("\"worker\"", "\"--config\"", "worker.properties");
        assertThat(process(status, "learn-0").get("lag").isNumber()).as("the learner's group lag in %s", status)
                .isTrue();
        assertThat(process(status, "score-0").get("group").asText()).isNotBlank();
        assertThat(dir.resolve("conf").resolve("learn.properties")).exists();
        assertThat(dir.resolve("logs").resolve("worker-0.log")).exists();
        assertThat(process(status, "cluster").get("command").toString()).contains("\"--secure\"");

        // Each process runs as its own user: its config file holds that user's credentials and no one else's.
        Map<String, String> users = Map.of("worker", "worker", "score", "scorer", "learn", "learner", "feedback",
                "feedback", "prompts", "evaluator");
        Map<String, String> passwords = new java.util.HashMap<>();
        for (Map.Entry<String, String> e : users.entrySet()) {
            Properties conf = load(dir.resolve("conf").resolve(e.getKey() + ".properties"));
            assertThat(conf.getProperty("security.protocol")).isEqualTo("SASL_SSL");
            Matcher jaas = Pattern.compile("username=\"([^\"]+)\" password=\"([^\"]+)\"")
                    .matcher(conf.getProperty("sasl.jaas.config"));
            assertThat(jaas.find()).isTrue();
            assertThat(jaas.group(1)).as("%s's user", e.getKey()).isEqualTo(e.getValue());
            passwords.put(e.getValue(), jaas.group(2));
            assertThat(Files.getPosixFilePermissions(dir.resolve("conf").resolve(e.getKey() + ".properties")))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        }
        assertThat(passwords.values()).as("one password per user").doesNotHaveDuplicates();

        // The stack's feedback server takes a label over HTTP and stores it on the feedback topic.
        JsonNode state = JSON.readTree(Files.readString(dir.resolve("stack.json")));
        URI feedback = URI.create(state.get("feedback_url").asText() + "/api/feedback");
        String label = "{\"kind\":\"pairwise\",\"prompt_id\":\"p-stack-it\",\"conversation\":[{\"role\":\"user\","
                + "\"content\":\"Name a colour.\"}],\"texts\":[\"Blue.\",\"A colour.\"],\"preferred_index\":0,"
                + "\"annotator_id\":\"stack-it\"}";
        HttpResponse<String> posted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(feedback)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(label)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(posted.statusCode()).as("POST %s: %s", feedback, posted.body()).isEqualTo(202);
        String feedbackId = JSON.readTree(posted.body()).get("feedback_id").asText();
        assertThat(feedbackTopicHolds(Path.of(state.get("admin_config").asText()), feedbackId))
                .as("label %s on rlhf.feedback", feedbackId).isTrue();

        // With --metrics-port 0 each service process serves its own endpoint on a free port, named in its log.
        Matcher served = Pattern.compile("metrics=(http://\\S+/metrics)")
                .matcher(Files.readString(dir.resolve("logs").resolve("worker-0.log")));
        assertThat(served.find()).as("worker-0's log names its endpoint").isTrue();
        URI metrics = URI.create(served.group(1));
        HttpClient http = HttpClient.newHttpClient();
        PrometheusText.Scrape scrape = PrometheusText.parse(http.send(HttpRequest.newBuilder(metrics).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        assertThat(scrape.sum("rlhf_worker_generations_total", Map.of(ServiceMeters.COMPONENT, "worker")))
                .isGreaterThan(0);
        assertThat(http.send(HttpRequest.newBuilder(metrics.resolve("/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

        long killedPid = worker.get("pid").asLong();
        long versionAtKill = status.get("policy_version").asLong();
        ProcessHandle.of(killedPid).orElseThrow().destroyForcibly();  // SIGKILL, as the OOM killer would

        JsonNode restarted = driver.awaitStatus(Duration.ofSeconds(60), s -> {
            JsonNode w = process(s, "worker-0");
            return w.get("restarts").asInt() == 1 && w.get("alive").asBoolean() && w.get("pid").asLong() != killedPid;
        });
        assertThat(process(restarted, "worker-0").get("restarts").asInt()).isEqualTo(1);
        JsonNode later = driver.awaitStatus(Duration.ofSeconds(90),
                s -> s.get("policy_version").asLong() >= versionAtKill + 2);
        assertThat(later.get("policy_version").asLong()).as("versions keep coming after the restart")
                .isGreaterThanOrEqualTo(versionAtKill + 2);
        for (String name : List.of("cluster", "learn-0", "score-0", "feedback", "prompts")) {
            assertThat(process(later, name).get("restarts").asInt()).as("%s restarts", name).isZero();
        }

        driver.noteProcesses();
        StackDriver.Result down = driver.run(Duration.ofMinutes(3), "down");
        assertThat(down.exit()).as("stack down: %s", down.err()).isZero();
        assertThat(stack.isAlive()).as("rlhf stack up exited").isFalse();
        // SIGTERM ends a JVM with 128 + 15 once its shutdown hook (the orderly stop) has run.
        assertThat(stack.exitValue()).as("stack up's exit status; stderr:%n%s", driver.stderr()).isEqualTo(143);
        assertThat(driver.stderr()).contains("rlhf stack: stopping every process");
        assertThat(driver.processesSeen()).as("processes the stack started").isGreaterThanOrEqualTo(6);
        assertThat(driver.everyProcessEnded(Duration.ofSeconds(10))).as("every process of the stack ended").isTrue();
        JsonNode stopped = JSON.readTree(Files.readString(dir.resolve("stack.json")));
        assertThat(stopped.get("phase").asText()).isEqualTo("stopped");
    }

    private static Properties load(Path file) throws Exception {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        return p;
    }

    /** Whether a committed record of {@code rlhf.feedback} carries {@code id}, read as admin with {@code clientFile}. */
    private static boolean feedbackTopicHolds(Path clientFile, String id) throws Exception {
        Map<String, Object> props = new java.util.HashMap<>();
        load(clientFile).forEach((k, v) -> props.put((String) k, v));
        props.keySet().retainAll(ConsumerConfig.configNames());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        byte[] needle = id.getBytes(StandardCharsets.UTF_8);
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor("rlhf.feedback", Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    // the Avro value holds the id's UTF-8 bytes as they are
                    if (indexOf(r.value(), needle) >= 0) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; haystack != null && i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
