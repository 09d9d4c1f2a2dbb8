package io.streamrlhf.rewardstream.scoring.model;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkReader;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reward models published on {@code rm.versions}, for a scorer that starts with nothing on its disk
 * ({@code rm:published;name=NAME}): the newest version of a name, waited for when none is there yet, and its
 * checkpoint, fetched and verified from wherever the record points (the checkpoints topic or a {@code file:}
 * directory). The same chunk reader serves the hot swaps that follow.
 */
public final class PublishedRewardModels {

    private static final Logger LOG = LoggerFactory.getLogger(PublishedRewardModels.class);

    private final TopicSpec<String, RewardModelVersion> spec;
    private final Map<String, Object> consumerProperties;
    private final CheckpointChunkReader chunks;
    private final Duration wait;

    /**
     * @param topics           the catalog
     * @param clientProperties Kafka client settings; consumer keys are taken
     * @param wait             how long to wait for a first version of a name, and for one checkpoint read
     */
    public PublishedRewardModels(Topics topics, Map<String, Object> clientProperties, Duration wait) {
        this.spec = topics.rmVersions();
        Map<String, Object> props = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k)) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.consumerProperties = props;
        this.chunks = new CheckpointChunkReader(clientProperties, wait);
        this.wait = wait;
    }

    /** Reads checkpoint chunks with these settings. */
    public CheckpointChunkReader chunks() {
        return chunks;
    }

    /**
     * The newest version of {@code name} on {@code rm.versions}, reading the topic to its end and again until one
     * appears.
     *
     * @throws IllegalStateException naming the model and topic when none appears within the wait
     */
    public RewardModelVersion newest(String name) {
        long deadline = System.nanoTime() + wait.toNanos();
        try (KafkaConsumer<String, RewardModelVersion> consumer = new KafkaConsumer<>(consumerProperties,
                spec.keyDeserializer(), spec.valueDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), wait).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (partitions.isEmpty()) {
                throw new IllegalStateException("topic " + spec.name() + " does not exist; cannot find reward model "
                        + name);
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            RewardModelVersion newest = null;
            while (true) {
                Map<TopicPartition, Long> end = consumer.endOffsets(partitions, wait);
                while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))
                        && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, RewardModelVersion> r : consumer.poll(Duration.ofMillis(200))) {
                        if (r.value() != null && name.equals(r.value().getName())
                                && (newest == null || r.value().getVersion() > newest.getVersion())) {
                            newest = r.value();
                        }
                    }
                }
                if (newest != null) {
                    LOG.info("newest published version of reward model {}: {} at {}", name, newest.getVersion(),
                            newest.getCheckpointUri());
                    return newest;
                }
                if (System.nanoTime() >= deadline) {
                    throw new IllegalStateException("no version of reward model '" + name + "' was published on "
                            + spec.name() + " within " + wait);
                }
                try {
                    Thread.sleep(500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for reward model " + name, e);
                }
            }
        }
    }

    /** The verified checkpoint of {@code version} ({@link RewardModelLoader#fetchVerified}). */
    public Checkpoint fetch(RewardModelVersion version) {
        return RewardModelLoader.fetchVerified(version, chunks);
    }
}
