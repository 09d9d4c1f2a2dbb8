package io.streamrlhf.loop.stack;

import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.ppo.PpoConfig;
import io.streamrlhf.loop.demo.DemoProfile;
import io.streamrlhf.loop.demo.DemoSettings;
import io.streamrlhf.loop.demo.StartingModels;
import io.streamrlhf.loop.process.RestartingChildJvm.Restart;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
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
 * @param configs    each kind's settings, as its config file holds them
 * @param warnings   what was asked for and not done, for people
 */
public record StackPlan(StackOptions options, String bootstrap, String registry, int partitions,
                        List<StackProcess> processes, Map<ProcessKind, Map<String, String>> configs,
                        List<String> warnings) {

    /** Heap of each kind's JVM, in MiB. */
    private static final Map<ProcessKind, Integer> HEAP_MB = Map.of(ProcessKind.CLUSTER, 1024, ProcessKind.WORKER, 768,
            ProcessKind.SCORER, 768, ProcessKind.LEARNER, 1024, ProcessKind.RM_TRAINER, 768, ProcessKind.RATERS, 256,
            ProcessKind.PROMPTS, 256);

    public StackPlan {
        Objects.requireNonNull(options, "options");
        processes = List.copyOf(processes);
        Map<ProcessKind, Map<String, String>> copy = new EnumMap<>(ProcessKind.class);
        configs.forEach((k, v) -> copy.put(k, Map.copyOf(v)));
        configs = copy;
        warnings = List.copyOf(warnings);
    }

    /**
     * The plan for a stack on the cluster at {@code bootstrap} / {@code registry} (the stack's own, once started, or
     * the options').
     */
    public static StackPlan of(StackOptions options, String bootstrap, String registry) {
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
        worker.remove(WorkerConfig.WORKER_ID);  // one per instance: a flag (compose replicas default to host-pid)
        raw.put(ProcessKind.WORKER, worker);
        Map<String, Object> scorer = new HashMap<>(settings.rewardStream());
        scorer.put(RewardStreamConfig.STATE_DIR, dir.resolve("score").resolve("state").toString());
        Map<String, Object> learner = new HashMap<>(settings.learner());
        if (!options.synthetic()) {
            scorer.put(RewardStreamConfig.SOURCES, options.reward());
            learner.put(PpoConfig.PTX_COEF, 0.0);  // the synthetic corpus is not this model's
        }
        raw.put(ProcessKind.SCORER, scorer);
        raw.put(ProcessKind.LEARNER, learner);
        if (options.rmTrainers() > 0) {
            raw.put(ProcessKind.RM_TRAINER, new HashMap<>(settings.trainer()));
        }
        if (options.raterRate() > 0) {
            raw.put(ProcessKind.RATERS, new HashMap<>(cluster));
        }
        if (options.promptsFile() != null || options.syntheticRate() > 0) {
            raw.put(ProcessKind.PROMPTS, new HashMap<>(cluster));
        }
        Map<ProcessKind, Map<String, String>> configs = new EnumMap<>(ProcessKind.class);
        raw.forEach((kind, values) -> {
            Map<String, String> strings = new TreeMap<>();
            values.forEach((k, v) -> strings.put(k, String.valueOf(v)));
            configs.put(kind, strings);
        });

        List<StackProcess> processes = new ArrayList<>();
        int threads = options.demo().threads();
        long seed = options.demo().seed();
        if (options.embeddedCluster()) {
            processes.add(new StackProcess("cluster", ProcessKind.CLUSTER, args(ProcessKind.CLUSTER,
                    "--kafka-port", Integer.toString(options.kafkaPort()), "--registry-port",
                    Integer.toString(options.registryPort()), "--partitions", Integer.toString(partitions),
                    "--topic-prefix", options.topicPrefix(), "--data-dir", dir.resolve("cluster").toString(),
                    "--brokers", Integer.toString(options.brokers())),
                    null, Restart.NEVER, HEAP_MB.get(ProcessKind.CLUSTER)));
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
            processes.add(process(ProcessKind.SCORER, i, dir, (String) scorer.get(RewardStreamConfig.APPLICATION_ID),
                    Restart.ALWAYS, "--state-dir", dir.resolve("score-" + i).resolve("state").toString()));
        }
        String workerGroup = "rlhf-workers-" + worker.get(WorkerConfig.POLICY_NAME);
        for (int i = 0; i < options.workers(); i++) {
            processes.add(process(ProcessKind.WORKER, i, dir, workerGroup, Restart.ALWAYS, "--checkpoint",
                    sft.toString(), "--threads", Integer.toString(threads), "--worker-id", "stack-worker-" + i));
        }
        if (options.raterRate() > 0) {
            processes.add(process(ProcessKind.RATERS, 0, dir, null, Restart.ALWAYS, "--rate",
                    fmt(options.raterRate()), "--seed", Long.toString(seed + 5)));
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
        return new StackPlan(options, bootstrap, registry, partitions, processes, configs, warnings);
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

    private static List<String> args(ProcessKind kind, String... extra) {
        List<String> args = new ArrayList<>(kind.command());
        args.addAll(List.of(extra));
        return args;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%s", v);
    }
}
