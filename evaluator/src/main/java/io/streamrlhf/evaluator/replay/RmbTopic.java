package io.streamrlhf.evaluator.replay;

import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.evaluator.rmb.RmbJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The evaluation topic: RMB items as Kafka records, so an offline file and its replay through Kafka can be evaluated
 * the same way. Key: the item's {@link RmbItem#key() key} ({@code pairwise/<uid>}); value: the item as an RMB JSON
 * record ({@link RmbJson#write}), so any tool reads it as RMB's own format. The items are published in one
 * transaction and read back with {@code read_committed} over exactly the offsets the publication added, so a
 * half-written or concurrent publication is never evaluated.
 *
 * <p>The topic is not part of the service catalog ({@code io.streamrlhf.schemas.topics.Topics}): it holds evaluation
 * data only, in JSON, and its name is {@code <prefix>}{@value #BASE_NAME} unless given.
 */
public final class RmbTopic {
    private static final Logger LOG = LoggerFactory.getLogger(RmbTopic.class);

    /** Base name of the evaluation topic; the full name is the topic prefix plus this. */
    public static final String BASE_NAME = "eval.rmb";
    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private final Map<String, Object> clientConfig;
    private final String topic;

    /**
     * @param clientConfig {@code bootstrap.servers} and any security settings
     * @param topic        the full topic name
     */
    public RmbTopic(Map<String, ?> clientConfig, String topic) {
        this.clientConfig = new HashMap<>(clientConfig);
        this.topic = topic;
    }

    public String topic() {
        return topic;
    }

    /**
     * Creates the topic when missing, with {@code partitions} partitions (replication factor from the broker's
     * default).
     */
    public void ensureExists(int partitions) {
        Map<String, Object> admin = new HashMap<>();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, clientConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
        clientConfig.forEach((k, v) -> {
            if (k.startsWith("security.") || k.startsWith("sasl.") || k.startsWith("ssl.")) {
                admin.put(k, v);
            }
        });
        try (Admin client = Admin.create(admin)) {
            Set<String> names = client.listTopics().names().get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (names.contains(topic)) {
                return;
            }
            client.createTopics(List.of(new NewTopic(topic, Optional.of(partitions), Optional.empty()))).all()
                    .get(ADMIN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("created evaluation topic {} with {} partitions", topic, partitions);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new KafkaException("cannot create evaluation topic " + topic + ": " + e.getCause().getMessage(),
                        e.getCause());
            }
        } catch (TimeoutException e) {
            throw new KafkaException("no answer from Kafka at " + admin.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)
                    + " within " + ADMIN_TIMEOUT.toSeconds() + " s while creating " + topic);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted while creating " + topic, e);
        }
    }

    /**
     * Publishes the items in one transaction.
     *
     * @return the offsets the publication added, per partition: the range to replay to read exactly these items
     */
    public List<PartitionRange> publish(List<RmbItem> items) {
        TopicReplayer replayer = new TopicReplayer(clientConfig);
        List<PartitionRange> before = replayer.resolve(TopicRange.all(topic));
        Map<String, Object> config = new HashMap<>(clientConfig);
        config.keySet().removeIf(k -> !ProducerConfig.configNames().contains(k) && !k.startsWith("sasl.")
                && !k.startsWith("ssl.") && !k.startsWith("security."));
        config.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "rlhf-eval-publish-" + UUID.randomUUID());
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(),
                new ByteArraySerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            for (RmbItem item : items) {
                producer.send(new ProducerRecord<>(topic, item.key(), RmbJson.write(item)));
            }
            producer.commitTransaction();
        }
        List<PartitionRange> after = replayer.resolve(TopicRange.all(topic));
        List<PartitionRange> added = new ArrayList<>();
        for (int i = 0; i < after.size(); i++) {
            long start = i < before.size() ? before.get(i).end() : after.get(i).start();
            added.add(new PartitionRange(after.get(i).partition(), start, after.get(i).end()));
        }
        LOG.info("published {} RMB items to {}: {}", items.size(), topic, added);
        return added;
    }

    /**
     * Reads RMB items back from a range of the topic.
     *
     * @param sink receives each batch of items, in partition-offset order
     * @throws io.streamrlhf.evaluator.rmb.RmbFormatException naming the partition and offset of a record that is not
     *                                                        an RMB JSON record
     */
    public ReplaySummary read(TopicRange range, java.util.function.Consumer<List<RmbItem>> sink) {
        TopicReplayer replayer = new TopicReplayer(clientConfig);
        return replayer.replay(range, new StringDeserializer(), new ByteArrayDeserializer(), batch -> {
            List<RmbItem> items = new ArrayList<>(batch.size());
            for (ConsumerRecord<String, byte[]> r : batch) {
                items.add(RmbJson.parse(r.value(), r.topic() + " partition " + r.partition() + " offset " + r.offset()));
            }
            sink.accept(items);
        });
    }

    /** Reads back exactly what {@link #publish} added, in partition-offset order. */
    public List<RmbItem> readPublished(List<PartitionRange> added) {
        List<RmbItem> out = new ArrayList<>();
        new TopicReplayer(clientConfig).replay(topic, added, new StringDeserializer(), new ByteArrayDeserializer(),
                batch -> batch.forEach(r -> out.add(RmbJson.parse(r.value(), r.topic() + " partition "
                        + r.partition() + " offset " + r.offset()))));
        return out;
    }
}
