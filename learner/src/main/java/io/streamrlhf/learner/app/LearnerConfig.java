package io.streamrlhf.learner.app;

import io.streamrlhf.learner.ppo.PpoConfig;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * The learner service's settings (consumption, checkpoints, publication), each declared once with
 * default, validator and doc; the PPO settings are {@link PpoConfig}'s {@code ppo.*} keys, read
 * from the same map.
 */
public final class LearnerConfig extends AbstractConfig {

    /** Name of the policy (key of its {@code policy.versions} records). */
    public static final String POLICY_NAME = "learner.policy.name";
    /** Directory of learner checkpoints. */
    public static final String CHECKPOINT_DIR = "learner.checkpoint.dir";
    /** Policy (a checkpoint or a Hugging Face folder) the learner starts from and keeps as its frozen reference. */
    public static final String INIT_CHECKPOINT = "learner.init.checkpoint";
    /** Reward model a separate critic starts from (ppo.critic=separate). */
    public static final String CRITIC_INIT = "learner.critic.init";
    /** Sequences per rollout batch. */
    public static final String BATCH_SEQUENCES = "learner.batch.sequences";
    /** Response tokens per rollout batch (0 = by sequences only). */
    public static final String BATCH_TOKENS = "learner.batch.tokens";
    /** Updates between checkpoints and publications. */
    public static final String PUBLISH_EVERY = "learner.publish.every.updates";
    /** Checkpoints kept on disk. */
    public static final String CHECKPOINTS_KEPT = "learner.checkpoints.kept";
    /** Also write weights in chunks to the checkpoints topic. */
    public static final String CHECKPOINT_TOPIC = "learner.checkpoint.topic.enabled";
    /** Also write the learner's complete resumable state with every version, and resume from it. */
    public static final String STATE_TOPIC = "learner.state.topic.enabled";
    /** On the checkpoints topic, a full version every this many versions and deltas between (0 or 1: always full). */
    public static final String DELTA_FULL_EVERY = "learner.delta.full.every";
    /** Consumer group of the learner. */
    public static final String GROUP_ID = "learner.group.id";
    /** Stop after this many updates (0 = run until stopped). */
    public static final String MAX_UPDATES = "learner.max.updates";
    /** PyTorch intra-op threads. */
    public static final String THREADS = "learner.threads";
    /** How long an incomplete prompt group waits for its missing samples. */
    public static final String GROUP_TIMEOUT_MS = "learner.group.timeout.ms";
    /** Examples of the synthetic-world corpus for PPO-ptx. */
    public static final String PTX_CORPUS_SIZE = "learner.ptx.corpus.size";
    /** A JSONL corpus for PPO-ptx (empty: the synthetic world's corpus). */
    public static final String PTX_DATA = "learner.ptx.data";

    /** Consumer group of the learners' election on the lease topic (empty: {@code <learner.group.id>-lease}). */
    public static final String LEASE_GROUP_ID = "learner.lease.group.id";
    /** How long a silent active learner keeps the lease: the takeover time after its death. */
    public static final String LEASE_SESSION_TIMEOUT_MS = "learner.lease.session.timeout.ms";
    /** The publisher's transactional.id (empty: {@code <learner.group.id>-<learner.policy.name>}). */
    public static final String TRANSACTIONAL_ID = "learner.transactional.id";

    /** The topic trained from (empty: the catalog's scored topic). */
    public static final String SCORED_TOPIC = "learner.scored.topic";
    /** Where a partition no checkpoint knows is first read. */
    public static final String START = "learner.start";

    /** Our keys. */
    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(SCORED_TOPIC, Type.STRING, "", Importance.MEDIUM,
                    "The topic to train from, by its full name; empty for the catalog's scored topic. A topic 'rlhf "
                            + "rescore --to' wrote trains the policy on a chosen ensemble's view of past generations.")
            .define(START, Type.STRING, "earliest", (name, value) -> {
                try {
                    StartPosition.parse(String.valueOf(value));
                } catch (IllegalArgumentException e) {
                    throw new ConfigException(name, value, e.getMessage());
                }
            }, Importance.MEDIUM, "Where to start reading a partition that no checkpoint knows: earliest, latest, an "
                    + "offset (on every partition) or an ISO-8601 time (the first record stamped at or after it).")
            .define(POLICY_NAME, Type.STRING, "policy", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Name of the trained policy: the key of its policy.versions records and the policy_name workers "
                            + "stamp on generations.")
            .define(CHECKPOINT_DIR, Type.STRING, "./checkpoints/learner", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Directory of learner checkpoints (one sub-directory per version); shared storage when workers "
                            + "load weights from it.")
            .define(INIT_CHECKPOINT, Type.STRING, "", Importance.HIGH,
                    "Policy to start from when no learner checkpoint exists: a checkpoint directory (normally the SFT "
                            + "policy, 'rlhf sft'), a Hugging Face causal-LM folder (config.json, safetensors, "
                            + "tokenizer.json; a zero value head is added), or a full version published on Kafka, "
                            + "kafka:<checkpoints topic>/<policy name>/<version>, checked against its policy.versions "
                            + "record (sha256, signature) and fetched once beside " + CHECKPOINT_DIR + " (for a "
                            + "learner on a machine that shares no disk); always loaded as the frozen KL reference.")
            .define(CRITIC_INIT, Type.STRING, "", Importance.HIGH,
                    "With ppo.critic=separate (required then): the reward model the critic is initialised from, a "
                            + "reward-model checkpoint directory ('rlhf train-rm') or a Hugging Face reward folder "
                            + "(sequence classification, num_labels 1). It must share the policy's tokenization. Read "
                            + "only when no learner checkpoint holds a critic yet; ignored with ppo.critic=shared.")
            .define(BATCH_SEQUENCES, Type.INT, 64, Range.atLeast(1), Importance.HIGH,
                    "Sequences per rollout batch (one PPO update).")
            .define(BATCH_TOKENS, Type.INT, 0, Range.atLeast(0), Importance.MEDIUM,
                    "Close a batch early once it holds this many response tokens; 0 batches by sequences only.")
            .define(PUBLISH_EVERY, Type.INT, 1, Range.atLeast(1), Importance.HIGH,
                    "Updates per checkpoint and PolicyVersion publication. Records trained after the newest "
                            + "checkpoint are trained again after a crash, so this also bounds the work a crash loses.")
            .define(CHECKPOINTS_KEPT, Type.INT, 5, Range.atLeast(1), Importance.LOW,
                    "Checkpoints kept on disk; older ones are deleted (workers must have moved on).")
            .define(CHECKPOINT_TOPIC, Type.BOOLEAN, false, Importance.LOW,
                    "Also write each published policy checkpoint in chunks to the checkpoints topic, for deployments "
                            + "without shared storage.")
            .define(STATE_TOPIC, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Also write the learner's complete resumable state (weights, optimiser and reward-scaler state, "
                            + "offsets, the ledger) in chunks to the checkpoints topic, in the transaction that "
                            + "publishes each version, and on taking over resume from it when it is newer than this "
                            + "learner's own checkpoint directory: standbys on other machines need no shared "
                            + "directory. Off by default: learners on one machine share " + CHECKPOINT_DIR + ", and "
                            + "the state is several times the weights (Adam's two moments, the whole ledger) on "
                            + "every version.")
            .define(DELTA_FULL_EVERY, Type.INT, 10, ConfigDef.Range.atLeast(0), Importance.LOW,
                    "With " + CHECKPOINT_TOPIC + ": publish every this many versions a full checkpoint and the "
                            + "versions between as exact deltas to the version before (a fraction of the bytes); 0 or "
                            + "1 publishes every version full.")
            .define(GROUP_ID, Type.STRING, "rlhf-learner", new ConfigDef.NonEmptyString(), Importance.MEDIUM,
                    "Consumer group of the learner (one active member; offsets of record are the checkpoint's).")
            .define(MAX_UPDATES, Type.LONG, 0L, Range.atLeast(0), Importance.LOW,
                    "Stop after this many updates in total (0 runs until stopped).")
            .define(THREADS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
                    "PyTorch intra-op threads; 0 uses PyTorch's default (all cores).")
            .define(GROUP_TIMEOUT_MS, Type.LONG, 60_000L, Range.atLeast(1), Importance.LOW,
                    "With group advantages (GRPO, RLOO), how long a prompt's group waits for samples that have not "
                            + "arrived (one dead-lettered by the reward stream, say) before it is trained with the "
                            + "samples it has; without this a lost sample would hold the checkpoint offset back.")
            .define(PTX_CORPUS_SIZE, Type.INT, 20_000, Range.atLeast(1), Importance.LOW,
                    "Examples of the synthetic world's SFT corpus used for PPO-ptx when ppo.ptx.coef > 0 and "
                            + PTX_DATA + " is empty.")
            .define(PTX_DATA, Type.STRING, "", Importance.MEDIUM,
                    "JSONL corpus for PPO-ptx when ppo.ptx.coef > 0, one {\"prompt\", \"response\"}, "
                            + "{\"messages\"} or {\"text\"} object per line (docs/models.md), encoded with the "
                            + "Hugging Face policy's tokenizer and chat template; empty uses the synthetic world's "
                            + "corpus, which only the synthetic policy speaks.")
            .define(LEASE_GROUP_ID, Type.STRING, "", Importance.LOW,
                    "Consumer group in which every learner of this policy consumes the learner.lease topic: the member "
                            + "assigned its one partition is the active learner, the others are standbys. Empty uses "
                            + "'<" + GROUP_ID + ">-lease'.")
            .define(LEASE_SESSION_TIMEOUT_MS, Type.INT, 10_000, Range.between(1_000, 300_000), Importance.MEDIUM,
                    "session.timeout.ms of the lease (and max.poll.interval.ms of its polling thread, and "
                            + "session.timeout.ms of the scored consumer unless set): after the active learner dies "
                            + "or stalls this long a standby takes over. The broker's group.min.session.timeout.ms "
                            + "(6 s by default) is the floor.")
            .define(TRANSACTIONAL_ID, Type.STRING, "", Importance.LOW,
                    "transactional.id of the producer that publishes versions, checkpoint chunks and takeovers: every "
                            + "learner of the policy must share it, so that a new leader's initTransactions fences the "
                            + "old one. Empty uses '<topic.prefix><" + GROUP_ID + ">-<" + POLICY_NAME + ">' (transactional ids are "
                            + "cluster-wide, so loops under different prefixes do not fence each other).");

    private final PpoConfig ppo;

    /** Validates the learner keys and the {@code ppo.*} keys of {@code values}; other keys are ignored. */
    public LearnerConfig(Map<?, ?> values) {
        super(DEFINITION, values, false);
        this.ppo = new PpoConfig(values);
        if (getString(INIT_CHECKPOINT).isBlank()) {
            throw new ConfigException(INIT_CHECKPOINT + " is required: the policy checkpoint (normally the SFT policy) "
                    + "the learner starts from and keeps as its KL reference");
        }
        if (!getString(PTX_DATA).isBlank() && ppo.ptxCoef() <= 0) {
            throw new ConfigException(PTX_DATA + " is " + getString(PTX_DATA) + " but " + PpoConfig.PTX_COEF
                    + " is 0, so the corpus would not be used; set " + PpoConfig.PTX_COEF + " > 0 or leave " + PTX_DATA
                    + " empty");
        }
        if (ppo.critic() == PpoConfig.Critic.SEPARATE && getString(CRITIC_INIT).isBlank()) {
            throw new ConfigException(CRITIC_INIT + " is required with " + PpoConfig.CRITIC + "=separate: the "
                    + "reward-model checkpoint or Hugging Face reward folder the critic is initialised from");
        }
    }

    /** The PPO settings. */
    public PpoConfig ppo() {
        return ppo;
    }

    /** The topic trained from, when not the catalog's scored topic. */
    public java.util.Optional<String> scoredTopic() {
        String topic = getString(SCORED_TOPIC).trim();
        return topic.isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(topic);
    }

    /** Where a partition that no checkpoint knows is first read. */
    public StartPosition start() {
        return StartPosition.parse(getString(START));
    }

    public String policyName() {
        return getString(POLICY_NAME);
    }

    public Path checkpointDir() {
        return Path.of(getString(CHECKPOINT_DIR));
    }

    public Path initCheckpoint() {
        return Path.of(getString(INIT_CHECKPOINT));
    }

    /** The reward model a separate critic starts from, or null when unset. */
    public Path criticInit() {
        String dir = getString(CRITIC_INIT);
        return dir.isBlank() ? null : Path.of(dir);
    }

    public long groupTimeoutMs() {
        return getLong(GROUP_TIMEOUT_MS);
    }

    public int batchSequences() {
        return getInt(BATCH_SEQUENCES);
    }

    public int batchTokens() {
        return getInt(BATCH_TOKENS);
    }

    public int publishEvery() {
        return getInt(PUBLISH_EVERY);
    }

    public int checkpointsKept() {
        return getInt(CHECKPOINTS_KEPT);
    }

    public boolean checkpointTopic() {
        return getBoolean(CHECKPOINT_TOPIC);
    }

    /** Whether the learner's state travels with each version on the checkpoints topic. */
    public boolean stateTopic() {
        return getBoolean(STATE_TOPIC);
    }

    /** A full version on the checkpoints topic every this many: {@value #DELTA_FULL_EVERY}. */
    public int deltaFullEvery() {
        return getInt(DELTA_FULL_EVERY);
    }

    public String groupId() {
        return getString(GROUP_ID);
    }

    /** The lease's consumer group. */
    public String leaseGroupId() {
        String id = getString(LEASE_GROUP_ID);
        return id.isBlank() ? groupId() + "-lease" : id;
    }

    public int leaseSessionTimeoutMs() {
        return getInt(LEASE_SESSION_TIMEOUT_MS);
    }

    /**
     * The publisher's transactional.id, shared by every learner of the policy.
     *
     * @param topicPrefix the catalog's topic prefix, part of the default
     */
    public String transactionalId(String topicPrefix) {
        String id = getString(TRANSACTIONAL_ID);
        return id.isBlank() ? topicPrefix + groupId() + "-" + policyName() : id;
    }

    public long maxUpdates() {
        return getLong(MAX_UPDATES);
    }

    public int threads() {
        return getInt(THREADS);
    }

    public int ptxCorpusSize() {
        return getInt(PTX_CORPUS_SIZE);
    }

    /** The JSONL corpus for PPO-ptx, or empty for the synthetic world's. */
    public Optional<Path> ptxData() {
        String data = getString(PTX_DATA);
        return data.isBlank() ? Optional.empty() : Optional.of(Path.of(data));
    }
}
