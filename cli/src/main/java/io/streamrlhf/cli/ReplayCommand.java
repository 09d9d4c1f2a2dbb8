package io.streamrlhf.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.cli.config.CommonConfig;
import io.streamrlhf.cli.config.CommonOptions;
import io.streamrlhf.evaluator.metrics.EvaluationSources;
import io.streamrlhf.evaluator.metrics.PolicyComparison;
import io.streamrlhf.evaluator.metrics.RmComparison;
import io.streamrlhf.evaluator.metrics.RmbEvaluation;
import io.streamrlhf.evaluator.metrics.RmbMetrics;
import io.streamrlhf.evaluator.metrics.RmbScorer;
import io.streamrlhf.evaluator.metrics.ScenarioAccuracy;
import io.streamrlhf.evaluator.metrics.ScoringComparison;
import io.streamrlhf.evaluator.replay.PartitionRange;
import io.streamrlhf.evaluator.replay.ReplayBound;
import io.streamrlhf.evaluator.replay.ReplaySummary;
import io.streamrlhf.evaluator.replay.RmbTopic;
import io.streamrlhf.evaluator.replay.TopicEvaluator;
import io.streamrlhf.evaluator.replay.TopicRange;
import io.streamrlhf.evaluator.report.HtmlReport;
import io.streamrlhf.evaluator.report.JsonReport;
import io.streamrlhf.evaluator.rmb.RmbDataset;
import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.evaluator.rmb.RmbReader;
import io.streamrlhf.evaluator.rmb.RmbSet;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.IntConsumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code rlhf replay}: evaluate a topic range, or RMB's JSON files, with any reward ensemble; print RMB metrics or
 * policy comparisons, optionally as one JSON line and an HTML report with charts. The work is done by the evaluator
 * module; this class only reads options and prints.
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Evaluate reward models and policies by replay (DESIGN section 7).",
                "  --rmb PATH             RMB JSON: a file, our sample's folder, or the benchmark's RMB_dataset/ folder",
                "  --rmb PATH --publish   the same, published to an evaluation topic first and read back from Kafka",
                "  --topic T              a range of generations, scored, preferences or an evaluation topic, read on",
                "                         every partition with read_committed, joining no consumer group",
                "  --compare A B          two scored topics (say scored and a re-scoring by 'rlhf rescore'), joined",
                "                         by generation id: pairwise order agreement within each prompt, Spearman",
                "                         rank correlation of the rewards, and a table per reward-model version",
                "Offsets and times apply to every partition; --from-* is inclusive, --to-* exclusive; times are",
                "ISO-8601 instants (2026-05-01T12:00:00Z) or epoch milliseconds. Default: the whole topic as it",
                "stands when the replay starts."})
final class ReplayCommand implements Callable<Integer> {

    @Mixin CommonOptions common;

    @Option(names = "--rmb", paramLabel = "PATH", description = "RMB JSON file or folder to evaluate.")
    Path rmb;

    @Option(names = "--publish", description = "With --rmb: publish the items to the evaluation topic and evaluate "
            + "what is read back from Kafka.")
    boolean publish;

    @Option(names = "--eval-topic", paramLabel = "NAME",
            description = "Evaluation topic for --publish (default <topic-prefix>" + RmbTopic.BASE_NAME + ").")
    String evalTopic;

    @Option(names = "--topic", paramLabel = "T", description = "Topic to replay: a full name or a catalog base name "
            + "(generations, scored, preferences).")
    String topic;

    @Option(names = "--compare", arity = "2", paramLabel = "TOPIC",
            description = "Compare two scored topics (full names, or 'scored' for the catalog's), joined by "
                    + "generation id; --from-*/--to-* bound both.")
    List<String> compare;

    @Option(names = "--from-offset", paramLabel = "N", description = "First offset to read, on every partition.")
    Long fromOffset;

    @Option(names = "--from-time", paramLabel = "TIME", description = "Read from the first record stamped at or after "
            + "TIME.")
    String fromTime;

    @Option(names = "--to-offset", paramLabel = "N", description = "First offset not to read, on every partition.")
    Long toOffset;

    @Option(names = "--to-time", paramLabel = "TIME", description = "Stop before the first record stamped at or after "
            + "TIME.")
    String toTime;

    @Option(names = "--reward", paramLabel = "SPEC", description = "A reward source (repeatable): rule:length, "
            + "rule:keyword;words=a|b, rule:format;check=..., rm:DIR, torchscript:FILE, hf:DIR (a Hugging Face "
            + "*ForSequenceClassification folder with its tokenizer), judge:URL[;mode=pairwise], verify:KIND "
            + "(the generations' reference answers). "
            + "With several, RMB verdicts are also taken by majority vote.")
    List<String> rewards = new ArrayList<>();

    @Option(names = "--aggregation", paramLabel = "NAME", defaultValue = "mean",
            description = "How several sources' raw scores form one reward when replaying generations: mean, min, "
                    + "mean_minus_k_std or majority_vote (default ${DEFAULT-VALUE}).")
    String aggregation;

    @Option(names = "--gold", description = "Also compute the synthetic world's gold reward of each generation "
            + "(replays of generations or scored made on the built-in world).")
    boolean gold;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "" + RmbScorer.DEFAULT_BATCH_ITEMS,
            description = "Items (or generations) per scoring call (default ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--json", description = "Print the result as one JSON object on the last line.")
    boolean json;

    @Option(names = "--report", paramLabel = "DIR", description = "Write DIR/index.html with tables and PNG charts.")
    Path report;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<RewardSpec> specs = rewards.isEmpty() ? List.of() : EvaluationSources.parse(rewards);
        try (RewardEnsemble ensemble = specs.isEmpty() ? null
                : EvaluationSources.ensemble(specs, Aggregation.parse(aggregation))) {
            if (ensemble != null) {
                err.println("sources: " + ensemble.sources().stream().map(s -> s.name() + " v" + s.version()).toList());
            }
            if (compare != null) {
                return compareScorings(out, err);
            }
            return rmb != null ? evaluateFiles(ensemble, out, err) : evaluateTopic(ensemble, out, err);
        }
    }

    private void validate() {
        if ((rmb != null ? 1 : 0) + (topic != null ? 1 : 0) + (compare != null ? 1 : 0) != 1) {
            throw new ParameterException(spec.commandLine(), "give exactly one of --rmb PATH, --topic T or "
                    + "--compare A B");
        }
        if (compare != null && (!rewards.isEmpty() || gold || report != null)) {
            throw new ParameterException(spec.commandLine(), "--compare reads the rewards the two topics hold; "
                    + "--reward, --gold and --report do not apply to it");
        }
        if (fromOffset != null && fromTime != null) {
            throw new ParameterException(spec.commandLine(), "--from-offset and --from-time exclude each other");
        }
        if (toOffset != null && toTime != null) {
            throw new ParameterException(spec.commandLine(), "--to-offset and --to-time exclude each other");
        }
        if (rmb != null && (fromOffset != null || fromTime != null || toOffset != null || toTime != null)) {
            throw new ParameterException(spec.commandLine(), "--from-*/--to-* select a range of --topic, not of --rmb");
        }
        if (rmb == null && (publish || evalTopic != null)) {
            throw new ParameterException(spec.commandLine(), "--publish and --eval-topic go with --rmb");
        }
        if (rmb != null && rewards.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "give at least one --reward SPEC, e.g. --reward rule:length");
        }
        if (batchSize < 1) {
            throw new ParameterException(spec.commandLine(), "--batch-size must be at least 1, got " + batchSize);
        }
    }

    private int evaluateFiles(RewardEnsemble ensemble, PrintWriter out, PrintWriter err) {
        RmbDataset data = RmbReader.read(rmb);
        List<RmbItem> items = data.items();
        err.printf("read %d pairwise and %d best-of-n items from %d file(s) under %s%n",
                data.items(RmbSet.PAIRWISE).size(), data.items(RmbSet.BEST_OF_N).size(), data.files().size(), rmb);
        String origin = "RMB files " + rmb;
        if (publish) {
            CommonConfig config = common.resolve();
            String name = evalTopic != null ? evalTopic : config.topicPrefix() + RmbTopic.BASE_NAME;
            RmbTopic topicOut = new RmbTopic(config.clientProperties(), name);
            topicOut.ensureExists(Math.max(1, config.getInt("topic.partitions")));
            List<PartitionRange> added = topicOut.publish(items);
            items = topicOut.readPublished(added);
            err.printf("published to %s and read back %d items: %s%n", name, items.size(), added);
            origin += ", through Kafka topic " + name;
        }
        err.flush();
        RmbEvaluation evaluation = new RmbScorer(ensemble, batchSize).evaluate(items, progress(err, items.size()));
        printRmb(evaluation, out);
        ObjectNode node = JsonReport.of(evaluation);
        writeReport(new HtmlReport("RMB evaluation").note(origin).note("sources: " + rewards).rmb(evaluation), out);
        printJson(node, out);
        return 0;
    }

    private int evaluateTopic(RewardEnsemble ensemble, PrintWriter out, PrintWriter err) {
        CommonConfig config = common.resolve();
        Map<String, Object> settings = config.settings();
        Topics topics = Topics.create(settings);
        TopicEvaluator evaluator = new TopicEvaluator(config.clientProperties(), topics, ensemble,
                gold ? SyntheticWorld.standard().gold() : null, batchSize);
        TopicRange range = new TopicRange(topic, bound(fromOffset, fromTime), bound(toOffset, toTime));
        TopicEvaluator.Result result = evaluator.evaluate(range, progress(err, -1));
        ReplaySummary summary = result.summary();
        out.printf("replayed %d records of %s in %d ms (read as %s)%n", summary.total(), summary.topic(),
                summary.millis(), result.kind().name().toLowerCase(Locale.ROOT));
        for (PartitionRange r : summary.ranges()) {
            out.printf("  partition %d: offsets [%d, %d) -> %d records%n", r.partition(), r.start(), r.end(),
                    summary.records().getOrDefault(r.partition(), 0L));
        }
        HtmlReport html = new HtmlReport("Replay of " + summary.topic()).note(summary.total() + " records, "
                + summary.ranges());
        ObjectNode node;
        if (result.rmb() != null) {
            printRmb(result.rmb(), out);
            html.rmb(result.rmb());
            node = JsonReport.of(result.rmb());
        } else {
            printComparisons(result.policies(), result.rms(), result.unscorable(), out);
            html.comparisons(result.policies(), result.rms());
            node = JsonReport.of(result.policies(), result.rms());
        }
        ObjectNode replay = node.putObject("replay");
        replay.put("topic", summary.topic());
        replay.put("records", summary.total());
        writeReport(html, out);
        printJson(node, out);
        return 0;
    }

    private int compareScorings(PrintWriter out, PrintWriter err) {
        CommonConfig config = common.resolve();
        Topics topics = Topics.create(config.settings());
        TopicEvaluator evaluator = new TopicEvaluator(config.clientProperties(), topics, null, null, batchSize);
        ReplayBound from = bound(fromOffset, fromTime);
        ReplayBound to = bound(toOffset, toTime);
        TopicEvaluator.Comparison result = evaluator.compare(new TopicRange(compare.get(0), from, to),
                new TopicRange(compare.get(1), from, to), progress(err, -1));
        ScoringComparison c = result.comparison();
        String a = result.first().topic();
        String b = result.second().topic();
        out.printf("first:  %s, %d records in %d ms%n", a, result.first().total(), result.first().millis());
        out.printf("second: %s, %d records in %d ms%n", b, result.second().total(), result.second().millis());
        out.printf("joined by generation id: %d (only in first %d, only in second %d, repeated ids %d)%n",
                c.joined(), c.onlyFirst(), c.onlySecond(), c.duplicates());
        out.printf("pairwise agreement within prompts: %s over %d pairs (%d pairs tied by one side, not judged)%n",
                fmt(c.agreement().accuracy()), c.agreement().n(), c.tiedPairs());
        out.printf("Spearman rank correlation of rewards: %s%n", fmt(c.spearman()));
        out.printf("mean reward of the joined: first %s, second %s%n", fmt(c.rewardMeanFirst()),
                fmt(c.rewardMeanSecond()));
        versionTable(out, "first (" + a + ")", c.first());
        versionTable(out, "second (" + b + ")", c.second());
        ObjectNode node = JsonReport.of(c);
        node.put("first", a);
        node.put("second", b);
        printJson(node, out);
        return 0;
    }

    private static void versionTable(PrintWriter out, String side, List<ScoringComparison.VersionRow> rows) {
        out.println();
        out.printf("%-40s %7s %7s %12s %10s %7s%n", side, "n", "joined", "mean reward", "agreement", "pairs");
        for (ScoringComparison.VersionRow r : rows) {
            out.printf("%-40s %7d %7d %12s %10s %7d%n", r.version(), r.n(), r.joined(), fmt(r.rewardMean()),
                    fmt(r.agreement().accuracy()), r.agreement().n());
        }
    }

    private static ReplayBound bound(Long offset, String time) {
        if (offset != null) {
            return ReplayBound.offset(offset);
        }
        if (time != null) {
            return ReplayBound.time(ReplayBound.parseTime(time));
        }
        return ReplayBound.edge();
    }

    /** Progress on stderr, about every tenth of the work (or every 1000 records when the total is unknown). */
    private static IntConsumer progress(PrintWriter err, int total) {
        int step = total > 0 ? Math.max(1, total / 10) : 1000;
        int[] next = {step};
        return done -> {
            if (done >= next[0]) {
                err.println(total > 0 ? "  scored " + done + "/" + total + " items" : "  " + done + " records");
                err.flush();
                while (next[0] <= done) {
                    next[0] += step;
                }
            }
        };
    }

    private static void printRmb(RmbEvaluation evaluation, PrintWriter out) {
        out.printf("%-36s %10s %10s %10s%n", "evaluator", "pairwise", "best-of-n", "overall");
        evaluation.bySource().forEach((name, m) -> row(out, name, m));
        if (evaluation.majority() != null) {
            row(out, "majority", evaluation.majority());
        }
        out.println();
        out.printf("%-9s %-56s %6s %9s%n", "set", "scenario (" + evaluation.primaryName() + ")", "n", "accuracy");
        for (ScenarioAccuracy s : evaluation.primary().byScenario()) {
            out.printf("%-9s %-56s %6d %9s%n", s.set().label(), s.categoryPath(), s.accuracy().n(),
                    fmt(s.accuracy().accuracy()));
        }
    }

    private static void row(PrintWriter out, String name, RmbMetrics m) {
        out.printf("%-36s %10s %10s %10s%n", name, fmt(m.pairwise().accuracy()) + " (" + m.pairwise().n() + ")",
                fmt(m.bon().accuracy()) + " (" + m.bon().n() + ")", fmt(m.overall()));
    }

    private static void printComparisons(PolicyComparison policies, RmComparison rms, int unscorable,
                                         PrintWriter out) {
        out.printf("%-20s %8s %7s %12s %12s %12s%n", "policy", "version", "n", "reward", "reward std", "gold");
        for (PolicyComparison.Row r : policies.rows()) {
            out.printf("%-20s %8d %7d %12s %12s %12s%n", r.policyName(), r.policyVersion(), r.n(), fmt(r.rewardMean()),
                    fmt(r.rewardStd()), fmt(r.goldMean()));
        }
        if (unscorable > 0) {
            out.println(unscorable + " generation(s) could not be scored");
        }
        if (rms != null && !rms.rows().isEmpty()) {
            out.println();
            out.printf("%-32s %7s %12s %18s%n", "scorer", "n", "mean score",
                    "gold pairs (" + rms.sharedPairs() + ")");
            for (RmComparison.Row r : rms.rows()) {
                out.printf("%-32s %7d %12s %18s%n", r.label(), r.n(), fmt(r.scoreMean()),
                        fmt(r.goldPairs().accuracy()));
            }
        }
    }

    private void writeReport(HtmlReport html, PrintWriter out) {
        if (report != null) {
            List<Path> files = html.write(report);
            out.println("report: " + files.get(0).toAbsolutePath() + " (" + (files.size() - 1) + " charts)");
        }
    }

    private void printJson(ObjectNode node, PrintWriter out) {
        if (json) {
            out.println(JsonReport.line(node));
        }
        out.flush();
    }

    private static String fmt(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "-";
    }
}
