package io.streamrlhf.loop.stack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.learner.lease.LearnerLease;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * {@code rlhf stack status}: each process of a stack as its state file and the cluster see it: whether it runs, how
 * often it was restarted, its consumer group's lag (committed offsets against the {@code read_committed} end offsets,
 * summed over the group's partitions), the newest policy version on {@code policy.versions} (what the learner
 * published and the workers swap to) and the newest reward-model versions on {@code rm.versions} (what the scorers
 * swap to).
 *
 * @param state          the state file
 * @param rows           one per process
 * @param policyVersion  newest version of the stack's policy on {@code policy.versions}; -1 when none
 * @param rmVersions     newest version of each reward model on {@code rm.versions}
 * @param brokers        brokers the cluster has now; -1 when it was not read
 * @param clusterError   why the cluster could not be read, or null
 */
public record StackStatus(StackState state, List<Row> rows, long policyVersion, Map<String, Long> rmVersions,
                          int brokers, String clusterError) {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One process.
     *
     * @param process       what the state file says of it
     * @param alive         whether its pid runs now
     * @param lag           its consumer group's lag; null when it has none or the group committed nothing yet
     * @param policyVersion the policy version it serves (worker) or publishes (learner); null for other kinds
     * @param rmVersion     the newest reward-model version it scores with (scorer); null for other kinds or none
     * @param leader        whether it holds the learner lease (is the active learner); null for other kinds
     */
    public record Row(StackState.Process process, boolean alive, Long lag, Long policyVersion, Long rmVersion,
                      Boolean leader) {
    }

    /** Reads the cluster for the stack whose state is {@code state}; a cluster that does not answer is reported. */
    public static StackStatus of(StackState state, Duration timeout) {
        Map<String, Long> lags = new HashMap<>();
        long policy = -1;
        Map<String, Long> rms = new TreeMap<>();
        String error = null;
        int brokers = -1;
        Long leasePid = null;
        if (state.bootstrap() == null) {
            error = "the stack has not started its cluster yet";
        } else {
            try {
                // on a secure cluster as admin: every group's lag needs DESCRIBE on them all
                Map<String, Object> client = new HashMap<>(adminCredentials(state));
                client.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, state.bootstrap());
                Map<String, Object> settings = new HashMap<>(client);
                settings.put("schema.registry.url", state.registry());
                settings.put(TopicsConfig.PREFIX, state.topicPrefix());
                Topics topics = Topics.create(settings);
                Map<String, Object> adminProps = new HashMap<>(client);
                adminProps.keySet().retainAll(AdminClientConfig.configNames());
                // The client refuses an API timeout shorter than its request timeout: both are the one asked for.
                adminProps.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
                adminProps.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
                try (Admin admin = Admin.create(adminProps)) {
                    brokers = admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS).size();
                    try {
                        leasePid = leaseHolderPid(admin, state, topics.learnerLease().name(), timeout);
                    } catch (Exception e) {
                        leasePid = null;  // the lease is shown as held by none; the rest of the status still holds
                    }
                    for (StackState.Process p : state.processes()) {
                        if (p.group() != null && !lags.containsKey(p.group())) {
                            Long lag = lag(admin, p.group(), timeout);
                            if (lag != null) {
                                lags.put(p.group(), lag);
                            }
                        }
                    }
                }
                Map<String, PolicyVersion> policies = newest(topics.policyVersions(), client, timeout);
                PolicyVersion mine = policies.get(state.policyName());
                policy = mine == null ? -1 : mine.getVersion();
                newest(topics.rmVersions(), client, timeout).forEach((k, v) -> rms.put(k, v.getVersion()));
            } catch (RuntimeException e) {
                error = e.getMessage();
            } catch (Exception e) {
                error = e.toString();
            }
        }
        Long rmNewest = rms.values().stream().max(Long::compare).orElse(null);
        List<Row> rows = new ArrayList<>();
        for (StackState.Process p : state.processes()) {
            boolean alive = p.pid() > 0 && ProcessHandle.of(p.pid()).map(ProcessHandle::isAlive).orElse(false);
            Long lag = p.group() == null ? null : lags.get(p.group());
            boolean servesPolicy = p.kind().equals(ProcessKind.WORKER.service())
                    || p.kind().equals(ProcessKind.LEARNER.service());
            Long pv = servesPolicy ? Long.valueOf(Math.max(policy, 0)) : null;
            Long rv = p.kind().equals(ProcessKind.SCORER.service()) || p.kind().equals(ProcessKind.RM_TRAINER.service())
                    ? rmNewest : null;
            Boolean leader = p.kind().equals(ProcessKind.LEARNER.service()) ? Long.valueOf(p.pid()).equals(leasePid)
                    : null;
            rows.add(new Row(p, alive, lag, pv, rv, leader));
        }
        return new StackStatus(state, rows, policy, rms, brokers, error);
    }

    /**
     * The pid of the learner holding the lease: the member of the stack's lease group assigned the lease partition,
     * whose client id carries its pid ({@link LearnerLease#pidOf}); null when none holds it.
     */
    public static Long leaseHolderPid(Admin admin, StackState state, String leaseTopic, Duration timeout) throws Exception {
        // The stack sets no learner.lease.group.id, so the lease group is the default: the learners' group's.
        String group = state.processes().stream().filter(p -> p.kind().equals(ProcessKind.LEARNER.service()))
                .map(StackState.Process::group).filter(Objects::nonNull).findFirst().map(g -> g + "-lease")
                .orElse(null);
        if (group == null) {
            return null;
        }
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        TopicPartition lease = new TopicPartition(leaseTopic, 0);
        for (MemberDescription m : d.members()) {
            if (m.assignment().topicPartitions().contains(lease)) {
                return LearnerLease.pidOf(m.clientId()).orElse(null);
            }
        }
        return null;
    }

    /** The group's lag: committed offsets against the read_committed end offsets; null when it committed none. */
    public static Long lag(Admin admin, String group, Duration timeout) throws Exception {
        Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                .partitionsToOffsetAndMetadata().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        Map<TopicPartition, OffsetSpec> request = new HashMap<>();
        committed.forEach((tp, o) -> {
            if (o != null) {
                request.put(tp, OffsetSpec.latest());
            }
        });
        if (request.isEmpty()) {
            return null;
        }
        var ends = admin.listOffsets(request, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()
                .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        long lag = 0;
        for (TopicPartition tp : request.keySet()) {
            lag += Math.max(0, ends.get(tp).offset() - committed.get(tp).offset());
        }
        return lag;
    }

    /**
     * The admin user's credentials from the file the state names ({@link StackState#adminConfig()}); none on a
     * plaintext cluster.
     *
     * @throws IllegalArgumentException naming the file when it cannot be read
     */
    static Map<String, String> adminCredentials(StackState state) {
        if (state.adminConfig() == null) {
            return Map.of();
        }
        Path file = Path.of(state.adminConfig());
        StackSecurity security = new StackSecurity(Map.of(StackSecurity.ADMIN, file));
        try {
            return security.credentials(StackSecurity.ADMIN, state.topicPrefix());
        } catch (java.io.UncheckedIOException e) {
            throw new IllegalArgumentException("the stack runs on a secure cluster and its admin client file "
                    + file + " cannot be read: " + e.getCause().getMessage(), e);
        }
    }

    /**
     * The newest record of each key of a compacted topic (read to its end), read with {@code client}'s bootstrap
     * servers and credentials.
     */
    static <V> Map<String, V> newest(TopicSpec<String, V> spec, Map<String, Object> client, Duration timeout) {
        Map<String, Object> props = new HashMap<>(client);
        props.keySet().retainAll(ConsumerConfig.configNames());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        Map<String, V> out = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor(spec.name(), timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions, timeout);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.key() == null || r.value() == null) {
                        continue;
                    }
                    String key = spec.keyDeserializer().deserialize(r.topic(), r.key());
                    out.put(key, spec.valueDeserializer().deserialize(r.topic(), r.value()));
                }
            }
        }
        return out;
    }

    /** The status as a table, for people. */
    public void print(PrintWriter out) {
        out.printf("stack in %s: pid %d, %s%s; bootstrap=%s registry=%s%s%n", state.dir(), state.stackPid(),
                state.stackAlive() ? state.phase() : "not running", state.stackAlive() ? "" : " (last: " + state.phase()
                        + ")", state.bootstrap(), state.registry(), brokers < 0 ? "" : ", " + brokers
                        + (brokers == 1 ? " broker" : " brokers"));
        out.printf(Locale.ROOT, "%-12s %8s %-5s %8s %8s %7s %7s %-7s%n", "PROCESS", "PID", "ALIVE", "RESTARTS",
                "LAG", "POLICY", "RM", "LEASE");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-12s %8d %-5s %8d %8s %7s %7s %-7s%n", r.process().name(), r.process().pid(),
                    r.alive() ? "yes" : "no", r.process().restarts(), dash(r.lag()), dash(r.policyVersion()),
                    dash(r.rmVersion()), r.leader() == null ? "-" : r.leader() ? "active" : "standby");
        }
        if (!rmVersions.isEmpty()) {
            out.println("reward models: " + rmVersions.entrySet().stream().map(e -> e.getKey() + " v" + e.getValue())
                    .collect(Collectors.joining(", ")));
        }
        if (clusterError != null) {
            out.println("cluster not read: " + clusterError);
        }
        out.flush();
    }

    /** The status as one JSON object. */
    public ObjectNode toJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("dir", state.dir());
        root.put("stack_pid", state.stackPid());
        root.put("stack_alive", state.stackAlive());
        root.put("phase", state.phase());
        root.put("bootstrap", state.bootstrap());
        root.put("registry", state.registry());
        root.put("policy_version", policyVersion);
        root.put("brokers", brokers);
        rows.stream().filter(r -> Boolean.TRUE.equals(r.leader())).findFirst()
                .ifPresentOrElse(r -> root.put("lease_holder", r.process().name()), () -> root.putNull("lease_holder"));
        ObjectNode rm = root.putObject("rm_versions");
        rmVersions.forEach(rm::put);
        if (clusterError != null) {
            root.put("cluster_error", clusterError);
        }
        ArrayNode processes = root.putArray("processes");
        for (Row r : rows) {
            ObjectNode p = processes.addObject();
            p.put("name", r.process().name());
            p.put("kind", r.process().kind());
            p.put("pid", r.process().pid());
            p.put("alive", r.alive());
            p.put("restarts", r.process().restarts());
            putNullable(p, "lag", r.lag());
            putNullable(p, "policy_version", r.policyVersion());
            putNullable(p, "rm_version", r.rmVersion());
            if (r.leader() != null) {
                p.put("leader", r.leader());
            }
            p.put("group", r.process().group());
            p.put("log", r.process().log());
            ArrayNode cmd = p.putArray("command");
            r.process().command().forEach(cmd::add);
        }
        return root;
    }

    private static void putNullable(ObjectNode node, String key, Long value) {
        if (value == null) {
            node.putNull(key);
        } else {
            node.put(key, value);
        }
    }

    private static String dash(Long v) {
        return v == null ? "-" : v.toString();
    }

}
