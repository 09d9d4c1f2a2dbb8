package io.streamrlhf.loop.stack;

import io.streamrlhf.ops.ConsumerGroupLag;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;

/**
 * What {@code rlhf status} prints for any cluster, for users without Prometheus: the live brokers, the newest policy
 * and reward-model versions ({@code policy.versions}, {@code rm.versions}), every consumer group's lag by topic
 * (committed offsets against the read_committed end, as {@code rlhf_consumer_group_lag_records} exports it), and the
 * records in each dead-letter topic.
 *
 * @param brokers    brokers the cluster reports
 * @param policies   newest version of each policy, by name
 * @param rewards    newest version of each reward model, by name
 * @param lag        lag by group, then topic
 * @param deadLetters records held in each dead-letter topic, by its name
 */
public record ClusterStatus(int brokers, Map<String, Long> policies, Map<String, Long> rewards,
                            Map<String, Map<String, Long>> lag, Map<String, Long> deadLetters) {

    /**
     * Reads the cluster {@code settings} name (bootstrap servers, registry, topic prefix).
     *
     * @throws Exception naming what could not be read, when the cluster does not answer within {@code timeout}
     */
    public static ClusterStatus read(Map<String, Object> settings, Duration timeout) throws Exception {
        Topics topics = Topics.create(settings);
        long ms = timeout.toMillis();
        Map<String, Object> adminProps = new HashMap<>(settings);
        adminProps.keySet().retainAll(AdminClientConfig.configNames());
        adminProps.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) ms);
        adminProps.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) ms);
        try (Admin admin = Admin.create(adminProps)) {
            int brokers = admin.describeCluster().nodes().get(ms, TimeUnit.MILLISECONDS).size();
            Map<String, Map<String, Long>> lag = ConsumerGroupLag.byGroupAndTopic(
                    new ConsumerGroupLag(admin, timeout).read());
            List<String> dlqs = topics.dlqSources().stream().map(s -> topics.dlq(s).name()).toList();
            Map<String, Long> dead = new TreeMap<>();
            Map<String, TopicDescription> described = admin.describeTopics(dlqs).allTopicNames()
                    .get(ms, TimeUnit.MILLISECONDS);
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            described.values().forEach(d -> d.partitions().forEach(p -> {
                TopicPartition tp = new TopicPartition(d.name(), p.partition());
                earliest.put(tp, OffsetSpec.earliest());
                latest.put(tp, OffsetSpec.latest());
            }));
            var begin = admin.listOffsets(earliest).all().get(ms, TimeUnit.MILLISECONDS);
            var end = admin.listOffsets(latest).all().get(ms, TimeUnit.MILLISECONDS);
            dlqs.forEach(t -> dead.put(t, 0L));
            end.forEach((tp, e) -> dead.merge(tp.topic(), e.offset() - begin.get(tp).offset(), Long::sum));
            Map<String, Long> policies = new TreeMap<>();
            StackStatus.newest(topics.policyVersions(), settings, timeout)
                    .forEach((name, v) -> policies.put(name, v.getVersion()));
            Map<String, Long> rewards = new TreeMap<>();
            StackStatus.newest(topics.rmVersions(), settings, timeout)
                    .forEach((name, v) -> rewards.put(name, v.getVersion()));
            return new ClusterStatus(brokers, policies, rewards, lag, dead);
        }
    }

    /** Prints the picture: versions, then lag per group, then dead letters. */
    public void print(PrintWriter out) {
        out.printf(Locale.ROOT, "brokers: %d%n", brokers);
        out.println("policy versions: " + (policies.isEmpty() ? "none published" : join(policies)));
        out.println("reward-model versions: " + (rewards.isEmpty() ? "none published" : join(rewards)));
        out.println();
        out.printf(Locale.ROOT, "%-40s %-32s %10s%n", "CONSUMER GROUP", "TOPIC", "LAG");
        if (lag.isEmpty()) {
            out.println("(no group has committed offsets)");
        }
        lag.forEach((group, topics) -> topics.forEach((topic, records) ->
                out.printf(Locale.ROOT, "%-40s %-32s %10d%n", group, topic, records)));
        out.println();
        out.printf(Locale.ROOT, "%-40s %10s%n", "DEAD-LETTER TOPIC", "RECORDS");
        deadLetters.forEach((topic, records) -> out.printf(Locale.ROOT, "%-40s %10d%n", topic, records));
        out.flush();
    }

    private static String join(Map<String, Long> versions) {
        StringBuilder s = new StringBuilder();
        versions.forEach((name, v) -> s.append(s.isEmpty() ? "" : ", ").append(name).append(" v").append(v));
        return s.toString();
    }
}
