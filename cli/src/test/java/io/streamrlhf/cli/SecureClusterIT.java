package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.learner.app.PolicyPublisher;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.policy.TransformerPolicy;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.feed.SyntheticPromptFeed;
import io.streamrlhf.producer.worker.PolicyWorker;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.rewardstream.app.ScoringApp;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.security.ComponentAcls;
import io.streamrlhf.schemas.topics.Topics;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop on {@code rlhf cluster up --secure} as a user runs it (the runnable jar, a JVM of its own: TLS,
 * SCRAM-SHA-512, StandardAuthorizer with {@link ComponentAcls}), each component with its own principal and the client
 * properties file the command announces, read as {@code --config FILE} reads it: the evaluator feeds prompts, the
 * worker generates, the scorer scores, the learner reads the scores and publishes a version the worker swaps to. Each
 * principal is denied what it must not do, and commands run with {@code --config FILE}.
 */
class SecureClusterIT {

    private static final String POLICY = "secure-policy";
    private static final TransformerConfig POLICY_SHAPE = new TransformerConfig(Vocabulary.standard().size(), 32, 32,
            1, 2);

    @TempDir
    static Path dir;

    private static Process process;
    private static String bootstrap;
    private static final Map<String, Path> files = new LinkedHashMap<>();
    private static Topics topics;

    @BeforeAll
    static void startSecureCluster() throws Exception {
        ModelRuntime.init(1);
        Path jar = Path.of("target", "rlhf.jar").toAbsolutePath();
        assertThat(jar).as("the runnable jar built by 'package'").exists();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Path.of("target", "secure-cluster-it.log");
        Files.deleteIfExists(log);
        process = new ProcessBuilder(java, "-Xmx512m", "-jar", jar.toString(), "cluster", "up", "--secure",
                "--partitions", "1", "--kafka-port", "0", "--registry-port", "0", "--data-dir", dir.toString())
                .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
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
        }, "secure-cluster-stdout");
        reader.setDaemon(true);
        reader.start();
        String announce = lines.poll(180, TimeUnit.SECONDS);
        assertThat(announce).as("announce line (stderr in " + log + ")").startsWith("bootstrap=localhost:");
        bootstrap = announce.substring("bootstrap=".length(), announce.indexOf(' '));
        for (String line; !"ready".equals(line = lines.poll(30, TimeUnit.SECONDS)); ) {
            assertThat(line).as("a config line before ready").isNotNull().matches("config\\.[a-z-]+=/.+");
            int equals = line.indexOf('=');
            files.put(line.substring("config.".length(), equals), Path.of(line.substring(equals + 1)));
        }
        topics = Topics.create(settings("admin"));
    }

    @AfterAll
    static void stopCluster() throws Exception {
        if (process != null) {
            process.destroy(); // SIGTERM
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
        }
    }

    @Test
    void announcesOneConfigFilePerComponentAndCommandsRunWithThem() {
        assertThat(files.keySet()).containsExactly("worker", "scorer", "learner", "rm-trainer", "feedback",
                "evaluator", "admin");
        assertThat(files.values()).allSatisfy(file -> assertThat(file).startsWith(dir.resolve("secure")));
        assertThat(List.of("users.properties", "truststore.p12", "broker.p12"))
                .allSatisfy(f -> assertThat(dir.resolve("secure").resolve(f)).exists());
        assertThat(CommonConfig.resolve(Map.of(), Map.of(), files.get("scorer")).clientProperties())
                .containsEntry("bootstrap.servers", bootstrap)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512");

        CliRun list = CliRun.of("topics", "list", "--config", files.get("admin").toString());
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).contains("rlhf.policy.versions").contains("rlhf.generations");
        CliRun denied = CliRun.of("topics", "create", "--config", files.get("worker").toString(),
                "--topic-prefix", "mine.");
        assertThat(denied.code()).isNotZero();
        assertThat(denied.err()).containsIgnoringCase("authoriz");
    }

    @Test
    void theLoopRunsWithOnePrincipalPerComponent() throws Exception {
        Map<String, Object> learner = settings("learner");
        try (PolicyPublisher policies = new PolicyPublisher(topics, learner, POLICY, learnerTransactionalId())) {
            publishPolicy(policies, 1, 11);
        }

        Map<String, Object> worker = settings("worker");
        worker.put(WorkerConfig.POLICY_NAME, POLICY);
        worker.put(WorkerConfig.WORKER_ID, "secure-worker");
        worker.put(WorkerConfig.BATCH_MAX_SIZE, 8);
        worker.put(WorkerConfig.MAX_NEW_TOKENS, 6);
        Map<String, Object> scorer = settings("scorer");
        scorer.put(RewardStreamConfig.APPLICATION_ID, "rlhf-reward-stream-secure");
        scorer.put(RewardStreamConfig.BATCH_SIZE, 4);
        scorer.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
        scorer.put(RewardStreamConfig.STATE_DIR, dir.resolve("streams").toString());
        RewardEnsemble ensemble = RewardEnsemble.builder()
                .add(RewardSources.create(RewardSpec.parse("rule:length"))).build();
        SyntheticPromptFeed feed = new SyntheticPromptFeed(3, 2);
        try (ScoringApp scoring = ScoringApp.create(scorer, ensemble, new SimpleMeterRegistry());
             WorkerPool pool = new WorkerPool(worker, 1, Optional.empty(), new SimpleMeterRegistry());
             PromptSender prompts = new PromptSender(topics, settings("evaluator"))) {
            scoring.start();
            assertThat(scoring.awaitReady(Duration.ofSeconds(60))).isTrue();
            pool.start();
            PolicyWorker generator = pool.workers().get(0);
            prompts.sendAll(feed.next(2));
            await().atMost(Duration.ofMinutes(1)).until(() -> generator.generationsCommitted() >= 4);

            // The learner reads what the scorer wrote, in its own group, and publishes version 2.
            Map<String, Object> reader = new HashMap<>(learner);
            reader.put(ConsumerConfig.GROUP_ID_CONFIG, "rlhf-learner-secure");
            reader.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            reader.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            try (KafkaConsumer<byte[], byte[]> scored = new KafkaConsumer<>(consumerOnly(reader),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                scored.subscribe(List.of(topics.scored().name()));
                int[] count = {0};
                await().atMost(Duration.ofMinutes(1)).until(() -> {
                    count[0] += scored.poll(Duration.ofMillis(500)).count();
                    return count[0] >= 4;
                });
                scored.commitSync();
            }
            try (PolicyPublisher policies = new PolicyPublisher(topics, learner, POLICY, learnerTransactionalId())) {
                assertThat(policies.lastPublished()).isEqualTo(1L);
                publishPolicy(policies, 2, 12);
            }
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> pool.follower().newest().map(v -> v.version()).orElse(0L) == 2L);
        }
    }

    @Test
    void eachPrincipalIsDeniedWhatItMustNotDo() {
        assertThatThrownBy(() -> send("worker", topics.policyVersions().name()))
                .as("a worker writing policy.versions").isInstanceOf(TopicAuthorizationException.class);
        assertThatThrownBy(() -> send("worker", topics.rmVersions().name()))
                .as("a worker writing rm.versions").isInstanceOf(TopicAuthorizationException.class);
        assertThatThrownBy(() -> send("feedback", topics.generations().name()))
                .as("the feedback principal writing generations").isInstanceOf(TopicAuthorizationException.class);
        assertThatThrownBy(() -> send("scorer", topics.policyVersions().name()))
                .as("a scorer writing policy.versions").isInstanceOf(TopicAuthorizationException.class);
        assertThatThrownBy(() -> read("scorer", topics.preferences().name()))
                .as("a scorer reading preferences").isInstanceOf(TopicAuthorizationException.class);
        assertThatThrownBy(() -> read("feedback", topics.feedback().name()))
                .as("the feedback principal reading labels back").isInstanceOf(TopicAuthorizationException.class);
        for (ComponentAcls.Component component : ComponentAcls.Component.values()) {
            assertThatThrownBy(() -> createTopic(component.user(), "rlhf.extra-" + component.user()))
                    .as(component.user() + " creating a topic").isInstanceOf(TopicAuthorizationException.class);
        }
        assertThatThrownBy(() -> grantItself("worker", topics.policyVersions().name()))
                .as("a worker granting itself policy.versions").isInstanceOf(ClusterAuthorizationException.class);
    }

    private static Map<String, Object> settings(String user) {
        return new HashMap<>(CommonConfig.resolve(Map.of(), Map.of(), files.get(user)).settings());
    }

    private static String learnerTransactionalId() {
        return topics.prefix() + "rlhf-learner-" + POLICY;
    }

    private static Map<String, Object> consumerOnly(Map<String, Object> settings) {
        Map<String, Object> props = new HashMap<>(settings);
        props.keySet().retainAll(ConsumerConfig.configNames());
        return props;
    }

    private static void send(String user, String topic) throws Exception {
        Map<String, Object> props = new HashMap<>(settings(user));
        props.keySet().retainAll(ProducerConfig.configNames());
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(topic, new byte[] {1}, new byte[] {2})).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    private static void read(String user, String topic) {
        Map<String, Object> props = consumerOnly(settings(user));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.seekToBeginning(consumer.assignment());
            for (int i = 0; i < 20; i++) {
                consumer.poll(Duration.ofMillis(500));
            }
        }
    }

    private static void createTopic(String user, String topic) throws Exception {
        try (Admin admin = Admin.create(TopicsCommand.adminProperties(settings(user)))) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    private static void grantItself(String user, String topic) throws Exception {
        try (Admin admin = Admin.create(TopicsCommand.adminProperties(settings(user)))) {
            admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, topic, PatternType.LITERAL),
                    new AccessControlEntry("User:" + user, "*", AclOperation.WRITE, AclPermissionType.ALLOW))))
                    .all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** Publishes a fresh policy as the learner does: its chunks on the checkpoints topic and a kafka: URI. */
    private static void publishPolicy(PolicyPublisher publisher, long version, long seed) {
        Checkpoint checkpoint;
        try (TransformerPolicy p = TransformerPolicy.create(POLICY_SHAPE, seed)) {
            checkpoint = p.toCheckpoint(Map.of("seed", Long.toString(seed)), null);
        }
        byte[] bytes = CheckpointStore.toBytes(checkpoint);
        PolicyVersion record = PolicyVersion.newBuilder().setName(POLICY).setVersion(version)
                .setCheckpointUri(publisher.chunkUri(version))
                .setSha256(CheckpointStore.sha256(CheckpointStore.manifestOf(bytes))).setSizeBytes(bytes.length)
                .setParentVersion(version == 2 ? 1L : null).setStep(version).setMetrics(Map.of())
                .setCreatedAt(Instant.now()).build();
        assertThat(publisher.publish(record, bytes)).isTrue();
    }
}
