package io.streamrlhf.loop.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.streamrlhf.evaluator.live.LoopMonitor;
import io.streamrlhf.loop.component.PromptPacer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The demo's pure parts: pacing rules, options, the JSON line, the snapshot arithmetic and the report files. */
class DemoUnitsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void theDemoHidesServiceInfoAndKafkaStreamsWarningsAboutItsOwnSettings() {
        Assumptions.assumeTrue(System.getenv("RLHF_LOG_LEVEL") == null, "RLHF_LOG_LEVEL asks for the services' logs");
        Logger streamsConfig = logger("org.apache.kafka.streams.StreamsConfig");
        Logger stateDirectory = logger("org.apache.kafka.streams.processor.internals.StateDirectory");
        Logger ours = logger("io.streamrlhf");
        List<Logger> changed = List.of(streamsConfig, stateDirectory, ours);
        List<Level> before = changed.stream().map(Logger::getLevel).toList();
        try {
            DemoRunner.quietServiceLogs();
            assertThat(streamsConfig.isEnabledFor(Level.WARN)).isFalse();
            assertThat(streamsConfig.isEnabledFor(Level.ERROR)).isTrue();
            assertThat(stateDirectory.isEnabledFor(Level.WARN)).isFalse();
            assertThat(ours.isEnabledFor(Level.INFO)).isFalse();
            assertThat(ours.isEnabledFor(Level.WARN)).as("our own warnings still show").isTrue();
            assertThat(logger("org.apache.kafka.streams.KafkaStreams").isEnabledFor(Level.WARN))
                    .as("other Kafka warnings still show").isTrue();
        } finally {
            for (int i = 0; i < changed.size(); i++) {
                changed.get(i).setLevel(before.get(i));
            }
        }
    }

    private static Logger logger(String name) {
        return (Logger) LoggerFactory.getLogger(name);
    }

    @Test
    void streamingKeepsAtMostBacklogBatchesAheadOfTheLearner() {
        assertThat(PromptPacer.due(false, 2, 0, 0, 0)).isTrue();
        assertThat(PromptPacer.due(false, 2, 1, 0, 0)).isTrue();
        assertThat(PromptPacer.due(false, 2, 2, 0, 0)).as("two in flight, none trained").isFalse();
        assertThat(PromptPacer.due(false, 2, 2, 1, 0)).as("the workers' version does not matter").isTrue();
    }

    @Test
    void lockstepWaitsForTheUpdateAndForEveryWorkerToServeIt() {
        assertThat(PromptPacer.due(true, 2, 0, 0, 0)).as("the first batch goes at once").isTrue();
        assertThat(PromptPacer.due(true, 2, 1, 0, 0)).as("update 1 not done").isFalse();
        assertThat(PromptPacer.due(true, 2, 1, 1, 0)).as("published, not yet served").isFalse();
        assertThat(PromptPacer.due(true, 2, 1, 1, 1)).isTrue();
        assertThat(PromptPacer.due(true, 2, 3, 3, 2)).as("a worker still on version 2").isFalse();
    }

    @Test
    void aRunThatReachedItsTargetSaysWhenAndHowFast() {
        // The monitor's counts (versions at the target: evaluator's LoopMonitorTest) end up in the JSON line.
        DemoResult reached = new DemoResult(false, 0.02, 1,
                new DemoResult.Baselines(1.9, 2.3, 0.0, 0.6, true),
                new DemoResult.Outcome(2.2, 0.8, 1.5, 12, 11, 3, 5000, 5000, 2000, 0, 6.0, 1),
                new DemoResult.Cost(290, 180, 350, 0, 0, new DemoResult.LoopCost(270, 45, 0.4)));
        assertThat(reached.toJson()).contains("\"versions_at_target\":1", "\"target_s\":6.0", "\"loop_cores\":1.5",
                "\"trainer_cores\":0.25", "\"update_s\":0.4");
        assertThat(reached.outcome().versionsPerSecondToTarget()).isCloseTo(1 / 6.0,
                within(1e-12));
        assertThat(result(1.9, 2.3, 2.2).toJson()).doesNotContain("versions_at_target");
        assertThat(result(1.9, 2.3, 2.2).outcome().versionsPerSecondToTarget()).isNaN();
    }

    @Test
    void klToTheReferenceSurvivesAnUpdateThatTrainedNothing() {
        List<LoopMonitor.UpdatePoint> updates = List.of(new LoopMonitor.UpdatePoint(1, 0.5, 0.1, 0, 0.001, 0.3),
                new LoopMonitor.UpdatePoint(2, 0.7, 0.3, 1, 0.004, 0.3),
                new LoopMonitor.UpdatePoint(3, Double.NaN, Double.NaN, 5, Double.NaN, 0.3));
        assertThat(DemoRunner.klToReference(Optional.of(Map.of("policy/kl_ref", 0.9)), updates))
                .isEqualTo(0.9);
        assertThat(DemoRunner.klToReference(Optional.of(Map.of("data/dropped_stale", 32.0)), updates))
                .as("the newest checkpoint came after an update whose samples were all stale").isEqualTo(0.7);
        assertThat(DemoRunner.klToReference(Optional.empty(), List.of())).as("nothing trained").isZero();

        List<LoopMonitor.UpdatePoint> timed = List.of(new LoopMonitor.UpdatePoint(1, 0.5, 0.1, 0, 0.001, 0.6),
                new LoopMonitor.UpdatePoint(2, 0.7, 0.3, 1, 0.004, Double.NaN),
                new LoopMonitor.UpdatePoint(3, 0.8, 0.3, 1, 0.004, 0.4));
        assertThat(DemoRunner.meanUpdateSeconds(timed)).as("an update without a time is left out").isCloseTo(0.5,
                within(1e-12));
        assertThat(DemoRunner.meanUpdateSeconds(List.of())).isNaN();

        // time/wait_s starts at the second update of a run; an update that did not report it is left out.
        SortedMap<Long, Map<String, Double>> metrics = new TreeMap<>(Map.of(
                1L, Map.of("time/update_s", 0.4),
                2L, Map.of("time/update_s", 0.4, "time/wait_s", 0.002),
                3L, Map.of("time/update_s", 0.4, "time/wait_s", 0.004, "time/commit_s", Double.NaN)));
        assertThat(DemoRunner.meanMetric(metrics, "time/wait_s")).isCloseTo(0.003, within(1e-12));
        assertThat(DemoRunner.meanMetric(metrics, "time/commit_s")).as("NaN only").isNaN();
        assertThat(DemoRunner.meanMetric(new TreeMap<>(), "time/wait_s")).isNaN();

        List<LoopMonitor.UpdatePoint> given = List.of(new LoopMonitor.UpdatePoint(1, 0.5, 0.1, 0, 0.001, 0.6, 1.0),
                new LoopMonitor.UpdatePoint(2, 0.7, 0.3, 1, 0.004, 0.5, 0.0),
                new LoopMonitor.UpdatePoint(3, 0.8, 0.3, 1, 0.004, 0.4, Double.NaN),
                new LoopMonitor.UpdatePoint(4, 0.8, 0.3, 1, 0.004, 0.4, 1.0));
        assertThat(DemoRunner.meanReferenceGiven(given)).as("an update that does not say is left out")
                .isCloseTo(2.0 / 3, within(1e-12));
        assertThat(DemoRunner.meanReferenceGiven(timed)).isNaN();
    }

    @Test
    void aFigureThatIsNotANumberIsNullInTheJsonLine() throws Exception {
        DemoResult r = new DemoResult(false, 0.02, 1,
                new DemoResult.Baselines(1.9, 2.3, 0.0, 0.6, true),
                new DemoResult.Outcome(2.2, Double.NaN, Double.POSITIVE_INFINITY, 12, 11, 3, 5000, 5000, 2000, 0,
                        Double.NaN, -1),
                new DemoResult.Cost(290, 180, 350, 0, 0, DemoResult.LoopCost.NONE));
        JsonNode json = JSON.readTree(r.toJson());
        assertThat(json.get("final_proxy").isNull()).isTrue();
        assertThat(json.get("kl_ref").isNull()).isTrue();
        assertThat(json.get("final_gold").asDouble()).isEqualTo(2.2);
    }

    @Test
    void optionsDefaultsAreValidAndBadValuesAreNamed() {
        DemoOptions d = DemoOptions.defaults();
        assertThat(d.promptsPerBatch()).isEqualTo(d.batchSequences() / d.groupSize());
        assertThat(d.loopBudget()).isEqualTo(DemoOptions.DEFAULT_LOOP);
        assertThat(d.toBuilder().beta(0).build().beta()).as("no KL penalty is allowed").isZero();
        assertThatThrownBy(() -> d.toBuilder().groupSize(1).build()).hasMessageContaining("--group-size must be >= 2");
        assertThatThrownBy(() -> d.toBuilder().loopBudget(Duration.ZERO).build()).hasMessageContaining("--minutes");
        assertThat(d.stageNice()).as("the stages with slack yield to the learner by default").isEqualTo(15);
        assertThat(d.backlogBatches()).as("three batches in flight: the learner does not wait for data").isEqualTo(3);
        assertThatThrownBy(() -> d.toBuilder().backlogBatches(0).build())
                .hasMessageContaining("--backlog must be >= 1");
        assertThat(d.toBuilder().stageNice(0).build().stageNice()).isZero();
        assertThatThrownBy(() -> d.toBuilder().stageNice(20).build()).hasMessageContaining("--stage-nice");
        assertThatThrownBy(() -> d.toBuilder().estimator("ppo").build())
                .hasMessageContaining("--estimator must be gae, grpo or rloo, got ppo");
        assertThatThrownBy(() -> d.toBuilder().rmMethod("flip+nonsense").build()).hasMessageContaining("--rm-method")
                .hasMessageContaining("nonsense");
        assertThatThrownBy(() -> d.toBuilder().onlineRmMethod("").build()).hasMessageContaining("--online-rm-method");
        assertThat(d.toBuilder().onlineRmMethod("bt+meta").build().onlineRmMethod()).isEqualTo("bt+meta");
        assertThat(d.toBuilder().ppoOverrides(Map.of("ppo.epochs", "1")).build().ppoOverrides())
                .containsEntry("ppo.epochs", "1");
        assertThatThrownBy(() -> d.toBuilder().ppoOverrides(Map.of("ppo.epoch", "1")).build())
                .hasMessageContaining("--ppo: unknown setting 'ppo.epoch'");
        assertThatThrownBy(() -> d.toBuilder().ppoOverrides(Map.of("ppo.epochs", "zero")).build())
                .hasMessageContaining("--ppo").hasMessageContaining("ppo.epochs");
    }

    @Test
    void jsonLineStartsWithTheDocumentedKeysInOrder() throws Exception {
        DemoResult r = result(2.0, 2.3, 2.41234567);
        JsonNode json = JSON.readTree(r.toJson());
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = json.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        assertThat(keys.subList(0, 7)).containsExactly("sft_gold", "bon8_gold", "final_gold", "final_proxy", "kl_ref",
                "policy_versions", "wall_s");
        assertThat(json.get("final_gold").asDouble()).isEqualTo(2.4123);
        assertThat(json.get("policy_versions").asLong()).isEqualTo(12);
        assertThat(json.get("mode").asText()).isEqualTo("streaming");
        assertThat(r.toJson()).doesNotContain("\n");
    }

    @Test
    void reportHasTheTableAndThreePngCharts(@TempDir Path dir) throws Exception {
        DemoResult r = result(2.0, 2.3, 2.4);
        List<ThroughputPoint> tp = List.of(new ThroughputPoint(2, 30, 28, 60, 56),
                new ThroughputPoint(4, 32, 33, 124, 122));
        TreeMap<Long, Map<String, Double>> metrics = new TreeMap<>();
        metrics.put(1L, Map.of("policy/kl_ref", 0.0, "time/update_s", 0.31));
        metrics.put(2L, Map.of("policy/kl_ref", 0.4, "time/update_s", 0.29, "losses/approx_kl", 0.004));
        Path index = DemoReport.write(dir, DemoOptions.defaults(), r, snapshot(), tp, metrics);
        String html = Files.readString(index);
        assertThat(html).contains("best-of-8", "2.300", "2.400", "<img src=\"reward.png\"", "<img src=\"kl.png\"",
                "<img src=\"throughput.png\"", "+0.100");
        assertThat(html).as("the cost table: the test result has no loop cost measured")
                .contains("<h2>Cost</h2>", "<tr><td>CPU seconds of the run's processes (this JVM, the trainer, the "
                        + "registry)</td><td>350</td></tr>", "<tr><td>mean PPO update (seconds)</td><td>–</td></tr>");
        DemoResult measured = new DemoResult(false, 0.02, 1,
                new DemoResult.Baselines(2.0, 2.3, 0.0, 0.6, true),
                new DemoResult.Outcome(2.4, 0.8, 1.5, 12, 11, 3, 5000, 5000, 2000, 0, Double.NaN, -1),
                new DemoResult.Cost(290, 180, 350, 0, 0, new DemoResult.LoopCost(270, 45, 0.4)));
        assertThat(DemoReport.html(DemoOptions.defaults(), measured, snapshot())).contains(
                "<tr><td>cores the demo's JVM kept busy during the loop</td><td>1.50</td></tr>",
                "<tr><td>cores the reward-model trainer kept busy during the loop</td><td>0.25</td></tr>",
                "<tr><td>mean PPO update (seconds)</td><td>0.400</td></tr>");
        for (String png : List.of("reward.png", "kl.png", "throughput.png")) {
            byte[] bytes = Files.readAllBytes(dir.resolve(png));
            assertThat(bytes.length).as(png).isGreaterThan(1000);
            assertThat(new String(bytes, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
        }
        assertThat(JSON.readTree(Files.readString(dir.resolve("summary.json"))).get("bon8_gold").asDouble())
                .isEqualTo(2.3);
        assertThat(Files.readAllLines(dir.resolve("updates.csv"))).as("one column per metric name, in name order; "
                + "a metric an update did not report is empty").containsExactly(
                "update,losses/approx_kl,policy/kl_ref,time/update_s", "1,,0.0,0.31", "2,0.004,0.4,0.29");
        assertThat(Files.readAllLines(dir.resolve("versions.csv"))).as("the starting version has no publication")
                .containsExactly("version,scored,gold,raw_rm_score,reward,tokens,first_scored_s,published_s",
                        "0,8,1.0,-0.5,0.0,18.0,1.0,", "1,8,2.0,0.1,0.2,16.0,5.0,4.0", "2,8,3.0,0.4,0.5,15.0,9.0,8.0");
    }

    @Test
    void summaryRowsLineUpWhateverTheVersionCount() {
        for (DemoResult r : List.of(result(1.9, 2.3, 2.4), new DemoResult(false, 0.02, 1,
                new DemoResult.Baselines(1.9, 2.3, 0.0, 0.6, true),
                new DemoResult.Outcome(2.4, 0.8, 1.5, 123_456, 11, 3, 5000, 5000, 2000, 0, Double.NaN, -1),
                new DemoResult.Cost(290, 180, 350, 0, 0, DemoResult.LoopCost.NONE)))) {
            java.io.StringWriter text = new java.io.StringWriter();
            r.printSummary(new java.io.PrintWriter(text, true));
            List<String> rows = text.toString().lines().filter(l -> l.matches("  (SFT|best|final policy).*")).toList();
            assertThat(rows).hasSize(3);
            assertThat(rows.get(2)).contains("final policy (v" + r.outcome().policyVersions() + ")  ");
            assertThat(rows).extracting(l -> l.indexOf('.')).as("the gold column of %s", rows).containsOnly(
                    rows.get(0).indexOf('.'));
        }
    }

    @Test
    void theJsonLineAndTheSummaryKeepTheirLayoutByteForByte() {
        DemoResult r = new DemoResult(true, 0.02, 7,
                new DemoResult.Baselines(1.9, 2.3, 0.0004, 0.6, false),
                new DemoResult.Outcome(2.2, 0.8, 1.5, 12, 11, 3, 5000, 4990, 2000, 1, 6.0, 4),
                new DemoResult.Cost(290.123456, 180, 350, 0, 0,
                        new DemoResult.LoopCost(270, 45, 0.4, 1.0, 0.002, 0.01, 3.5)));
        assertThat(r.toJson()).isEqualTo(""
                + "{\"sft_gold\":1.9,\"bon8_gold\":2.3,\"final_gold\":2.2,\"final_proxy\":0.8"
                + ",\"kl_ref\":1.5,\"policy_versions\":12,\"wall_s\":290.1235,\"loop_s\":180.0"
                + ",\"cpu_s\":350.0,\"versions_generating\":11,\"rm_versions\":3,\"generations\":5000"
                + ",\"scored\":4990,\"preferences\":2000,\"dlq_records\":1,\"mode\":\"lockstep\""
                + ",\"beta\":0.02,\"seed\":7,\"sft_cached\":false,\"loop_cores\":1.5"
                + ",\"trainer_cores\":0.25,\"update_s\":0.4,\"reference_given\":1.0,\"wait_s\":0.002"
                + ",\"commit_s\":0.01,\"first_version_s\":3.5,\"versions_at_target\":4"
                + ",\"target_s\":6.0}");
        assertThat(summary(r).replace(System.lineSeparator(), "\n")).isEqualTo(""
                + "\n"
                + "StreamRLHF demo (lockstep, β 0.02, seed 7): 290 s in all, 180 s of loop, 350 CPU s\n"
                + "  ---------------------------------------------------------------\n"
                + "                                     gold reward   proxy (RM z)\n"
                + "  SFT policy                             1.900        +0.000\n"
                + "  best-of-8 SFT samples, RM-ranked       2.300             -\n"
                + "  final policy (v12)                     2.200        +0.800\n"
                + "  ---------------------------------------------------------------\n"
                + "  final - SFT +0.300   final - best-of-8 -0.100   KL to SFT 1.500 nats\n"
                + "  policy versions 12 published, 11 generated with; reward models v3\n"
                + "  generations 5000, scored 4990, live preference pairs 2000, dead letters 1\n"
                + "  => the final policy did NOT beat best-of-8 reranking on the gold reward in this run.\n");
    }

    @Test
    void theVerdictNamesTheModeThatTrainedThePolicy() {
        assertThat(summary(result(1.9, 2.3, 2.4))).contains("the streaming-trained policy beats best-of-8");
        DemoResult lockstep = new DemoResult(true, 0.02, 1,
                new DemoResult.Baselines(1.9, 2.3, 0.0, 0.6, true),
                new DemoResult.Outcome(2.4, 0.8, 1.5, 12, 11, 3, 5000, 5000, 2000, 0, Double.NaN, -1),
                new DemoResult.Cost(290, 180, 350, 0, 0, DemoResult.LoopCost.NONE));
        assertThat(summary(lockstep)).contains("the lockstep-trained policy beats best-of-8")
                .doesNotContain("streaming-");
        assertThat(summary(result(1.9, 2.3, 2.2))).contains("did NOT beat best-of-8");
    }

    private static String summary(DemoResult r) {
        java.io.StringWriter text = new java.io.StringWriter();
        r.printSummary(new java.io.PrintWriter(text, true));
        return text.toString();
    }

    @Test
    void csvOfNoUpdatesIsItsHeaderAndOddNamesAreQuoted() {
        assertThat(DemoReport.updatesCsv(new TreeMap<>())).isEqualTo("update\n");
        TreeMap<Long, Map<String, Double>> metrics = new TreeMap<>();
        metrics.put(7L, Map.of("a,b", 1.0, "say \"x\"", Double.NaN));
        assertThat(DemoReport.updatesCsv(metrics)).isEqualTo("update,\"a,b\",\"say \"\"x\"\"\"\n7,1.0,\n");
    }

    private static DemoResult result(double sft, double bon, double fin) {
        return new DemoResult(false, 0.02, 1,
                new DemoResult.Baselines(sft, bon, 0.0, 0.6, true),
                new DemoResult.Outcome(fin, 0.8, 1.5, 12, 11, 3, 5000, 5000, 2000, 0, Double.NaN, -1),
                new DemoResult.Cost(290, 180, 350, 0, 0, DemoResult.LoopCost.NONE));
    }

    private static LoopMonitor.Snapshot snapshot() {
        List<LoopMonitor.VersionPoint> versions = List.of(
                new LoopMonitor.VersionPoint(0, 8, 1.0, -0.5, 0.0, 18, 1.0),
                new LoopMonitor.VersionPoint(1, 8, 2.0, 0.1, 0.2, 16, 5.0),
                new LoopMonitor.VersionPoint(2, 8, 3.0, 0.4, 0.5, 15, 9.0));
        List<LoopMonitor.UpdatePoint> updates = List.of(new LoopMonitor.UpdatePoint(1, 0.0, 0.1, 0, 0.001, 0.3),
                new LoopMonitor.UpdatePoint(2, 0.4, 0.3, 1, 0.004, 0.3));
        TreeMap<Long, Double> published = new TreeMap<>();
        published.put(1L, 4.0);
        published.put(2L, 8.0);
        return new LoopMonitor.Snapshot(10, 24, 40, 2, 2, 2, 2.0, 0.4, 1, versions, updates, published, Double.NaN,
                -1);
    }
}
