package io.streamrlhf.loop.stack;

import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.learner.rm.online.OnlineRmConfig;
import io.streamrlhf.loop.demo.DemoProfile;
import io.streamrlhf.loop.demo.DemoSettings;
import io.streamrlhf.loop.demo.StartingModels;
import io.streamrlhf.loop.process.RestartingChildJvm.Restart;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.topics.Topics;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.IntStream;

/**
 * The processes of one stack and the config file of each kind, derived from {@link StackOptions} and the demo profile
 * without running anything (so the compose file can be checked against it). Every process runs one {@code rlhf}
 * command with {@code --config DIR/conf/<kind>.properties}; what differs between instances of a kind is a flag
 * ({@link ProcessKind#instanceFlags()}).
 *
 * @param options    what was asked for
 * @param bootstrap  the cluster's bootstrap servers
 * @param registry   its schema registry URL
 * @param partitions partitions of each topic
 * @param processes  in start order (the stack stops them in reverse)
 * @param configs    each kind's settings, as its config file holds them (on a secure cluster with its user's
 *                   credentials)
 * @param admin      the credentials the stack's own admin work (topics, lag) runs with; empty on a plaintext cluster
 * @param warnings   what was asked for and not done, for people
 */
public record StackPlan(StackOptions options, String bootstrap, String registry, int partitions,
                        List<StackProcess> processes, Map<ProcessKind, Map<String, String>> configs,
                        Map<String, String> admin, List<String> warnings) {

    /** The feedback server's port in a plan whose options leave it to the stack ({@code stack init}). */
    public static final int DEFAULT_FEEDBACK_PORT = 8088;
    /**
     * Consumer group of the learners and application id of the scorers on a secure cluster: the components' own
     * defaults, which the users' ACLs grant (the demo profile's {@code rlhf-demo-*} ids are not granted).
     */
    static final String SECURE_LEARNER_GROUP = "rlhf-learner";
    static final String SECURE_APPLICATION_ID = "rlhf-reward-stream";

    /**
     * The policy name the stack publishes the SFT policy under, as version 0 (the scorers' KL reference): not the
     * learner's, whose versions retire old chunks.
     */
    public static final String REFERENCE_POLICY = "sft";

    /** Heap of each kind's JVM, in MiB. */
    private static final Map<ProcessKind, Integer> HEAP_MB = Map.of(ProcessKind.CLUSTER, 1024, ProcessKind.BROKER, 512,
            ProcessKind.REGISTRY, 256, ProcessKind.WORKER, 768, ProcessKind.SCORER, 768, ProcessKind.LEARNER, 1024,
            ProcessKind.RM_TRAINER, 768, ProcessKind.FEEDBACK, 256, ProcessKind.RATERS, 256, ProcessKind.PROMPTS, 256);

    public StackPlan {
        Objects.requireNonNull(options, "options");
        processes = List.copyOf(processes);
        Map<ProcessKind, Map<String, String>> copy = new EnumMap<>(ProcessKind.class);
        configs.forEach((k, v) -> copy.put(k, Map.copyOf(v)));
        configs = copy;
        admin = Map.copyOf(admin);
        warnings = List.copyOf(warnings);
    }

    /**
     * The plan for a stack on the cluster at {@code bootstrap} / {@code registry} (the stack's own, once started, or
     * the options').
     */
    public static StackPlan of(StackOptions options, String bootstrap, String registry) {
        return of(options, bootstrap, registry, null, null);
    }

    /** As {@link #of(StackOptions, String, String, String, StackSecurity)} on a plaintext cluster. */
    public static StackPlan of(StackOptions options, String bootstrap, String registry, String clusterId) {
        return of(options, bootstrap, registry, clusterId, null);
    }

    /**
     * The plan for a stack on the cluster at {@code bootstrap} / {@code registry}; a stack's own cluster of several
     * brokers runs each as a process of its own, formatting new storage with {@code clusterId}. With {@code security}
     * each kind's config file holds its user's credentials ({@link ProcessKind#user()}) and nobody else's.
     *
     * @throws IllegalArgumentException when the stack's own cluster has several brokers and {@code clusterId} is null,
     *                                  or a user's client file names another topic prefix
     */
    public static StackPlan of(StackOptions options, String bootstrap, String registry, String clusterId,
                               StackSecurity security) {
        Path dir = options.dir().toAbsolutePath().normalize();
        DemoProfile profile = DemoProfile.demo();
        int partitions = options.partitions() > 0 ? options.partitions()
                : Math.max(profile.getInt(TopicsConfig.PARTITIONS), Math.max(options.workers(), options.scorers()));
        List<String> warnings = new ArrayList<>();
        // learners of one policy elect their active member (learner.lease); the others stand by
        int learners = options.learners();

        Map<String, Object> cluster = new HashMap<>();
        cluster.put("bootstrap.servers", bootstrap);
        cluster.put("schema.registry.url", registry);
        cluster.put(TopicsConfig.PREFIX, options.topicPrefix());
        cluster.put(TopicsConfig.PARTITIONS, partitions);
        Path sft = options.synthetic() ? sftDir(dir) : options.model().toAbsolutePath();
        List<Path> rms = IntStream.range(0, options.demo().rmEnsemble()).mapToObj(m -> rmMemberDir(dir, m)).toList();
        DemoSettings settings = new DemoSettings(options.demo(), profile, cluster, sft, rms,
                StartingModels.rewardShape(), dir);

        Map<ProcessKind, Map<String, Object>> raw = new EnumMap<>(ProcessKind.class);
        Map<String, Object> worker = new HashMap<>(settings.worker());
        worker.remove(WorkerConfig.WORKER_ID);  // one per instance: a flag (compose replicas default to <host>-w<n>)
        raw.put(ProcessKind.WORKER, worker);
        Map<String, Object> scorer = new HashMap<>(settings.rewardStream());
        scorer.put(RewardStreamConfig.STATE_DIR, dir.resolve("score").resolve("state").toString());
        if (options.synthetic() && scorer.containsKey(RewardStreamConfig.REFERENCE_CHECKPOINT)) {
            // The stack publishes the SFT policy on Kafka at bootstrap: a scorer needs no shared disk for it.
            scorer.put(RewardStreamConfig.REFERENCE_CHECKPOINT, referenceUri(cluster));
        }
        Map<String, Object> learner = new HashMap<>(settings.learner());
        if (options.synthetic()) {
            // the same published version as the scorers' reference: the learner uses their reference log-probs
            learner.put(LearnerConfig.INIT_CHECKPOINT, referenceUri(cluster));
        }
        if (!options.synthetic()) {
            scorer.put(RewardStreamConfig.SOURCES, options.reward());
            learner.put(PpoConfig.PTX_COEF, 0.0);  // the synthetic corpus is not this model's
        }
        raw.put(ProcessKind.SCORER, scorer);
        raw.put(ProcessKind.LEARNER, learner);
        if (options.rmTrainers() > 0) {
            Map<String, Object> trainer = new HashMap<>(settings.trainer());
            // each version carries the trainer's state, from which a trainer on another machine resumes
            trainer.put(OnlineRmConfig.STATE_TOPIC, "true");
            raw.put(ProcessKind.RM_TRAINER, trainer);
        }
        raw.put(ProcessKind.FEEDBACK, new HashMap<>(cluster));
        if (options.raterRate() > 0) {
            raw.put(ProcessKind.RATERS, new HashMap<>(cluster));
        }
        if (options.secured()) {
            learner.put(LearnerConfig.GROUP_ID, SECURE_LEARNER_GROUP);
            scorer.put(RewardStreamConfig.APPLICATION_ID, SECURE_APPLICATION_ID);
        }
        if (options.promptsFile() != null || options.syntheticRate() > 0) {
            raw.put(ProcessKind.PROMPTS, new HashMap<>(cluster));
        }
        Map<ProcessKind, Map<String, String>> configs = new EnumMap<>(ProcessKind.class);
        raw.forEach((kind, values) -> {
            Map<String, String> strings = new TreeMap<>();
            values.forEach((k, v) -> strings.put(k, String.valueOf(v)));
            if (security != null) {
                // its own user's credentials only: a process can do what its component may, nothing more
                strings.putAll(security.credentials(kind.user(), options.topicPrefix()));
            }
            configs.put(kind, strings);
        });
        Map<String, String> admin = security == null ? Map.of()
                : security.credentials(StackSecurity.ADMIN, options.topicPrefix());

        List<StackProcess> processes = new ArrayList<>();
        long seed = options.demo().seed();
        if (options.embeddedCluster() && options.brokers() > 1) {
            if (clusterId == null) {
                throw new IllegalArgumentException("a stack of " + options.brokers() + " brokers needs their cluster id");
            }
            // Each broker its own process, restarted when it dies: its data directory persists, so it rejoins.
            Path clusterDir = dir.resolve("cluster");
            for (int node = 1; node <= options.brokers(); node++) {
                processes.add(new StackProcess(ProcessKind.BROKER.service() + "-" + node, ProcessKind.BROKER,
                        args(ProcessKind.BROKER, "--node-id", Integer.toString(node), "--brokers",
                                Integer.toString(options.brokers()), "--kafka-port",
                                Integer.toString(options.kafkaPort()), "--controller-port",
                                Integer.toString(controllerPort(options)), "--data-dir", clusterDir.toString(),
                                "--cluster-id", clusterId),
                        null, Restart.ALWAYS, HEAP_MB.get(ProcessKind.BROKER)));
            }
            // Its schemas persist in DIR/cluster/registry with their ids, on the same port: a restarted registry
            // answers the others' cached ids as before, so its death is an outage the clients retry through.
            processes.add(new StackProcess(ProcessKind.REGISTRY.service(), ProcessKind.REGISTRY,
                    args(ProcessKind.REGISTRY, "--registry-port", Integer.toString(options.registryPort()),
                            "--data-dir", clusterDir.toString()),
                    null, Restart.ALWAYS, HEAP_MB.get(ProcessKind.REGISTRY)));
        } else if (options.embeddedCluster()) {
            List<String> clusterArgs = args(ProcessKind.CLUSTER, "--kafka-port", Integer.toString(options.kafkaPort()),
                    "--registry-port", Integer.toString(options.registryPort()), "--partitions",
                    Integer.toString(partitions), "--topic-prefix", options.topicPrefix(), "--data-dir",
                    dir.resolve("cluster").toString(), "--brokers", Integer.toString(options.brokers()));
            if (options.secure()) {
                clusterArgs.add("--secure");  // it announces one client properties file per user (config.USER=PATH)
            }
            processes.add(new StackProcess("cluster", ProcessKind.CLUSTER, clusterArgs, null, Restart.NEVER,
                    HEAP_MB.get(ProcessKind.CLUSTER)));
        }
        // Start order: consumers of data before its producers; the prompts last. Stopped in reverse.
        for (int i = 0; i < learners; i++) {
            processes.add(process(ProcessKind.LEARNER, i, dir, (String) learner.get(LearnerConfig.GROUP_ID),
                    Restart.ALWAYS));
        }
        if (options.rmTrainers() > 0) {
            processes.add(process(ProcessKind.RM_TRAINER, 0, dir, null, Restart.ALWAYS, "--no-progress"));
        }
        for (int i = 0; i < options.scorers(); i++) {
            processes.add(scorer(dir, i, configs));
        }
        for (int i = 0; i < options.workers(); i++) {
            processes.add(worker(options, dir, i, configs));
        }
        // The raters post each label once through the server, which may be killed and restarted like the others.
        int feedbackPort = feedbackPort(options);
        double raterRate = options.raterRate();
        processes.add(process(ProcessKind.FEEDBACK, 0, dir, null, Restart.ALWAYS, "--port",
                Integer.toString(feedbackPort), "--rate", fmt(Math.max(5, 2 * raterRate)), "--burst",
                Integer.toString((int) Math.max(20, Math.ceil(4 * raterRate)))));
        if (raterRate > 0) {
            processes.add(process(ProcessKind.RATERS, 0, dir, null, Restart.ALWAYS, "--rate", fmt(raterRate),
                    "--seed", Long.toString(seed + 5), "--api", feedbackUrl(options)));
        }
        int samples = options.demo().groupSize();
        if (options.promptsFile() != null) {
            processes.add(process(ProcessKind.PROMPTS, 0, dir, null, Restart.ON_FAILURE, "--file",
                    options.promptsFile().toAbsolutePath().toString(), "--samples", Integer.toString(samples)));
        } else if (options.syntheticRate() > 0) {
            processes.add(process(ProcessKind.PROMPTS, 0, dir, null, Restart.ALWAYS, "--synthetic", "--rate",
                    fmt(options.syntheticRate()), "--samples", Integer.toString(samples), "--seed",
                    Long.toString(seed)));
        }
        return new StackPlan(options, bootstrap, registry, partitions, processes, configs, admin, warnings);
    }

    /**
     * Instance {@code index} of a kind that scales ({@link ProcessKind#scalable()}: a worker or a scorer) in this
     * plan's stack, as {@code rlhf stack add} starts it: the same command as the first instances', with its own
     * worker id or state directory.
     *
     * @throws IllegalArgumentException for a kind that does not scale, or a negative index
     */
    public StackProcess instance(ProcessKind kind, int index) {
        if (!kind.scalable()) {
            throw new IllegalArgumentException("only workers and scorers are added to or removed from a running "
                    + "stack, not " + kind.service());
        }
        if (index < 0) {
            throw new IllegalArgumentException("instance index must be >= 0, got " + index);
        }
        Path dir = options.dir().toAbsolutePath().normalize();
        return kind == ProcessKind.WORKER ? worker(options, dir, index, configs) : scorer(dir, index, configs);
    }

    /**
     * The first controller port of the stack's own brokers: the ports after their client ports
     * ({@code --kafka-port + brokers}), so that one run of {@code 2 × brokers} consecutive ports holds both.
     */
    public static int controllerPort(StackOptions options) {
        return options.kafkaPort() + options.brokers();
    }

    /** The {@code kafka:} URI of the SFT policy the stack publishes ({@link #REFERENCE_POLICY} version 0). */
    public static String referenceUri(Map<String, Object> cluster) {
        return new ChunkUri(Topics.checkpointsName(cluster), REFERENCE_POLICY, 0).toString();
    }

    /** The feedback server's port: the options', or {@value #DEFAULT_FEEDBACK_PORT} where they leave it open. */
    public static int feedbackPort(StackOptions options) {
        return options.feedbackPort() == 0 ? DEFAULT_FEEDBACK_PORT : options.feedbackPort();
    }

    /** The feedback server's URL on this machine (it binds loopback: no annotator tokens are needed there). */
    public static String feedbackUrl(StackOptions options) {
        return "http://127.0.0.1:" + feedbackPort(options);
    }

    /** Where a kind's config file lies in a stack's directory. */
    public static Path configFile(Path dir, ProcessKind kind) {
        return dir.toAbsolutePath().normalize().resolve("conf").resolve(kind.service() + ".properties");
    }

    /** The synthetic SFT policy, copied into the stack's directory (what the workers serve first and the learner starts from). */
    public static Path sftDir(Path dir) {
        return dir.toAbsolutePath().normalize().resolve("models").resolve("sft");
    }

    /** Initial reward model {@code m}, copied into the stack's directory. */
    public static Path rmMemberDir(Path dir, int m) {
        return dir.toAbsolutePath().normalize().resolve("models").resolve("rm-" + m);
    }

    /** The process named {@code name}. */
    public StackProcess process(String name) {
        return processes.stream().filter(p -> p.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no process named " + name));
    }

    private static StackProcess process(ProcessKind kind, int instance, Path dir, String group, Restart restart,
                                        String... extra) {
        List<String> args = new ArrayList<>(kind.command());
        args.add("--config");
        args.add(configFile(dir, kind).toString());
        args.addAll(List.of(extra));
        boolean numbered = kind == ProcessKind.WORKER || kind == ProcessKind.SCORER || kind == ProcessKind.LEARNER;
        String name = numbered ? kind.service() + "-" + instance : kind.service();
        return new StackProcess(name, kind, args, group, restart, HEAP_MB.get(kind));
    }

    private static StackProcess scorer(Path dir, int i, Map<ProcessKind, Map<String, String>> configs) {
        return process(ProcessKind.SCORER, i, dir, configs.get(ProcessKind.SCORER).get(RewardStreamConfig.APPLICATION_ID),
                Restart.ALWAYS, "--state-dir", dir.resolve("score-" + i).resolve("state").toString());
    }

    private static StackProcess worker(StackOptions options, Path dir, int i,
                                       Map<ProcessKind, Map<String, String>> configs) {
        // The stack publishes the synthetic SFT policy on Kafka at bootstrap: a worker needs no shared disk for it.
        String start = options.synthetic() ? referenceUri(new HashMap<>(configs.get(ProcessKind.WORKER)))
                : options.model().toAbsolutePath().toString();
        String group = "rlhf-workers-" + configs.get(ProcessKind.WORKER).get(WorkerConfig.POLICY_NAME);
        // The worker id is its transactional id: stable across restarts, so a restarted worker fences its predecessor.
        return process(ProcessKind.WORKER, i, dir, group, Restart.ALWAYS, "--checkpoint", start, "--threads",
                Integer.toString(options.demo().threads()), "--worker-id", "stack-worker-" + i);
    }

    private static List<String> args(ProcessKind kind, String... extra) {
        List<String> args = new ArrayList<>(kind.command());
        args.addAll(List.of(extra));
        return args;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
