package io.streamrlhf.loop.demo;

import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.rm.OnlineRmConfig;
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
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * The settings each component of one demo run starts with: the cluster's keys, the demo's tuned settings, and what the
 * run decides (its options, directories and starting models).
 *
 * @param options      the run's options
 * @param cluster      bootstrap servers, registry and catalog keys of the run's cluster
 * @param sftDir       the SFT policy: the workers' version 0, the learner's start and reference
 * @param rmMemberDirs the initial reward models, one checkpoint directory each
 * @param rmShape      their shape (the online trainer continues with it)
 * @param work         the run's working directory (checkpoints, state)
 */
public record DemoSettings(DemoOptions options, Map<String, Object> cluster, Path sftDir, List<Path> rmMemberDirs,
                           TransformerConfig rmShape, Path work) {

    /** Name of the policy on {@code policy.versions}. */
    public static final String POLICY = "policy";

    public DemoSettings {
        Objects.requireNonNull(options, "options");
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
        s.put(RewardStreamConfig.APPLICATION_ID, "rlhf-demo-reward-stream");
        s.put(RewardStreamConfig.SOURCES, rewardSources());
        s.put(RewardStreamConfig.AGGREGATION, options.aggregation());
        s.put(RewardStreamConfig.UNCERTAINTY_K, 1.0);
        s.put(RewardStreamConfig.BATCH_SIZE, Math.min(64, options.batchSequences()));
        s.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
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
        s.put(LearnerConfig.POLICY_NAME, POLICY);
        s.put(LearnerConfig.INIT_CHECKPOINT, sftDir.toAbsolutePath().toString());
        s.put(LearnerConfig.CHECKPOINT_DIR, learnerCheckpoints().toString());
        s.put(LearnerConfig.BATCH_SEQUENCES, options.batchSequences());
        s.put(LearnerConfig.PUBLISH_EVERY, 1);
        s.put(LearnerConfig.CHECKPOINTS_KEPT, 3);
        s.put(LearnerConfig.GROUP_ID, "rlhf-demo-learner");
        s.put(LearnerConfig.THREADS, options.threads());
        s.put(PpoConfig.KL_COEF, options.beta());
        s.put(PpoConfig.LEARNING_RATE, options.learningRate());
        s.put(PpoConfig.EPOCHS, 2);
        s.put(PpoConfig.MINIBATCH_SIZE, Math.min(32, options.batchSequences()));
        s.put(PpoConfig.CRITIC_WARMUP_UPDATES, 2);
        // The online trainer's reward-model versions move the mean of the rewards; subtracting the running mean keeps
        // the critic's targets centred while they do: the critic's explained variance then passed 0.2 about 150-250
        // updates sooner, and the gold curve dipped less (docs/demo.md).
        s.put(PpoConfig.REWARD_NORMALIZE_MEAN, true);
        s.put(PpoConfig.WARMUP_STEPS, 4);
        s.put(PpoConfig.SEED, options.seed());
        s.put(PpoConfig.ADVANTAGE_ESTIMATOR, options.estimator());
        s.putAll(options.ppoOverrides());  // validated with the rest when the learner reads them
        return s;
    }

    /** The policy workers' settings, starting from the SFT policy as version 0. */
    public Map<String, Object> worker() {
        Map<String, Object> s = new HashMap<>(cluster);
        s.put(WorkerConfig.POLICY_NAME, POLICY);
        s.put(WorkerConfig.WORKER_ID, "demo-worker");
        s.put(WorkerConfig.BATCH_MAX_SIZE, options.batchSequences());
        s.put(WorkerConfig.BATCH_MAX_WAIT_MS, 20L);
        s.put(WorkerConfig.MAX_NEW_TOKENS, options.maxNewTokens());
        s.put(WorkerConfig.SEED, options.seed());
        s.put(WorkerConfig.SHUTDOWN_GRACE_MS, 5_000L);
        return s;
    }

    /** The online reward-model trainer's settings, as the {@code --config} file of its process (strings). */
    public Map<String, String> trainer() {
        Map<String, String> p = new HashMap<>();
        p.put("bootstrap.servers", (String) cluster.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG));
        p.put("schema.registry.url", (String) cluster.get("schema.registry.url"));
        p.put(TopicsConfig.PREFIX, (String) cluster.get(TopicsConfig.PREFIX));
        p.put(TopicsConfig.PARTITIONS, cluster.get(TopicsConfig.PARTITIONS).toString());
        p.put(OnlineRmConfig.NAME, "rm");
        p.put(OnlineRmConfig.ENSEMBLE_SIZE, Integer.toString(rmMemberDirs.size()));
        p.put(OnlineRmConfig.METHOD, options.onlineRmMethod());
        p.put(OnlineRmConfig.CHECKPOINT_DIR, trainerCheckpoints().toString());
        p.put(OnlineRmConfig.TRAIN_EVERY_PAIRS, Integer.toString(options.rmTrainEvery()));
        p.put(OnlineRmConfig.TRAIN_MAX_WAIT_MS, "30000");
        p.put(OnlineRmConfig.EPOCHS, "1");
        p.put(OnlineRmConfig.BUFFER_PAIRS, "2048");
        // One replayed pair per new one: at 50 labels a second the trainer keeps up on one core shared with the loop.
        p.put(OnlineRmConfig.REPLAY_RATIO, "1");
        p.put(OnlineRmConfig.D_MODEL, Integer.toString(rmShape.dModel()));
        p.put(OnlineRmConfig.LAYERS, Integer.toString(rmShape.layers()));
        p.put(OnlineRmConfig.HEADS, Integer.toString(rmShape.heads()));
        p.put(OnlineRmConfig.CONTEXT, Integer.toString(rmShape.contextLength()));
        p.put(OnlineRmConfig.SEED, Long.toString(options.seed() + 7));
        // MetaRM reads the policy's newest generations as its shifted distribution; otherwise none are read.
        p.put(OnlineRmConfig.META_GENERATIONS, RmMethod.parse(options.onlineRmMethod()).meta() ? "256" : "0");
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
