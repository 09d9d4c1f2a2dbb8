package io.streamrlhf.cli;

import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.rewardstream.app.ScoringApp;
import io.streamrlhf.rewardstream.rescore.RescoreRange;
import io.streamrlhf.rewardstream.rescore.Rescorer;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf rescore}: past generations through a chosen ensemble into a new scored topic (see {@link Rescorer}).
 */
@Command(name = "rescore", mixinStandardHelpOptions = true,
        description = {"Re-score a range of past generations with a chosen reward ensemble (a new reward-model version, "
                + "say) into a new scored topic, exactly once: a rerun into the same topic resumes and writes nothing "
                + "twice.",
                "Compare the two scorings with 'rlhf replay --compare SCORED TOPIC'."})
final class RescoreCommand implements Callable<Integer> {

    @Mixin CommonOptions common;

    @Option(names = "--from-topic", paramLabel = "TOPIC", defaultValue = "generations",
            description = "The generations topic to read: the catalog's base name or a full name. "
                    + "Default: ${DEFAULT-VALUE}.")
    String fromTopic;

    @Option(names = "--range", paramLabel = "FROM..TO", defaultValue = "..",
            description = "Offsets on every partition (0..500, TO exclusive) or ISO-8601 times "
                    + "(2026-12-01T00:00:00Z..2026-12-02T00:00:00Z); either end may be left out. Default: everything "
                    + "the topic holds when the run starts.")
    String range;

    @Option(names = {"--reward", "--sources"}, paramLabel = "SPECS", required = true,
            description = "The ensemble: comma-separated reward specs, as for 'rlhf score' (e.g. "
                    + "'rm:/ckpt/rm-v7,rule:length', 'embed:DIR', 'http://host/score').")
    String reward;

    @Option(names = "--aggregation", paramLabel = "NAME",
            description = "mean, min, mean_minus_k_std or majority_vote (overrides reward.aggregation).")
    String aggregation;

    @Option(names = "--to", paramLabel = "TOPIC", required = true,
            description = "The scored topic to write (created with the source's partitions when absent).")
    String to;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "32",
            description = "Records per scoring batch and transaction. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        if (batchSize < 1) {
            throw new ParameterException(spec.commandLine(), "--batch-size must be >= 1, got " + batchSize);
        }
        RescoreRange parsed;
        try {
            parsed = RescoreRange.parse(range);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--range: " + e.getMessage());
        }
        Map<String, Object> settings = ScoreCommand.settings(common.resolve(), System.getenv());
        settings.put(RewardStreamConfig.SOURCES, reward);
        if (aggregation != null) {
            settings.put(RewardStreamConfig.AGGREGATION, aggregation);
        }
        Topics topics = Topics.create(settings);
        String source = fromTopic.equals(topics.generations().baseName()) ? topics.generations().name() : fromTopic;
        PrintWriter out = spec.commandLine().getOut();
        try (RewardEnsemble ensemble = ScoringApp.ensemble(settings)) {
            Rescorer.Result result = Rescorer.run(settings, topics, source, parsed, ensemble, to, batchSize);
            out.printf("re-scored %d record(s) of %s into %s: %d scored, %d dead-lettered (%s.dlq)%s%n",
                    result.read(), source, to, result.scored(), result.deadLettered(), to,
                    result.resumed() ? "; resumed after an earlier run" : "");
            out.printf("{\"read\":%d,\"scored\":%d,\"dead_lettered\":%d,\"resumed\":%b}%n", result.read(),
                    result.scored(), result.deadLettered(), result.resumed());
            out.flush();
        }
        return 0;
    }
}
