package io.streamrlhf.loop.stack;

import io.streamrlhf.embedded.EmbeddedKafkaCluster;
import io.streamrlhf.loop.demo.DemoOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * What {@code rlhf stack up} runs: where, on which cluster, how many processes of each kind, which model and which
 * prompts. The components' tuned settings come from the demo profile with {@link #demo()}'s options overlaid, as in
 * {@code rlhf demo}.
 *
 * @param dir            the stack's directory: config files, logs, starting models, checkpoints, the state file
 * @param bootstrap      an existing cluster's bootstrap servers; null starts one ({@code rlhf cluster up})
 * @param registry       that cluster's schema registry URL (with {@code bootstrap}, and only then)
 * @param topicPrefix    prefix of every topic name
 * @param partitions     partitions of each topic; 0 picks the profile's, or more to give each worker and scorer one
 * @param workers        policy worker processes
 * @param scorers        reward-stream processes
 * @param learners       learner processes (one active; the others standbys once leader election exists)
 * @param rmTrainers     online reward-model trainer processes (0 or 1)
 * @param raterRate      simulated rater labels per second (0: no raters)
 * @param model          a Hugging Face causal-LM folder to train instead of the synthetic SFT policy; null: synthetic
 * @param reward         the reward sources with {@code model} (reward.sources specs)
 * @param promptsFile    a JSONL prompt file sent once; null: none
 * @param syntheticRate  synthetic prompts per second (0: none)
 * @param kafkaPort      the stack's own broker's port (0: a free one)
 * @param registryPort   the stack's own registry's port (0: a free one)
 * @param brokers        the stack's own cluster's brokers ({@code rlhf cluster up --brokers N}): 1, or 3 for
 *                       replication factor 3 and min.insync.replicas 2
 * @param demo           seed, threads, batch, group size and the starting models' settings
 * @param secure         the stack's own cluster with TLS, SCRAM users and ACLs ({@code rlhf cluster up --secure}),
 *                       each process running as its component's user
 * @param clientConfigs  with {@code bootstrap}: a directory of client properties files, one per user as {@code rlhf
 *                       cluster up --secure} writes them ({@code worker.properties}, ..., {@code admin.properties});
 *                       each process runs with its own user's; null: a plaintext cluster
 * @param feedbackPort   the feedback server's port (0: a free one when the stack runs, 8088 in {@code stack init})
 */
public record StackOptions(Path dir, String bootstrap, String registry, String topicPrefix, int partitions,
                           int workers, int scorers, int learners, int rmTrainers, double raterRate, Path model,
                           String reward, Path promptsFile, double syntheticRate, int kafkaPort, int registryPort,
                           int brokers, DemoOptions demo, boolean secure, Path clientConfigs, int feedbackPort) {

    /** A stack on a plaintext cluster, its feedback server on a free port. */
    public StackOptions(Path dir, String bootstrap, String registry, String topicPrefix, int partitions, int workers,
                        int scorers, int learners, int rmTrainers, double raterRate, Path model, String reward,
                        Path promptsFile, double syntheticRate, int kafkaPort, int registryPort, int brokers,
                        DemoOptions demo) {
        this(dir, bootstrap, registry, topicPrefix, partitions, workers, scorers, learners, rmTrainers, raterRate,
                model, reward, promptsFile, syntheticRate, kafkaPort, registryPort, brokers, demo, false, null, 0);
    }

    /** The default directory of a stack. */
    public static final Path DEFAULT_DIR = Path.of("stack");

    /** Checks every field and names the flag that is wrong. */
    public StackOptions {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(topicPrefix, "topicPrefix");
        Objects.requireNonNull(demo, "demo");
        require((bootstrap == null) == (registry == null),
                "--bootstrap and --registry go together: an existing cluster needs both; neither starts one");
        require(partitions >= 0, "--partitions must be >= 0, got " + partitions);
        require(workers >= 1, "--workers must be >= 1, got " + workers);
        require(scorers >= 1, "--scorers must be >= 1, got " + scorers);
        require(learners >= 1, "--learners must be >= 1, got " + learners);
        require(rmTrainers >= 0 && rmTrainers <= 1, "--rm-trainers must be 0 or 1 (one trainer publishes each "
                + "reward model's versions), got " + rmTrainers);
        require(raterRate >= 0 && Double.isFinite(raterRate), "--raters rate must be >= 0, got " + raterRate);
        require(syntheticRate >= 0 && Double.isFinite(syntheticRate),
                "--synthetic-prompts must be >= 0, got " + syntheticRate);
        require(promptsFile == null || syntheticRate == 0, "--prompts and --synthetic-prompts exclude each other");
        require(promptsFile == null || Files.isRegularFile(promptsFile),
                "--prompts " + promptsFile + ": no such file (JSONL, one prompt per line)");
        require(kafkaPort >= 0 && kafkaPort <= 65535, "--kafka-port must be in 0..65535, got " + kafkaPort);
        require(brokers >= 1 && brokers <= EmbeddedKafkaCluster.MAX_BROKERS, "--brokers must be 1.." + EmbeddedKafkaCluster.MAX_BROKERS + ", got " + brokers);
        require(brokers == 1 || bootstrap == null, "--brokers is the stack's own cluster's; with --bootstrap the "
                + "cluster is given");
        require(registryPort >= 0 && registryPort <= 65535, "--registry-port must be in 0..65535, got " + registryPort);
        require(feedbackPort >= 0 && feedbackPort <= 65535, "--feedback-port must be in 0..65535, got " + feedbackPort);
        require(!secure || bootstrap == null, "--secure starts the stack's own cluster secure; on an existing secure "
                + "cluster give --config DIR (its client properties files) with --bootstrap and --registry");
        require(!secure || brokers == 1, "--secure with --brokers " + brokers + ": the stack makes a secure cluster of "
                + "one broker only; run 'rlhf cluster up --secure --brokers " + brokers + " --data-dir D' and the stack "
                + "on it: 'rlhf stack up --bootstrap HOST:PORT --registry URL --config D/secure/clients'");
        require(clientConfigs == null || bootstrap != null, "--config DIR names an existing secure cluster's client "
                + "properties files: give --bootstrap and --registry too (or --secure for the stack's own cluster)");
        require(clientConfigs == null || Files.isDirectory(clientConfigs), "--config " + clientConfigs + ": no such "
                + "directory (expected the client properties files 'rlhf cluster up --secure' writes, one per user: "
                + "worker.properties, ..., admin.properties)");
        if (model != null) {
            require(Files.isRegularFile(model.resolve("config.json")), "--model " + model
                    + ": no config.json; expected a Hugging Face causal-LM folder");
            require(reward != null && !reward.isBlank(), "--reward is required with --model: the reward sources, "
                    + "e.g. hf:DIR (a Hugging Face sequence-classification folder) or rule:length");
            require(syntheticRate == 0, "--synthetic-prompts is the synthetic world's; with --model give --prompts FILE");
            require(rmTrainers == 0, "--rm-trainers with --model: the online trainer continues the synthetic "
                    + "ensemble; use --rm-trainers 0");
            require(raterRate == 0, "--raters with --model: simulated raters judge the synthetic world only");
        } else {
            require(reward == null, "--reward goes with --model (the synthetic stack scores with its own ensemble)");
        }
    }

    /** Whether the stack starts its own Kafka cluster. */
    public boolean embeddedCluster() {
        return bootstrap == null;
    }

    /** Whether each process runs as its own user on a secure cluster (the stack's own, or the one given). */
    public boolean secured() {
        return secure || clientConfigs != null;
    }

    /** These options with the stack's own cluster's ports and the feedback server's port fixed. */
    public StackOptions withPorts(int kafka, int registryAt, int feedback) {
        return new StackOptions(dir, bootstrap, registry, topicPrefix, partitions, workers, scorers, learners,
                rmTrainers, raterRate, model, reward, promptsFile, syntheticRate, kafka, registryAt, brokers, demo,
                secure, clientConfigs, feedback);
    }

    /** Whether the stack uses the synthetic world's starting models (no {@link #model()}). */
    public boolean synthetic() {
        return model == null;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
