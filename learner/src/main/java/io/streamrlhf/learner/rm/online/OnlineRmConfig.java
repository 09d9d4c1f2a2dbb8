package io.streamrlhf.learner.rm.online;

import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.learner.rm.RmTrainingConfig;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.SyntheticWorld;
import java.nio.file.Path;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Range;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
 * Settings of the online reward-model trainer ({@code rm.*} keys), each declared once with default,
 * validator and doc. Kafka, registry and topic keys are read from the same map by the clients and
 * {@code Topics}.
 */
public final class OnlineRmConfig extends AbstractConfig {

    /** Name prefix of the published reward models: members are {@code <name>-0 .. <name>-(M-1)}. */
    public static final String NAME = "rm.name";
    /** Ensemble size M. */
    public static final String ENSEMBLE_SIZE = "rm.ensemble.size";
    /** Training method ({@link RmMethod#parse}). */
    public static final String METHOD = "rm.method";
    /** Directory of trainer checkpoints. */
    public static final String CHECKPOINT_DIR = "rm.checkpoint.dir";
    /** New training pairs that trigger a round. */
    public static final String TRAIN_EVERY_PAIRS = "rm.train.every.pairs";
    /** Longest wait before a round when at least one new pair arrived. */
    public static final String TRAIN_MAX_WAIT_MS = "rm.train.max.wait.ms";
    /** Fine-tune the current weights, or retrain from fresh ones each round. */
    public static final String MODE = "rm.train.mode";
    /** Epochs over the buffer per round. */
    public static final String EPOCHS = "rm.train.epochs";
    /** Pairs per step. */
    public static final String BATCH_SIZE = "rm.train.batch.size";
    /** AdamW learning rate. */
    public static final String LEARNING_RATE = "rm.train.learning.rate";
    /** Newest pairs kept for training. */
    public static final String BUFFER_PAIRS = "rm.buffer.pairs";
    /** Older buffered pairs replayed per new pair in a fine-tuning round. */
    public static final String REPLAY_RATIO = "rm.replay.ratio";
    /** Newest held-out pairs each version is evaluated on. */
    public static final String EVAL_PAIRS = "rm.eval.pairs";
    /** One pair in this many is held out for evaluation. */
    public static final String HOLDOUT_EVERY = "rm.holdout.every";
    /** Model width. */
    public static final String D_MODEL = "rm.model.d";
    /** Transformer layers. */
    public static final String LAYERS = "rm.model.layers";
    /** Attention heads. */
    public static final String HEADS = "rm.model.heads";
    /** Context length. */
    public static final String CONTEXT = "rm.model.context";
    /** Seed. */
    public static final String SEED = "rm.seed";
    /** Write measured strengths back to preferences. */
    public static final String WRITE_STRENGTH = "rm.strength.writeback";
    /** Read the policy's current responses from generations for MetaRM. */
    public static final String META_GENERATIONS = "rm.meta.generations.prompts";
    /** Checkpoints kept. */
    public static final String CHECKPOINTS_KEPT = "rm.checkpoints.kept";
    /** Also write each member's weights in chunks to the checkpoints topic and publish kafka: URIs. */
    public static final String CHECKPOINT_TOPIC = "rm.checkpoint.topic.enabled";
    /** Also publish the trainer's resumable state with each version, and resume from it on a fresh machine. */
    public static final String STATE_TOPIC = "rm.state.topic.enabled";
    /** Stop after this many rounds. */
    public static final String MAX_ROUNDS = "rm.max.rounds";
    /** PyTorch threads. */
    public static final String THREADS = "rm.threads";

    /** Our keys. */
    public static final ConfigDef DEFINITION = new ConfigDef()
            .define(NAME, Type.STRING, "rm", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Name prefix of the published reward models: member m is published on rm.versions as '<name>-m', "
                            + "the name the reward stream's 'rm:...;name=' spec swaps.")
            .define(ENSEMBLE_SIZE, Type.INT, RmTrainingConfig.DEFAULT_ENSEMBLE_SIZE, Range.between(1, 64),
                    Importance.HIGH, "Ensemble size M: reward models differing in seed and data order; together they "
                            + "measure each pair's preference strength.")
            .define(METHOD, Type.STRING, "bt", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Training method: bt, flip[:fraction], smooth[:alpha], margin[:scale], contrastive[:weight], "
                            + "meta[:step], joined by '+' (e.g. flip+margin). Strength-based methods use the strengths "
                            + "the ensemble measured before the round.")
            .define(CHECKPOINT_DIR, Type.STRING, "./checkpoints/rm", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Directory of trainer checkpoints (one sub-directory per version). Unless "
                            + CHECKPOINT_TOPIC + " is on, rm.versions carries file: URIs into it, so it must be storage "
                            + "the reward stream can read; with " + STATE_TOPIC + " on, a fresh (empty) directory "
                            + "resumes from the state published on Kafka.")
            .define(TRAIN_EVERY_PAIRS, Type.INT, 64, Range.atLeast(1), Importance.HIGH,
                    "A training round starts when this many new pairs have arrived.")
            .define(TRAIN_MAX_WAIT_MS, Type.LONG, 60_000L, Range.atLeast(0), Importance.MEDIUM,
                    "A round also starts when at least one new pair has waited this long.")
            .define(MODE, Type.STRING, "finetune", ConfigDef.ValidString.in("finetune", "retrain"), Importance.MEDIUM,
                    "finetune continues from the current weights and optimiser state; retrain starts every round from "
                            + "fresh weights.")
            .define(EPOCHS, Type.INT, 2, Range.atLeast(1), Importance.MEDIUM, "Epochs over the buffer per round.")
            .define(BATCH_SIZE, Type.INT, 32, Range.atLeast(2), Importance.MEDIUM, "Pairs per training step.")
            .define(LEARNING_RATE, Type.DOUBLE, 3e-3, Range.atLeast(0), Importance.MEDIUM, "AdamW learning rate.")
            .define(BUFFER_PAIRS, Type.INT, 5000, Range.atLeast(1), Importance.MEDIUM,
                    "Newest training pairs kept in memory: a retrain round trains on all of them, a finetune round "
                            + "replays a sample of them (rm.replay.ratio).")
            .define(REPLAY_RATIO, Type.DOUBLE, 3.0, Range.atLeast(0), Importance.MEDIUM,
                    "A finetune round trains on its new pairs plus this many older buffered pairs per new pair, "
                            + "drawn uniformly (replay against forgetting), so a round costs in proportion to the "
                            + "feedback that arrived, not to the buffer. A ratio at least the buffer size trains the "
                            + "whole buffer every round.")
            .define(HOLDOUT_EVERY, Type.INT, 10, Range.atLeast(2), Importance.MEDIUM,
                    "One pair in this many (by a hash of pair_id, so the split is stable across restarts) is held out "
                            + "to evaluate each version.")
            .define(EVAL_PAIRS, Type.INT, 256, Range.atLeast(1), Importance.LOW,
                    "Each version's held-out accuracy is measured on the newest this-many held-out pairs (the "
                            + "held-out buffer keeps rm.buffer.pairs / 4).")
            .define(D_MODEL, Type.INT, 32, Range.atLeast(2), Importance.LOW, "Reward-model width for fresh models.")
            .define(LAYERS, Type.INT, 1, Range.atLeast(1), Importance.LOW, "Transformer layers for fresh models.")
            .define(HEADS, Type.INT, 2, Range.atLeast(1), Importance.LOW, "Attention heads for fresh models.")
            .define(CONTEXT, Type.INT, 64, Range.atLeast(2), Importance.LOW, "Context length for fresh models.")
            .define(SEED, Type.LONG, 7L, Importance.LOW, "Base seed; member m uses seed + m.")
            .define(WRITE_STRENGTH, Type.BOOLEAN, true, Importance.MEDIUM,
                    "After each round, write every new pair back to preferences with its measured strength (header "
                            + OnlineRmTrainer.ORIGIN_HEADER + "=" + OnlineRmTrainer.ORIGIN + ", which this trainer skips).")
            .define(META_GENERATIONS, Type.INT, 256, Range.atLeast(0), Importance.LOW,
                    "For MetaRM: the newest prompts of generations kept (with all their responses) as the policy's "
                            + "current distribution; 0 does not read generations.")
            .define(CHECKPOINT_TOPIC, Type.BOOLEAN, false, Importance.LOW,
                    "Write each published member's checkpoint in chunks to the checkpoints topic (key prefix "
                            + "'rm/<member name>') and publish a kafka: URI, so scorers need no shared storage; "
                            + "otherwise rm.versions carries file: URIs of the checkpoint directory.")
            .define(STATE_TOPIC, Type.BOOLEAN, false, Importance.MEDIUM,
                    "Also write the trainer's complete resumable state (every member's weights, the preferences "
                            + "offsets trained through, its counters) in chunks to the checkpoints topic with each "
                            + "version (key prefix 'rm-trainer-state/<" + NAME + ">', indexed and signed in the last "
                            + "member's rm.versions record), and on start resume from the newest published state when "
                            + "it is newer than " + CHECKPOINT_DIR + ": a trainer on a fresh machine continues where "
                            + "the last one stopped, training no pair twice. Off by default: the state is the "
                            + "ensemble's weights again.")
            .define(CHECKPOINTS_KEPT, Type.INT, 5, Range.atLeast(1), Importance.LOW,
                    "Checkpoints kept on disk; the reward stream loads published ones, so keep a few.")
            .define(MAX_ROUNDS, Type.LONG, 0L, Range.atLeast(0), Importance.LOW,
                    "Stop after this many rounds (0 runs until stopped).")
            .define(THREADS, Type.INT, 0, Range.atLeast(0), Importance.LOW,
                    "PyTorch intra-op threads; 0 uses PyTorch's default.");

    /** Validates the {@code rm.*} keys of {@code values}; other keys are ignored. */
    public OnlineRmConfig(Map<?, ?> values) {
        super(DEFINITION, values, false);
        if (getInt(D_MODEL) % getInt(HEADS) != 0) {
            throw new ConfigException(D_MODEL, getInt(D_MODEL), "must be divisible by " + HEADS + " = " + getInt(HEADS));
        }
        RmMethod.parse(getString(METHOD));
    }

    /** The method. */
    public RmMethod method() {
        return RmMethod.parse(getString(METHOD));
    }

    /** The training settings (fresh models use the synthetic world's vocabulary). */
    public RmTrainingConfig training() {
        TransformerConfig shape = new TransformerConfig(SyntheticWorld.standard().vocabulary().size(), getInt(CONTEXT),
                getInt(D_MODEL), getInt(LAYERS), getInt(HEADS));
        return new RmTrainingConfig(shape, getInt(ENSEMBLE_SIZE), getInt(EPOCHS), getInt(BATCH_SIZE),
                getDouble(LEARNING_RATE), 0.01, 1.0, getLong(SEED));
    }

    /** The checkpoint directory. */
    public Path checkpointDir() {
        return Path.of(getString(CHECKPOINT_DIR));
    }

    /** Whether each round starts from fresh weights. */
    public boolean retrain() {
        return "retrain".equals(getString(MODE));
    }
}
