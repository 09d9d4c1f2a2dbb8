package io.streamrlhf.producer.feedback;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.streamrlhf.ops.BrokerConnection;
import io.streamrlhf.ops.HealthChecks;
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
    private volatile boolean assigned;
    private KafkaClientMetrics clientMetrics;

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
            assigned = true;
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
            assigned = false;
            consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
        }
    }

    /** Exports the tail's consumer metrics (its lag behind {@code generations} among them) to {@code meters}. */
    public synchronized GenerationTail bindTo(MeterRegistry meters) {
        clientMetrics = new KafkaClientMetrics(consumer);
        clientMetrics.bindTo(meters);
        return this;
    }

    /**
     * Adds the checks of a feedback service: live while the tail runs; ready when the tail is connected to a broker
     * and reads every partition of {@code generations} (the rater page then has pairs to show).
     */
    public HealthChecks health(HealthChecks health) {
        return health
                // Not live once the tail stopped on its own (an error): the page would get no new pairs.
                .live("tailing", () -> !running || thread.isAlive() || thread.getState() == Thread.State.NEW)
                .ready("connected", () -> BrokerConnection.isUp(consumer.metrics()))
                .ready("assigned", () -> assigned);
    }

    @Override
    public synchronized void close() {
        running = false;
        if (clientMetrics != null) {
            clientMetrics.close();
        }
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
