package io.streamrlhf.producer.feedback;

import io.streamrlhf.producer.ClientSettings;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link RecentGenerations} window filled from the {@code generations} topic: committed records only
 * ({@code read_committed}), no consumer group, starting {@code backlog} records before each partition's end so a
 * freshly started rater page has pairs to show at once. Records that cannot be read are skipped with a warning
 * (the reward stream dead-letters them; the window only needs good ones).
 */
public final class GenerationTail implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(GenerationTail.class);

    private final TopicSpec<String, Generation> spec;
    private final KafkaConsumer<String, byte[]> consumer;
    private final RecentGenerations window;
    private final long backlog;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param backlog records per partition to read before the end at start
     */
    public GenerationTail(Topics topics, Map<String, Object> clientProperties, RecentGenerations window,
                          long backlog) {
        this.spec = topics.generations();
        this.window = window;
        this.backlog = backlog;
        Map<String, Object> props = ClientSettings.consumer(clientProperties);
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        this.consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
        this.thread = new Thread(this::tail, "generation-tail");
        thread.setDaemon(true);
    }

    /** Starts tailing. */
    public synchronized GenerationTail start() {
        thread.start();
        return this;
    }

    private void tail() {
        try {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), Duration.ofSeconds(60)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
            for (TopicPartition tp : partitions) {
                consumer.seek(tp, Math.max(begin.get(tp), end.get(tp) - backlog));
            }
            while (running) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    try {
                        window.add(spec.valueDeserializer().deserialize(r.topic(), r.headers(), r.value()));
                    } catch (RuntimeException e) {
                        LOG.warn("skipping unreadable generation at {}-{}@{}: {}", r.topic(), r.partition(),
                                r.offset(), e.getMessage());
                    }
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.error("tailing {} failed; the rater page and simulated raters get no new pairs", spec.name(), e);
        } finally {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }

    @Override
    public synchronized void close() {
        running = false;
        if (!thread.isAlive() && thread.getState() == Thread.State.NEW) {
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));  // never started: the thread would have closed it
            return;
        }
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
