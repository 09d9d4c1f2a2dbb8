package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.registry.CompatibilityLevel;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
  * {@code rlhf cluster up} as a user runs it: a separate JVM started from the runnable jar. Reads the announced
  * addresses, round-trips a Prompt through the real broker and registry, sends SIGTERM, and checks that the process
  * and its registry child are gone and both ports are free.
  */
class ClusterUpIT {

    private static final Pattern ANNOUNCE = Pattern.compile("bootstrap=(\\S+) registry=(\\S+)");

    @TempDir Path dataDir;
    private Process process;

    @AfterEach
    void killLeftovers() {
        if (process != null && process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    @Test
    void startsAnnouncesServesAndStopsCleanlyOnSigterm() throws Exception {
        String stderr = upServeAndStop(1);
        assertThat(stderr).contains("1 broker: every topic gets replication factor 1 and min.insync.replicas 1");
    }

    @Test
    void withAMetricsPortItServesReadinessAndEveryConsumerGroupsLag() throws Exception {
        upServeAndStop(1, "--metrics-port", "0", "--metrics-bind", "127.0.0.1");
    }

    @Test
    void threeBrokersAnnounceAllThreeReplicateTheTopicsAndStopCleanly() throws Exception {
        String stderr = upServeAndStop(3);
        assertThat(stderr).contains("3 brokers: every topic gets replication factor 3 and min.insync.replicas 2");
        assertThat(dataDir.resolve("kafka").resolve("node-3")).isDirectory();
    }

    /** Runs {@code rlhf cluster up --brokers N} to "ready", round-trips a prompt, stops it; returns its stderr. */
    private String upServeAndStop(int brokers, String... extra) throws Exception {
        Path jar = Path.of("target", "rlhf.jar").toAbsolutePath();
        assertThat(jar).as("the runnable jar built by 'package'").exists();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Path.of("target", "cluster-up-it-" + brokers + ".log");
        Files.deleteIfExists(log);
        List<String> command = new ArrayList<>(List.of(java, "-Xmx512m", "-jar", jar.toString(), "cluster", "up",
                "--brokers", String.valueOf(brokers),
                "--kafka-port", "0", "--registry-port", "0", "--data-dir", dataDir.toString()));
        command.addAll(List.of(extra));
        process = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        boolean metrics = command.contains("--metrics-port");

        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        }, "cluster-up-stdout");
        reader.setDaemon(true);
        reader.start();

        Instant started = Instant.now();
        String announce = lines.poll(180, TimeUnit.SECONDS);
        assertThat(announce).as("announce line (stderr in " + log + ")").isNotNull();
        Matcher m = ANNOUNCE.matcher(announce);
        assertThat(m.matches()).as("announce line: " + announce).isTrue();
        URI metricsUrl = null;
        if (metrics) {
            String served = lines.poll(30, TimeUnit.SECONDS);
            assertThat(served).as("metrics line").startsWith("metrics=http://127.0.0.1:").endsWith("/metrics");
            metricsUrl = URI.create(served.substring("metrics=".length()));
        }
        assertThat(lines.poll(30, TimeUnit.SECONDS)).isEqualTo("ready");
        Duration startup = Duration.between(started, Instant.now());
        System.out.printf("rlhf cluster up --brokers %d: ready after %d ms%n", brokers, startup.toMillis());

        String bootstrap = m.group(1);
        String registry = m.group(2);
        assertThat(registry).endsWith("/apis/ccompat/v7");
        List<Integer> kafkaPorts = Arrays.stream(bootstrap.split(","))
                .map(hostPort -> Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1))).toList();
        assertThat(kafkaPorts).as("one address per broker in " + bootstrap).hasSize(brokers).doesNotHaveDuplicates();
        int registryPort = URI.create(registry).getPort();

        roundTripOnePrompt(bootstrap, registry);
        if (metricsUrl != null) {
            URI url = metricsUrl;
            HttpClient http = HttpClient.newHttpClient();
            assertThat(http.send(HttpRequest.newBuilder(url.resolve("/health/ready")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            // The round trip's group committed its offset on close: its lag is exported, 0 records behind.
            PrometheusText.Scrape scrape = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> PrometheusText.parse(http.send(HttpRequest.newBuilder(url).build(),
                            HttpResponse.BodyHandlers.ofString()).body()),
                            sc -> !sc.find("rlhf_consumer_group_lag_records", Map.of("group", "cluster-up-it"))
                                    .isEmpty());
            assertThat(scrape.find("rlhf_consumer_group_lag_records", Map.of("group", "cluster-up-it",
                    "topic", "rlhf.prompts", "component", "cluster"))).singleElement()
                    .satisfies(sample -> assertThat(sample.value()).isZero());
            assertThat(scrape.sum("rlhf_ready", Map.of("component", "cluster"))).isEqualTo(1);
            assertThat(scrape.names()).contains("jvm_memory_used_bytes", "process_uptime_seconds");
        }

        List<ProcessHandle> children = new ArrayList<>(process.descendants().toList());
        assertThat(children).as("the registry runs as a child process").isNotEmpty();

        process.destroy(); // SIGTERM
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exits within 60 s of SIGTERM").isTrue();
        for (ProcessHandle child : children) {
            assertThat(child.isAlive()).as("child process " + child.pid() + " is gone").isFalse();
        }
        for (int kafkaPort : kafkaPorts) {
            assertThat(canBind(kafkaPort)).as("Kafka port " + kafkaPort + " is free").isTrue();
        }
        assertThat(canBind(registryPort)).as("registry port " + registryPort + " is free").isTrue();
        assertThat(Files.list(dataDir)).as("data kept in --data-dir").isNotEmpty();
        return Files.readString(log);
    }

    private static void roundTripOnePrompt(String bootstrap, String registry) {
        Topics topics = Topics.builder().registryUrl(registry).build();
        TopicSpec<String, Prompt> prompts = topics.prompts();
        Prompt prompt = Prompt.newBuilder()
                .setPromptId("p-1")
                .setConversation(List.of(ConversationTurn.newBuilder().setRole(Role.USER).setContent("write about rivers")
                        .build()))
                .setCategory("synthetic/rivers")
                .setCreatedAt(Instant.ofEpochMilli(1_764_000_000_000L))
                .build();
        try (KafkaProducer<String, Prompt> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), prompts.keySerde().serializer(),
                prompts.valueSerde().serializer())) {
            producer.send(new ProducerRecord<>(prompts.name(), prompt.getPromptId(), prompt));
        }
        try (KafkaConsumer<String, Prompt> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "cluster-up-it",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"),
                prompts.keySerde().deserializer(), prompts.valueSerde().deserializer())) {
            consumer.subscribe(List.of(prompts.name()));
            List<ConsumerRecord<String, Prompt>> received = new ArrayList<>();
            Instant deadline = Instant.now().plusSeconds(60);
            while (received.isEmpty() && Instant.now().isBefore(deadline)) {
                consumer.poll(Duration.ofMillis(500)).forEach(received::add);
            }
            assertThat(received).hasSize(1);
            assertThat(received.get(0).key()).isEqualTo("p-1");
            assertThat(received.get(0).value()).isEqualTo(prompt);
        }
        // cluster up set the compatibility rule; the registry itself enforces none by default
        assertThat(topics.registryClient().compatibility(prompts.name() + "-value"))
                .isEqualTo(CompatibilityLevel.BACKWARD);
    }

    private static boolean canBind(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            // As any server binds: TIME_WAIT leftovers of closed connections don't count, a live listener does.
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress("localhost", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
