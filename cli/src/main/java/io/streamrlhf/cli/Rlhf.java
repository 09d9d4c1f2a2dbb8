package io.streamrlhf.cli;

import io.streamrlhf.cli.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/** The {@code rlhf} command: one entry point for every StreamRLHF service and tool. {@code main} only delegates. */
@Command(
        name = "rlhf",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
                "StreamRLHF: continuous, streaming RLHF on Apache Kafka.",
                "",
                "Start here:",
                "  rlhf cluster up        a single-machine Kafka broker + schema registry, topics created",
                "  rlhf stack up          every component its own supervised process (stack status|down)",
                "  rlhf topics list       what exists on a cluster",
                ""},
        footer = {
                "",
                "Every service command takes --bootstrap, --registry, --topic-prefix and --config FILE.",
                "Precedence: flags > RLHF_* environment variables > config file > defaults (docs/configuration.md).",
                "Run 'rlhf COMMAND --help' for a command's options."},
        subcommands = {
                DemoCommand.class,
                StackCommand.class,
                ChaosCommand.class,
                StatusCommand.class,
                WorkerCommand.class,
                PromptsCommand.class,
                FeedbackCommand.class,
                ClusterCommand.class,
                TopicsCommand.class,
                KeysCommand.class,
                SftCommand.class,
                ScoreCommand.class,
                RescoreCommand.class,
                LearnCommand.class,
                TrainRmCommand.class,
                ModelCommand.class,
                ExportCommand.class,
                ReplayCommand.class,
                BenchCommand.class,
                HelpCommand.class})
public final class Rlhf implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        // No subcommand: show the help rather than doing anything implicit.
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Builds the command line with the project's error handling; used by {@link #main} and by tests. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Rlhf());
        cli.setExecutionExceptionHandler(new CliErrors());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
