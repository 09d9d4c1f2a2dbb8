package io.streamrlhf.learner.app;

import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.models.checkpoint.CheckpointDelta;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkWriter;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.signing.VersionSigner;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.signing.VersionVerifier;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TransactionCommit;
import java.time.Duration;
import java.time.Instant;
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
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes {@link PolicyVersion}s of one policy on {@code policy.versions}, idempotently by
 * version: it reads the newest version already published for its name and sends only newer
 * ones, so a learner that restarts after a crash between checkpoint and publication publishes the
 * checkpoint once, and published versions only ever increase. Optionally writes the checkpoint's
 * bytes in chunks to the {@code checkpoints} topic (key {@code <name>/<version>/<chunk>}, through a
 * {@link CheckpointChunkWriter}) in the same transaction as the version record, which carries where they lie, so a
 * worker seeks straight to them; after the commit the chunks of versions beyond {@code topic.checkpoints.kept} are
 * tombstoned.
 *
 * <p>Learner state: {@link #publish(PolicyVersion, byte[], byte[])} also writes the learner's complete resumable
 * state (a {@link io.streamrlhf.learner.checkpoint.LearnerCheckpointStore#toBytes} archive) in chunks under the key
 * prefix {@code learner-state/<name>} in the same transaction, and the version record carries their index and sha256
 * ({@code state_*} fields): a state is on Kafka exactly when its version is, and a fenced learner can write neither.
 * States of versions beyond {@code topic.checkpoints.kept} are tombstoned like weights. {@link #newest()} is the
 * newest record, through which a standby on another machine finds the state to resume from.
 *
 * <p>Delta versions: with a full version every {@code deltaFullEvery} (more than 1), the versions between travel as
 * {@link CheckpointDelta}s to the version this publisher published before, and their record names that version in
 * {@code delta_base_version}; a delta is sent only when it is smaller than the full bytes. The first version a
 * publisher sends is always full (a new leader holds no earlier bytes), and tombstoning keeps every version back to
 * the full version the oldest kept version is rebuilt from, so a reader that lacks the base can still walk the chain.
 *
 * <p>Signing: with {@code versions.sign.key} in the client properties every version record is signed
 * ({@link VersionSigner}); and with that key or {@code versions.verify.keys} set, the newest published version is
 * the newest one that verifies against those keys, so a forged record far ahead (version 2^62, say) written by
 * anyone else who can write the topic is ignored instead of stopping every later publication.
 *
 * <p>Fencing: one transactional producer with a {@code transactional.id} that every learner of the policy shares.
 * Constructing a publisher calls {@code initTransactions}, which aborts any transaction an earlier holder of the id
 * left open and fences that holder: from then on each of its sends and commits fails with
 * {@link ProducerFencedException} (or an invalid-epoch error), which {@link #publish} and {@link #claim} rethrow as
 * {@link PublisherFencedException}. The newest published version is read after that, so no version a fenced
 * learner could still commit is missed. Readers use {@code read_committed}, so they never see a fenced learner's
 * chunks or records.
 */
public final class PolicyPublisher implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PolicyPublisher.class);

    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private final String name;
    private final String transactionalId;
    private final KafkaProducer<byte[], byte[]> producer;
    /** Signs each version; null when no signing key is configured. */
    private final VersionSigner signer;
    /** What counts as a published version when reading back the newest. */
    private final VersionVerifier trusted;
    /** Sends the chunks (in the producer's transactions) and tombstones old ones; made on the first chunked version. */
    private CheckpointChunkWriter chunkWriter;
    private long lastPublished;
    /** The newest record published for this name (read at construction, then each one this publisher sent). */
    private PolicyVersion newest;
    /** A full version every this many on the checkpoints topic; 0 or 1: always full. */
    private final int deltaFullEvery;
    /** The byte-stream checkpoint this publisher sent last, the base of the next delta; null before the first. */
    private byte[] previousBytes;
    private long previousVersion = -1;
    /**
     * The version the previous one was a delta on, from which the next delta may carry momentum
     * ({@link CheckpointDelta#encode(long, byte[], byte[], byte[])}); null when the previous version went full, so a
     * reader walking a chain back to its full version always holds the prior a delta needs.
     */
    private byte[] priorBytes;
    private int deltasSinceFull;
    /** Per chunked version this publisher sent: the full version it is rebuilt from (itself when full). */
    private final java.util.TreeMap<Long, Long> roots = new java.util.TreeMap<>();
    /** Bytes of the chunks of the last version sent: the full checkpoint or its delta. */
    private long lastChunkBytes;

    /** A publisher with the transactional id {@code <topic prefix>learner-<name>} (tools and tests). */
    public PolicyPublisher(Topics topics, Map<String, Object> clientProperties, String name) {
        this(topics, clientProperties, name, topics.prefix() + "learner-" + name);
    }

    /**
     * Connects, fences every earlier publisher with {@code transactionalId}, then reads the newest published version
     * of {@code name}.
     */
    public PolicyPublisher(Topics topics, Map<String, Object> clientProperties, String name, String transactionalId) {
        this(topics, clientProperties, name, transactionalId, 1);
    }

    /**
     * As {@link #PolicyPublisher(Topics, Map, String, String)}, publishing chunked versions as deltas between full
     * versions every {@code deltaFullEvery} (0 or 1: always full).
     */
    public PolicyPublisher(Topics topics, Map<String, Object> clientProperties, String name, String transactionalId,
                           int deltaFullEvery) {
        if (deltaFullEvery < 0) {
            throw new IllegalArgumentException("delta full every must be >= 0, not " + deltaFullEvery);
        }
        this.deltaFullEvery = deltaFullEvery;
        this.topics = topics;
        this.clientProperties = clientProperties;
        this.name = name;
        this.transactionalId = transactionalId;
        VersionSigningConfig signing = new VersionSigningConfig(clientProperties);
        this.signer = signing.signer().orElse(null);
        this.trusted = signing.publisherVerifier();
        Map<String, Object> props = producerProperties(clientProperties);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.CHECKPOINT_MAX_MESSAGE_BYTES);
        this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
        try {
            producer.initTransactions();
        } catch (RuntimeException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
        LOG.info("publisher of policy {} holds transactional.id {}: earlier holders are fenced", name, transactionalId);
        this.newest = readNewest();
        this.lastPublished = newest == null ? -1 : newest.getVersion();
    }

    /** The newest version published for this name, −1 when none. */
    public long lastPublished() {
        return lastPublished;
    }

    /**
     * The newest version record of this name: read once this publisher had fenced every earlier one, so no learner
     * can publish past it but this publisher; empty when none was published.
     */
    public Optional<PolicyVersion> newest() {
        return Optional.ofNullable(newest);
    }

    /**
     * Publishes {@code version} unless a version as new was published already: the checkpoint's chunks (when given)
     * and the version record in one transaction.
     *
     * @return true when it was sent
     * @throws PublisherFencedException when another learner took the transactional id over
     */
    public boolean publish(PolicyVersion version, byte[] checkpointBytes) {
        return publish(version, checkpointBytes, null, List.of());
    }

    /**
     * As {@link #publish(PolicyVersion, byte[])}, with the learner's state at this version ({@code stateBytes}, when
     * given) in chunks in the same transaction, indexed in the record's {@code state_*} fields.
     *
     * @return true when it was sent
     * @throws PublisherFencedException when another learner took the transactional id over
     */
    public boolean publish(PolicyVersion version, byte[] checkpointBytes, byte[] stateBytes) {
        return publish(version, checkpointBytes, stateBytes, List.of());
    }

    /** As {@link #publish(PolicyVersion, byte[], byte[], List)} without a learner state. */
    public boolean publish(PolicyVersion version, byte[] checkpointBytes,
                           List<ProducerRecord<byte[], byte[]>> deadLetters) {
        return publish(version, checkpointBytes, null, deadLetters);
    }

    /**
     * Publishes the version with its chunks, the learner's state ({@code stateBytes}, when given; indexed in the
     * record's {@code state_*} fields) and {@code deadLetters} (records for dead-letter topics), all in one
     * transaction, so they are committed exactly when the version is. When the version was published already the
     * dead letters still go, in a transaction of their own.
     *
     * @return true when it was sent
     * @throws PublisherFencedException when another learner took the transactional id over
     */
    public boolean publish(PolicyVersion version, byte[] checkpointBytes, byte[] stateBytes,
                           List<ProducerRecord<byte[], byte[]>> deadLetters) {
        if (version.getVersion() <= lastPublished) {
            LOG.info("policy {} version {} was already published (newest {}); not publishing again", name,
                    version.getVersion(), lastPublished);
            if (!deadLetters.isEmpty()) {
                inTransaction(deadLetters.size() + " dead letter(s) of " + name, () -> {
                    sendAll(deadLetters);
                    return -1;
                });
            }
            return false;
        }
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        String what = name + " version " + version.getVersion();
        byte[] delta = checkpointBytes == null ? null : delta(checkpointBytes);
        byte[] chunks = delta != null ? delta : checkpointBytes;
        Long deltaBase = delta != null ? previousVersion : null;
        PolicyVersion[] sent = new PolicyVersion[1];
        inTransaction(what, () -> {
            sendAll(deadLetters);
            PolicyVersion record = version;
            if (checkpointBytes != null) {
                ChunkIndex index = chunkWriter().write(producer, name, version.getVersion(), chunks);
                record = PolicyVersion.newBuilder(record).setChunksPartition(index.partition())
                        .setChunksFirstOffset(index.firstOffset()).setChunksLastOffset(index.lastOffset())
                        .setDeltaBaseVersion(deltaBase).build();
            }
            if (stateBytes != null) {
                ChunkIndex index = chunkWriter().write(producer, statePrefix(), version.getVersion(), stateBytes);
                record = PolicyVersion.newBuilder(record).setStateChunksPartition(index.partition())
                        .setStateChunksFirstOffset(index.firstOffset()).setStateChunksLastOffset(index.lastOffset())
                        .setStateSha256(CheckpointStore.sha256(stateBytes)).setStateSizeBytes((long) stateBytes.length)
                        .build();
            }
            if (signer != null) {
                record = signer.sign(record);
            }
            byte[] key = spec.keySerializer().serialize(spec.name(), name);
            byte[] value = spec.valueSerializer().serialize(spec.name(), record);
            sent[0] = record;
            return producer.send(new ProducerRecord<>(spec.name(), key, value)).get().offset();
        });
        lastPublished = version.getVersion();
        newest = sent[0];
        if (stateBytes != null) {
            retireOldStates();
        }
        if (checkpointBytes != null) {
            roots.put(version.getVersion(), delta != null ? roots.getOrDefault(previousVersion, previousVersion)
                    : version.getVersion());
            deltasSinceFull = delta != null ? deltasSinceFull + 1 : 0;
            priorBytes = delta != null ? previousBytes : null;
            previousBytes = checkpointBytes;
            previousVersion = version.getVersion();
            lastChunkBytes = chunks.length;
            if (delta != null) {
                LOG.info("policy {} version {} sent as a delta to version {}: {} bytes of {} full", name,
                        version.getVersion(), deltaBase, delta.length, checkpointBytes.length);
            }
            retireOldChunks();
        }
        return true;
    }

    private void sendAll(List<ProducerRecord<byte[], byte[]>> records) {
        for (ProducerRecord<byte[], byte[]> r : records) {
            producer.send(r);  // an asynchronous failure fails the commit, so nothing is half-sent
        }
    }

    /** The delta of {@code checkpointBytes} to the previous version, or null when this version goes full. */
    private byte[] delta(byte[] checkpointBytes) {
        if (deltaFullEvery <= 1 || previousBytes == null || deltasSinceFull + 1 >= deltaFullEvery) {
            return null;
        }
        try {
            byte[] delta = CheckpointDelta.encode(previousVersion, previousBytes, priorBytes, checkpointBytes);
            return delta.length < checkpointBytes.length ? delta : null;
        } catch (CheckpointException e) {
            LOG.warn("policy {}: no delta to version {} ({}); sending the full checkpoint", name, previousVersion,
                    e.getMessage());
            return null;
        }
    }

    /** Bytes of the chunks of the last version sent (its delta or its full checkpoint); 0 before the first. */
    public long lastChunkBytes() {
        return lastChunkBytes;
    }

    /** Tombstones chunks beyond the kept versions; a failure costs only space, so it is logged, not thrown. */
    private void retireOldChunks() {
        try {
            List<Long> live = chunkWriter.liveVersions(name);
            int kept = topics.checkpointsKept();
            long oldestKept = live.isEmpty() ? Long.MAX_VALUE : live.get(Math.max(0, live.size() - kept));
            // A kept delta needs its chain back to its full version; versions of earlier publishers were full or
            // had their own chains, which the walk-back of a reader may miss: they are kept no longer than before.
            chunkWriter.retire(name, roots.getOrDefault(oldestKept, oldestKept));
        } catch (KafkaException e) {
            LOG.warn("could not tombstone old checkpoint chunks of {}: {}; retrying after the next version", name,
                    e.getMessage());
        }
    }

    /** The key prefix of this policy's learner-state chunks. */
    public String statePrefix() {
        return ChunkUri.learnerStatePrefix(name);
    }

    /** Tombstones learner states beyond the kept versions (all are full); a failure costs only space. */
    private void retireOldStates() {
        try {
            chunkWriter.retire(statePrefix());
        } catch (KafkaException e) {
            LOG.warn("could not tombstone old learner states of {}: {}; retrying after the next version", name,
                    e.getMessage());
        }
    }

    /**
     * Writes a takeover record ({@link io.streamrlhf.learner.lease.Takeover#value}) on the lease topic in a
     * transaction of its own.
     *
     * @return its offset: the new leader's epoch
     * @throws PublisherFencedException when another learner took the transactional id over meanwhile
     */
    public long claim(TopicSpec<String, byte[]> lease, byte[] takeover) {
        return inTransaction("the takeover of " + name, () -> producer.send(new ProducerRecord<>(lease.name(),
                lease.keySerializer().serialize(lease.name(), name), takeover)).get().offset());
    }

    /** What runs inside a transaction; returns an offset. */
    private interface Sends {
        long run() throws InterruptedException, ExecutionException;
    }

    private long inTransaction(String what, Sends sends) {
        try {
            producer.beginTransaction();
            long offset = sends.run();
            TransactionCommit.commit(producer, what);
            return offset;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abortQuietly();
            throw new KafkaException("interrupted while publishing " + what, e);
        } catch (ExecutionException e) {
            throw failed(what, e.getCause());
        } catch (KafkaException e) {
            throw failed(what, e);
        }
    }

    private RuntimeException failed(String what, Throwable cause) {
        if (fenced(cause)) {
            // A fenced producer can do nothing more, not even abort; the transaction coordinator already aborted it.
            return new PublisherFencedException("could not publish " + what + ": transactional.id " + transactionalId
                    + " was taken over by another learner (" + cause.getMessage() + ")", cause);
        }
        abortQuietly();
        return new KafkaException("could not publish " + what + ": " + cause.getMessage(), cause);
    }

    /** Whether {@code e} or a cause says the producer was fenced (a later call wraps the first error). */
    private static boolean fenced(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof InvalidProducerEpochException) {
                return true;
            }
        }
        return false;
    }

    private void abortQuietly() {
        try {
            producer.abortTransaction();
        } catch (RuntimeException e) {
            LOG.debug("abort after a failed publication failed: {}", e.getMessage());
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

    private PolicyVersion readNewest() {
        Map<String, Object> props = new HashMap<>(KafkaClients.only(clientProperties, ConsumerConfig.configNames()));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        PolicyVersion newest = null;
        try (KafkaConsumer<String, PolicyVersion> consumer = new KafkaConsumer<>(props, spec.keyDeserializer(),
                spec.valueDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, PolicyVersion> r : consumer.poll(Duration.ofMillis(500))) {
                    if (name.equals(r.key()) && r.value() != null
                            && (newest == null || r.value().getVersion() > newest.getVersion())) {
                        Optional<String> refusal = trusted.refusal(r.value());
                        if (refusal.isPresent()) {
                            LOG.warn("policy {} version {} at {}@{} is ignored as a published version: {}", name,
                                    r.value().getVersion(), new TopicPartition(r.topic(), r.partition()), r.offset(),
                                    refusal.get());
                        } else {
                            newest = r.value();
                        }
                    }
                }
            }
        }
        LOG.info("newest published version of policy {}: {}", name, newest == null ? "none" : newest.getVersion());
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

    /** This publisher's transactional id was taken over by another learner: it can publish nothing more. */
    public static final class PublisherFencedException extends KafkaException {
        PublisherFencedException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
