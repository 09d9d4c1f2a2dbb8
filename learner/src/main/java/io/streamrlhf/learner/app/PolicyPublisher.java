package io.streamrlhf.learner.app;

import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkWriter;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes {@link PolicyVersion}s of one policy on {@code policy.versions}, idempotently by
 * version: it reads the newest version already published for its name and sends only newer
 * ones, so a learner that restarts after a crash between checkpoint and publication publishes the
 * checkpoint once, and published versions only ever increase. Optionally writes the checkpoint's
 * bytes in chunks to the {@code checkpoints} topic first (key {@code <name>/<version>/<chunk>}, through a
 * {@link CheckpointChunkWriter}): the version record then carries where they lie, so a worker seeks straight to
 * them, and after the record is sent the chunks of versions beyond {@code topic.checkpoints.kept} are tombstoned.
 */
public final class PolicyPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyPublisher.class);
    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private final String name;
    private final KafkaProducer<String, PolicyVersion> producer;
    private CheckpointChunkWriter chunkWriter;
    private long lastPublished;

    /** Connects and reads the newest published version of {@code name}. */
    public PolicyPublisher(Topics topics, Map<String, Object> clientProperties, String name) {
        this.topics = topics;
        this.clientProperties = clientProperties;
        this.name = name;
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        this.producer = new KafkaProducer<>(producerProperties(clientProperties), spec.keySerializer(),
                spec.valueSerializer());
        this.lastPublished = readLastPublished();
    }

    /** The newest version published for this name, −1 when none. */
    public long lastPublished() {
        return lastPublished;
    }

    /**
     * Publishes {@code version} unless a version as new was published already.
     *
     * @return true when it was sent
     */
    public boolean publish(PolicyVersion version, byte[] checkpointBytes) {
        if (version.getVersion() <= lastPublished) {
            LOG.info("policy {} version {} was already published (newest {}); not publishing again", name,
                    version.getVersion(), lastPublished);
            return false;
        }
        PolicyVersion record = version;
        try {
            if (checkpointBytes != null) {
                ChunkIndex index = chunkWriter().write(name, version.getVersion(), checkpointBytes);
                record = PolicyVersion.newBuilder(version).setChunksPartition(index.partition())
                        .setChunksFirstOffset(index.firstOffset()).setChunksLastOffset(index.lastOffset()).build();
            }
            producer.send(new ProducerRecord<>(topics.policyVersions().name(), name, record)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while publishing " + name + " version " + version.getVersion(), e);
        } catch (ExecutionException e) {
            throw new KafkaException("could not publish " + name + " version " + version.getVersion() + " to "
                    + topics.policyVersions().name() + ": " + e.getCause().getMessage(), e.getCause());
        }
        lastPublished = version.getVersion();
        if (checkpointBytes != null) {
            retireOldChunks();
        }
        return true;
    }

    /** Tombstones chunks beyond the kept versions; a failure costs only space, so it is logged, not thrown. */
    private void retireOldChunks() {
        try {
            chunkWriter.retire(name);
        } catch (KafkaException e) {
            LOG.warn("could not tombstone old checkpoint chunks of {}: {}; retrying after the next version", name,
                    e.getMessage());
        }
    }

    /** A {@code kafka:} URI of a version's chunks. */
    public String chunkUri(long version) {
        return new ChunkUri(topics.checkpoints().name(), name, version).toString();
    }

    private CheckpointChunkWriter chunkWriter() {
        if (chunkWriter == null) {
            chunkWriter = new CheckpointChunkWriter(topics, clientProperties);
        }
        return chunkWriter;
    }

    private long readLastPublished() {
        Map<String, Object> props = new HashMap<>(KafkaClients.only(clientProperties, ConsumerConfig.configNames()));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        long newest = -1;
        try (KafkaConsumer<String, PolicyVersion> consumer = new KafkaConsumer<>(props, spec.keyDeserializer(),
                spec.valueDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, PolicyVersion> r : consumer.poll(Duration.ofMillis(500))) {
                    if (name.equals(r.key()) && r.value() != null) {
                        newest = Math.max(newest, r.value().getVersion());
                    }
                }
            }
        }
        LOG.info("newest published version of policy {}: {}", name, newest < 0 ? "none" : newest);
        return newest;
    }

    static Map<String, Object> producerProperties(Map<String, Object> clientProperties) {
        Map<String, Object> props = new HashMap<>(KafkaClients.only(clientProperties, ProducerConfig.configNames()));
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return props;
    }

    /** Builds the record for a version. */
    static PolicyVersion record(String name, long version, long parent, long step, String uri, String sha256,
                                long size, Map<String, Double> metrics) {
        Map<String, Double> finite = new HashMap<>();
        metrics.forEach((k, v) -> {
            if (Double.isFinite(v)) {
                finite.put(k, v);
            }
        });
        return PolicyVersion.newBuilder().setName(name).setVersion(version).setCheckpointUri(uri).setSha256(sha256)
                .setSizeBytes(size).setParentVersion(parent < 0 ? null : parent).setStep(step).setMetrics(finite)
                .setCreatedAt(Instant.now()).build();
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
        if (chunkWriter != null) {
            chunkWriter.close();
        }
    }
}
