package io.streamrlhf.schemas.chunks;

import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiPredicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A published policy version named as a component's starting point by {@code kafka:<checkpoints topic>/<policy
 * name>/<version>}: the learner's {@code learner.init.checkpoint} and the reward stream's
 * {@code scoring.reference.checkpoint}. A component on a machine that shares no disk with anyone then needs only the
 * bootstrap address and the registry.
 *
 * <p>{@link #find} checks the version as workers check one: its {@code policy.versions} record must exist (the last
 * record of that name and version counts), point at these chunks, be signed by a trusted key when
 * {@code versions.verify.keys} is set, and be a full version (a delta needs its base, which a starting point does not
 * have). {@link #readChunks} then reads its chunks; the caller checks them against {@link #sha256()} (the manifest's
 * digest, which the checkpoint format of the models module computes) before it uses them. Every refusal is a
 * {@link ConfigException} naming the setting and the URI.
 */
public final class PublishedPolicyCheckpoint {

    private static final Logger LOG = LoggerFactory.getLogger(PublishedPolicyCheckpoint.class);

    private final String setting;
    private final String value;
    private final ChunkUri uri;
    private final PolicyVersion record;
    private final Map<String, Object> clientProperties;
    private final Duration timeout;

    private PublishedPolicyCheckpoint(String setting, String value, ChunkUri uri, PolicyVersion record,
                                      Map<String, Object> clientProperties, Duration timeout) {
        this.setting = setting;
        this.value = value;
        this.uri = uri;
        this.record = record;
        this.clientProperties = clientProperties;
        this.timeout = timeout;
    }

    /**
     * Looks up and checks the version {@code value} names.
     *
     * @param setting          the key whose value this is (named in every refusal)
     * @param value            {@code kafka:<topic>/<name>/<version>} ({@link ChunkUri#isChunkUri})
     * @param clientProperties Kafka client settings, and {@code versions.verify.keys} when versions are signed
     * @param timeout          how long reading {@code policy.versions} (and later the chunks) may take
     * @throws ConfigException naming the setting and URI: a malformed URI, no such record, a record pointing
     *                         elsewhere, an untrusted or delta version
     */
    public static PublishedPolicyCheckpoint find(String setting, String value, Topics topics,
                                                 Map<String, Object> clientProperties, Duration timeout) {
        ChunkUri uri;
        try {
            uri = ChunkUri.parse(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(setting, value, e.getMessage());
        }
        String what = setting + "=" + value;
        PolicyVersion record = newestRecord(topics, clientProperties, uri.prefix(), uri.version(), timeout)
                .orElseThrow(() -> new ConfigException(what + ": no record of policy '" + uri.prefix() + "' version "
                        + uri.version() + " on " + topics.policyVersions().name() + "; publish it first, or name a "
                        + "local checkpoint directory"));
        if (!value.equals(record.getCheckpointUri())) {
            throw new ConfigException(what + ": the published record of that version points at "
                    + record.getCheckpointUri() + ", not at these chunks");
        }
        Optional<String> refusal = new VersionSigningConfig(clientProperties).verifier().refusal(record);
        if (refusal.isPresent()) {
            throw new ConfigException(what + ": refused: " + refusal.get());
        }
        if (record.getDeltaBaseVersion() != null) {
            throw new ConfigException(what + ": version " + uri.version() + " is published as a delta on version "
                    + record.getDeltaBaseVersion() + "; start from a full version");
        }
        return new PublishedPolicyCheckpoint(setting, value, uri, record, clientProperties, timeout);
    }

    /** The URI. */
    public ChunkUri uri() {
        return uri;
    }

    /** The version record that was checked. */
    public PolicyVersion record() {
        return record;
    }

    /** The published sha256 of the checkpoint's manifest. */
    public String sha256() {
        return record.getSha256();
    }

    /** The name of a local copy of this version: {@code <policy name>-v<version>}, slashes replaced. */
    public String copyName() {
        return uri.prefix().replace('/', '_') + "-v" + uri.version();
    }

    /** {@code <setting>=<uri>}, how refusals and log lines name it. */
    public String describe() {
        return setting + "=" + value;
    }

    /** A refusal of this version for {@code reason} (a failed sha256 check of its chunks, say). */
    public ConfigException refused(String reason) {
        return new ConfigException(describe() + ": " + reason);
    }

    /**
     * The version's chunks, joined: the checkpoint's byte-stream form.
     *
     * @throws ConfigException naming the setting and URI when they cannot be read within the timeout
     */
    public byte[] readChunks() {
        try {
            return new CheckpointChunkReader(clientProperties, timeout).read(uri.topic(), uri.prefix(),
                    uri.version(), ChunkIndex.ofNullable(record.getChunksPartition(), record.getChunksFirstOffset(),
                            record.getChunksLastOffset()));
        } catch (ChunkReadException e) {
            throw refused("its chunks cannot be read: " + e.getMessage());
        }
    }

    /**
     * How a fetched version is kept on local disk; the checkpoint format lives with the models
     * ({@code CheckpointCopy::holds}, {@code CheckpointCopy::write}).
     */
    public interface LocalCopies {

        /** Whether {@code dir} holds a complete copy whose manifest has {@code sha256}. */
        boolean holds(Path dir, String sha256);

        /**
         * Writes the checkpoint byte stream {@code stream} to {@code dir}, refusing it (with an unchecked exception
         * whose message says why) when its manifest's sha256 is not {@code sha256}.
         */
        void write(byte[] stream, String sha256, Path dir);

        /** The copies {@code holds} recognises and {@code writer} writes. */
        static LocalCopies of(BiPredicate<Path, String> holds, Writer writer) {
            return new LocalCopies() {
                @Override
                public boolean holds(Path dir, String sha256) {
                    return holds.test(dir, sha256);
                }

                @Override
                public void write(byte[] stream, String sha256, Path dir) {
                    writer.write(stream, sha256, dir);
                }
            };
        }

        /** {@link LocalCopies#write} as a function. */
        @FunctionalInterface
        interface Writer {
            /** See {@link LocalCopies#write}. */
            void write(byte[] stream, String sha256, Path dir);
        }
    }

    /**
     * The local directory a component loads from: {@code value} itself when it is a path, else the published version
     * it names, checked ({@link #find}) and written once to {@code parent/<name>-v<version>}, reused from there after
     * the same check on a restart.
     *
     * @param setting the key {@code value} came from, named in every refusal
     * @throws ConfigException naming the setting and URI: no such record, an untrusted or delta version, a sha256
     *                         mismatch, or chunks that cannot be read within {@code timeout}
     */
    public static Path resolve(String setting, String value, Path parent, Topics topics,
                               Map<String, Object> clientProperties, Duration timeout, LocalCopies copies) {
        if (!ChunkUri.isChunkUri(value)) {
            return Path.of(value);
        }
        PublishedPolicyCheckpoint published = find(setting, value, topics, clientProperties, timeout);
        Path dir = parent.toAbsolutePath().resolve(published.copyName());
        if (copies.holds(dir, published.sha256())) {
            LOG.info("{}: using the copy fetched before, {}", published.describe(), dir);
            return dir;
        }
        byte[] stream = published.readChunks();
        try {
            copies.write(stream, published.sha256(), dir);
        } catch (RuntimeException e) {
            throw published.refused(e.getMessage());
        }
        LOG.info("{}: fetched {} bytes from {} into {}", published.describe(), stream.length, published.uri().topic(),
                dir);
        return dir;
    }

    private static Optional<PolicyVersion> newestRecord(Topics topics, Map<String, Object> clientProperties,
                                                        String name, long version, Duration timeout) {
        Map<String, Object> props = new HashMap<>();
        clientProperties.forEach((k, v) -> {
            if (ConsumerConfig.configNames().contains(k) || k.startsWith("sasl.") || k.startsWith("ssl.")) {
                props.put(k, v);
            }
        });
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        TopicSpec<String, PolicyVersion> spec = topics.policyVersions();
        PolicyVersion found = null;
        try (KafkaConsumer<String, PolicyVersion> consumer = new KafkaConsumer<>(props, spec.keyDeserializer(),
                spec.valueDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new ConfigException("reading " + spec.name() + " for policy '" + name + "' version "
                            + version + " took longer than " + timeout);
                }
                for (ConsumerRecord<String, PolicyVersion> r : consumer.poll(Duration.ofMillis(500))) {
                    if (name.equals(r.key()) && r.value() != null && r.value().getVersion() == version) {
                        found = r.value();  // the last record of a version is the one that counts
                    }
                }
            }
        }
        return Optional.ofNullable(found);
    }
}
