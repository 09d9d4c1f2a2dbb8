package io.streamrlhf.rewardstream.scoring.model;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkReader;
import io.streamrlhf.schemas.chunks.CheckpointUris;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.signing.VersionVerifier;
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
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reward models published on {@code rm.versions}, for a scorer that starts with nothing on its disk
 * ({@code rm:published;name=NAME}): the newest version of a name, waited for when none is there yet, and its
 * checkpoint, fetched and verified from wherever the record points (the checkpoints topic or a {@code file:}
 * directory). The same chunk reader serves the hot swaps that follow. With {@code versions.verify.keys} set, only
 * versions signed by one of those keys count as the newest, so a forged version far ahead is passed over (and logged)
 * rather than loaded or waited on; URIs are held to the checkpoints topic and {@code checkpoints.allowed.roots}.
 */
public final class PublishedRewardModels {

    private static final Logger LOG = LoggerFactory.getLogger(PublishedRewardModels.class);

    private final TopicSpec<String, RewardModelVersion> spec;
    private final Map<String, Object> consumerProperties;
    private final CheckpointChunkReader chunks;
    private final Duration wait;
    private final VersionVerifier verifier;
    private final CheckpointUris uris;

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
        this.verifier = VersionSigningConfig.verifier(clientProperties);
        this.uris = CheckpointUris.from(topics.checkpoints().name(), clientProperties);
    }

    /** The signing keys versions are checked against ({@link VersionVerifier#OFF} when none are configured). */
    public VersionVerifier verifier() {
        return verifier;
    }

    /** The allowed checkpoints topic and directories. */
    public CheckpointUris uris() {
        return uris;
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
        Deserializer<RewardModelVersion> values = spec.valueDeserializer();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(consumerProperties,
                new StringDeserializer(), new ByteArrayDeserializer())) {
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
                    java.util.Set<TopicPartition> readAgain = new java.util.HashSet<>();
                    for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                        if (readAgain.contains(tp)) {
                            continue;
                        }
                        RewardModelVersion v = decode(values, r, consumer);
                        if (v == UNREADABLE_LATER) {
                            readAgain.add(tp);  // the registry is down: sought back, read with a later poll
                            continue;
                        }
                        if (v != null && name.equals(v.getName())
                                && (newest == null || v.getVersion() > newest.getVersion())) {
                            java.util.Optional<String> refusal = verifier.refusal(v);
                            if (refusal.isPresent()) {
                                LOG.warn("reward model {} version {} on {} refused: {}; passed over", name,
                                        v.getVersion(), spec.name(), refusal.get());
                            } else {
                                newest = v;
                            }
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

    /** Marks a record to read again: the schema registry did not answer (never a bad record). */
    private static final RewardModelVersion UNREADABLE_LATER = new RewardModelVersion();

    /**
     * The version in {@code r}, or null for a tombstone or a record no one can read: that one is passed over with a
     * warning (the scorers' topology counts it too), so one bad record cannot keep every scorer from starting. At a
     * registry outage the record's partition is sought back to it and {@link #UNREADABLE_LATER} returned.
     */
    private RewardModelVersion decode(Deserializer<RewardModelVersion> values, ConsumerRecord<String, byte[]> r,
                                      KafkaConsumer<String, byte[]> consumer) {
        try {
            return values.deserialize(r.topic(), r.headers(), r.value());
        } catch (RuntimeException e) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (AvroSerdeException.isRegistryOutage(e)) {
                LOG.warn("schema registry unavailable while reading {}@{}; reading it again: {}", tp, r.offset(),
                        e.getMessage());
                consumer.seek(tp, r.offset());
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for the schema registry", ie);
                }
                return UNREADABLE_LATER;
            }
            LOG.warn("unreadable record {}@{} on {} passed over: {}", tp, r.offset(), spec.name(), e.getMessage());
            return null;
        }
    }

    /** The verified checkpoint of {@code version} ({@link RewardModelLoader#fetchVerified}). */
    public Checkpoint fetch(RewardModelVersion version) {
        return RewardModelLoader.fetchVerified(version, chunks, verifier, uris);
    }
}
