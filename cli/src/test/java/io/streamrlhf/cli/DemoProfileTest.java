package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.learner.app.LearnerConfig;
import io.streamrlhf.learner.rm.online.OnlineRmConfig;
import io.streamrlhf.loop.demo.DemoOptions;
import io.streamrlhf.loop.demo.DemoProfile;
import io.streamrlhf.loop.demo.DemoSettings;
import io.streamrlhf.loop.demo.StartingModels;
import io.streamrlhf.producer.worker.WorkerConfig;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.config.AbstractConfig;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The demo profile reproduces the demo: each service command started with {@code --config demo.properties} (the file
 * as {@code rlhf demo --print-profile} prints it) and the flags of one run resolves the same settings as the demo gives
 * that component with its default options, key by key, every key of the component's config class except the
 * run-specific ones ({@link DemoSettings#RUN_SPECIFIC}: directories, checkpoints, sources, the worker's id).
 */
class DemoProfileTest {

    private static final String BOOTSTRAP = "localhost:19092";
    private static final String REGISTRY = "http://localhost:18081/apis/ccompat/v7";

    @TempDir Path dir;
    private Path profile;
    private DemoSettings demo;

    @BeforeEach
    void demoWithItsDefaults() throws Exception {
        StringWriter printed = new StringWriter();
        CommandLine cli = Rlhf.commandLine();
        cli.setOut(new PrintWriter(printed));
        assertThat(cli.execute("demo", "--print-profile")).isZero();
        profile = Files.writeString(dir.resolve("demo.properties"), printed.toString());
        assertThat(printed.toString()).isEqualTo(DemoProfile.demo().text());

        Map<String, Object> cluster = Map.of("bootstrap.servers", BOOTSTRAP, "schema.registry.url", REGISTRY,
                TopicsConfig.PREFIX, TopicsConfig.DEFAULT_PREFIX, TopicsConfig.PARTITIONS, 1,
                TopicsConfig.REPLICATION_FACTOR, (short) 1);
        DemoOptions defaults = DemoOptions.defaults();
        List<Path> members = new ArrayList<>();
        for (int m = 0; m < defaults.rmEnsemble(); m++) {
            members.add(dir.resolve("rm").resolve("member-" + m));
        }
        demo = new DemoSettings(defaults, DemoProfile.demo(), cluster, dir.resolve("sft"), members,
                StartingModels.rewardShape(), dir.resolve("work"));
    }

    @Test
    void rlhfLearnGetsTheDemosLearnerAndPpoSettings() {
        LearnCommand learn = parse(new LearnCommand(), "--config", profile.toString(), "--bootstrap", BOOTSTRAP,
                "--registry", REGISTRY, "--init-checkpoint", demo.sftDir().toString());
        LearnerConfig command = new LearnerConfig(learn.settings());
        LearnerConfig demoConfig = new LearnerConfig(demo.learner());
        assertSameSettings("learner", demoConfig, command);
        assertSameSettings("ppo", demoConfig.ppo(), command.ppo());
    }

    @Test
    void rlhfScoreGetsTheDemosRewardStreamSettings() {
        RewardStreamConfig demoConfig = new RewardStreamConfig(demo.rewardStream());
        ScoreCommand score = parse(new ScoreCommand(), "--config", profile.toString(), "--bootstrap", BOOTSTRAP,
                "--registry", REGISTRY, "--sources", demoConfig.getString(RewardStreamConfig.SOURCES), "--reference",
                demo.sftDir().toAbsolutePath().toString());
        assertSameSettings("reward stream", demoConfig, new RewardStreamConfig(score.settings(Map.of())));
    }

    @Test
    void rlhfWorkerGetsTheDemosWorkerSettings() {
        WorkerCommand worker = parse(new WorkerCommand(), "--config", profile.toString(), "--bootstrap", BOOTSTRAP,
                "--registry", REGISTRY, "--checkpoint", demo.sftDir().toString());
        assertSameSettings("worker", new WorkerConfig(demo.worker()), new WorkerConfig(worker.settings()));
    }

    @Test
    void rlhfTrainRmOnlineGetsTheDemosTrainerSettings() {
        // The flags the demo starts its trainer process with, less the file it writes for it.
        TrainRmCommand trainRm = parse(new TrainRmCommand(), "--online", "--config", profile.toString(),
                "--bootstrap", BOOTSTRAP, "--registry", REGISTRY, "--no-progress", "--threads",
                Integer.toString(demo.options().threads()));
        assertSameSettings("reward-model trainer", new OnlineRmConfig(demo.trainer()),
                new OnlineRmConfig(trainRm.onlineSettings()));
    }

    @Test
    void aTunedValueTheProfileDoesNotHoldIsCaught() {
        // What the comparison sees when the demo's code and the profile disagree on one value.
        Map<String, Object> drifted = demo.learner();
        drifted.put("ppo.epochs", "3");
        LearnCommand learn = parse(new LearnCommand(), "--config", profile.toString(), "--init-checkpoint",
                demo.sftDir().toString());
        assertThat(differences(new LearnerConfig(drifted).ppo(), new LearnerConfig(learn.settings()).ppo()))
                .containsExactly("ppo.epochs: demo 3, command 2");
    }

    private static <T> T parse(T command, String... args) {
        new CommandLine(command).parseArgs(args);
        return command;
    }

    private static void assertSameSettings(String component, AbstractConfig demo, AbstractConfig command) {
        assertThat(demo.values().keySet()).as("%s: the keys both resolve", component)
                .isEqualTo(command.values().keySet());
        assertThat(differences(demo, command)).as("%s settings of the demo and of the command with the profile",
                component).isEmpty();
    }

    /** Every key (run-specific ones aside) whose value differs, as "key: demo X, command Y". */
    private static List<String> differences(AbstractConfig demo, AbstractConfig command) {
        List<String> out = new ArrayList<>();
        new TreeMap<>(demo.values()).forEach((key, value) -> {
            Object other = command.values().get(key);
            if (!DemoSettings.RUN_SPECIFIC.contains(key) && !String.valueOf(value).equals(String.valueOf(other))) {
                out.add(key + ": demo " + value + ", command " + other);
            }
        });
        return out;
    }
}
