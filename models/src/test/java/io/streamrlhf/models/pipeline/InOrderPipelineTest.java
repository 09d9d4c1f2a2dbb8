package io.streamrlhf.models.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class InOrderPipelineTest {

    @Test
    void resultsComeBackInSubmissionOrderFromTasksRunOneAfterAnother() throws Exception {
        InOrderPipeline<Integer, Integer> pipeline = InOrderPipeline.onThread("test-pipeline", 3);
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger running = new AtomicInteger();
        AtomicInteger mostRunning = new AtomicInteger();
        List<Integer> taken = new ArrayList<>();
        int next = 0;
        // Earlier tasks take longer, so a pipeline that ran them side by side or handed back whichever finished
        // first would reorder them.
        for (int round = 0; round < 4; round++) {
            while (!pipeline.isFull()) {
                int id = next++;
                pipeline.submit(id, () -> {
                    mostRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                    events.add("start " + id);
                    Thread.sleep(id % 3 == 0 ? 30 : 5);
                    events.add("end " + id);
                    running.decrementAndGet();
                    return id * 10;
                });
            }
            assertThat(pipeline.oldest()).isEqualTo(taken.size());
            taken.add(pipeline.takeOldest() / 10);
        }
        while (!pipeline.isEmpty()) {
            taken.add(pipeline.takeOldest() / 10);
        }

        assertThat(taken).containsExactly(0, 1, 2, 3, 4, 5);
        List<String> expected = new ArrayList<>();
        for (int id = 0; id < next; id++) {
            expected.add("start " + id);
            expected.add("end " + id);
        }
        assertThat(events).containsExactlyElementsOf(expected);
        assertThat(mostRunning).hasValue(1);
        assertThat(pipeline.stop(Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void refusesToRunMoreThanTheLimitAhead() throws Exception {
        InOrderPipeline<String, String> pipeline = InOrderPipeline.onThread("test-pipeline", 2);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger started = new AtomicInteger();
        for (String tag : List.of("a", "b")) {
            pipeline.submit(tag, () -> {
                started.incrementAndGet();
                release.await();
                return tag;
            });
        }

        assertThat(pipeline.isFull()).isTrue();
        assertThat(pipeline.size()).isEqualTo(2);
        assertThat(pipeline.tags()).containsExactly("a", "b");
        assertThatThrownBy(() -> pipeline.submit("c", () -> "c")).isInstanceOf(IllegalStateException.class);
        assertThat(pipeline.tags()).containsExactly("a", "b");
        Thread.sleep(50);
        assertThat(started).as("one task runs, the next waits its turn").hasValue(1);
        assertThat(pipeline.oldestDone()).isFalse();

        release.countDown();
        assertThat(pipeline.takeOldest()).isEqualTo("a");
        assertThat(pipeline.isFull()).isFalse();
        pipeline.submit("c", () -> "c");
        assertThat(pipeline.takeOldest()).isEqualTo("b");
        assertThat(pipeline.takeOldest()).isEqualTo("c");
        assertThat(pipeline.isEmpty()).isTrue();
        assertThat(pipeline.oldest()).isNull();
        assertThatThrownBy(pipeline::takeOldest).isInstanceOf(java.util.NoSuchElementException.class);
        pipeline.stop(Duration.ofSeconds(5));
    }

    @Test
    void aFailedTaskThrowsWhenTakenAndTheNextOnesStillComeBack() throws Exception {
        InOrderPipeline<String, String> pipeline = InOrderPipeline.onThread("test-pipeline", 3);
        IllegalStateException boom = new IllegalStateException("boom");
        pipeline.submit("ok", () -> "first");
        pipeline.submit("bad", () -> {
            throw boom;
        });
        pipeline.submit("after", () -> "third");

        assertThat(pipeline.takeOldest()).isEqualTo("first");
        assertThatThrownBy(pipeline::takeOldest).isInstanceOf(ExecutionException.class).hasCause(boom);
        assertThat(pipeline.tags()).containsExactly("after");
        assertThat(pipeline.takeOldest()).isEqualTo("third");
        pipeline.stop(Duration.ofSeconds(5));
    }

    @Test
    void discardAllWaitsForEveryTaskFailedOrNotAndReturnsTheirTagsInOrder() throws Exception {
        InOrderPipeline<String, String> pipeline = InOrderPipeline.onThread("test-pipeline", 3);
        AtomicInteger finished = new AtomicInteger();
        pipeline.submit("slow", () -> {
            Thread.sleep(50);
            finished.incrementAndGet();
            return "slow";
        });
        pipeline.submit("failing", () -> {
            finished.incrementAndGet();
            throw new IllegalArgumentException("no");
        });
        pipeline.submit("last", () -> {
            Thread.sleep(20);
            finished.incrementAndGet();
            return "last";
        });

        assertThat(pipeline.discardAll()).containsExactly("slow", "failing", "last");
        assertThat(finished).hasValue(3);
        assertThat(pipeline.isEmpty()).isTrue();
        pipeline.stop(Duration.ofSeconds(5));
    }

    @Test
    void stopWaitsForTheRunningTaskAndSaysWhetherTheThreadEnded() throws Exception {
        InOrderPipeline<String, String> pipeline = InOrderPipeline.onThread("test-pipeline", 1);
        CountDownLatch release = new CountDownLatch(1);
        pipeline.submit("held", () -> {
            release.await();
            return "held";
        });

        assertThat(pipeline.stop(Duration.ofMillis(50))).isFalse();
        release.countDown();
        assertThat(pipeline.stop(Duration.ofSeconds(5))).isTrue();
        assertThat(pipeline.takeOldest()).isEqualTo("held");
    }

    @Test
    void abandonInterruptsTheRunningTaskAndForgetsTheRest() throws Exception {
        InOrderPipeline<String, String> pipeline = InOrderPipeline.onThread("test-pipeline", 2);
        CountDownLatch interrupted = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        pipeline.submit("held", () -> {
            started.countDown();
            try {
                new CountDownLatch(1).await();
            } catch (InterruptedException e) {
                interrupted.countDown();
            }
            return "held";
        });
        pipeline.submit("queued", () -> "queued");
        assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();

        pipeline.abandon();

        assertThat(interrupted.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(pipeline.isEmpty()).isTrue();
    }

    @Test
    void runsThreadNamedAndInlineOnTheCaller() throws Exception {
        InOrderPipeline<String, String> threaded = InOrderPipeline.onThread("reward-scorer-0_1", 1);
        threaded.submit("t", () -> Thread.currentThread().getName() + " " + Thread.currentThread().isDaemon());
        assertThat(threaded.takeOldest()).isEqualTo("reward-scorer-0_1 true");
        threaded.stop(Duration.ofSeconds(5));

        InOrderPipeline<String, String> inline = InOrderPipeline.inline(2);
        inline.submit("i", () -> Thread.currentThread().getName());
        assertThat(inline.oldestDone()).as("ran inside submit").isTrue();
        assertThat(inline.takeOldest()).isEqualTo(Thread.currentThread().getName());
        assertThat(inline.stop(Duration.ZERO)).isTrue();
    }
}
