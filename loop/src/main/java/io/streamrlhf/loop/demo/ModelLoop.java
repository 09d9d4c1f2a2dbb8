package io.streamrlhf.loop.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.evaluator.live.LoopMonitor;
import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.app.MetricsReporter;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.loop.component.LearnerComponent;
import io.streamrlhf.loop.component.PromptPacer;
import io.streamrlhf.loop.component.RewardStreamComponent;
import io.streamrlhf.loop.component.WorkerPoolComponent;
import io.streamrlhf.loop.supervision.SupervisedComponent;
import io.streamrlhf.loop.supervision.Supervisor;
import io.streamrlhf.models.hf.HfModelConfig;
import io.streamrlhf.models.load.PolicyLoader;
import io.streamrlhf.producer.feed.PromptFiles;
import io.streamrlhf.producer.feed.PromptSender;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.producer.worker.WorkerPool;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.topics.CatalogTopics;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * {@code rlhf demo --model DIR --prompts FILE --reward SPEC}: the whole loop on a user's model instead of the
 * synthetic world. The embedded broker and registry, the reward stream scoring with the given sources (and the
 * reference's log-probs from the same folder), the PPO learner training the folder with a value head, a policy worker
 * serving it (the folder's tokenizer and chat template) and swapping to each new version, and the prompts of the file
 * fed in a loop, each round with fresh ids. No gold reward, baseline or simulated raters: those belong to the
 * synthetic world. The summary is the reward of each policy version's generations, read from the scored topic, and
 * where the learner's checkpoints are ({@code rlhf export} turns one into a Hugging Face folder).
 */
public final class ModelLoop {

    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);

    /**
     * What the user brings.
     *
     * @param model   a Hugging Face causal-LM folder
     * @param prompts a JSONL prompt file ({@link PromptFiles#readJsonl})
     * @param reward  reward specs, comma-separated ({@link RewardSpec#parseList})
     * @param work    where the run's checkpoints and state go
     */
    public record Spec(Path model, Path prompts, String reward, Path work) {

        /** Checks each part and names the one that is wrong. */
        public Spec {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(prompts, "prompts");
            Objects.requireNonNull(work, "work");
            if (!Files.isRegularFile(model.resolve(HfModelConfig.FILE))) {
                throw new IllegalArgumentException("--model " + model + ": no " + HfModelConfig.FILE
                        + "; expected a Hugging Face causal-LM folder (config.json, model.safetensors, tokenizer.json)");
            }
            if (!Files.isRegularFile(prompts)) {
                throw new IllegalArgumentException("--prompts " + prompts + ": no such file (JSONL, one prompt per "
                        + "line: {\"prompt\": \"...\"} or {\"conversation\": [...]})");
            }
            if (reward == null || reward.isBlank()) {
                throw new IllegalArgumentException("--reward is required with --model: the reward sources, e.g. "
                        + "hf:DIR (a Hugging Face sequence-classification folder) or rule:length");
            }
            RewardSpec.parseList(reward);  // names a malformed spec now rather than once the cluster runs
        }
    }

    private final DemoOptions options;
    private final Spec spec;
    private final PrintWriter log;
    private final Supervisor supervisor = new Supervisor();
    private boolean secure;

    public ModelLoop(DemoOptions options, Spec spec, PrintWriter log) {
        this.options = options;
        this.spec = spec;
        this.log = log;
    }

    /**
     * Runs the cluster secure (TLS, SASL/SCRAM-SHA-512, least-privilege ACLs) with each component as its own
     * principal ({@link DemoPrincipals}), or plaintext (the default). Call before {@link #run()}.
     */
    public ModelLoop secure(boolean secure) {
        this.secure = secure;
        return this;
    }

    /** Runs the loop for the options' budget and returns the summary as one JSON object. */
    public ObjectNode run() throws InterruptedException {
        List<Prompt> prompts = PromptFiles.readJsonl(spec.prompts(), options.groupSize()).toSend(false);
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("--prompts " + spec.prompts() + " holds no prompts");
        }
        DemoProfile profile = DemoProfile.demo();
        try (supervisor) {
            log.println("Starting the embedded Kafka broker and schema registry...");
            log.flush();
            DemoPrincipals principals = secure ? DemoPrincipals.secure(profile) : DemoPrincipals.plaintext();
            // Its keys are deleted once the cluster, started after it, has stopped.
            supervisor.start(SupervisedComponent.resource("the cluster's keys", principals));
            EmbeddedCluster cluster = supervisor.start(new ClusterResource(principals)).cluster;
            log.printf("bootstrap=%s registry=%s%n", cluster.bootstrapServers(), cluster.registryUrl());
            CatalogTopics catalog = DemoRunner.createTopics(cluster, profile, principals, log);
            // No credentials in the common settings: each part gets its own principal's.
            Map<String, Object> common = DemoPrincipals.withoutCredentials(catalog.settings());

            RewardStreamComponent stream = supervisor.start(new RewardStreamComponent(principals.rewardStream(
                    rewardStream(profile, common))));
            LearnerComponent learner = supervisor.start(new LearnerComponent(principals.learner(
                    learner(profile, common)), catalog.topics()));
            WorkerPoolComponent workers = supervisor.start(new WorkerPoolComponent(principals.worker(
                    worker(profile, common)), 1, java.util.Optional.of(new WorkerPool.Bootstrap(
                            PolicyLoader.initialCheckpoint(spec.model(), 0), 0))));
            stream.awaitRunning(Duration.ofMinutes(2));
            LoopMonitor monitor = new LoopMonitor(catalog.topics(), principals.monitor(common),
                    options.batchSequences(), options.batchSequences(), null, MetricsReporter.COMPONENT);
            supervisor.start(SupervisedComponent.of("the topic monitor", monitor::start, monitor::failure, monitor));
            PromptSender sender = new PromptSender(catalog.topics(), principals.prompts(common));
            supervisor.start(SupervisedComponent.resource("the prompt sender", sender));
            supervisor.start(new PromptPacer(cycle(prompts), sender, options.promptsPerBatch(),
                    options.backlogBatches(), options.lockstep(), learner::updates, workers::slowestVersion));
            log.printf(Locale.ROOT, "Loop running on %s (%d prompts in %s, reward %s) for up to %ds; Ctrl-C stops it.%n",
                    spec.model(), prompts.size(), spec.prompts(), spec.reward(), options.loopBudget().toSeconds());
            log.flush();

            long start = System.nanoTime();
            long nextProgress = start;
            while (System.nanoTime() - start < options.loopBudget().toNanos()) {
                supervisor.check();
                if (System.nanoTime() >= nextProgress) {
                    LoopMonitor.Snapshot s = monitor.snapshot();
                    log.printf(Locale.ROOT, "  %5.0fs  versions published %d, scored %d, reward of the newest "
                            + "version %s%n", s.seconds(), s.versionsPublished(), s.scored(), newestReward(s));
                    log.flush();
                    nextProgress += PROGRESS_EVERY.toNanos();
                }
                Thread.sleep(200);
            }
            LoopMonitor.Snapshot last = monitor.snapshot();
            return summary(last, (System.nanoTime() - start) / 1e9, learner.version());
        }
    }

    /** The file's prompts over and over, each round's with fresh ids ({@code id#round}) so none is a duplicate. */
    static IntFunction<List<Prompt>> cycle(List<Prompt> prompts) {
        int[] next = {0};
        return n -> {
            List<Prompt> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++, next[0]++) {
                Prompt p = prompts.get(next[0] % prompts.size());
                int round = next[0] / prompts.size();
                out.add(round == 0 ? p : Prompt.newBuilder(p).setPromptId(p.getPromptId() + "#" + round).build());
            }
            return out;
        };
    }

    private Map<String, Object> rewardStream(DemoProfile profile, Map<String, Object> common) {
        Map<String, Object> s = new HashMap<>(common);
        s.putAll(profile.withPrefixes("reward.", "scoring.", "feedback."));
        s.put(RewardStreamConfig.SOURCES, spec.reward());
        s.put(RewardStreamConfig.AGGREGATION, options.aggregation());
        s.put(RewardStreamConfig.BATCH_SIZE, Math.min(profile.getInt(RewardStreamConfig.BATCH_SIZE),
                options.batchSequences()));
        s.put(RewardStreamConfig.STATE_DIR, spec.work().resolve("streams").toString());
        if (!options.referenceInLearner()) {
            s.put(RewardStreamConfig.REFERENCE_CHECKPOINT, spec.model().toAbsolutePath().toString());
        }
        return s;
    }

    private Map<String, Object> learner(DemoProfile profile, Map<String, Object> common) {
        Map<String, Object> s = new HashMap<>(common);
        s.putAll(profile.withPrefixes("learner.", "ppo."));
        s.put(LearnerConfig.INIT_CHECKPOINT, spec.model().toAbsolutePath().toString());
        s.put(LearnerConfig.CHECKPOINT_DIR, learnerCheckpoints().toString());
        s.put(LearnerConfig.BATCH_SEQUENCES, options.batchSequences());
        s.put(LearnerConfig.THREADS, options.threads());
        s.put(PpoConfig.KL_COEF, options.beta());
        s.put(PpoConfig.LEARNING_RATE, options.learningRate());
        s.put(PpoConfig.MINIBATCH_SIZE, Math.min(profile.getInt(PpoConfig.MINIBATCH_SIZE), options.batchSequences()));
        s.put(PpoConfig.SEED, options.seed());
        s.put(PpoConfig.ADVANTAGE_ESTIMATOR, options.estimator());
        s.put(PpoConfig.PTX_COEF, 0.0);  // the synthetic corpus is not this model's; --ppo ppo.ptx.coef=... with data
        s.putAll(options.ppoOverrides());
        return s;
    }

    private Map<String, Object> worker(DemoProfile profile, Map<String, Object> common) {
        Map<String, Object> s = new HashMap<>(common);
        s.putAll(profile.withPrefixes("worker."));
        s.put(WorkerConfig.WORKER_ID, DemoSettings.WORKER_ID);
        s.put(WorkerConfig.BATCH_MAX_SIZE, options.batchSequences());
        s.put(WorkerConfig.MAX_NEW_TOKENS, options.maxNewTokens());
        s.put(WorkerConfig.SEED, options.seed());
        return s;
    }

    /** Where the learner writes its checkpoints (one sub-directory per version). */
    public Path learnerCheckpoints() {
        return spec.work().resolve("learner");
    }

    private static String newestReward(LoopMonitor.Snapshot s) {
        if (s.versions().isEmpty()) {
            return "-";
        }
        LoopMonitor.VersionPoint v = s.versions().get(s.versions().size() - 1);
        return String.format(Locale.ROOT, "v%d %.4f over %d", v.version(), v.rawProxy(), v.count());
    }

    private ObjectNode summary(LoopMonitor.Snapshot s, double seconds, long learnerVersion) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("mode", "model");
        o.put("model", spec.model().toString());
        o.put("reward", spec.reward());
        o.put("seconds", Math.round(seconds * 10) / 10.0);
        o.put("versions_published", s.versionsPublished());
        o.put("learner_version", learnerVersion);
        o.put("scored", s.scored());
        ArrayNode versions = o.putArray("versions");
        for (LoopMonitor.VersionPoint v : s.versions()) {
            versions.addObject().put("version", v.version()).put("count", v.count()).put("reward", v.rawProxy())
                    .put("tokens", v.tokens());
        }
        if (!s.versions().isEmpty()) {
            o.put("first_version_reward", s.versions().get(0).rawProxy());
            o.put("last_version_reward", s.versions().get(s.versions().size() - 1).rawProxy());
        }
        o.put("checkpoints", learnerCheckpoints().toAbsolutePath().toString());
        return o;
    }

    /** The embedded cluster as a supervised resource (stopped last, as it was started first). */
    private static final class ClusterResource implements SupervisedComponent {
        private final DemoPrincipals principals;
        private EmbeddedCluster cluster;

        ClusterResource(DemoPrincipals principals) {
            this.principals = principals;
        }

        @Override
        public String name() {
            return "the embedded cluster";
        }

        @Override
        public void start() {
            cluster = EmbeddedCluster.builder().security(principals.security().orElse(null)).start();
        }

        @Override
        public void check() {
        }

        @Override
        public void stop() {
            if (cluster != null) {
                cluster.close();
            }
        }
    }
}
