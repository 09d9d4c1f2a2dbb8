package io.streamrlhf.producer.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.SamplingParams;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class SimulatedRatersTest {

    static Generation generation(String promptId, String prompt, String response) {
        return Generation.newBuilder().setGenerationId(UUID.randomUUID().toString()).setPromptId(promptId)
                .setGroupSize(2).setGroupIndex(0).setPromptTokens(List.of()).setResponseTokens(List.of())
                .setPromptText(prompt).setResponseText(response).setBehaviourLogprobs(List.of()).setPolicyName("p")
                .setPolicyVersion(3).setWorkerId("w").setFinishReason(FinishReason.EOS)
                .setSampling(SamplingParams.newBuilder().setTemperature(1f).setMaxNewTokens(8).build())
                .setStartedAt(Instant.now()).setCreatedAt(Instant.now()).build();
    }

    @Test
    void labelsEachPairOnceAndPrefersTheBetterResponseAsTheWorldSays() {
        SyntheticWorld world = SyntheticWorld.standard();
        String topic = world.vocabulary().topics().get(0).name();
        String prompt = "write about the " + topic + " :";
        // A fluent, on-topic corpus sentence against a repetitive one: the gold reward separates them clearly.
        String good = String.join(" ", world.corpus().respond(world.prompts(1).forTopic(topic, 0),
                new java.util.SplittableRandom(1)));
        String bad = "the the the the the the the the";
        assertThat(world.gold().scoreText(prompt, good).total()).isGreaterThan(world.gold().scoreText(prompt, bad).total());

        List<Feedback> written = new ArrayList<>();
        int preferredGood = 0;
        for (int i = 0; i < 40; i++) {
            RecentGenerations recent = new RecentGenerations(10, 4);
            Generation g = generation("p" + i, prompt, good);
            Generation b = generation("p" + i, prompt, bad);
            recent.add(g);
            recent.add(b);
            SimulatedRaters raters = new SimulatedRaters(recent, written::add, world.gold(),
                    new SimulatedRater(0.25, 0.0, i), "t", i, new SimpleMeterRegistry());
            Feedback f = raters.labelOnce().orElseThrow();
            assertThat(raters.labelOnce()).as("a pair is labelled once").isEmpty();
            String chosen = f.getGenerationIds().get(f.getPreferredIndex());
            if (chosen.equals(g.getGenerationId())) {
                preferredGood++;
            }
        }
        assertThat(written).hasSize(40).allSatisfy(f -> {
            assertThat(f.getSource()).isEqualTo(FeedbackSource.SIMULATED);
            assertThat(f.getKind()).isEqualTo(FeedbackKind.PAIRWISE);
            assertThat(f.getAnnotatorId()).isEqualTo("sim-t");
            assertThat(f.getConfidence()).isBetween(0.0, 1.0);
        });
        assertThat(preferredGood).isGreaterThanOrEqualTo(36);
    }

    @Test
    void nothingToLabelWithoutAPair() {
        RecentGenerations recent = new RecentGenerations(10, 4);
        recent.add(generation("p", "x", "y"));
        SimulatedRaters raters = new SimulatedRaters(recent, f -> { }, SyntheticWorld.standard().gold(),
                SyntheticWorld.standard().rater(1), "t", 1, new SimpleMeterRegistry());
        assertThat(raters.labelOnce()).isEqualTo(Optional.empty());
    }

    /** A sink that records each write call's group, failing the first {@code failures} calls. */
    static final class GroupSink implements FeedbackSink {
        final List<List<Feedback>> groups = new java.util.concurrent.CopyOnWriteArrayList<>();
        int failures;

        GroupSink(int failures) {
            this.failures = failures;
        }

        @Override
        public void write(Feedback feedback) {
            writeAll(List.of(feedback));
        }

        @Override
        public synchronized void writeAll(List<Feedback> feedback) {
            if (failures > 0) {
                failures--;
                throw new IllegalStateException("broker unavailable");
            }
            groups.add(List.copyOf(feedback));
        }

        int labels() {
            return groups.stream().mapToInt(List::size).sum();
        }
    }

    static RecentGenerations fourResponsesOfOnePrompt() {
        RecentGenerations recent = new RecentGenerations(10, 4);
        for (int i = 0; i < 4; i++) {
            recent.add(generation("p", "write about the sea :", "response " + i));
        }
        return recent;
    }

    /** Far more pairs than any of these tests labels. */
    static RecentGenerations hundredPromptsOfEight() {
        RecentGenerations recent = new RecentGenerations(100, 8);
        for (int p = 0; p < 100; p++) {
            for (int i = 0; i < 8; i++) {
                recent.add(generation("p" + p, "write about the sea :", "response " + i));
            }
        }
        return recent;
    }

    @Test
    void aBatchWritesItsLabelsInOneGroupEachPairOnce() {
        GroupSink sink = new GroupSink(0);
        SimulatedRaters raters = new SimulatedRaters(fourResponsesOfOnePrompt(), sink,
                SyntheticWorld.standard().gold(), SyntheticWorld.standard().rater(1), "t", 1, new SimpleMeterRegistry());

        List<Feedback> labels = raters.labelBatch(10);

        // Four responses make six pairs: all six, in one write, no pair twice.
        assertThat(labels).hasSize(6);
        assertThat(sink.groups).hasSize(1);
        assertThat(sink.groups.get(0)).containsExactlyElementsOf(labels);
        assertThat(labels.stream().map(f -> new java.util.TreeSet<>(f.getGenerationIds())).distinct()).hasSize(6);
        assertThat(raters.labelled()).isEqualTo(6);
        assertThat(raters.labelBatch(10)).as("every pair is labelled").isEmpty();
        assertThat(sink.groups).as("nothing to write, no write").hasSize(1);
    }

    @Test
    void aFailedWriteMarksNoPairDone() {
        GroupSink sink = new GroupSink(1);
        SimulatedRaters raters = new SimulatedRaters(fourResponsesOfOnePrompt(), sink,
                SyntheticWorld.standard().gold(), SyntheticWorld.standard().rater(1), "t", 1, new SimpleMeterRegistry());

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> raters.labelBatch(6))
                .hasMessageContaining("broker unavailable");
        assertThat(raters.labelled()).isZero();
        // The pairs of the failed group are still new.
        assertThat(raters.labelBatch(6)).hasSize(6);
        assertThat(sink.labels()).isEqualTo(6);
    }

    @Test
    void runningRatersSendTheirLabelsInGroups() throws InterruptedException {
        RecentGenerations recent = hundredPromptsOfEight();
        GroupSink sink = new GroupSink(0);
        SimulatedRaters raters = new SimulatedRaters(recent, sink, SyntheticWorld.standard().gold(),
                SyntheticWorld.standard().rater(1), "t", 1, new SimpleMeterRegistry());
        raters.start(50);
        try {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (sink.labels() < 40 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        } finally {
            raters.close();
        }
        // At 50 labels/s and a group every 200 ms, about ten labels a group (more when a tick comes late).
        assertThat(sink.labels()).isGreaterThanOrEqualTo(40);
        assertThat(sink.groups.size() * 3).isLessThanOrEqualTo(sink.labels());
    }

    @Test
    void aLimitIsExactEvenWhenAGroupWouldPassIt() throws InterruptedException {
        RecentGenerations recent = hundredPromptsOfEight();
        GroupSink sink = new GroupSink(0);
        try (SimulatedRaters raters = new SimulatedRaters(recent, sink, SyntheticWorld.standard().gold(),
                SyntheticWorld.standard().rater(1), "t", 1, new SimpleMeterRegistry())) {
            // Ten labels a tick at 50/s: the limit of 7 falls inside the first group.
            raters.start(50, 7);
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (sink.labels() < 7 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            Thread.sleep(3 * SimulatedRaters.TICK_MS);
            assertThat(sink.labels()).isEqualTo(7);
            assertThat(raters.labelled()).isEqualTo(7);
        }
    }

    @Test
    void closingWhileAWriteWaitsStopsQuietly() throws InterruptedException {
        java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
        FeedbackSink waitsForever = feedback -> {
            writing.countDown();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                // what KafkaFeedbackSink throws when close() interrupts its wait for the broker
                throw new IllegalStateException("interrupted while writing feedback", e);
            }
        };
        ch.qos.logback.classic.Logger log =
                (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(SimulatedRaters.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
                new ch.qos.logback.core.read.ListAppender<>();
        seen.start();
        log.addAppender(seen);
        try {
            SimulatedRaters raters = new SimulatedRaters(hundredPromptsOfEight(), waitsForever,
                    SyntheticWorld.standard().gold(), SyntheticWorld.standard().rater(1), "t", 1,
                    new SimpleMeterRegistry());
            raters.start(50);
            assertThat(writing.await(20, java.util.concurrent.TimeUnit.SECONDS)).as("a write started").isTrue();
            long start = System.nanoTime();
            raters.close();
            assertThat((System.nanoTime() - start) / 1e9).as("close waits for no retry").isLessThan(2.0);
            assertThat(raters.labelled()).isZero();
            assertThat(seen.list).as("a stop is not a failed write")
                    .noneMatch(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN));
        } finally {
            log.detachAppender(seen);
        }
    }
}
