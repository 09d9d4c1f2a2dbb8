package io.streamrlhf.cli.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
  * {@code rlhf bench}: benchmark commands. Each prints progress for people and, as its last line, one JSON object
  * that other tools read; the keys are part of the interface.
  */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks. Each prints one JSON object as its last line (hf-folder writes a Hugging Face "
                + "folder for models and learner to measure).",
        subcommands = {BenchModelsCommand.class, BenchScoringCommand.class, BenchLearnerCommand.class,
                BenchWorkerCommand.class, BenchE2eCommand.class, BenchSerdeCommand.class, BenchFailoverCommand.class,
                BenchHfFolderCommand.class, BenchEncoderRmCommand.class, BenchFuzzCommand.class,
                BenchSoakCommand.class})
public final class BenchCommand implements Runnable {

    @Spec CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
