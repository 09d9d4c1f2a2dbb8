package io.streamrlhf.rewardstream.app;

import io.streamrlhf.ops.LocalHost;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.SourceFailurePolicy;
import io.streamrlhf.rewardstream.topology.ScoringTopology;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Settings of the reward stream: the ensemble, micro-batching, normalisation, the feedback join and the Streams
 * application. Every key is declared once with its default, validator and doc. Other keys in the same map (Kafka
 * client, Streams and serde settings) pass through to {@code KafkaStreams}.
 */
public final class RewardStreamConfig extends AbstractConfig {
    public static final String APPLICATION_ID = "reward.stream.application.id";
    public static final String SOURCES = "reward.sources";
    public static final String AGGREGATION = "reward.aggregation";
    public static final String UNCERTAINTY_K = "reward.uncertainty.k";
    public static final String VOTE_THRESHOLD = "reward.vote.threshold";
    public static final String ON_SOURCE_FAILURE = "reward.on.source.failure";
    public static final String NORMALIZE = "reward.normalize";
    public static final String NORMALIZE_CLIP = "reward.normalize.clip";
    public static final String NORMALIZE_EPSILON = "reward.normalize.epsilon";
    public static final String BATCH_SIZE = "scoring.batch.size";
    public static final String BATCH_MAX_WAIT_MS = "scoring.batch.max.wait.ms";
    public static final String PIPELINE = "scoring.pipeline";
    public static final String REFERENCE_CHECKPOINT = "scoring.reference.checkpoint";
    public static final String JOIN_WINDOW_MS = "feedback.join.window.ms";
    public static final String PENDING_MAX_WAIT_MS = "feedback.pending.max.wait.ms";
    public static final String PENDING_MAX_LABELS = "feedback.pending.max.labels";
    public static final String STREAM_THREADS = "reward.stream.threads";
    public static final String STATE_DIR = "reward.stream.state.dir";
    public static final String STATIC_MEMBERSHIP = "reward.stream.static.membership";
    public static final String INSTANCE_ID = "reward.stream.instance.id";
    public static final String PUBLISHED_WAIT_MS = "reward.published.wait.ms";

    private static final ConfigDef.Validator SPECS = (name, value) -> {
        try {
            RewardSpec.parseList((String) value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, e.getMessage());
        }
    };
    private static final ConfigDef.Validator AGGREGATIONS = (name, value) -> {
        try {
            Aggregation.parse((String) value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(name, value, e.getMessage());
        }
    };

    /**
     * Kafka's longest {@code group.instance.id} (249) less what Kafka Streams appends for each stream thread
     * ({@code -<thread index>}).
     */
    static final int MAX_INSTANCE_ID = 240;
    private static final Pattern INSTANCE_IDS = Pattern.compile("[a-zA-Z0-9._-]{0," + MAX_INSTANCE_ID + "}");
    private static final ConfigDef.Validator INSTANCE_ID_VALUE = (name, value) -> {
        if (!INSTANCE_IDS.matcher((String) value).matches()) {
            throw new ConfigException(name, value, "an instance id is the stream's group.instance.id: at most "
                    + MAX_INSTANCE_ID + " letters, digits, '.', '_' or '-' (empty: derived from the host and "
                    + STATE_DIR + ")");
        }
    };

    private static final ConfigDef DEFINITION = new ConfigDef()
            .define(APPLICATION_ID, Type.STRING, "rlhf-reward-stream", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Kafka Streams application.id: the consumer group, transactional ids and internal topic prefix. "
                            + "Instances with the same id share the work.")
            .define(SOURCES, Type.STRING, "rule:length", SPECS, Importance.HIGH,
                    "The ensemble: comma-separated reward specs KIND:TARGET[;key=value...], e.g. "
                            + "'rm:/ckpt/rm-0,rm:/ckpt/rm-1,rule:length;scale=0.01,judge:http://host/v1/chat/completions"
                            + ";model=qwen'. Kinds: rule (length, keyword, regex, format), rm, torchscript, judge. A "
                            + "backslash escapes a literal comma or semicolon.")
            .define(PUBLISHED_WAIT_MS, Type.LONG, 120_000L, ConfigDef.Range.atLeast(1), Importance.LOW,
                    "How long an 'rm:published;name=NAME' source waits at start-up for a first version of NAME on "
                            + "rm.versions, and how long one checkpoint fetch from the checkpoints topic may take.")
            .define(AGGREGATION, Type.STRING, "mean", AGGREGATIONS, Importance.HIGH,
                    "How normalised scores become the reward: mean, min, mean_minus_k_std or majority_vote.")
            .define(UNCERTAINTY_K, Type.DOUBLE, 1.0, ConfigDef.Range.atLeast(0), Importance.MEDIUM,
                    "k of mean_minus_k_std: the penalty per unit of ensemble disagreement.")
            .define(VOTE_THRESHOLD, Type.DOUBLE, 0.0, Importance.LOW,
                    "majority_vote: a member votes 'good' when its normalised score is above this.")
            .define(ON_SOURCE_FAILURE, Type.STRING, "dlq", ConfigDef.ValidString.in("dlq", "skip", "wait"), Importance.MEDIUM,
                    "When a source cannot score a record (judge down, NaN): 'dlq' dead-letters the record, 'skip' "
                            + "scores it with the remaining sources (dead-letters it only if none is left), 'wait' fails "
                            + "the batch when a source is unreachable so its records wait in Kafka for a restart.")
            .define(NORMALIZE, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Normalise each source by its running mean and std (Welford, PPO-max); off: normalised = raw.")
            .define(NORMALIZE_CLIP, Type.DOUBLE, 5.0, Importance.LOW,
                    "Clip normalised scores to +-this; 0 disables clipping.")
            .define(NORMALIZE_EPSILON, Type.DOUBLE, 1e-8, ConfigDef.Range.atLeast(1e-12), Importance.LOW,
                    "Added to the variance before the square root.")
            .define(BATCH_SIZE, Type.INT, 32, ConfigDef.Range.between(1, 65_536), Importance.HIGH,
                    "Records per micro-batch (B): a full buffer is scored at once.")
            .define(BATCH_MAX_WAIT_MS, Type.LONG, 200L, ConfigDef.Range.atLeast(1), Importance.HIGH,
                    "Longest a record waits in a partial batch (T), in ms; checked by a wall-clock punctuation.")
            .define(PIPELINE, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Score each micro-batch on a scorer thread while the stream thread reads and buffers the next "
                            + "one (at most one batch in flight; exactly-once either way). Off: score on the stream "
                            + "thread.")
            .define(REFERENCE_CHECKPOINT, Type.STRING, "", Importance.MEDIUM,
                    "The frozen reference policy (the SFT policy the learner's KL penalty is measured against): a "
                            + "checkpoint directory, or a version published on Kafka as "
                            + "'kafka:<checkpoints topic>/<policy name>/<version>' (checked against its signed record "
                            + "and sha256, fetched once into <" + STATE_DIR + ">/reference), as the learner's "
                            + "learner.init.checkpoint takes. When set, every scored record carries the reference's log-probs "
                            + "of its response (reference_logprobs), and a learner whose reference has the same "
                            + "weights skips its own reference forward in each update. Empty: off.")
            .define(JOIN_WINDOW_MS, Type.LONG, Duration.ofHours(24).toMillis(), ConfigDef.Range.atLeast(1),
                    Importance.MEDIUM, "How long generations are kept for the feedback join, in ms; feedback naming "
                            + "older generations is dead-lettered.")
            .define(PENDING_MAX_WAIT_MS, Type.LONG,
                    ScoringTopology.Settings.DEFAULT_PENDING_MAX_WAIT.toMillis(), ConfigDef.Range.atLeast(0),
                    Importance.MEDIUM, "How long a feedback label naming a generation the stream has not stored yet "
                            + "waits for it (in a changelogged store, joined as soon as it arrives), in ms, counted "
                            + "from when the label or its task started; then it is dead-lettered saying it waited. "
                            + "0: dead-letter such labels at once.")
            .define(PENDING_MAX_LABELS, Type.INT, ScoringTopology.Settings.DEFAULT_PENDING_MAX_LABELS,
                    ConfigDef.Range.atLeast(1), Importance.LOW,
                    "Most feedback labels one task keeps waiting for their generations; a label that finds them "
                            + "all taken is dead-lettered at once with that reason.")
            .define(STREAM_THREADS, Type.INT, 1, ConfigDef.Range.atLeast(1), Importance.MEDIUM,
                    "Stream threads of this instance (num.stream.threads).")
            .define(STATE_DIR, Type.STRING, "", Importance.MEDIUM,
                    "Directory of the local state stores; empty: <java.io.tmpdir>/rlhf-reward-stream.")
            .define(STATIC_MEMBERSHIP, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Join the group as a static member (group.instance.id: " + INSTANCE_ID + " and the stream "
                            + "thread's index): an instance restarted with its id gets its tasks back at once, "
                            + "without a rebalance and without waiting for the dead instance's session.timeout.ms. "
                            + "An instance that stops (SIGTERM, close) still leaves the group, so its tasks move at "
                            + "once. Off: a dynamic member; a restarted instance waits until the group drops its dead "
                            + "predecessor (session.timeout.ms).")
            .define(INSTANCE_ID, Type.STRING, "", INSTANCE_ID_VALUE, Importance.MEDIUM,
                    "This instance's stable id, its group.instance.id with static membership. Empty: <host>-s<h>, "
                            + "h a digest of " + STATE_DIR + ": Kafka Streams locks its state directory, so the "
                            + "instances of one host have different ones, and an instance restarted on its directory "
                            + "keeps its id and takes back the tasks whose state is there. Give an id (a pod name) "
                            + "where hosts are not stable.");

    public RewardStreamConfig(Map<?, ?> props) {
        super(DEFINITION, props, false);
    }

    /** Every key with default and doc. */
    public static ConfigDef definition() {
        return new ConfigDef(DEFINITION);
    }

    public String applicationId() {
        return getString(APPLICATION_ID);
    }

    /** {@link #PUBLISHED_WAIT_MS}. */
    public Duration publishedWait() {
        return Duration.ofMillis(getLong(PUBLISHED_WAIT_MS));
    }

    public List<RewardSpec> sources() {
        return RewardSpec.parseList(getString(SOURCES));
    }

    public Aggregation aggregation() {
        return Aggregation.parse(getString(AGGREGATION));
    }

    public double uncertaintyK() {
        return getDouble(UNCERTAINTY_K);
    }

    public double voteThreshold() {
        return getDouble(VOTE_THRESHOLD);
    }

    public SourceFailurePolicy onSourceFailure() {
        return SourceFailurePolicy.parse(getString(ON_SOURCE_FAILURE));
    }

    public NormalizationSettings normalization() {
        return new NormalizationSettings(getBoolean(NORMALIZE), getDouble(NORMALIZE_CLIP),
                getDouble(NORMALIZE_EPSILON));
    }

    public boolean pipelined() {
        return getBoolean(PIPELINE);
    }

    public int batchSize() {
        return getInt(BATCH_SIZE);
    }

    public Duration batchMaxWait() {
        return Duration.ofMillis(getLong(BATCH_MAX_WAIT_MS));
    }

    /**
     * The reference policy, when the stream computes reference log-probs: a checkpoint directory or the
     * {@code kafka:} URI of a published policy version.
     */
    public Optional<String> referenceCheckpoint() {
        String value = getString(REFERENCE_CHECKPOINT).trim();
        return value.isEmpty() ? Optional.empty() : Optional.of(value);
    }

    public Duration joinWindow() {
        return Duration.ofMillis(getLong(JOIN_WINDOW_MS));
    }

    /** {@link #PENDING_MAX_WAIT_MS}. */
    public Duration pendingMaxWait() {
        return Duration.ofMillis(getLong(PENDING_MAX_WAIT_MS));
    }

    /** {@link #PENDING_MAX_LABELS}. */
    public int pendingMaxLabels() {
        return getInt(PENDING_MAX_LABELS);
    }

    public int streamThreads() {
        return getInt(STREAM_THREADS);
    }

    public String stateDir() {
        String dir = getString(STATE_DIR);
        return dir.isEmpty() ? System.getProperty("java.io.tmpdir") + "/rlhf-reward-stream" : dir;
    }

    /** {@link #INSTANCE_ID}, or its default {@code <host>-s<h>} ({@link #defaultInstanceId}). */
    public String instanceId() {
        String id = getString(INSTANCE_ID);
        return id.isEmpty() ? defaultInstanceId(LocalHost.name(), Path.of(stateDir())) : id;
    }

    /** The main consumer's {@code group.instance.id} prefix: {@link #instanceId()}, when static membership is on. */
    public Optional<String> groupInstanceId() {
        return getBoolean(STATIC_MEMBERSHIP) ? Optional.of(instanceId()) : Optional.empty();
    }

    /**
     * {@code <host>-s<h>}, where {@code h} is the first 8 hex digits of the SHA-256 of the state directory's absolute
     * path; characters a group instance id may not hold become {@code _}, and a long host name is cut.
     */
    static String defaultInstanceId(String host, Path stateDir) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(
                    stateDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            String h = "-s" + HexFormat.of().formatHex(digest, 0, 4);
            String safe = host.replaceAll("[^a-zA-Z0-9._-]", "_");
            return safe.substring(0, Math.min(safe.length(), MAX_INSTANCE_ID - h.length())) + h;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
