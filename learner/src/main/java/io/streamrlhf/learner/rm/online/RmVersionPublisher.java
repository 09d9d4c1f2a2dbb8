package io.streamrlhf.learner.rm.online;

import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkWriter;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.signing.VersionSigner;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.signing.VersionVerifier;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 *
 * <p>Trainer state: {@link #publish(RewardModelVersion, byte[], byte[])} also writes the trainer's complete resumable
 * state (an {@link RmCheckpointStore#toBytes} archive) in chunks under the key prefix
 * {@code rm-trainer-state/<ensemble>} before the record, which carries their index and sha256 ({@code state_*}
 * fields, covered by the signature); states of versions beyond {@code topic.checkpoints.kept} are tombstoned.
 * {@link #newestState} is the newest trusted record with a state, from which a trainer on a fresh machine resumes.
 *
 * <p>Signing: with {@code versions.sign.key} in the client properties each record is signed; with that key or
 * {@code versions.verify.keys} set, a record that does not verify against them is not counted as published, so a
 * forged version far ahead cannot stop the trainer's own publications.
 */
public final class RmVersionPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RmVersionPublisher.class);
    /** How long a schema-registry outage is waited out before a publication fails. */
    static final Duration REGISTRY_OUTAGE_WAIT = Duration.ofMinutes(10);

    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private CheckpointChunkWriter chunkWriter;
    private final KafkaProducer<String, RewardModelVersion> producer;
    private final Map<String, Long> published;
    /** Per ensemble, the newest trusted record that carries the trainer's state. */
    private final Map<String, RewardModelVersion> newestStates = new HashMap<>();
    private final VersionSigner signer;
    private final VersionVerifier trusted;

    /** Connects and reads what was published so far. */
    public RmVersionPublisher(Topics topics, Map<String, Object> clientProperties) {
        this.topics = topics;
        this.clientProperties = clientProperties;
        VersionSigningConfig signing = new VersionSigningConfig(clientProperties);
        this.signer = signing.signer().orElse(null);
        this.trusted = signing.publisherVerifier();
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
        return publish(version, checkpointBytes, null);
    }

    /**
     * As {@link #publish(RewardModelVersion, byte[])}, with the trainer's state at this version ({@code stateBytes},
     * when given) in chunks under {@code rm-trainer-state/<ensemble>}, written before the record and indexed in its
     * {@code state_*} fields.
     *
     * @return true when it was sent
     * @throws IllegalArgumentException when a state is given for a record without an ensemble name
     */
    public boolean publish(RewardModelVersion version, byte[] checkpointBytes, byte[] stateBytes) {
        String name = version.getName();
        if (stateBytes != null && version.getEnsemble() == null) {
            throw new IllegalArgumentException("reward model " + name + " version " + version.getVersion()
                    + ": a trainer state is published with an ensemble's record, and this one names none");
        }
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
            if (stateBytes != null) {
                ChunkIndex index = chunkWriter().write(statePrefix(version.getEnsemble()), version.getVersion(),
                        stateBytes);
                record = RewardModelVersion.newBuilder(record).setStateChunksPartition(index.partition())
                        .setStateChunksFirstOffset(index.firstOffset()).setStateChunksLastOffset(index.lastOffset())
                        .setStateSha256(CheckpointStore.sha256(stateBytes)).setStateSizeBytes((long) stateBytes.length)
                        .build();
            }
            if (signer != null) {
                record = signer.sign(record);
            }
            send(record);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while publishing " + name + " version " + version.getVersion(), e);
        } catch (ExecutionException e) {
            throw new KafkaException("could not publish " + name + " version " + version.getVersion() + " to "
                    + topics.rmVersions().name() + ": " + e.getCause().getMessage(), e.getCause());
        }
        published.put(name, version.getVersion());
        if (checkpointBytes != null) {
            retire(prefix);
        }
        if (stateBytes != null) {
            newestStates.put(record.getEnsemble(), record);
            retire(statePrefix(record.getEnsemble()));
        }
        return true;
    }

    private void retire(String prefix) {
        try {
            chunkWriter.retire(prefix);
        } catch (KafkaException e) {
            // Only space is at stake: the next publication retries.
            LOG.warn("could not tombstone old checkpoint chunks of {}: {}", prefix, e.getMessage());
        }
    }

    /** The key prefix of ensemble {@code ensemble}'s trainer-state chunks. */
    public static String statePrefix(String ensemble) {
        return ChunkUri.rmTrainerStatePrefix(ensemble);
    }

    /**
     * The newest trusted record of ensemble {@code ensemble} that carries the trainer's state: read at construction,
     * then each one this publisher sent; empty when none was published.
     */
    public Optional<RewardModelVersion> newestState(String ensemble) {
        return Optional.ofNullable(newestStates.get(ensemble));
    }

    /**
     * Sends one version record and waits for it. The serializer retries a registry outage for
     * {@code schema.registry.retry.max.ms}; past that the outage is waited out here, with back-off, for up to
     * {@link #REGISTRY_OUTAGE_WAIT}: the version is trained and checkpointed, and a trainer that exits over an outage
     * is restarted only to meet the same outage.
     */
    private void send(RewardModelVersion record) throws InterruptedException, ExecutionException {
        long deadline = System.nanoTime() + REGISTRY_OUTAGE_WAIT.toNanos();
        long backoffMs = 100;
        while (true) {
            try {
                producer.send(new ProducerRecord<>(topics.rmVersions().name(), record.getName(), record)).get();
                return;
            } catch (KafkaException e) {
                if (!AvroSerdeException.isRegistryOutage(e) || System.nanoTime() > deadline) {
                    throw e;
                }
                LOG.warn("schema registry unavailable while publishing reward model {} version {}; trying again in "
                        + "{} ms: {}", record.getName(), record.getVersion(), backoffMs, e.getMessage());
                Thread.sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 5_000);
            }
        }
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
                    if (r.value() == null) {
                        continue;
                    }
                    java.util.Optional<String> refusal = trusted.refusal(r.value());
                    if (refusal.isPresent()) {
                        LOG.warn("reward model {} version {} on {} is ignored as a published version: {}",
                                r.value().getName(), r.value().getVersion(), spec.name(), refusal.get());
                    } else {
                        newest.merge(r.value().getName(), r.value().getVersion(), Math::max);
                        RewardModelVersion v = r.value();
                        if (v.getEnsemble() != null && v.getStateSha256() != null
                                && v.getStateChunksPartition() != null) {
                            newestStates.merge(v.getEnsemble(), v, (a, b) -> b.getVersion() >= a.getVersion() ? b : a);
                        }
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
