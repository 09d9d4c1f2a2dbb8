package io.streamrlhf.learner.rm.online;

import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkWriter;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
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
 * Publishes {@link RewardModelVersion}s on {@code rm.versions}, idempotently per model name: it reads
 * the newest version already published for each name and sends only newer ones, so a trainer that
 * restarts between checkpoint and publication publishes each version once, and versions only increase.
 *
 * <p>With the checkpoint's bytes ({@link #publish(RewardModelVersion, byte[])}) it first writes them in chunks to
 * the {@code checkpoints} topic under the key prefix {@code rm/<name>} (apart from the policies' names), and the
 * record carries their {@code kafka:} URI and where they lie; after the record is sent, the chunks of that model's
 * versions beyond {@code topic.checkpoints.kept} are tombstoned. Without them the record's URI is sent as given
 * (a {@code file:} URI on shared storage).
 */
public final class RmVersionPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RmVersionPublisher.class);

    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private CheckpointChunkWriter chunkWriter;
    private final KafkaProducer<String, RewardModelVersion> producer;
    private final Map<String, Long> published;

    /** Connects and reads what was published so far. */
    public RmVersionPublisher(Topics topics, Map<String, Object> clientProperties) {
        this.topics = topics;
        this.clientProperties = clientProperties;
        TopicSpec<String, RewardModelVersion> spec = topics.rmVersions();
        Map<String, Object> props = KafkaClients.only(clientProperties, ProducerConfig.configNames());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        this.producer = new KafkaProducer<>(props, spec.keySerializer(), spec.valueSerializer());
        this.published = readPublished(clientProperties);
    }

    /** The newest version published for {@code name}, −1 when none. */
    public long lastPublished(String name) {
        return published.getOrDefault(name, -1L);
    }

    /**
     * Publishes {@code version} unless a version as new was published already for its name; waits for
     * the broker's acknowledgement.
     *
     * @return true when it was sent
     */
    public boolean publish(RewardModelVersion version) {
        return publish(version, null);
    }

    /**
     * Publishes {@code version}, its checkpoint travelling in chunks on the checkpoints topic when
     * {@code checkpointBytes} ({@code CheckpointStore.toBytes}) is not null: the record's {@code checkpoint_uri} is
     * then replaced by the chunks' {@code kafka:} URI and their index is added. Does nothing when a version as new
     * was published already for its name.
     *
     * @return true when it was sent
     */
    public boolean publish(RewardModelVersion version, byte[] checkpointBytes) {
        String name = version.getName();
        if (version.getVersion() <= lastPublished(name)) {
            LOG.info("reward model {} version {} was already published (newest {}); not publishing again", name,
                    version.getVersion(), lastPublished(name));
            return false;
        }
        RewardModelVersion record = version;
        String prefix = ChunkUri.rewardModelPrefix(name);
        try {
            if (checkpointBytes != null) {
                ChunkIndex index = chunkWriter().write(prefix, version.getVersion(), checkpointBytes);
                record = RewardModelVersion.newBuilder(version)
                        .setCheckpointUri(chunkWriter.uri(prefix, version.getVersion()).toString())
                        .setChunksPartition(index.partition()).setChunksFirstOffset(index.firstOffset())
                        .setChunksLastOffset(index.lastOffset()).build();
            }
            producer.send(new ProducerRecord<>(topics.rmVersions().name(), name, record)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while publishing " + name + " version " + version.getVersion(), e);
        } catch (ExecutionException e) {
            throw new KafkaException("could not publish " + name + " version " + version.getVersion() + " to "
                    + topics.rmVersions().name() + ": " + e.getCause().getMessage(), e.getCause());
        }
        published.put(name, version.getVersion());
        if (checkpointBytes != null) {
            try {
                chunkWriter.retire(prefix);
            } catch (KafkaException e) {
                // Only space is at stake: the next publication retries.
                LOG.warn("could not tombstone old checkpoint chunks of {}: {}", prefix, e.getMessage());
            }
        }
        return true;
    }

    private CheckpointChunkWriter chunkWriter() {
        if (chunkWriter == null) {
            chunkWriter = new CheckpointChunkWriter(topics, clientProperties);
        }
        return chunkWriter;
    }

    private Map<String, Long> readPublished(Map<String, Object> clientProperties) {
        Map<String, Object> props = KafkaClients.only(clientProperties, ConsumerConfig.configNames());
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        TopicSpec<String, RewardModelVersion> spec = topics.rmVersions();
        Map<String, Long> newest = new HashMap<>();
        try (KafkaConsumer<String, RewardModelVersion> consumer = new KafkaConsumer<>(props, spec.keyDeserializer(),
                spec.valueDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new KafkaException("could not read " + spec.name() + " to its end within 60 s");
                }
                for (ConsumerRecord<String, RewardModelVersion> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.value() != null) {
                        newest.merge(r.value().getName(), r.value().getVersion(), Math::max);
                    }
                }
            }
        }
        return newest;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
        if (chunkWriter != null) {
            chunkWriter.close();
        }
    }
}
