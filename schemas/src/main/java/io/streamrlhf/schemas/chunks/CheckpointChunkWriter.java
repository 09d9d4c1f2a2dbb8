package io.streamrlhf.schemas.chunks;

import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes checkpoints in chunks to the checkpoints topic and removes old ones.
 *
 * <p>{@link #write} sends a version's chunks ({@code <prefix>/<version>/<i>}), then its count record
 * ({@code <prefix>/<version>/count}), all to the one partition its prefix hashes to, and returns their
 * {@link ChunkIndex} for the version record. {@link #retire} tombstones (null values, the count record first) every
 * chunk of the versions of a prefix older than the newest {@code kept}, so compaction deletes them; the version
 * records on {@code *.versions} are compacted by name and never point at them again.
 *
 * <p>Which versions are live is learned once per prefix, by scanning the topic on first use (a publisher that
 * restarts still retires what an earlier process wrote), then kept up to date in memory. Not thread-safe.
 */
public final class CheckpointChunkWriter implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CheckpointChunkWriter.class);
    /** Largest chunk: half the checkpoints topic's max.message.bytes, with room for the record's overhead. */
    public static final int CHUNK_BYTES = Topics.CHECKPOINT_MAX_MESSAGE_BYTES / 2;

    private final String topic;
    private final int kept;
    private final int chunkBytes;
    private final Map<String, Object> clientProperties;
    private final KafkaProducer<String, byte[]> producer;
    /** Per prefix: live version → number of chunk keys it uses. */
    private final Map<String, TreeMap<Long, Integer>> live = new HashMap<>();

    /** A writer with {@link #CHUNK_BYTES} chunks that keeps {@link Topics#checkpointsKept()} versions per prefix. */
    public CheckpointChunkWriter(Topics topics, Map<String, Object> clientProperties) {
        this(topics, clientProperties, topics.checkpointsKept(), CHUNK_BYTES);
    }

    /**
     * @param topics           the catalog (the checkpoints topic's name)
     * @param clientProperties Kafka client settings; producer and consumer keys are taken
     * @param kept             versions per prefix whose chunks stay (at least 2: a reader may still be fetching the
     *                         version before the newest)
     * @param chunkBytes       largest chunk, 1 to {@link #CHUNK_BYTES}
     */
    public CheckpointChunkWriter(Topics topics, Map<String, Object> clientProperties, int kept, int chunkBytes) {
        if (kept < 2) {
            throw new IllegalArgumentException("checkpoints kept must be at least 2 (a reader may still be fetching "
                    + "the version before the newest), not " + kept);
        }
        if (chunkBytes < 1 || chunkBytes > CHUNK_BYTES) {
            throw new IllegalArgumentException("chunk size must be 1.." + CHUNK_BYTES + " bytes, not " + chunkBytes);
        }
        this.topic = topics.checkpoints().name();
        this.kept = kept;
        this.chunkBytes = chunkBytes;
        this.clientProperties = clientProperties;
        Map<String, Object> props = only(clientProperties, ProducerConfig.configNames());
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Topics.CHECKPOINT_MAX_MESSAGE_BYTES);
        this.producer = new KafkaProducer<>(props, topics.checkpoints().keySerializer(),
                topics.checkpoints().valueSerializer());
    }

    /** The checkpoints topic. */
    public String topic() {
        return topic;
    }

    /** The {@code kafka:} URI of a version's chunks. */
    public ChunkUri uri(String prefix, long version) {
        return new ChunkUri(topic, prefix, version);
    }

    /**
     * Writes {@code bytes} as the chunks of {@code prefix}/{@code version} and waits until the broker has them all.
     *
     * @return where they lie, for the version record
     * @throws KafkaException naming the key prefix when the broker does not acknowledge them
     */
    public ChunkIndex write(String prefix, long version, byte[] bytes) {
        return write(prefix, version, bytes, (partition, key, value) -> producer.send(new ProducerRecord<>(topic,
                partition, key, value)), producer::flush);
    }

    /**
     * As {@link #write(String, long, byte[])}, through {@code sender}: a transactional producer inside the caller's
     * transaction, so the chunks commit (or abort, or are fenced) with the version record that names them. Offsets are
     * known once sent, before the commit.
     */
    public ChunkIndex write(Producer<byte[], byte[]> sender, String prefix, long version, byte[] bytes) {
        return write(prefix, version, bytes, (partition, key, value) -> sender.send(new ProducerRecord<>(topic,
                partition, key.getBytes(StandardCharsets.UTF_8), value)), sender::flush);
    }

    /** Sends one chunk record to a partition. */
    private interface ChunkSend {
        Future<RecordMetadata> send(int partition, String key, byte[] value);
    }

    private ChunkIndex write(String prefix, long version, byte[] bytes, ChunkSend send, Runnable flush) {
        TreeMap<Long, Integer> versions = live(prefix);
        int partition = partition(prefix);
        int chunks = Math.max(1, (bytes.length + chunkBytes - 1) / chunkBytes);
        try {
            Future<RecordMetadata> first = null;
            for (int c = 0; c < chunks; c++) {
                byte[] part = Arrays.copyOfRange(bytes, c * chunkBytes, Math.min(bytes.length, (c + 1) * chunkBytes));
                Future<RecordMetadata> sent = send.send(partition, ChunkUri.chunkKey(prefix, version, c), part);
                first = first == null ? sent : first;
            }
            flush.run();
            RecordMetadata count = send.send(partition, ChunkUri.countKey(prefix, version),
                    Integer.toString(chunks).getBytes(StandardCharsets.UTF_8)).get();
            versions.put(version, chunks);
            return new ChunkIndex(partition, first.get().offset(), count.offset());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while writing the chunks of " + prefix + "/" + version, e);
        } catch (ExecutionException e) {
            throw new KafkaException("could not write the chunks of " + prefix + "/" + version + " to " + topic + ": "
                    + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Tombstones the chunks of every live version of {@code prefix} but the newest {@code kept}.
     *
     * @return the versions tombstoned, ascending
     * @throws KafkaException when the broker does not acknowledge the tombstones
     */
    public List<Long> retire(String prefix) {
        return retire(prefix, Long.MAX_VALUE);
    }

    /**
     * As {@link #retire(String)}, keeping every version from {@code keepFrom} on as well: the full version and the
     * deltas a kept delta version is rebuilt from.
     */
    public List<Long> retire(String prefix, long keepFrom) {
        TreeMap<Long, Integer> versions = live(prefix);
        if (versions.size() <= kept) {
            return List.of();
        }
        List<Long> old = new ArrayList<>(versions.keySet()).subList(0, versions.size() - kept).stream()
                .filter(v -> v < keepFrom).toList();
        if (old.isEmpty()) {
            return List.of();
        }
        int partition = partition(prefix);
        try {
            Future<RecordMetadata> last = null;
            for (long v : old) {
                // The count first: a reader that scans finds "no count" rather than a half-deleted version.
                last = producer.send(new ProducerRecord<>(topic, partition, ChunkUri.countKey(prefix, v), null));
                for (int c = 0; c < versions.get(v); c++) {
                    last = producer.send(new ProducerRecord<>(topic, partition, ChunkUri.chunkKey(prefix, v, c),
                            null));
                }
            }
            producer.flush();
            last.get();  // idempotent, in order: the last acknowledged means all were
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while tombstoning old chunks of " + prefix, e);
        } catch (ExecutionException e) {
            throw new KafkaException("could not tombstone old chunks of " + prefix + " on " + topic + ": "
                    + e.getCause().getMessage(), e.getCause());
        }
        List<Long> retired = List.copyOf(old);
        retired.forEach(versions::remove);
        LOG.info("tombstoned the chunks of {} versions {} on {}; keeping {}", prefix, old, topic, versions.keySet());
        return retired;
    }

    /** The live versions of {@code prefix} this writer knows of, ascending. */
    public List<Long> liveVersions(String prefix) {
        return List.copyOf(live(prefix).keySet());
    }

    private int partition(String prefix) {
        int partitions = producer.partitionsFor(topic).size();
        return Utils.toPositive(Utils.murmur2(prefix.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    private TreeMap<Long, Integer> live(String prefix) {
        return live.computeIfAbsent(prefix, this::scanLive);
    }

    /** Versions of {@code prefix} with chunks on the topic whose count record is not tombstoned. */
    private TreeMap<Long, Integer> scanLive(String prefix) {
        Map<String, Object> props = only(clientProperties, ConsumerConfig.configNames());
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 16 * 1024 * 1024);
        String start = prefix + "/";
        TreeMap<Long, Integer> versions = new TreeMap<>();
        Duration timeout = Duration.ofSeconds(60);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, partition(prefix));
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
            while (consumer.position(tp) < end) {
                if (System.nanoTime() > deadline) {
                    throw new KafkaException("could not read " + topic + " to its end within " + timeout);
                }
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.key() == null || !r.key().startsWith(start)) {
                        continue;
                    }
                    String[] rest = r.key().substring(start.length()).split("/");
                    if (rest.length != 2 || !rest[0].matches("\\d+")) {
                        continue;  // another prefix that begins with this one (rm/<name> under a policy 'rm')
                    }
                    long v = Long.parseLong(rest[0]);
                    if (rest[1].equals("count")) {
                        if (r.value() == null) {
                            versions.remove(v);
                        } else {
                            versions.merge(v, Integer.parseInt(new String(r.value(), StandardCharsets.UTF_8).trim()),
                                    Math::max);
                        }
                    } else if (rest[1].matches("\\d+") && r.value() != null) {
                        versions.merge(v, Integer.parseInt(rest[1]) + 1, Math::max);
                    }
                }
            }
        }
        LOG.info("live chunked versions of {} on {}: {}", prefix, topic, versions.keySet());
        return versions;
    }

    private static Map<String, Object> only(Map<String, Object> settings, java.util.Set<String> names) {
        Map<String, Object> props = new HashMap<>();
        settings.forEach((k, v) -> {
            if (names.contains(k)) {
                props.put(k, v);
            }
        });
        return props;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
