package io.streamrlhf.producer.worker;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * A policy worker's settings, each declared once with its default, validator and doc. Built from the same map as
 * the rest of a service's properties; unknown keys are ignored here (they belong to the Kafka clients).
 */
public final class WorkerConfig extends AbstractConfig {

    public static final String POLICY_NAME = "worker.policy.name";
    public static final String WORKER_ID = "worker.id";
    public static final String WORKER_ID_DIR = "worker.id.dir";
    public static final String GROUP_ID = "worker.group.id";
    public static final String STATIC_MEMBERSHIP = "worker.static.membership";
    public static final String BATCH_MAX_SIZE = "worker.batch.max.size";
    public static final String BATCH_MAX_WAIT_MS = "worker.batch.max.wait.ms";
    public static final String MAX_NEW_TOKENS = "worker.max.new.tokens";
    public static final String TEMPERATURE = "worker.temperature";
    public static final String TOP_K = "worker.top.k";
    public static final String TOP_P = "worker.top.p";
    public static final String SEED = "worker.seed";
    public static final String SHUTDOWN_GRACE_MS = "worker.shutdown.grace.ms";
    public static final String POLICY_WAIT_MS = "worker.policy.wait.ms";
    public static final String TRANSACTION_TIMEOUT_MS = "worker.transaction.timeout.ms";

    /** Kafka's longest {@code group.instance.id}. */
    static final int MAX_INSTANCE_ID = 249;
    private static final Pattern INSTANCE_ID = Pattern.compile("[a-zA-Z0-9._-]{1," + MAX_INSTANCE_ID + "}");

    /** Every key with its default, validator and doc. */
    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(POLICY_NAME, Type.STRING, "policy", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Name of the policy to serve: the key of its records on policy.versions.")
            .define(WORKER_ID, Type.STRING, "", Importance.MEDIUM,
                    "This worker's id, written into every Generation and part of its transactional.id. Empty for "
                            + "<host>-w<n>: n is the lowest slot of " + WORKER_ID_DIR + " this process can lock, so "
                            + "an instance restarted on the same host gets its predecessor's id and fences its "
                            + "open transaction at once. Give an id (a pod name) where hosts are not stable.")
            .define(WORKER_ID_DIR, Type.STRING, Path.of(System.getProperty("java.io.tmpdir"), "rlhf-worker-ids")
                            .toString(), new ConfigDef.NonEmptyString(), Importance.LOW,
                    "Directory of the lock files that hand out default worker ids (" + WORKER_ID + " empty).")
            .define(GROUP_ID, Type.STRING, "", Importance.MEDIUM,
                    "Consumer group of the workers sharing the prompts; empty for 'rlhf-workers-<policy>'.")
            .define(STATIC_MEMBERSHIP, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Join the group as a static member whose group.instance.id is the worker id: a worker "
                            + "restarted with its id (the default id is stable on its host) gets its partitions back "
                            + "at once, without a rebalance and without waiting for the dead instance's "
                            + "session.timeout.ms. A worker that stops (SIGTERM, close) still leaves the group, so "
                            + "its partitions move at once. Off: a dynamic member; a restarted worker waits until "
                            + "the group drops its dead predecessor (session.timeout.ms).")
            .define(BATCH_MAX_SIZE, Type.INT, 32, Range.atLeast(1), Importance.HIGH,
                    "Most sequences (prompts x samples_per_prompt) per sampling call and per transaction.")
            .define(BATCH_MAX_WAIT_MS, Type.LONG, 50L, Range.atLeast(0), Importance.MEDIUM,
                    "Longest wait for a batch to fill once its first prompt has arrived.")
            .define(MAX_NEW_TOKENS, Type.INT, 40, Range.atLeast(1), Importance.MEDIUM,
                    "Most tokens sampled per response (further capped by the policy's context length).")
            .define(TEMPERATURE, Type.DOUBLE, 1.0, Range.atLeast(0.0), Importance.MEDIUM,
                    "Sampling temperature; 0 is greedy.")
            .define(TOP_K, Type.INT, 0, Range.atLeast(0), Importance.LOW, "Top-k truncation; 0 turns it off.")
            .define(TOP_P, Type.DOUBLE, 1.0, Range.between(1e-9, 1.0), Importance.LOW,
                    "Nucleus-sampling mass; 1 turns it off.")
            .define(SEED, Type.LONG, 0L, Importance.LOW,
                    "Base seed of the sampler; each batch's seed is derived from it and the batch's first prompt "
                            + "offset, and written into the generations.")
            .define(SHUTDOWN_GRACE_MS, Type.LONG, 10_000L, Range.atLeast(0), Importance.MEDIUM,
                    "On shutdown, how long the open batch may take to finish and commit; past it the open "
                            + "transaction is aborted and its prompts go back to the group.")
            .define(POLICY_WAIT_MS, Type.LONG, 600_000L, Range.atLeast(0), Importance.MEDIUM,
                    "How long a starting worker waits for a verified policy version to appear on policy.versions.")
            .define(TRANSACTION_TIMEOUT_MS, Type.INT, 60_000, Range.atLeast(1_000), Importance.LOW,
                    "transaction.timeout.ms of the worker's producer: how long an abandoned transaction blocks "
                            + "read_committed readers before the broker aborts it.");

    /** Reads the settings; throws {@link org.apache.kafka.common.config.ConfigException} naming a bad key. */
    public WorkerConfig(Map<?, ?> values) {
        super(DEFINITION, values, false);
    }

    public String policyName() {
        return getString(POLICY_NAME);
    }

    /** The configured id, or this process's stable default {@code <host>-w<n>} (see {@link WorkerSlot}). */
    public String workerId() {
        String id = getString(WORKER_ID);
        return id.isBlank() ? WorkerSlot.defaultId(Path.of(getString(WORKER_ID_DIR))) : id;
    }

    /**
     * The consumer's {@code group.instance.id}: the worker id, when {@link #STATIC_MEMBERSHIP} is on.
     *
     * @throws ConfigException naming {@link #WORKER_ID} when the id is not a valid group instance id
     */
    public Optional<String> groupInstanceId() {
        if (!getBoolean(STATIC_MEMBERSHIP)) {
            return Optional.empty();
        }
        String id = workerId();
        if (!INSTANCE_ID.matcher(id).matches()) {
            throw new ConfigException(WORKER_ID, id, "a worker id is the consumer's group.instance.id (static "
                    + "membership), so it must be 1 to " + MAX_INSTANCE_ID + " letters, digits, '.', '_' or '-'; "
                    + "give another id or set " + STATIC_MEMBERSHIP + "=false");
        }
        return Optional.of(id);
    }

    /** The consumer group: the configured one, or {@code rlhf-workers-<policy>}. */
    public String groupId() {
        String g = getString(GROUP_ID);
        return g.isBlank() ? "rlhf-workers-" + policyName() : g;
    }

    public int batchMaxSize() {
        return getInt(BATCH_MAX_SIZE);
    }

    public long batchMaxWaitMs() {
        return getLong(BATCH_MAX_WAIT_MS);
    }

    public int maxNewTokens() {
        return getInt(MAX_NEW_TOKENS);
    }

    public double temperature() {
        return getDouble(TEMPERATURE);
    }

    public int topK() {
        return getInt(TOP_K);
    }

    public double topP() {
        return getDouble(TOP_P);
    }

    public long seed() {
        return getLong(SEED);
    }

    public long shutdownGraceMs() {
        return getLong(SHUTDOWN_GRACE_MS);
    }

    public long policyWaitMs() {
        return getLong(POLICY_WAIT_MS);
    }

    public int transactionTimeoutMs() {
        return getInt(TRANSACTION_TIMEOUT_MS);
    }

    /** The transactional.id of this worker: {@code rlhf-worker-<policy>-<worker id>}. */
    public String transactionalId() {
        return "rlhf-worker-" + policyName() + "-" + workerId();
    }
}
