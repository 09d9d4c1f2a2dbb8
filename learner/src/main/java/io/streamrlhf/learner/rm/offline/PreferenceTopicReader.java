package io.streamrlhf.learner.rm.offline;

import io.streamrlhf.learner.KafkaClients;
import io.streamrlhf.learner.rm.online.OnlineRmTrainer;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * Reads {@code preferences} from the beginning to its current end (read_committed), leaving out the
 * trainer's own write-backs, for offline training from the topic ({@code rlhf train-rm --from preferences}).
 */
public final class PreferenceTopicReader {

    private PreferenceTopicReader() {
    }

    /**
     * The pairs on the topic and the end offsets read up to.
     *
     * @param pairs   pairs in partition order
     * @param offsets per {@code topic-partition}, the end offset read up to
     */
    public record Snapshot(List<PreferencePair> pairs, Map<String, Long> offsets) {
    }

    /** Reads everything up to the end offsets seen at the start; fails after {@code timeout}. */
    public static Snapshot readAll(Topics topics, Map<String, Object> clientProperties, Duration timeout) {
        Map<String, Object> props = KafkaClients.only(clientProperties, ConsumerConfig.configNames());
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        TopicSpec<String, PreferencePair> spec = topics.preferences();
        List<PreferencePair> out = new ArrayList<>();
        Map<String, Long> offsets = new HashMap<>();
        try (KafkaConsumer<String, PreferencePair> consumer = new KafkaConsumer<>(props, spec.keyDeserializer(),
                spec.valueDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(spec.name(), timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new KafkaException("could not read " + spec.name() + " to its end within " + timeout);
                }
                for (ConsumerRecord<String, PreferencePair> r : consumer.poll(Duration.ofMillis(200))) {
                    Header origin = r.headers().lastHeader(OnlineRmTrainer.ORIGIN_HEADER);
                    boolean ours = origin != null
                            && OnlineRmTrainer.ORIGIN.equals(new String(origin.value(), StandardCharsets.UTF_8));
                    if (r.value() != null && !ours) {
                        out.add(r.value());
                    }
                }
            }
            end.forEach((tp, o) -> offsets.put(tp.topic() + "-" + tp.partition(), o));
        }
        return new Snapshot(out, offsets);
    }
}
