package io.streamrlhf.loop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.streamrlhf.loop.demo.DemoResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the end-to-end benchmark's JSON line is formed from the runs it measured. */
class EndToEndBenchTest {

    @Test
    void theMedianCountsARunThatNeverArrivedAsTheSlowest() {
        assertThat(EndToEndBench.median(new double[] {3, 1, 2})).isEqualTo(2);
        assertThat(EndToEndBench.median(new double[] {Double.NaN, 1, 2})).isEqualTo(2);
        assertThat(EndToEndBench.median(new double[] {4, 1, 2, 3})).isEqualTo(2.5);
        assertThat(EndToEndBench.median(new double[] {Double.NaN})).isNaN();
    }

    @Test
    void repeatsReportMediansAndEveryRun() {
        // streaming: 20 s (30 versions), 30 s (40), 25 s (20); lockstep: 40 s (30), 50 s (60), never
        List<DemoResult> streaming = List.of(run(20, 30), run(30, 40), run(25, 20));
        List<DemoResult> lockstep = List.of(run(40, 30), run(50, 60), run(Double.NaN, -1));
        ObjectNode o = EndToEndBench.summary(streaming, lockstep, 2.2, 120, 2);
        assertThat(o.get("streaming_s").asDouble()).isEqualTo(25.0);
        assertThat(o.get("lockstep_s").asDouble()).as("the run that never arrived is the slowest").isEqualTo(50.0);
        assertThat(o.get("ratio").asDouble()).isEqualTo(0.5);
        assertThat(o.get("repeats").asInt()).isEqualTo(3);
        assertThat(o.get("ratio_all").toString()).isEqualTo("[0.5,0.6,null]");
        // rates: streaming 1.5, 1.333, 0.8 -> 1.333; lockstep 0.75, 1.2, 0 -> 0.75
        assertThat(o.get("streaming_versions_per_s").asDouble()).isEqualTo(1.333);
        assertThat(o.get("lockstep_versions_per_s").asDouble()).isEqualTo(0.75);
        assertThat(o.get("rate_ratio").asDouble()).isEqualTo(0.563);

        JsonNode single = EndToEndBench.summary(List.of(run(20, 30)), List.of(run(40, 30)), 2.2, 0, 2);
        assertThat(single.get("ratio").asDouble()).isEqualTo(0.5);
        assertThat(single.get("rate_ratio").asDouble()).isEqualTo(0.5);
        assertThat(single.has("ratio_all")).isFalse();
    }

    @Test
    void theFloorIsWhatLockstepsWorkAllowsOnTheseCores() {
        // 60-second loops. Lockstep: 30 versions in 40 s, its JVM 66 CPU s (1.1 cores), the trainer 30 CPU s, 0.34 s
        // per update. Streaming: its JVM 108 CPU s (1.8 cores), 0.5 s per update.
        DemoResult streaming = run(20, 30, new DemoResult.LoopCost(108, 6, 0.5));
        DemoResult lockstep = run(40, 30, new DemoResult.LoopCost(66, 30, 0.34));
        ObjectNode two = EndToEndBench.summary(List.of(streaming), List.of(lockstep), 2.2, 0, 2);
        assertThat(two.get("cores").asInt()).isEqualTo(2);
        assertThat(two.get("streaming_loop_cores").asDouble()).isEqualTo(1.8);
        assertThat(two.get("lockstep_loop_cores").asDouble()).isEqualTo(1.1);
        assertThat(two.get("streaming_trainer_cores").asDouble()).isEqualTo(0.1);
        assertThat(two.get("lockstep_trainer_cores").asDouble()).isEqualTo(0.5);
        assertThat(two.get("streaming_update_s").asDouble()).isEqualTo(0.5);
        assertThat(two.get("lockstep_update_s").asDouble()).isEqualTo(0.34);
        assertThat(two.get("ratio_floor_cpu").asDouble()).as("1.1 of 2 cores").isEqualTo(0.55);
        assertThat(two.get("ratio_floor_learner").asDouble()).as("0.34 s x 0.75 versions/s").isEqualTo(0.255);
        assertThat(two.get("ratio_floor").asDouble()).isEqualTo(0.55);

        ObjectNode eight = EndToEndBench.summary(List.of(streaming), List.of(lockstep), 2.2, 0, 8);
        assertThat(eight.get("ratio_floor_cpu").asDouble()).isEqualTo(0.138);
        assertThat(eight.get("ratio_floor").asDouble()).as("the learner bounds it on eight cores").isEqualTo(0.255);

        ObjectNode unmeasured = EndToEndBench.summary(List.of(run(20, 30)), List.of(run(40, 30)), 2.2, 0, 2);
        assertThat(unmeasured.get("ratio_floor").isNull()).isTrue();
        assertThat(unmeasured.get("streaming_wait_s").isNull()).as("not measured: null, not 0").isTrue();
    }

    @Test
    void theLearnersTimeBetweenUpdatesAndTheStartUpAreMediansPerMode() {
        // Streaming's learner never waits; lockstep's waits for every batch to be generated and scored.
        List<DemoResult> streaming = List.of(run(20, 30, cost(0.36, 0.001, 0.012, 1.5)),
                run(22, 30, cost(0.38, 0.003, 0.010, 1.4)), run(21, 30, cost(0.37, 0.002, 0.020, 1.7)));
        List<DemoResult> lockstep = List.of(run(40, 30, cost(0.29, 0.30, 0.006, 1.1)),
                run(41, 30, cost(0.30, 0.32, 0.008, 1.2)), run(39, 30, cost(0.28, 0.29, 0.010, 1.0)));
        ObjectNode o = EndToEndBench.summary(streaming, lockstep, 2.2, 120, 2);
        assertThat(o.get("streaming_wait_s").asDouble()).isEqualTo(0.002);
        assertThat(o.get("lockstep_wait_s").asDouble()).isEqualTo(0.30);
        assertThat(o.get("streaming_commit_s").asDouble()).isEqualTo(0.012);
        assertThat(o.get("lockstep_commit_s").asDouble()).isEqualTo(0.008);
        assertThat(o.get("streaming_first_version_s").asDouble()).isEqualTo(1.5);
        assertThat(o.get("lockstep_first_version_s").asDouble()).isEqualTo(1.1);
    }

    private static DemoResult.LoopCost cost(double update, double wait, double commit, double firstVersion) {
        return new DemoResult.LoopCost(60, 10, update, 1.0, wait, commit, firstVersion);
    }

    private static DemoResult run(double targetSeconds, long versionsAtTarget) {
        return run(targetSeconds, versionsAtTarget, DemoResult.LoopCost.NONE);
    }

    private static DemoResult run(double targetSeconds, long versionsAtTarget, DemoResult.LoopCost cost) {
        return new DemoResult(false, 0.05, 1,
                new DemoResult.Baselines(1.9, 2.4, 0.0, 0.6, true),
                new DemoResult.Outcome(2.3, 1.0, 2.0, versionsAtTarget + 2, versionsAtTarget, 5, 1000, 1000, 500, 0,
                        targetSeconds, versionsAtTarget),
                new DemoResult.Cost(100, 60, 100, 0, 0, cost));
    }
}
