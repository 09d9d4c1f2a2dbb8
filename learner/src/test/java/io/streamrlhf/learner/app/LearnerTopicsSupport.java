package io.streamrlhf.learner.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the learner's failover tests write to and read from Kafka: groups of scored records, the committed version
 * records, and learners in child JVMs whose output they watch.
 */
final class LearnerTopicsSupport {
    private static final Logger LOG = LoggerFactory.getLogger(LearnerTopicsSupport.class);

    private LearnerTopicsSupport() {
    }

    /**
     * Writes {@code groups} groups of {@code groupSize} scored records (keyed by prompt, so a group stays in one
     * partition), without a transaction.
     *
     * @return the generation ids written, in order
     */
    static List<String> writeGroups(Topics topics, Map<String, Object> settings, int groups, int groupSize, int vocab,
                                    long seed) {
        TopicSpec<String, ScoredGeneration> scored = topics.scored();
        awaitLeaders(settings, scored.name());
        Map<String, Object> props = new HashMap<>();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        List<String> written = new ArrayList<>();
        Random random = new Random(seed);
        try (KafkaProducer<String, ScoredGeneration> producer = new KafkaProducer<>(props, scored.keySerializer(),
                scored.valueSerializer())) {
            for (int g = 0; g < groups; g++) {
                String promptId = "prompt-" + g;
                for (int i = 0; i < groupSize; i++) {
                    String id = promptId + "-gen-" + i;
                    producer.send(new ProducerRecord<>(scored.name(), promptId,
                            FailoverBench.scored(id, promptId, i, vocab, random)));
                    written.add(id);
                }
            }
            producer.flush();
        }
        return written;
    }

    /**
     * Waits until every partition of a topic just created answers at its leader: an idempotent producer's first batch
     * sent while a partition is still changing leader was seen retried forever with OUT_OF_ORDER_SEQUENCE_NUMBER.
     */
    static void awaitLeaders(Map<String, Object> settings, String topic) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            assertThat(consumer.endOffsets(partitions, Duration.ofSeconds(30))).hasSize(partitions.size());
        }
    }

    /** Every record of policy {@code policy} on policy.versions, committed ones only, in order. */
    static List<PolicyVersion> published(Topics topics, Map<String, Object> settings) {
        return FailoverBench.published(topics, String.valueOf(settings.get("bootstrap.servers")));
    }

    /** The versions of {@link #published}, in order. */
    static List<Long> publishedVersions(Topics topics, Map<String, Object> settings) {
        return published(topics, settings).stream().map(PolicyVersion::getVersion).toList();
    }

    /**
     * Starts {@link LearnerMain} on a properties file in a child JVM, collecting its output lines into {@code output}
     * and logging those {@code logged} accepts.
     */
    static Process startLearnerProcess(Path file, String name, List<String> output, Predicate<String> logged)
            throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx768m", "-Dai.djl.offline=true"));
        String cache = System.getProperty("DJL_CACHE_DIR");
        if (cache != null) {
            cmd.add("-DDJL_CACHE_DIR=" + cache);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), LearnerMain.class.getName(), file.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    output.add(line);
                    if (logged.test(line)) {
                        LOG.info("[learner {}] {}", name, line);
                    }
                }
            } catch (IOException e) {
                // the process was killed
            }
        }, "learner-" + name + "-output");
        reader.setDaemon(true);
        reader.start();
        return p;
    }
}
