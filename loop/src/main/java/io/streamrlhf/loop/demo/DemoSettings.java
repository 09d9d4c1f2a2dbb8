package io.streamrlhf.loop.demo;

import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.rm.online.OnlineRmConfig;
import io.streamrlhf.learner.rm.RmMethod;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The settings each component of one demo run starts with: the cluster's keys, the tuned settings of the
 * {@link DemoProfile}, and, overlaid on them, what the run decides: its options (seed, β, batch size, ...), its
 * directories and its starting models. With {@link DemoOptions#defaults()} the overlaid options equal the profile's
 * values, so the service commands started with the profile get the same settings (a test compares them).
 *
 * @param options      the run's options
 * @param profile      the tuned settings
 * @param cluster      bootstrap servers, registry and catalog keys of the run's cluster
 * @param sftDir       the SFT policy: the workers' version 0, the learner's start and reference
 * @param rmMemberDirs the initial reward models, one checkpoint directory each
 * @param rmShape      their shape (the online trainer continues with it)
 * @param work         the run's working directory (checkpoints, state)
 */
public record DemoSettings(DemoOptions options, DemoProfile profile, Map<String, Object> cluster, Path sftDir,
                           List<Path> rmMemberDirs, TransformerConfig rmShape, Path work) {

    /** Worker id of the demo's one worker (part of its transactional id, so one per process: not in the profile). */
    public static final String WORKER_ID = "demo-worker";
    /** Prompts of the policy's newest generations MetaRM reads, when the online method has meta. */
    static final int META_GENERATIONS_PROMPTS = 256;

    /**
     * The keys each run sets itself: directories, starting checkpoints, reward sources and the worker's id. The rest
     * of every component's settings is the profile's, or an option the run was given.
     */
    public static final Set<String> RUN_SPECIFIC = Set.of(LearnerConfig.INIT_CHECKPOINT, LearnerConfig.CHECKPOINT_DIR,
            RewardStreamConfig.SOURCES, RewardStreamConfig.STATE_DIR, RewardStreamConfig.REFERENCE_CHECKPOINT,
            OnlineRmConfig.CHECKPOINT_DIR, WorkerConfig.WORKER_ID);

    public DemoSettings {
        Objects.requireNonNull(options, "options");
        Objects.requireNonNull(profile, "profile");
        cluster = Map.copyOf(cluster);
        Objects.requireNonNull(sftDir, "sftDir");
        rmMemberDirs = List.copyOf(rmMemberDirs);
        Objects.requireNonNull(rmShape, "rmShape");
        Objects.requireNonNull(work, "work");
    }

    /** Where the learner writes its checkpoints. */
    public Path learnerCheckpoints() {
        return work.resolve("learner");
    }

    /** Where the online reward-model trainer keeps its checkpoints. */
    public Path trainerCheckpoints() {
        return work.resolve("rm");
    }

    /** The reward stream's settings: scoring with the initial ensemble until the trainer publishes newer versions. */
    public Map<String, Object> rewardStream() {
        Map<String, Object> s = new HashMap<>(cluster);
        s.putAll(profile.withPrefixes("reward.", "scoring.", "feedback."));
        s.put(RewardStreamConfig.SOURCES, rewardSources());
        s.put(RewardStreamConfig.AGGREGATION, options.aggregation());
        s.put(RewardStreamConfig.BATCH_SIZE, Math.min(profile.getInt(RewardStreamConfig.BATCH_SIZE),
                options.batchSequences()));
        s.put(RewardStreamConfig.STATE_DIR, work.resolve("streams").toString());
        if (!options.referenceInLearner()) {
            // The reference's log-probs are computed beside the reward models, off the learner's critical path.
            s.put(RewardStreamConfig.REFERENCE_CHECKPOINT, sftDir.toAbsolutePath().toString());
        }
        return s;
    }

    /** The PPO learner's settings. */
    public Map<String, Object> learner() {
        Map<String, Object> s = new HashMap<>(cluster);
        s.putAll(profile.withPrefixes("learner.", "ppo."));
        s.put(LearnerConfig.INIT_CHECKPOINT, sftDir.toAbsolutePath().toString());
        s.put(LearnerConfig.CHECKPOINT_DIR, learnerCheckpoints().toString());
        s.put(LearnerConfig.BATCH_SEQUENCES, options.batchSequences());
        s.put(LearnerConfig.THREADS, options.threads());
        s.put(PpoConfig.KL_COEF, options.beta());
        s.put(PpoConfig.LEARNING_RATE, options.learningRate());
        s.put(PpoConfig.MINIBATCH_SIZE, Math.min(profile.getInt(PpoConfig.MINIBATCH_SIZE), options.batchSequences()));
        s.put(PpoConfig.SEED, options.seed());
        s.put(PpoConfig.ADVANTAGE_ESTIMATOR, options.estimator());
        s.putAll(options.ppoOverrides());  // validated with the rest when the learner reads them
        return s;
    }

    /** The policy workers' settings, starting from the SFT policy as version 0. */
    public Map<String, Object> worker() {
        Map<String, Object> s = new HashMap<>(cluster);
        s.putAll(profile.withPrefixes("worker."));
        s.put(WorkerConfig.WORKER_ID, WORKER_ID);
        s.put(WorkerConfig.BATCH_MAX_SIZE, options.batchSequences());
        s.put(WorkerConfig.MAX_NEW_TOKENS, options.maxNewTokens());
        s.put(WorkerConfig.SEED, options.seed());
        return s;
    }

    /** The online reward-model trainer's settings, as the {@code --config} file of its process (strings). */
    public Map<String, String> trainer() {
        Map<String, String> p = new HashMap<>();
        p.put("bootstrap.servers", (String) cluster.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
        p.put("schema.registry.url", (String) cluster.get("schema.registry.url"));
        p.put(TopicsConfig.PREFIX, (String) cluster.get(TopicsConfig.PREFIX));
        p.put(TopicsConfig.PARTITIONS, cluster.get(TopicsConfig.PARTITIONS).toString());
        p.putAll(profile.withPrefixes("rm."));
        p.put(OnlineRmConfig.ENSEMBLE_SIZE, Integer.toString(rmMemberDirs.size()));
        p.put(OnlineRmConfig.METHOD, options.onlineRmMethod());
        p.put(OnlineRmConfig.CHECKPOINT_DIR, trainerCheckpoints().toString());
        p.put(OnlineRmConfig.TRAIN_EVERY_PAIRS, Integer.toString(options.rmTrainEvery()));
        p.put(OnlineRmConfig.D_MODEL, Integer.toString(rmShape.dModel()));
        p.put(OnlineRmConfig.LAYERS, Integer.toString(rmShape.layers()));
        p.put(OnlineRmConfig.HEADS, Integer.toString(rmShape.heads()));
        p.put(OnlineRmConfig.CONTEXT, Integer.toString(rmShape.contextLength()));
        p.put(OnlineRmConfig.SEED, Long.toString(options.seed() + 7));
        if (RmMethod.parse(options.onlineRmMethod()).meta()) {
            // MetaRM reads the policy's newest generations as its shifted distribution.
            p.put(OnlineRmConfig.META_GENERATIONS, Integer.toString(META_GENERATIONS_PROMPTS));
        }
        p.put(OnlineRmConfig.THREADS, Integer.toString(options.threads()));
        return p;
    }

    /** The initial ensemble as {@code reward.sources} specs, {@code rm:<dir>;name=rm-<m>}. */
    String rewardSources() {
        List<String> specs = new ArrayList<>();
        for (int m = 0; m < rmMemberDirs.size(); m++) {
            // A backslash escapes what RewardSpec would read as separators.
            String dir = rmMemberDirs.get(m).toAbsolutePath().toString()
                    .replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;");
            specs.add("rm:" + dir + ";name=" + StartingModels.memberName(m));
        }
        return String.join(",", specs);
    }
}
