package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RlhfCommandTest {

    /** Runs the CLI in-process and captures what it prints. */
    record Run(int exit, String out, String err) { }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = Rlhf.commandLine();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void everyCommandHasHelpThatExitsZero() {
        List<String[]> paths = new ArrayList<>();
        collect(Rlhf.commandLine(), new ArrayList<>(), paths);
        assertThat(paths).extracting(p -> String.join(" ", p))
                .contains("", "demo", "cluster", "cluster up", "topics", "topics create", "topics list", "bench");
        for (String[] path : paths) {
            String[] args = append(path, "--help");
            Run run = run(args);
            assertThat(run.exit()).as(String.join(" ", args)).isZero();
            assertThat(run.out()).as(String.join(" ", args)).contains("Usage:").contains("--help");
        }
    }

    @Test
    void sftTrainsTheDemosStepsByDefault() {
        SftCommand sft = new SftCommand();
        new CommandLine(sft).parseArgs();
        assertThat(sft.steps).as("rlhf sft without --steps makes the policy rlhf demo would")
                .isEqualTo(io.streamrlhf.loop.demo.DemoOptions.defaults().sftSteps())
                .isEqualTo(io.streamrlhf.models.sft.SftConfig.demo().steps());
        new CommandLine(sft).parseArgs("--steps", "25");
        assertThat(sft.steps).isEqualTo(25);
    }

    @Test
    void topLevelHelpListsTheCommandsAndThePrecedence() {
        Run run = run("--help");
        assertThat(run.out()).contains("cluster", "topics", "demo", "bench")
                .contains("flags > RLHF_* environment variables > config file > defaults");
    }

    @Test
    void benchLearnerRejectsANegativeWarmupBeforeStartingAnything() {
        Run run = run("bench", "learner", "--warmup-s", "-1");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("--warmup-s must be a number >= 0, got -1.0");
        assertThat(run.out()).isEmpty();
    }

    @Test
    void demoRejectsBadSettingsBeforeStartingAnything() {
        Run beta = run("demo", "--beta", "-0.5");
        assertThat(beta.exit()).isEqualTo(2);
        assertThat(beta.err()).contains("--beta must be >= 0, got -0.5");
        Run batch = run("demo", "--batch", "30", "--group-size", "4");
        assertThat(batch.exit()).isEqualTo(2);
        assertThat(batch.err()).contains("--batch must be a multiple of --group-size (4), got 30");
        Run minutes = run("demo", "--minutes", "0");
        assertThat(minutes.exit()).isEqualTo(2);
        assertThat(minutes.err()).contains("--minutes must be > 0");
        assertThat(beta.out() + batch.out() + minutes.out()).isEmpty();
    }

    @Test
    void demoTaskIsPreferenceOrVerifiableAndVerifiableRunsAlone() {
        Run unknown = run("demo", "--task", "math");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("--task must be preference or verifiable, got math");
        Run withModel = run("demo", "--task", "verifiable", "--processes");
        assertThat(withModel.exit()).isEqualTo(2);
        assertThat(withModel.err()).contains("--task verifiable runs the synthetic world's verifiable task",
                "--processes, --model, --prompts and --reward go without it");
        Run badFlag = run("demo", "--task", "verifiable", "--estimator", "ppo");
        assertThat(badFlag.exit()).isEqualTo(2);
        assertThat(badFlag.err()).contains("--estimator must be gae, grpo or rloo, got ppo");
        assertThat(unknown.out() + withModel.out() + badFlag.out()).isEmpty();
        assertThat(run("demo", "--help").out()).contains("--task", "sft_pass", "about 3 minutes");
    }

    @Test
    void scoreRefusesAReferenceItCannotLoadBeforeConnecting() {
        Run run = run("score", "--bootstrap", "localhost:1", "--registry", "mock://score-reference-test",
                "--reference", "/nonexistent/sft");
        assertThat(run.exit()).isEqualTo(CliErrors.CONFIG_ERROR);
        assertThat(run.err()).contains("scoring.reference.checkpoint", "/nonexistent/sft",
                "cannot load the reference policy");
    }

    @Test
    void unknownOptionIsAUsageError() {
        Run run = run("cluster", "up", "--kafka-prot", "1");
        assertThat(run.exit()).isEqualTo(2);
        assertThat(run.err()).contains("Unknown options: '--kafka-prot'").contains("Possible solutions: --kafka-port");
    }

    @Test
    void aClusterNodeOutsideItsClusterIsRefusedNamingWhatIsWrong() {
        String dir = System.getProperty("java.io.tmpdir") + "/rlhf-node-never-started";
        Run outside = run("cluster", "node", "--node-id", "4", "--brokers", "3", "--kafka-port", "9092",
                "--controller-port", "9095", "--data-dir", dir, "--cluster-id", "c");
        assertThat(outside.exit()).isEqualTo(2);
        assertThat(outside.err()).contains("node id must be 1..3, got 4");
        Run overlap = run("cluster", "node", "--node-id", "1", "--brokers", "3", "--kafka-port", "9092",
                "--controller-port", "9093", "--data-dir", dir, "--cluster-id", "c");
        assertThat(overlap.exit()).isEqualTo(2);
        assertThat(overlap.err()).contains("client ports 9092..9094 and controller ports 9093..9095 overlap");
        assertThat(new java.io.File(dir)).as("nothing started, nothing made").doesNotExist();
    }

    @Test
    void stackAddAndRemoveNameWhatIsWrong() {
        Run learner = run("stack", "add", "learner", "--dir", "/nonexistent/stack");
        assertThat(learner.exit()).isEqualTo(2);
        assertThat(learner.err()).contains("cannot add a 'learner' to a running stack: the kinds are worker and scorer");
        Run noStack = run("stack", "remove", "worker-1", "--dir", "/nonexistent/stack");
        assertThat(noStack.exit()).isEqualTo(2);
        assertThat(noStack.err()).contains("no stack in /nonexistent/stack");
    }

    @Test
    void badConfigFileExitsWithConfigErrorAndNamesTheFile() {
        Run run = run("topics", "list", "--config", "/nonexistent/rlhf.properties");
        assertThat(run.exit()).isEqualTo(CliErrors.CONFIG_ERROR);
        assertThat(run.err()).contains("rlhf topics list: config file /nonexistent/rlhf.properties does not exist");
    }

    private static void collect(CommandLine cmd, List<String> prefix, List<String[]> out) {
        out.add(prefix.toArray(String[]::new));
        cmd.getSubcommands().forEach((name, sub) -> {
            if (name.equals("help")) {
                return;
            }
            List<String> next = new ArrayList<>(prefix);
            next.add(name);
            collect(sub, next, out);
        });
    }

    private static String[] append(String[] path, String last) {
        String[] args = java.util.Arrays.copyOf(path, path.length + 1);
        args[path.length] = last;
        return args;
    }
}
